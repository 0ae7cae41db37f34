/*
 * The executions list: a status filter, a search over names and video keys, pages of 50, and a
 * table whose rows are keyed by execution ARN (a live update changes only the rows and cells
 * that changed).
 */
'use strict';
(function (F) {
  const { h, pill, duration, time } = F;
  const STATUSES = ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

  const executionHref = (arn) => `#/execution?arn=${encodeURIComponent(arn)}`;

  /** Everyone recognized, and the faces that matched nobody, in one cell. */
  function recognizedCell(r) {
    if (r.error)
      return h(
        'span',
        { class: 'error-text', title: r.reason || '' },
        r.error,
        r.reason ? h('span', { class: 'reason' }, `: ${r.reason}`) : null,
      );
    const people = r.people && r.people.length ? r.people : r.recognized ? [r.recognized] : [];
    return [
      people.map((p, i) => [i ? ', ' : null, h('span', { class: 'person-name' }, p)]),
      typeof r.unknownFaces === 'number' && r.unknownFaces > 0
        ? h('span', { class: 'muted' }, `${people.length ? ' · ' : ''}${r.unknownFaces} Unknown`)
        : null,
    ];
  }

  function toolbar(q, page) {
    const from = page.total ? page.page * page.pageSize + 1 : 0;
    const to = Math.min(page.total, (page.page + 1) * page.pageSize);
    const last = Math.max(0, Math.ceil(page.total / page.pageSize) - 1);
    return h(
      'div',
      { class: 'toolbar', 'data-key': 'exec-toolbar' },
      h(
        'label',
        {},
        'Status ',
        h(
          'select',
          { id: 'exec-status', 'data-input': 'status', 'aria-label': 'status filter' },
          STATUSES.map((st) =>
            h('option', { value: st, selected: (q.status || '') === st }, st ? F.STATUS_TEXT[st] : 'All'),
          ),
        ),
      ),
      h('input', {
        id: 'exec-search',
        type: 'search',
        placeholder: 'Search name or video',
        'aria-label': 'search executions',
        value: q.q || '',
        'data-input': 'search',
        maxlength: 200,
      }),
      h(
        'span',
        { class: 'pager' },
        h(
          'span',
          { class: 'muted small', id: 'exec-count' },
          `${from}–${to} of ${page.total}${page.truncated ? '+' : ''}`,
        ),
        h(
          'button',
          { type: 'button', 'data-action': 'page', 'data-arg': page.page - 1, disabled: page.page <= 0 },
          '‹ Newer',
        ),
        h(
          'button',
          { type: 'button', 'data-action': 'page', 'data-arg': page.page + 1, disabled: page.page >= last },
          'Older ›',
        ),
      ),
    );
  }

  function executionsTable(rows, q) {
    if (!rows.length)
      return h(
        'p',
        { class: 'empty', 'data-key': 'exec-empty' },
        q && (q.status || q.q)
          ? 'No execution matches.'
          : 'No executions yet. Upload a video to the input bucket.',
      );
    return h(
      'table',
      { class: 'executions', 'data-key': 'exec-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Status', 'Video', 'Recognized', 'Started', 'Duration', 'Execution'].map((t) =>
            h('th', { class: `col-${t.toLowerCase()}` }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-key': `exec:${r.executionArn}`, 'data-arn': r.executionArn, 'data-status': r.status },
            h('td', {}, pill(r.status)),
            h('td', { class: 'video' }, h('a', { href: executionHref(r.executionArn) }, r.video || '?')),
            h('td', { class: 'recognized' }, recognizedCell(r)),
            h('td', { class: 'col-started' }, time(r.startDate)),
            h('td', { class: 'num' }, duration(r.durationMs)),
            h('td', { class: 'mono col-execution' }, h('a', { href: executionHref(r.executionArn) }, r.name)),
          ),
        ),
      ),
    );
  }

  /** The whole page: heading, toolbar, table. `q`: {status, q}; `page`: the API's answer. */
  function executionsView(page, q) {
    const running = page.executions.filter((e) => e.status === 'RUNNING').length;
    return h(
      'div',
      { class: 'executions-page', 'data-key': 'executions-page' },
      h(
        'h2',
        {},
        'Executions ',
        h('span', { class: 'muted small' }, running ? `${running} running on this page` : ''),
      ),
      toolbar(q, page),
      executionsTable(page.executions, q),
    );
  }

  Object.assign(F, { executionHref, executionsTable, executionsView, recognizedCell });
})(window.Facerec);
