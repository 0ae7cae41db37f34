/*
 * JSON as the Step Functions console shows execution input and output: pretty-printed, objects
 * and arrays foldable (<details>, no script needed), with a button that copies the whole text.
 * Text that is not JSON (or was cut short by the server) is shown as it is.
 */
'use strict';
(function (F) {
  const { h } = F;
  const MAX_NODES = 4000;

  function leaf(v) {
    if (v === null) return h('span', { class: 'j-null' }, 'null');
    if (typeof v === 'string') return h('span', { class: 'j-str' }, JSON.stringify(v));
    if (typeof v === 'number') return h('span', { class: 'j-num' }, String(v));
    if (typeof v === 'boolean') return h('span', { class: 'j-bool' }, String(v));
    return h('span', {}, String(v));
  }

  function tree(v, key, depth, path, budget) {
    const label = key === undefined ? null : h('span', { class: 'j-key' }, `${JSON.stringify(key)}: `);
    budget.n++;
    if (v === null || typeof v !== 'object') return h('div', { class: 'j-row' }, label, leaf(v));
    const isArray = Array.isArray(v);
    const entries = isArray ? v.map((x, i) => [i, x]) : Object.entries(v);
    const summary = isArray
      ? `[ ${F.plural(entries.length, 'item')} ]`
      : `{ ${F.plural(entries.length, 'key')} }`;
    if (!entries.length) return h('div', { class: 'j-row' }, label, isArray ? '[]' : '{}');
    return h(
      'details',
      { class: 'j-node', open: depth < 2, 'data-key': path },
      h('summary', {}, label, h('span', { class: 'j-summary' }, summary)),
      h(
        'div',
        { class: 'j-children' },
        entries.map(([k, x], i) =>
          budget.n > MAX_NODES ? null : tree(x, isArray ? undefined : k, depth + 1, `${path}.${i}`, budget),
        ),
        budget.n > MAX_NODES ? h('div', { class: 'muted' }, '… (use Copy for the whole text)') : null,
      ),
    );
  }

  /** `text`: JSON text (or anything). `id`: a key unique in the page (keeps folds across updates). */
  function jsonView(text, id, title) {
    if (text === undefined || text === null || text === '')
      return h('div', { class: 'json-box', 'data-key': `json-${id}` }, h('p', { class: 'muted' }, 'none'));
    let value;
    let parsed;
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
    const pretty = parsed ? JSON.stringify(value, null, 2) : String(text);
    return h(
      'div',
      { class: 'json-box', 'data-key': `json-${id}` },
      h(
        'div',
        { class: 'json-bar' },
        title ? h('span', { class: 'json-title' }, title) : null,
        h('span', { class: 'muted small' }, `${pretty.length.toLocaleString()} characters`),
        h('button', { type: 'button', class: 'copy', 'data-action': 'copy', 'data-copy': pretty }, 'Copy'),
      ),
      parsed && value !== null && typeof value === 'object'
        ? h('div', { class: 'json-tree mono' }, tree(value, undefined, 0, `j-${id}`, { n: 0 }))
        : h('pre', { class: 'json-raw' }, pretty),
    );
  }

  F.jsonView = jsonView;
})(window.Facerec);
