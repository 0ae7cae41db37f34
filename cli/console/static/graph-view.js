/*
 * The state machine as SVG: laid out by dagre (served from node_modules), each state with its
 * type and resource, coloured by its status in an execution (all Map iterations together, or
 * the one chosen), retries and time of its runs. A click on a state (or Enter on it) selects it:
 * the element carries `data-action="select-state"`, the page's one listener does the rest.
 */
'use strict';
(function (F) {
  const { h, s, statusClass, duration } = F;
  const BIG = (n) => n.type !== 'Start' && n.type !== 'End';

  let measureCtx;
  function textWidth(text, font) {
    measureCtx = measureCtx || document.createElement('canvas').getContext('2d');
    measureCtx.font = font || '13px system-ui, sans-serif';
    return measureCtx.measureText(text).width;
  }

  /** The second line of a state: its type, and what it runs. */
  function typeLine(n) {
    const r = n.resource || '';
    const short = /^Lambda function: (.+)$/.exec(r);
    const what = short
      ? `λ ${short[1]}`
      : /events:putEvents/.test(r)
        ? 'EventBridge'
        : n.mapMode === 'distributed'
          ? 'Distributed'
          : '';
    return what ? `${n.type} · ${what}` : n.type;
  }

  /** A state inside a Distributed Map in an execution: it ran (or not) in the Map Run's child
   * executions, which the parent's history does not hold; it is not coloured as "not run". */
  const CHILD_TEXT = 'in child executions';

  /** Layouts by scope: a graph is laid out once, however often a page re-renders it. */
  const layouts = new WeakMap();
  function layoutScope(scope) {
    let lay = layouts.get(scope);
    if (!lay) layouts.set(scope, (lay = layoutOnce(scope)));
    return lay;
  }

  function layoutOnce(scope) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 34, edgesep: 10, marginx: 6, marginy: 6 });
    g.setDefaultEdgeLabel(() => ({}));
    const inner = {};
    for (const n of scope.nodes) {
      let width = BIG(n)
        ? Math.max(150, textWidth(n.id) + 34, textWidth(typeLine(n), '11px system-ui') + 30)
        : 70;
      let height = BIG(n) ? 56 : 28;
      if (n.children && n.children.length) {
        const subs = n.children.map(layoutScope);
        inner[n.id] = subs;
        const iw = subs.reduce((a, x) => a + x.width, 0) + (subs.length - 1) * 14;
        width = Math.max(width, iw + 24);
        height = Math.max(...subs.map((x) => x.height)) + 62;
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

  /** One line on a state's runs: how often, running, caught, retried, time. */
  function runLine(run) {
    if (!run || run.status === 'NOT_RUN') return '';
    const parts = [];
    if (run.entered > 1) parts.push(`${run.entered}×`);
    if (run.running) parts.push(`${run.running} running`);
    if (run.caught) parts.push(`${run.caught} caught`);
    if (run.retries) parts.push(`${run.retries} ${run.retries === 1 ? 'retry' : 'retries'}`);
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

  function drawScope(parent, lay, dx, dy, runOf, opts) {
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
      if (e.label && typeof e.x === 'number')
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
    for (const id of g.nodes()) {
      const n = g.node(id);
      const node = n.node;
      const x = n.x - n.width / 2 + dx;
      const y = n.y - n.height / 2 + dy;
      const cx = x + n.width / 2;
      if (!BIG(node)) {
        parent.append(
          s(
            'g',
            { class: `state ${statusClass('TERMINAL')}`, 'data-state': id, 'data-status': 'TERMINAL' },
            s('rect', { x, y, width: n.width, height: n.height, rx: n.height / 2 }),
            s('text', { x: cx, y: y + n.height / 2 + 4, 'text-anchor': 'middle' }, node.type),
          ),
        );
        continue;
      }
      const run = runOf(id);
      const child = !!(opts.states && node.inChildExecutions && !run && opts.mapRunRan);
      const status = child ? 'CHILD' : opts.states ? (run ? run.status : 'NOT_RUN') : 'NOT_RUN';
      const inner = lay.inner[id];
      const sub = child ? CHILD_TEXT : opts.states ? runLine(run) : '';
      const tip = [
        `${id} (${node.type})`,
        node.resource,
        ...(node.mapRun || []),
        node.inChildExecutions ? `Runs in the Map Run's child executions (not in this history)` : '',
        node.comment,
        ...(node.retry || []).map((r) => `Retry ${r}`),
      ].filter(Boolean);
      parent.append(
        s(
          'g',
          {
            class: `state ${statusClass(status)} type-${String(node.type).replace(/\W/g, '')}${
              opts.selected === id ? ' selected' : ''
            }`,
            'data-state': id,
            'data-status': status,
            'data-type': node.type,
            'data-action': opts.selectable ? 'select-state' : undefined,
            'data-arg': opts.selectable ? id : undefined,
            tabindex: opts.selectable ? 0 : undefined,
            role: opts.selectable ? 'button' : undefined,
            'aria-label': `${id}, ${node.type}, ${child ? CHILD_TEXT : F.STATUS_TEXT[status] || status}`,
          },
          s('rect', { x, y, width: n.width, height: n.height, rx: 6 }),
          s('title', {}, tip.join('\n')),
          s('text', { class: 'state-name', x: cx, y: y + 17, 'text-anchor': 'middle' }, id),
          s('text', { class: 'state-type', x: cx, y: y + 31, 'text-anchor': 'middle' }, typeLine(node)),
          sub ? s('text', { class: 'state-sub', x: cx, y: y + 45, 'text-anchor': 'middle' }, sub) : null,
        ),
      );
      if (inner) {
        let ox = x + 12;
        for (const subScope of inner) {
          drawScope(
            parent,
            subScope,
            ox,
            y + 54,
            (name) => (opts.innerStates || opts.states || {})[name],
            node.mapMode === 'distributed' ? { ...opts, mapRunRan: !!run && run.entered > 0 } : opts,
          );
          ox += subScope.width + 14;
        }
      }
    }
  }

  /**
   * The graph. opts: `states` (status per state, from an execution), `innerStates` (the chosen
   * Map iteration's, for the states inside the Map), `selected`, `selectable`.
   */
  function graphView(graph, opts) {
    opts = opts || {};
    const lay = layoutScope(graph);
    const svg = s('svg', {
      class: 'graph',
      viewBox: `0 0 ${Math.ceil(lay.width)} ${Math.ceil(lay.height)}`,
      width: Math.ceil(lay.width),
      height: Math.ceil(lay.height),
      role: 'group',
      'aria-label': 'state machine',
    });
    const defs = s('defs');
    for (const kind of ['next', 'catch'])
      defs.append(
        s(
          'marker',
          {
            id: `arrow-${kind}`,
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
          },
          s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow arrow-${kind}` }),
        ),
      );
    svg.append(defs);
    drawScope(svg, lay, 0, 0, (name) => (opts.states || {})[name], opts);
    return h('div', { class: 'graph-wrap' }, svg);
  }

  function legend() {
    return h(
      'div',
      { class: 'legend' },
      ['SUCCEEDED', 'RUNNING', 'CAUGHT', 'FAILED', 'NOT_RUN'].map((st) => F.pill(st)),
    );
  }

  /** Every state of a graph with its node (Map inner states included), in definition order. */
  function graphStates(graph) {
    const out = [];
    const walk = (scope, parent) => {
      for (const n of scope.nodes) {
        if (!BIG(n)) continue;
        out.push({ node: n, parent });
        for (const c of n.children || []) walk(c, n.id);
      }
    };
    walk(graph);
    return out;
  }

  Object.assign(F, { graphView, legend, graphStates, runLine });
})(window.Facerec);
