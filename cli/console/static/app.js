/*
 * The facerec console page: a hash router over five pages (executions, one execution, the state
 * machine, its definition, the gallery) reading this server's JSON API. Pages re-render in place
 * (F.morph): a refresh of what is still running changes only what changed, so the reader's
 * selection, focus, folds and scroll stay. A heartbeat shows a banner when the stack stops (or
 * this console's server does) and takes it away when it is back.
 */
'use strict';
(function (F) {
  const { h } = F;
  const view = document.getElementById('view');
  const banner = document.getElementById('banner');
  const status = document.getElementById('status');
  let info = { pollMs: 1000 };
  let graph;
  let definition;
  let timer;
  let generation = 0;
  /** The page shown: { render(), handlers }. */
  let page;
  const executionUi = { arn: undefined, ui: F.newExecutionUi() };
  const stateMachineUi = { tab: 'graph' };

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
    return body;
  }

  const pollMs = () => Math.max(200, info.pollMs || 1000);

  function schedule(fn, gen, ms) {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (gen === generation) fn();
    }, ms || pollMs());
  }

  function rerender() {
    if (page) F.morph(view, page.render());
  }

  function show(p, title) {
    page = p;
    document.title = `${title} · facerec`;
    rerender();
  }

  function showError(err) {
    page = undefined;
    view.replaceChildren(h('p', { class: 'error-text' }, `Cannot load: ${err.message}`));
  }

  function updated() {
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  function markNav(name) {
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === name);
      if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  // One set of listeners for every page: each page's handlers are looked up when used.
  F.bindActions(
    view,
    new Proxy(
      {},
      {
        get: (_t, name) =>
          (page && page.handlers && page.handlers[name]) || (name === 'copy' ? F.copyAction : undefined),
      },
    ),
  );

  // ------------------------------------------------------------------ executions
  function executionsQuery(params) {
    return {
      status: params.get('status') || '',
      q: params.get('q') || '',
      page: Math.max(0, Number(params.get('page')) || 0),
    };
  }

  function executionsPage(gen, q) {
    markNav('executions');
    let data;
    let searchTimer;
    const setQuery = (next) => {
      Object.assign(q, next);
      const p = new URLSearchParams();
      if (q.status) p.set('status', q.status);
      if (q.q) p.set('q', q.q);
      if (q.page) p.set('page', String(q.page));
      const hash = `#/${p.toString() ? `?${p}` : ''}`;
      window.history.replaceState(null, '', hash);
      load();
    };
    const handlers = {
      'input:status': (v) => setQuery({ status: v, page: 0 }),
      'input:search': (v) => {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(() => setQuery({ q: v, page: 0 }), 250);
      },
      page: (n) => setQuery({ page: Math.max(0, Number(n) || 0) }),
    };
    let loading = 0;
    async function load() {
      const mine = ++loading;
      try {
        const p = new URLSearchParams({ limit: '50', page: String(q.page) });
        if (q.status) p.set('status', q.status);
        if (q.q) p.set('q', q.q);
        const answer = await getJson(`/api/executions?${p}`);
        if (gen !== generation || mine !== loading) return;
        data = answer;
        q.page = answer.page;
        show({ render: () => F.executionsView(data, q), handlers }, 'Executions');
        updated();
      } catch (err) {
        if (gen === generation) status.textContent = `update failed: ${err.message}`;
      }
      if (mine === loading) schedule(load, gen);
    }
    page = {
      render: () => F.executionsView(data || { executions: [], total: 0, page: 0, pageSize: 50 }, q),
      handlers,
    };
    return load();
  }

  // ------------------------------------------------------------------ one execution
  function executionPage(gen, arn) {
    markNav('executions');
    if (executionUi.arn !== arn) {
      executionUi.arn = arn;
      executionUi.ui = F.newExecutionUi();
    }
    const ui = executionUi.ui;
    let detail;
    const frameSrc = (i) => `/api/frame?arn=${encodeURIComponent(arn)}&i=${i}`;
    const loadEvent = (id) =>
      getJson(`/api/event?arn=${encodeURIComponent(arn)}&id=${id}`).then((e) => e.details || {});
    const handlers = F.executionActions(ui, rerender, loadEvent);
    const render = () =>
      h(
        'div',
        { 'data-key': 'execution-page' },
        h(
          'nav',
          { class: 'crumbs' },
          h('a', { href: '#/' }, 'Executions'),
          ' › ',
          h('span', { class: 'mono' }, detail.name),
        ),
        F.executionView(detail, graph, ui, { frameSrc }),
      );
    async function load() {
      try {
        graph = graph || (await getJson('/api/graph'));
        const d = await getJson(`/api/execution?arn=${encodeURIComponent(arn)}`);
        if (gen !== generation) return;
        detail = d;
        show({ render, handlers }, `${d.video || d.name} · Execution`);
        updated();
        if (d.status === 'RUNNING') schedule(load, gen);
      } catch (err) {
        if (gen !== generation) return;
        if (detail) {
          status.textContent = `update failed: ${err.message}`;
          schedule(load, gen);
        } else showError(err);
      }
    }
    return load();
  }

  // ------------------------------------------------------------------ state machine
  function stateMachinePage(gen, tab) {
    markNav('graph');
    stateMachineUi.tab = tab;
    const handlers = {
      tab: (t) => {
        location.hash = t === 'definition' ? '#/definition' : '#/graph';
      },
    };
    const render = () => F.definitionView(graph, definition, info, stateMachineUi);
    return (async () => {
      try {
        graph = graph || (await getJson('/api/graph'));
        if (tab === 'definition') definition = definition || (await getJson('/api/definition'));
        if (gen !== generation) return;
        show({ render, handlers }, tab === 'definition' ? 'Definition · State machine' : 'State machine');
      } catch (err) {
        if (gen === generation) showError(err);
      }
    })();
  }

  // ------------------------------------------------------------------ gallery
  function galleryPage(gen) {
    markNav('gallery');
    const photoSrc = (p, i) => `/api/gallery/photo?p=${p}&i=${i}`;
    async function load() {
      try {
        const gallery = await getJson('/api/gallery');
        if (gen !== generation) return;
        // The photo URLs change with the gallery's version: a pushed gallery's photos are new.
        const v = encodeURIComponent(gallery.version || gallery.updatedAt || '');
        show(
          { render: () => F.galleryView(gallery, (p, i) => `${photoSrc(p, i)}&v=${v}`), handlers: {} },
          'Gallery',
        );
        updated();
      } catch (err) {
        if (gen === generation && !page) showError(err);
        else if (gen === generation) status.textContent = `update failed: ${err.message}`;
      }
      schedule(load, gen, Math.max(2000, pollMs()));
    }
    page = undefined;
    return load();
  }

  // ------------------------------------------------------------------ router
  function route() {
    const gen = ++generation;
    clearTimeout(timer);
    status.textContent = '';
    const hash = location.hash || '#/';
    const [pathPart, query] = hash.slice(1).split('?');
    const params = new URLSearchParams(query || '');
    const kind = pathPart === '/execution' && params.get('arn') ? 'execution' : pathPart;
    if (view.dataset.page !== `${kind}:${params.get('arn') || ''}`) {
      view.dataset.page = `${kind}:${params.get('arn') || ''}`;
      page = undefined;
      view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      window.scrollTo(0, 0);
    }
    if (kind === 'execution') return executionPage(gen, params.get('arn'));
    if (pathPart === '/graph') return stateMachinePage(gen, 'graph');
    if (pathPart === '/definition') return stateMachinePage(gen, 'definition');
    if (pathPart === '/gallery') return galleryPage(gen);
    return executionsPage(gen, executionsQuery(params));
  }

  // ------------------------------------------------------------------ heartbeat
  let down = false;
  async function heartbeat() {
    let message;
    try {
      const s = await getJson('/api/status');
      if (!s.running)
        message =
          'The stack stopped: nothing new will run or show here. Start it again with `facerec up`; this page shows what it last read.';
    } catch (err) {
      message =
        err.status === undefined
          ? 'The console stopped answering (its `facerec up` or `facerec console` ended). This page shows what it last read and reconnects when the console is back.'
          : undefined;
    }
    banner.hidden = !message;
    banner.textContent = message || '';
    document.body.classList.toggle('stopped', !!message);
    if (down && !message) route(); // back: show what is there now
    down = !!message;
    setTimeout(heartbeat, Math.max(1000, pollMs()));
  }

  window.addEventListener('hashchange', route);
  getJson('/api/info')
    .then((i) => {
      info = i;
      document.getElementById('target').textContent = i.description || '';
    })
    .catch(() => undefined)
    .finally(() => {
      route();
      heartbeat();
    });
})(window.Facerec);
