/*
 * The facerec console page: a hash router over four views (executions, one execution, the
 * state machine, the gallery), reading this server's JSON API and refreshing what is still
 * running by polling.
 */
'use strict';
(function () {
  const V = window.FacerecViews;
  const { h } = V;
  const view = document.getElementById('view');
  const status = document.getElementById('status');
  let info = { pollMs: 1000 };
  let graph;
  let timer;
  let generation = 0;
  let selectedState;

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    return body;
  }

  function schedule(fn, gen) {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (gen === generation) fn();
    }, info.pollMs || 1000);
  }

  function showError(err) {
    view.replaceChildren(h('p', { class: 'error-text' }, `Cannot load: ${err.message}`));
  }

  function markNav(name) {
    for (const a of document.querySelectorAll('[data-nav]'))
      a.classList.toggle('active', a.dataset.nav === name);
  }

  async function executionsPage(gen) {
    markNav('executions');
    try {
      const { executions } = await getJson('/api/executions?limit=100');
      if (gen !== generation) return;
      const running = executions.filter((e) => e.status === 'RUNNING').length;
      view.replaceChildren(
        h(
          'h2',
          {},
          'Executions ',
          h(
            'span',
            { class: 'muted small' },
            `${executions.length} shown${running ? `, ${running} running` : ''}`,
          ),
        ),
        V.executionsTable(executions),
      );
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (gen === generation) status.textContent = `update failed: ${err.message}`;
    }
    schedule(() => executionsPage(gen), gen);
  }

  async function executionPage(gen, arn) {
    markNav('executions');
    try {
      graph = graph || (await getJson('/api/graph'));
      const detail = await getJson(`/api/execution?arn=${encodeURIComponent(arn)}`);
      if (gen !== generation) return;
      const frameSrc = (i) => `/api/frame?arn=${encodeURIComponent(arn)}&i=${i}`;
      view.replaceChildren(
        h('p', {}, h('a', { href: '#/' }, '← executions')),
        V.executionView(detail, graph, {
          frameSrc,
          selected: selectedState,
          onSelect: (n) => (selectedState = n),
        }),
      );
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      if (detail.status === 'RUNNING') schedule(() => executionPage(gen, arn), gen);
    } catch (err) {
      if (gen === generation) showError(err);
    }
  }

  async function graphPage(gen) {
    markNav('graph');
    try {
      graph = graph || (await getJson('/api/graph'));
      if (gen !== generation) return;
      const comments = [];
      const walk = (scope) => {
        for (const n of scope.nodes) {
          if (n.comment) comments.push([n.id, n.comment]);
          for (const c of n.children || []) walk(c);
        }
      };
      walk(graph);
      view.replaceChildren(
        h('h2', {}, 'State machine ', h('span', { class: 'muted small' }, info.stateMachine || '')),
        h(
          'p',
          { class: 'muted' },
          'statemachine/pipeline.asl.json, the file deployed on AWS and run by the local stack. Solid arrows: Next; dashed red: Catch.',
        ),
        h(
          'div',
          { class: 'split' },
          h('section', { class: 'graph-box' }, V.graphView(graph)),
          h(
            'section',
            {},
            h('h3', {}, 'States'),
            h(
              'dl',
              { class: 'kv comments' },
              comments.map(([k, c]) => [h('dt', {}, k), h('dd', {}, c)]),
            ),
          ),
        ),
      );
    } catch (err) {
      if (gen === generation) showError(err);
    }
  }

  async function galleryPage(gen) {
    markNav('gallery');
    try {
      const gallery = await getJson('/api/gallery');
      if (gen !== generation) return;
      view.replaceChildren(V.galleryView(gallery, (p, i) => `/api/gallery/photo?p=${p}&i=${i}`));
    } catch (err) {
      if (gen === generation) showError(err);
    }
  }

  function route() {
    const gen = ++generation;
    clearTimeout(timer);
    status.textContent = '';
    const hash = location.hash || '#/';
    const [pathPart, query] = hash.slice(1).split('?');
    const params = new URLSearchParams(query || '');
    if (pathPart === '/execution' && params.get('arn')) {
      const arn = params.get('arn');
      if (view.dataset.arn !== arn) selectedState = undefined;
      view.dataset.arn = arn;
      view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      return executionPage(gen, arn);
    }
    delete view.dataset.arn;
    if (pathPart === '/graph') return graphPage(gen);
    if (pathPart === '/gallery') return galleryPage(gen);
    return executionsPage(gen);
  }

  window.addEventListener('hashchange', route);
  getJson('/api/info')
    .then((i) => {
      info = i;
      document.getElementById('target').textContent = i.description || '';
    })
    .catch(() => undefined)
    .finally(route);
})();
