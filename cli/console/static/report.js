/*
 * The boot of a self-contained report (`facerec report`): its data is the JSON block of the
 * page (not executed), its frames are data: URIs; the views are the console's own.
 */
'use strict';
(function () {
  const V = window.FacerecViews;
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const view = document.getElementById('view');
  const frameSrc = (i) => (data.images && typeof data.images[i] === 'string' ? data.images[i] : undefined);
  document.getElementById('target').textContent = data.generated || '';
  const notes = (data.notes || []).map((n) => V.h('p', { class: 'muted note' }, n));
  if (data.execution) {
    view.replaceChildren(V.executionView(data.execution, data.graph, { frameSrc }), ...notes);
  } else {
    view.replaceChildren(V.h('h2', {}, data.result.video.key), V.resultView(data.result, frameSrc), ...notes);
  }
})();
