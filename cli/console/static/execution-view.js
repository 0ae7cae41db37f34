/*
 * One execution, laid out as the Step Functions console lays it out: its details (start, end,
 * duration, state transitions, redrives), then the result with everyone recognized (or the
 * failure record), the graph (or a table of the states) with the chosen state's detail and one
 * Map iteration at a time, the execution's input and output, and the event history with absolute
 * times, a filter and rows that open. A pure function of the data and the page's UI state
 * (`ui`); the page re-renders with F.morph, so only what changed is touched.
 */
'use strict';
(function (F) {
  const { h, pill, duration, time, kv, jsonView, plural } = F;

  /** The runs to colour the graph with: all iterations together, or the chosen one. */
  function runsOf(detail, ui) {
    const it = ui.iteration === 'all' || ui.iteration === undefined ? undefined : Number(ui.iteration);
    const chosen = it === undefined ? undefined : (detail.iterations || []).find((x) => x.index === it);
    return { states: detail.states, inner: chosen ? chosen.states : undefined, iteration: chosen };
  }

  function detailsPanel(detail) {
    return h(
      'section',
      { class: 'panel details-panel', 'data-key': 'details' },
      h('h3', {}, 'Details'),
      kv(
        [
          ['Status', pill(detail.status)],
          ['Video', detail.video],
          ['Execution', h('span', { class: 'mono' }, detail.name)],
          ['Start time', time(detail.startDate)],
          [
            'End time',
            detail.stopDate ? time(detail.stopDate) : detail.status === 'RUNNING' ? 'running' : '–',
          ],
          ['Duration', duration(detail.durationMs)],
          ['State transitions', String(detail.transitions ?? '–')],
          ['Redrives', String(detail.redriveCount || 0)],
          ['Last redrive', detail.redriveDate ? time(detail.redriveDate) : undefined],
          ['Events', String(detail.eventsTotal ?? (detail.events || []).length)],
          ['Error', detail.error ? h('span', { class: 'error-text' }, detail.error) : undefined],
          ['Cause', detail.reason ? h('span', { class: 'error-text' }, detail.reason) : undefined],
        ],
        'grid',
      ),
    );
  }

  function resultPanel(detail, ui, opts) {
    let body;
    if (detail.result) body = F.resultView(detail.result, { frameSrc: opts.frameSrc, big: ui.big });
    else if (detail.errorRecord)
      body = h(
        'div',
        { class: 'error-record' },
        h(
          'p',
          { class: 'error-text' },
          `${detail.errorRecord.error || detail.error || 'error'}: ${detail.errorRecord.reason || ''}`,
        ),
        kv([
          ['stage', detail.errorRecord.stage],
          ['kind', detail.errorRecord.kind],
          ['time', detail.errorRecord.time],
          ['record', detail.errorRecordKey],
        ]),
        jsonView(JSON.stringify(detail.errorRecord), 'error-record', 'Failure record'),
      );
    return h(
      'section',
      { class: 'panel result-box', 'data-key': 'result-panel' },
      h('h3', {}, detail.result ? 'Result' : detail.errorRecord ? 'Failure record' : 'Result'),
      body || null,
      detail.resultNote ? h('p', { class: 'muted note' }, detail.resultNote) : null,
    );
  }

  function nodeOf(graph, name) {
    return F.graphStates(graph).find((x) => x.node.id === name);
  }

  function stateDetail(detail, graph, ui) {
    const name = ui.selected;
    if (!name)
      return h(
        'div',
        { class: 'state-detail muted' },
        'Select a state to see its type, resource, retries, input, output and errors.',
      );
    const found = graph ? nodeOf(graph, name) : undefined;
    const node = found ? found.node : { id: name, type: '?' };
    const { states, inner, iteration } = runsOf(detail, ui);
    const run = (found && found.parent && inner ? inner : states)[name];
    const scope = found && found.parent && iteration ? ` (iteration ${iteration.index})` : '';
    // A state of a Distributed Map that ran: it ran in the Map Run's child executions.
    const child = !run && !!node.inChildExecutions && !!found && !!states[found.parent];
    return h(
      'div',
      { class: 'state-detail', 'data-key': `state-detail` },
      h(
        'h3',
        {},
        name,
        ' ',
        child
          ? h('span', { class: 'muted small' }, 'in child executions')
          : pill(run ? run.status : 'NOT_RUN'),
      ),
      kv([
        ['Type', node.mapMode === 'distributed' ? 'Map (Distributed)' : node.type],
        ['Resource', node.resource],
        ['Runs', run ? `${run.entered}${scope}` : child ? "in the Map Run's child executions" : `0${scope}`],
        ['Retries', run && run.retries ? String(run.retries) : undefined],
        ['Failed attempts', run && run.failedAttempts ? String(run.failedAttempts) : undefined],
        ['Caught failures', run && run.caught ? String(run.caught) : undefined],
        ['Still running', run && run.running ? String(run.running) : undefined],
        ['Time (summed)', run ? duration(run.totalMs) : undefined],
        ['First entered', run && run.firstEnteredAt ? time(run.firstEnteredAt) : undefined],
        ['Last left', run && run.lastExitedAt ? time(run.lastExitedAt) : undefined],
        ['Timeout', node.timeoutSec ? `${node.timeoutSec} s` : undefined],
      ]),
      node.comment ? h('p', { class: 'muted small' }, node.comment) : null,
      rules('Map Run', node.mapRun),
      rules('Retry', node.retry),
      rules('Catch', node.catch),
      run && run.errors && run.errors.length
        ? h(
            'div',
            {},
            h('h4', {}, 'Errors'),
            run.errors.map((e) =>
              h('pre', { class: 'error-text' }, `${e.error}${e.cause ? `\n${e.cause}` : ''}`),
            ),
          )
        : null,
      run && run.input !== undefined
        ? jsonView(run.input, `state-in-${name}`, `Input (last run${scope})`)
        : null,
      run && run.output !== undefined
        ? jsonView(run.output, `state-out-${name}`, `Output (last run${scope})`)
        : null,
      !run
        ? h(
            'p',
            { class: 'muted' },
            child
              ? "This state runs in the Distributed Map's child executions (its Map Run): their events are not in this execution's history, as on AWS. The Map state's output names the Map Run and its result files."
              : 'This state did not run.',
          )
        : null,
    );
  }

  /** A state's Retry or Catch rules, one line each. */
  const rules = (title, list) =>
    list && list.length
      ? h(
          'div',
          {},
          h('h4', {}, title),
          h(
            'ul',
            { class: 'rules small' },
            list.map((r) => h('li', {}, r)),
          ),
        )
      : null;

  function iterationPicker(detail, ui) {
    const its = detail.iterations || [];
    if (!its.length) return null;
    const value = ui.iteration === undefined ? 'all' : String(ui.iteration);
    return h(
      'label',
      { class: 'iteration-picker' },
      'Map iteration ',
      h(
        'select',
        { id: 'iteration', 'data-input': 'iteration', 'aria-label': 'Map iteration' },
        h('option', { value: 'all', selected: value === 'all' }, `All ${plural(its.length, 'iteration')}`),
        its.map((it) =>
          h(
            'option',
            { value: String(it.index), selected: value === String(it.index) },
            `#${it.index} · ${F.STATUS_TEXT[it.status] || it.status}`,
          ),
        ),
      ),
    );
  }

  function statesTable(detail, graph, ui) {
    const { states, inner } = runsOf(detail, ui);
    const rows = graph
      ? F.graphStates(graph)
      : Object.keys(detail.states).map((n) => ({ node: { id: n, type: '?' } }));
    return h(
      'table',
      { class: 'states', 'data-key': 'states-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['State', 'Type', 'Status', 'Resource', 'Started', 'Duration', 'Runs', 'Retries'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map(({ node, parent }) => {
          const run = (parent && inner ? inner : states)[node.id];
          return h(
            'tr',
            {
              'data-key': `st:${node.id}`,
              'data-state': node.id,
              'data-action': 'select-state',
              'data-arg': node.id,
              tabindex: 0,
              class: ui.selected === node.id ? 'selected' : undefined,
            },
            h('td', { class: parent ? 'inner-state' : undefined }, node.id),
            h('td', {}, node.mapMode === 'distributed' ? 'Map (Distributed)' : node.type),
            h(
              'td',
              {},
              run
                ? pill(run.status)
                : node.inChildExecutions && states[parent]
                  ? h('span', { class: 'muted small' }, 'in child executions')
                  : pill('NOT_RUN'),
            ),
            h('td', { class: 'small' }, node.resource || ''),
            h('td', {}, run && run.firstEnteredAt ? time(run.firstEnteredAt) : '–'),
            h('td', { class: 'num' }, run ? duration(run.totalMs) : '–'),
            h('td', { class: 'num' }, run ? String(run.entered) : '0'),
            h('td', { class: 'num' }, run && run.retries ? String(run.retries) : ''),
          );
        }),
      ),
    );
  }

  function graphPanel(detail, graph, ui) {
    const tab = ui.tab === 'table' ? 'table' : 'graph';
    const { states, inner } = runsOf(detail, ui);
    return h(
      'section',
      { class: 'panel graph-panel', 'data-key': 'graph-panel' },
      F.tabs(
        [
          ['graph', 'Graph view'],
          ['table', 'Table view'],
        ],
        tab,
        iterationPicker(detail, ui),
      ),
      h(
        'div',
        { class: 'split' },
        h(
          'div',
          { class: 'graph-box' },
          tab === 'graph'
            ? [
                F.legend(),
                graph
                  ? F.graphView(graph, {
                      states,
                      innerStates: inner,
                      selected: ui.selected,
                      selectable: true,
                    })
                  : h('p', { class: 'muted' }, 'no graph'),
              ]
            : statesTable(detail, graph, ui),
        ),
        h('div', { class: 'state-panel' }, stateDetail(detail, graph, ui)),
      ),
    );
  }

  function ioPanel(detail) {
    return h(
      'section',
      { class: 'panel io-panel', 'data-key': 'io' },
      h('h3', {}, 'Execution input and output'),
      h(
        'div',
        { class: 'io' },
        jsonView(detail.input, 'exec-input', 'Input'),
        jsonView(
          detail.output,
          'exec-output',
          detail.status === 'RUNNING' ? 'Output (when it ends)' : 'Output',
        ),
      ),
    );
  }

  const eventText = (e) =>
    [e.id, e.type, e.state, e.resource, e.detail, e.iteration !== undefined ? `#${e.iteration}` : '']
      .join(' ')
      .toLowerCase();

  function eventsPanel(detail, ui) {
    const all = detail.events || [];
    const filter = (ui.filter || '').trim().toLowerCase();
    const shown = filter ? all.filter((e) => eventText(e).includes(filter)) : all;
    const open = ui.expanded || new Set();
    return h(
      'section',
      { class: 'panel events-panel', 'data-key': 'events' },
      h('h3', {}, 'Events'),
      h(
        'div',
        { class: 'toolbar' },
        h('input', {
          id: 'events-filter',
          type: 'search',
          placeholder: 'Filter: type, state, resource, error…',
          'aria-label': 'filter events',
          value: ui.filter || '',
          'data-input': 'filter',
          maxlength: 200,
        }),
        h(
          'span',
          { class: 'muted small', id: 'events-count' },
          filter ? `${shown.length} of ${all.length} events` : plural(all.length, 'event'),
          detail.eventsTotal > all.length ? ` (the first and last of ${detail.eventsTotal})` : '',
        ),
      ),
      h(
        'table',
        { class: 'events' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['', 'ID', 'Type', 'Step', 'Resource', 'Started after', 'Timestamp'].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          shown.map((e) => {
            const isOpen = open.has(e.id);
            const failed = /Failed|TimedOut|Aborted/.test(e.type);
            const row = h(
              'tr',
              {
                'data-key': `ev:${e.id}`,
                'data-event': e.id,
                'data-action': 'toggle-event',
                'data-arg': e.id,
                tabindex: 0,
                'aria-expanded': isOpen ? 'true' : 'false',
                class: `event-row${failed ? ' event-failed' : ''}`,
              },
              h('td', { class: 'twisty' }, isOpen ? '▾' : '▸'),
              h('td', { class: 'num' }, String(e.id)),
              h('td', {}, e.type),
              h(
                'td',
                {},
                e.state || '',
                e.iteration !== undefined ? h('span', { class: 'muted' }, ` #${e.iteration}`) : null,
              ),
              h('td', { class: 'small' }, e.resource || ''),
              h('td', { class: 'num' }, duration(e.at)),
              h('td', { class: 'ts' }, time(e.timestamp)),
            );
            if (!isOpen) return row;
            const full = ui.eventDetails && ui.eventDetails.get(e.id);
            const details = full || e.details;
            return [
              row,
              h(
                'tr',
                { class: 'event-details', 'data-key': `evd:${e.id}` },
                h(
                  'td',
                  { colspan: 7 },
                  details
                    ? jsonView(
                        JSON.stringify(details),
                        `ev-${e.id}`,
                        full ? 'Event details' : 'Event details (data cut short)',
                      )
                    : h('p', { class: 'muted' }, e.detail || 'no details'),
                ),
              ),
            ];
          }),
        ),
      ),
    );
  }

  /** The whole page. opts: frameSrc(i), definitionHref. */
  function executionView(detail, graph, ui, opts) {
    ui = ui || {};
    opts = opts || {};
    return h(
      'div',
      { class: 'execution', 'data-status': detail.status, 'data-key': `execution:${detail.executionArn}` },
      h('h2', {}, h('span', { class: 'title-key' }, detail.video || detail.name), ' ', pill(detail.status)),
      detailsPanel(detail),
      resultPanel(detail, ui, opts),
      graphPanel(detail, graph, ui),
      ioPanel(detail),
      eventsPanel(detail, ui),
    );
  }

  /** The execution page's UI state, as a page starts it. */
  const newExecutionUi = () => ({
    selected: undefined,
    iteration: 'all',
    tab: 'graph',
    filter: '',
    expanded: new Set(),
    eventDetails: new Map(),
    big: new Set(),
  });

  /**
   * What the execution page's controls do (for F.bindActions): each changes `ui` and calls
   * `rerender`. `loadEvent(id)`, when given, fetches an event's whole details as a row opens.
   */
  function executionActions(ui, rerender, loadEvent) {
    const toggle = (set, v) => (set.has(v) ? set.delete(v) : set.add(v));
    return {
      'select-state': (name) => {
        ui.selected = name;
        rerender();
      },
      tab: (tab) => {
        ui.tab = tab;
        rerender();
      },
      'input:iteration': (v) => {
        ui.iteration = v;
        rerender();
      },
      'input:filter': (v) => {
        ui.filter = v;
        rerender();
      },
      enlarge: (i) => {
        toggle(ui.big, Number(i));
        rerender();
      },
      'toggle-event': (id) => {
        const n = Number(id);
        toggle(ui.expanded, n);
        rerender();
        if (ui.expanded.has(n) && loadEvent && !ui.eventDetails.has(n))
          loadEvent(n).then(
            (d) => {
              ui.eventDetails.set(n, d);
              rerender();
            },
            () => undefined,
          );
      },
      copy: copyAction,
    };
  }

  /** A Copy button: its text to the clipboard, and says so. */
  function copyAction(_arg, el) {
    F.copyText(el.getAttribute('data-copy') || '').then((ok) => {
      el.textContent = ok ? 'Copied' : 'Copy failed';
      el.setAttribute('data-copied', ok ? 'yes' : 'no');
    });
  }

  Object.assign(F, { executionView, newExecutionUi, executionActions, copyAction });
})(window.Facerec);
