/*
 * The facerec console's views, shared by the console (app.js) and the self-contained report
 * (report.js). Plain browser JavaScript, no build step. Every string that comes from data (keys,
 * names, errors) enters the page as a text node or an attribute value set through the DOM,
 * never as markup; links and image sources are checked before use. The state graph is laid out
 * by dagre (served from node_modules) and drawn as SVG.
 */
'use strict';
(function () {
  const SVG_NS = 'http://www.w3.org/2000/svg';

  /** Image sources the views may use: this console's API, or inlined JPEG/PNG (the report). */
  const safeSrc = (v) =>
    typeof v === 'string' &&
    (/^\/api\/[a-z/]+\?[\w=&%.:-]*$/.test(v) || /^data:image\/(jpeg|png);base64,[A-Za-z0-9+/=]+$/.test(v));
  const safeHref = (v) => typeof v === 'string' && /^#\//.test(v);

  /** An element: attrs are set through the DOM (class, title, alt, href, src, data-*, aria-*, …);
   * children are nodes or text. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (/^on/i.test(k) || k === 'style') throw new Error(`attribute ${k} is not allowed`);
      if (k === 'href' && !safeHref(v)) continue;
      if (k === 'src' && !safeSrc(v)) continue;
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    for (const c of children)
      if (c !== undefined && c !== null)
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  // ------------------------------------------------------------------ formatting
  const STATUS_TEXT = {
    RUNNING: 'Running',
    SUCCEEDED: 'Succeeded',
    FAILED: 'Failed',
    TIMED_OUT: 'Timed out',
    ABORTED: 'Aborted',
    CAUGHT: 'Caught error',
    NOT_RUN: 'Not run',
  };
  const statusClass = (st) => `status-${String(st).replace(/[^A-Z_]/g, '')}`;
  const pill = (st) =>
    h('span', { class: `pill ${statusClass(st)}`, 'data-status': st }, STATUS_TEXT[st] || String(st));

  function duration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    const m = Math.floor(ms / 60000);
    return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
  }
  const clock = (t) => (typeof t === 'number' ? new Date(t).toLocaleString() : '–');
  const dist = (d) => (typeof d === 'number' ? d.toFixed(3) : '–');
  const secs = (t) => (typeof t === 'number' ? `${t.toFixed(1)} s` : '');

  // ------------------------------------------------------------------ state graph
  let measureCtx;
  function textWidth(text, font) {
    measureCtx = measureCtx || document.createElement('canvas').getContext('2d');
    measureCtx.font = font || '13px system-ui, sans-serif';
    return measureCtx.measureText(text).width;
  }

  function layoutScope(scope) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 26, ranksep: 34, edgesep: 10, marginx: 6, marginy: 6 });
    g.setDefaultEdgeLabel(() => ({}));
    const inner = {};
    for (const n of scope.nodes) {
      let width = n.type === 'Start' || n.type === 'End' ? 70 : Math.max(150, textWidth(n.id) + 34);
      let height = n.type === 'Start' || n.type === 'End' ? 28 : 42;
      if (n.children && n.children.length) {
        const subs = n.children.map(layoutScope);
        inner[n.id] = subs;
        const iw = subs.reduce((a, x) => a + x.width, 0) + (subs.length - 1) * 14;
        width = Math.max(width, iw + 24);
        height = Math.max(...subs.map((x) => x.height)) + 46;
      }
      g.setNode(n.id, { width, height, node: n });
    }
    scope.edges.forEach((e, i) => {
      const label = e.kind === 'catch' ? 'catch' : e.label || '';
      const attrs = label
        ? { width: textWidth(label, '11px system-ui, sans-serif') + 6, height: 14, labelpos: 'c' }
        : {};
      g.setEdge(e.from, e.to, { ...attrs, edge: e, label }, `e${i}`);
    });
    dagre.layout(g);
    return { g, inner, width: g.graph().width, height: g.graph().height };
  }

  function stateSummary(run) {
    if (!run || run.status === 'NOT_RUN') return '';
    const parts = [];
    if (run.entered > 1) parts.push(`${run.entered}×`);
    if (run.running) parts.push(`${run.running} running`);
    if (run.caught) parts.push(`${run.caught} caught`);
    if (run.failedAttempts && run.status === 'SUCCEEDED') parts.push(`${run.failedAttempts} retried`);
    parts.push(duration(run.totalMs));
    return parts.join(' · ');
  }

  /** dagre's edge points as a path, its corners rounded through the segments' midpoints. */
  function edgePath(points, dx, dy) {
    const p = points.map((q) => [q.x + dx, q.y + dy]);
    const f = (q) => `${q[0].toFixed(1)},${q[1].toFixed(1)}`;
    let d = `M${f(p[0])}`;
    for (let i = 1; i < p.length - 1; i++) {
      const last = i === p.length - 2;
      const mid = [(p[i][0] + p[i + 1][0]) / 2, (p[i][1] + p[i + 1][1]) / 2];
      d += ` Q${f(p[i])} ${f(last ? p[i + 1] : mid)}`;
    }
    if (p.length === 2) d += ` L${f(p[1])}`;
    return d;
  }

  function drawScope(parent, lay, dx, dy, states, onSelect) {
    const { g } = lay;
    for (const id of g.edges()) {
      const e = g.edge(id);
      parent.append(
        s('path', {
          class: `edge edge-${e.edge.kind}`,
          d: edgePath(e.points, dx, dy),
          'marker-end': `url(#arrow-${e.edge.kind === 'catch' ? 'catch' : 'next'})`,
        }),
      );
      if (e.label && typeof e.x === 'number') {
        parent.append(
          s(
            'text',
            {
              class: 'edge-label',
              x: (e.x + dx).toFixed(1),
              y: (e.y + dy + 4).toFixed(1),
              'text-anchor': 'middle',
            },
            e.label,
          ),
        );
      }
    }
    for (const id of g.nodes()) {
      const n = g.node(id);
      const node = n.node;
      const x = n.x - n.width / 2 + dx;
      const y = n.y - n.height / 2 + dy;
      const run = states && states[id];
      const status = node.type === 'Start' || node.type === 'End' ? 'TERMINAL' : run ? run.status : 'NOT_RUN';
      const grp = s('g', {
        class: `state ${statusClass(status)} type-${String(node.type).replace(/\W/g, '')}`,
        'data-state': id,
        'data-status': status,
        tabindex: node.type === 'Start' || node.type === 'End' ? undefined : 0,
      });
      if (node.type === 'Start' || node.type === 'End') {
        grp.append(s('rect', { x, y, width: n.width, height: n.height, rx: n.height / 2 }));
        grp.append(
          s('text', { x: x + n.width / 2, y: y + n.height / 2 + 4, 'text-anchor': 'middle' }, node.type),
        );
      } else {
        grp.append(s('rect', { x, y, width: n.width, height: n.height, rx: 6 }));
        grp.append(s('title', {}, `${id} (${node.type})${node.comment ? `\n${node.comment}` : ''}`));
        const sub = stateSummary(run);
        const inner = lay.inner[id];
        grp.append(
          s(
            'text',
            {
              class: 'state-name',
              x: x + n.width / 2,
              y: y + (inner ? 17 : sub ? 18 : 25),
              'text-anchor': 'middle',
            },
            id,
          ),
        );
        if (sub)
          grp.append(
            s(
              'text',
              { class: 'state-sub', x: x + n.width / 2, y: y + (inner ? 31 : 33), 'text-anchor': 'middle' },
              sub,
            ),
          );
        if (onSelect) {
          grp.addEventListener('click', (ev) => {
            ev.stopPropagation();
            onSelect(id);
          });
          grp.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter') onSelect(id);
          });
        }
        parent.append(grp);
        if (inner) {
          let ox = x + 12;
          for (const sub of inner) {
            drawScope(parent, sub, ox, y + 40, states, onSelect);
            ox += sub.width + 14;
          }
        }
        continue;
      }
      parent.append(grp);
    }
  }

  /** The state machine as SVG, coloured by each state's status when `states` is given. */
  function graphView(graph, states, onSelect) {
    const lay = layoutScope(graph);
    const svg = s('svg', {
      class: 'graph',
      viewBox: `0 0 ${Math.ceil(lay.width)} ${Math.ceil(lay.height)}`,
      width: Math.ceil(lay.width),
      height: Math.ceil(lay.height),
      role: 'img',
      'aria-label': 'state machine',
    });
    const defs = s('defs');
    for (const kind of ['next', 'catch']) {
      const m = s('marker', {
        id: `arrow-${kind}`,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      });
      m.append(s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow arrow-${kind}` }));
      defs.append(m);
    }
    svg.append(defs);
    drawScope(svg, lay, 0, 0, states, onSelect);
    return h('div', { class: 'graph-wrap' }, svg);
  }

  function legend() {
    return h(
      'div',
      { class: 'legend' },
      ['SUCCEEDED', 'RUNNING', 'CAUGHT', 'FAILED', 'NOT_RUN'].map((st) => pill(st)),
    );
  }

  // ------------------------------------------------------------------ executions
  function executionHref(arn) {
    return `#/execution?arn=${encodeURIComponent(arn)}`;
  }

  function executionsTable(rows) {
    if (!rows.length)
      return h('p', { class: 'empty' }, 'No executions yet. Upload a video to the input bucket.');
    return h(
      'table',
      { class: 'executions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Status', 'Video', 'Recognized', 'Started', 'Duration', 'Execution'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-arn': r.executionArn, 'data-status': r.status },
            h('td', {}, pill(r.status)),
            h('td', { class: 'video' }, h('a', { href: executionHref(r.executionArn) }, r.video || '?')),
            h(
              'td',
              { class: 'recognized' },
              r.recognized ||
                (r.error
                  ? h(
                      'span',
                      { class: 'error-text', title: r.reason || '' },
                      r.error,
                      r.reason ? h('span', { class: 'reason' }, `: ${r.reason}`) : null,
                    )
                  : ''),
            ),
            h('td', {}, clock(r.startDate)),
            h('td', { class: 'num' }, duration(r.durationMs)),
            h('td', { class: 'mono' }, h('a', { href: executionHref(r.executionArn) }, r.name)),
          ),
        ),
      ),
    );
  }

  function kv(pairs) {
    return h(
      'dl',
      { class: 'kv' },
      pairs
        .filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== '')
        .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
  }

  function stateDetail(name, run) {
    if (!name)
      return h(
        'div',
        { class: 'state-detail muted' },
        'Select a state to see its input, output, timing and errors.',
      );
    if (!run)
      return h(
        'div',
        { class: 'state-detail' },
        h('h3', {}, name),
        h('p', { class: 'muted' }, 'This state did not run.'),
      );
    return h(
      'div',
      { class: 'state-detail' },
      h('h3', {}, name, ' ', pill(run.status)),
      kv([
        ['runs', String(run.entered)],
        ['time (summed)', duration(run.totalMs)],
        ['caught failures', run.caught ? String(run.caught) : undefined],
        ['failed attempts', run.failedAttempts ? String(run.failedAttempts) : undefined],
        ['still running', run.running ? String(run.running) : undefined],
      ]),
      run.errors && run.errors.length
        ? h(
            'div',
            {},
            h('h4', {}, 'Errors'),
            run.errors.map((e) =>
              h('pre', { class: 'error-text' }, `${e.error}${e.cause ? `\n${e.cause}` : ''}`),
            ),
          )
        : null,
      run.input !== undefined ? h('div', {}, h('h4', {}, 'Input (last run)'), h('pre', {}, run.input)) : null,
      run.output !== undefined
        ? h('div', {}, h('h4', {}, 'Output (last run)'), h('pre', {}, run.output))
        : null,
    );
  }

  function eventsTable(events, total) {
    return h(
      'div',
      {},
      total > events.length
        ? h('p', { class: 'muted' }, `${events.length} of ${total} events shown (the first and last).`)
        : null,
      h(
        'table',
        { class: 'events' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['#', 'after', 'type', 'state', 'detail'].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          events.map((e) =>
            h(
              'tr',
              { class: /Failed|TimedOut|Aborted/.test(e.type) ? 'event-failed' : '' },
              h('td', { class: 'num' }, String(e.id)),
              h('td', { class: 'num' }, duration(e.at)),
              h('td', {}, e.type),
              h('td', {}, e.state || ''),
              h('td', { class: 'mono detail', title: e.detail || undefined }, e.detail || ''),
            ),
          ),
        ),
      ),
    );
  }

  /** One execution: header, graph coloured by state, state detail, result, history. */
  function executionView(detail, graph, opts) {
    const selected = { name: opts.selected };
    const detailBox = h(
      'div',
      { class: 'state-panel' },
      stateDetail(selected.name, selected.name && detail.states[selected.name]),
    );
    const select = (name) => {
      selected.name = name;
      if (opts.onSelect) opts.onSelect(name);
      detailBox.replaceChildren(stateDetail(name, detail.states[name]));
    };
    return h(
      'div',
      { class: 'execution', 'data-status': detail.status },
      h('h2', {}, detail.video || detail.name, ' ', pill(detail.status)),
      kv([
        ['execution', detail.name],
        ['started', clock(detail.startDate)],
        ['duration', duration(detail.durationMs)],
        ['recognized', detail.recognized],
        ['error', detail.error ? `${detail.error}${detail.reason ? `: ${detail.reason}` : ''}` : undefined],
      ]),
      h(
        'div',
        { class: 'split' },
        h(
          'section',
          { class: 'graph-box' },
          h('h3', {}, 'Graph'),
          legend(),
          graph ? graphView(graph, detail.states, select) : h('p', { class: 'muted' }, 'no graph'),
        ),
        detailBox,
      ),
      h(
        'section',
        { class: 'result-box' },
        h('h3', {}, 'Result'),
        detail.result ? resultView(detail.result, opts.frameSrc) : null,
        detail.resultNote ? h('p', { class: 'muted note' }, detail.resultNote) : null,
      ),
      h(
        'section',
        {},
        h('h3', {}, 'Event history'),
        eventsTable(detail.events || [], detail.eventsTotal || 0),
      ),
    );
  }

  // ------------------------------------------------------------------ result
  function timeline(result) {
    const frames = result.frames;
    if (!frames.length) return null;
    const names = result.people.map((p) => p.name);
    const others = new Set();
    for (const f of frames) for (const face of f.faces) if (!names.includes(face.name)) others.add(face.name);
    const rows = [...names, ...[...others].sort()];
    if (!rows.length) return h('p', { class: 'muted' }, 'No face in any frame.');
    const label = (f) =>
      `frame ${f.index + 1}${typeof f.timeSec === 'number' ? ` (${secs(f.timeSec)})` : ''}`;
    return h(
      'table',
      { class: 'timeline' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'person \\ frame'),
          frames.map((f) =>
            h(
              'th',
              { class: 'tick', title: `${label(f)}: ${f.key}` },
              typeof f.timeSec === 'number' ? f.timeSec.toFixed(1) : String(f.index + 1),
            ),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((name) =>
          h(
            'tr',
            { 'data-person': name },
            h('th', { class: 'person' }, name),
            frames.map((f) => {
              const hits = f.faces.filter((x) => x.name === name);
              const best = hits.reduce(
                (b, x) => (x.distance !== null && (b === null || x.distance < b) ? x.distance : b),
                null,
              );
              return h('td', {
                class: hits.length
                  ? names.includes(name)
                    ? 'seen'
                    : 'seen other'
                  : f.error
                    ? 'frame-error'
                    : '',
                title: hits.length
                  ? `${name} in ${label(f)}${best !== null ? `, distance ${dist(best)}` : ''}`
                  : f.error
                    ? `${label(f)}: ${f.error}`
                    : label(f),
              });
            }),
          ),
        ),
      ),
    );
  }

  function enlargeable(img) {
    img.addEventListener('click', () => img.closest('figure').classList.toggle('big'));
    return img;
  }

  function resultView(result, frameSrc) {
    const seen = (p) => {
      if (typeof p.firstSeenSec === 'number') return `${secs(p.firstSeenSec)} – ${secs(p.lastSeenSec)}`;
      if (p.appearances && p.appearances.length)
        return p.appearances
          .map((a) =>
            typeof a.fromSec === 'number'
              ? `${secs(a.fromSec)} – ${secs(a.toSec)}`
              : `frames ${a.fromFrame}–${a.toFrame}`,
          )
          .join(', ');
      const seenIn = result.frames.filter((f) => f.faces.some((x) => x.name === p.name));
      if (!seenIn.length) return '';
      const first = seenIn[0];
      const last = seenIn[seenIn.length - 1];
      if (typeof first.timeSec === 'number' && typeof last.timeSec === 'number')
        return `${secs(first.timeSec)} – ${secs(last.timeSec)}`;
      return `frames ${first.index + 1}–${last.index + 1}`;
    };
    const facesShown = result.frames.filter((f) => f.faces.length || f.error);
    return h(
      'div',
      { class: 'result' },
      h('p', { class: 'recognized-name' }, 'Recognized: ', h('strong', { class: 'name' }, result.name)),
      kv([
        ['video', result.video.key],
        ['frames analysed', result.framesAnalysed !== undefined ? String(result.framesAnalysed) : undefined],
        ['frames failed', result.framesFailed ? String(result.framesFailed) : undefined],
        ['faces', result.faces !== undefined ? String(result.faces) : undefined],
        ['unknown faces', result.unknownFaces !== undefined ? String(result.unknownFaces) : undefined],
        ['video length', typeof result.durationSec === 'number' ? secs(result.durationSec) : undefined],
        ['profile', result.profile],
      ]),
      result.people.length
        ? h(
            'table',
            { class: 'people' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['person', 'frames', 'faces', 'best distance', 'seen'].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              result.people.map((p) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'person' }, p.name),
                  h('td', { class: 'num' }, p.frames ?? '–'),
                  h('td', { class: 'num' }, p.faces ?? '–'),
                  h('td', { class: 'num' }, dist(p.bestDistance)),
                  h('td', {}, seen(p)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Nobody from the gallery was recognized.'),
      h('h4', {}, 'Timeline'),
      timeline(result),
      result.timings.length
        ? h('div', {}, h('h4', {}, 'Timings'), kv(result.timings.map((t) => [t.label, duration(t.ms)])))
        : null,
      result.failedBatches.length
        ? h(
            'div',
            {},
            h('h4', {}, 'Failed batches'),
            result.failedBatches.map((b) =>
              h(
                'pre',
                { class: 'error-text' },
                `batch ${b.batch ?? '?'}: ${b.error}${b.reason ? `: ${b.reason}` : ''}`,
              ),
            ),
          )
        : null,
      h('h4', {}, `Frames with faces (${facesShown.length} of ${result.frames.length})`),
      h(
        'div',
        { class: 'frames' },
        facesShown.map((f) => {
          const src = frameSrc ? frameSrc(f.index) : undefined;
          return h(
            'figure',
            { class: 'frame', 'data-frame': f.index },
            src
              ? enlargeable(
                  h('img', {
                    src,
                    alt: `frame ${f.index + 1} with its faces marked`,
                    title: 'click to enlarge',
                  }),
                )
              : h('div', { class: 'no-image' }, 'frame image not available'),
            h(
              'figcaption',
              {},
              h('span', { class: 'mono' }, f.key),
              typeof f.timeSec === 'number' ? ` at ${secs(f.timeSec)}` : '',
              f.error ? h('div', { class: 'error-text' }, f.error) : null,
              h(
                'ul',
                {},
                f.faces.map((x) =>
                  h(
                    'li',
                    {},
                    h('span', { class: 'face-name' }, x.name),
                    x.distance !== null ? ` ${dist(x.distance)}` : '',
                  ),
                ),
              ),
            ),
          );
        }),
      ),
      result.notes.map((n) => h('p', { class: 'muted note' }, n)),
    );
  }

  // ------------------------------------------------------------------ gallery
  function galleryView(gallery, photoSrc) {
    return h(
      'div',
      { class: 'gallery' },
      h(
        'h2',
        {},
        'Gallery',
        gallery.source ? h('span', { class: 'muted small' }, ` ${gallery.source}`) : null,
      ),
      gallery.error ? h('p', { class: 'error-text' }, gallery.error) : null,
      gallery.photosNote ? h('p', { class: 'note' }, gallery.photosNote) : null,
      gallery.modelId ? h('p', { class: 'muted small' }, `descriptors of model ${gallery.modelId}`) : null,
      gallery.people.length ? h('p', {}, `${gallery.people.length} enrolled people`) : null,
      h(
        'div',
        { class: 'cards' },
        gallery.people.map((p, i) =>
          h(
            'div',
            { class: 'card', 'data-person': p.name },
            h(
              'div',
              { class: 'photos' },
              p.images.some((im) => im.photo)
                ? p.images.map((im, j) =>
                    im.photo
                      ? h('img', {
                          src: photoSrc(i, j),
                          alt: `${p.name}: ${im.file}`,
                          title: im.file,
                          loading: 'lazy',
                        })
                      : null,
                  )
                : h('div', { class: 'no-photo' }, 'no photo'),
            ),
            h('div', { class: 'person-name' }, p.name),
            h('div', { class: 'muted small' }, `${p.images.length} image${p.images.length === 1 ? '' : 's'}`),
            h(
              'ul',
              { class: 'files small' },
              p.images.slice(0, 6).map((im) => h('li', { class: 'mono' }, im.file)),
            ),
          ),
        ),
      ),
    );
  }

  window.FacerecViews = {
    h,
    pill,
    duration,
    graphView,
    legend,
    executionsTable,
    executionView,
    resultView,
    galleryView,
    executionHref,
  };
})();
