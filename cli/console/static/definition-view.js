/*
 * The state machine: its graph (every state with its type, resource and retries) beside its
 * definition, the ASL file deployed on AWS and run by the local stack, pretty-printed, foldable,
 * with copy. Its `${…}` placeholders are filled in at deployment.
 */
'use strict';
(function (F) {
  const { h } = F;

  function definitionView(graph, definition, info, ui) {
    const tab = ui && ui.tab === 'definition' ? 'definition' : 'graph';
    const states = F.graphStates(graph);
    return h(
      'div',
      { class: 'state-machine', 'data-key': 'state-machine' },
      h('h2', {}, 'State machine ', h('span', { class: 'muted small' }, (info && info.stateMachine) || '')),
      h(
        'p',
        { class: 'muted' },
        `${definition ? definition.file : 'statemachine/pipeline.asl.json'}: the definition deployed on AWS and run by the local stack. Solid arrows: Next; dashed red: Catch.`,
      ),
      F.tabs(
        [
          ['graph', 'Graph'],
          ['definition', 'Definition'],
        ],
        tab,
      ),
      tab === 'graph'
        ? h(
            'div',
            { class: 'split' },
            h('section', { class: 'graph-box' }, F.graphView(graph)),
            h(
              'section',
              { class: 'state-list' },
              h('h3', {}, 'States'),
              h(
                'dl',
                { class: 'kv comments' },
                states.map(({ node }) =>
                  h(
                    'div',
                    { class: 'kv-row' },
                    h('dt', {}, node.id),
                    h(
                      'dd',
                      {},
                      h('span', { class: 'state-type-label' }, node.type),
                      node.resource ? ` · ${node.resource}` : '',
                      node.comment ? h('div', { class: 'muted small' }, node.comment) : null,
                      (node.retry || []).map((r) => h('div', { class: 'small' }, `Retry ${r}`)),
                    ),
                  ),
                ),
              ),
            ),
          )
        : h(
            'section',
            { class: 'definition' },
            definition
              ? F.jsonView(definition.text, 'definition', definition.file)
              : h('p', { class: 'muted' }, 'Loading…'),
          ),
    );
  }

  F.definitionView = definitionView;
})(window.Facerec);
