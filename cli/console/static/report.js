/*
 * The boot of a self-contained report (`facerec report`): its data is the JSON block of the page
 * (not executed), its frames are data: URIs; the views and their controls are the console's own
 * (state selection, Map iterations, table view, event filter and rows, copy), without a server.
 */
'use strict';
(function (F) {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const view = document.getElementById('view');
  const frameSrc = (i) => (data.images && typeof data.images[i] === 'string' ? data.images[i] : undefined);
  document.getElementById('target').textContent = data.generated || '';
  const ui = F.newExecutionUi();
  const notes = () => (data.notes || []).map((n) => F.h('p', { class: 'muted note' }, n));
  const render = () => {
    if (data.execution) return [F.executionView(data.execution, data.graph, ui, { frameSrc }), notes()];
    return [
      F.h('h2', {}, data.result ? data.result.video.key : 'report'),
      data.result ? F.resultView(data.result, { frameSrc, big: ui.big }) : null,
      notes(),
    ];
  };
  const rerender = () => F.morph(view, render());
  F.bindActions(view, F.executionActions(ui, rerender));
  rerender();
})(window.Facerec);
