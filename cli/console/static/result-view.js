/*
 * A processed video's result (console and report): everyone recognized first, with when they
 * appear and how many faces stayed Unknown; then a person × frame timeline, the annotated frames,
 * timings and failed batches. Reads the server's ResultView (cli/console/result-view.ts), whose
 * every field may be missing.
 */
'use strict';
(function (F) {
  const { h, dist, secs, duration } = F;

  /** When a person appears: intervals when the result has them, else first–last seen, else the
   * frames they are in. */
  function seenText(p, frames) {
    const span = (a, b) => (typeof b === 'number' && b !== a ? `${secs(a)} – ${secs(b)}` : secs(a));
    if (p.appearances && p.appearances.length)
      return p.appearances
        .map((a) =>
          typeof a.fromSec === 'number'
            ? span(a.fromSec, a.toSec)
            : `frames ${a.fromFrame ?? '?'}–${a.toFrame ?? '?'}`,
        )
        .join(', ');
    if (typeof p.firstSeenSec === 'number') return span(p.firstSeenSec, p.lastSeenSec);
    const seenIn = frames.filter((f) => f.faces.some((x) => x.name === p.name));
    if (!seenIn.length) return '';
    const first = seenIn[0];
    const last = seenIn[seenIn.length - 1];
    if (typeof first.timeSec === 'number' && typeof last.timeSec === 'number')
      return span(first.timeSec, last.timeSec);
    return `frames ${first.index + 1}–${last.index + 1}`;
  }

  /** Faces that matched nobody: the result's count, else counted from the frames. */
  function unknownCount(result, unknownName) {
    if (typeof result.unknownFaces === 'number') return result.unknownFaces;
    let n = 0;
    for (const f of result.frames) for (const x of f.faces) if (x.name === unknownName) n++;
    return n;
  }

  function peopleTable(result) {
    if (!result.people.length)
      return h('p', { class: 'muted', 'data-key': 'people-none' }, 'Nobody from the gallery was recognized.');
    return h(
      'table',
      { class: 'people', 'data-key': 'people' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Person', 'Appears', 'Frames', 'Faces', 'Best distance'].map((t) => h('th', {}, t)),
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
            h(
              'td',
              { class: 'appears' },
              seenText(p, result.frames),
              typeof p.screenTimeSec === 'number'
                ? h('span', { class: 'muted' }, ` (${secs(p.screenTimeSec)} on screen)`)
                : null,
            ),
            h('td', { class: 'num' }, p.frames ?? '–'),
            h('td', { class: 'num' }, p.faces ?? '–'),
            h('td', { class: 'num' }, dist(p.bestDistance)),
          ),
        ),
      ),
    );
  }

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
      'div',
      { class: 'timeline-wrap' },
      h(
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
      ),
    );
  }

  function framesView(result, frameSrc, big) {
    const shown = result.frames.filter((f) => f.faces.length || f.error);
    return h(
      'details',
      { class: 'frames-box', open: true, 'data-key': 'frames-box' },
      h('summary', {}, h('h4', {}, `Frames with faces (${shown.length} of ${result.frames.length})`)),
      h(
        'div',
        { class: 'frames' },
        shown.map((f) => {
          const src = frameSrc ? frameSrc(f.index) : undefined;
          return h(
            'figure',
            {
              class: `frame${big && big.has(f.index) ? ' big' : ''}`,
              'data-frame': f.index,
              'data-key': `frame-${f.index}`,
            },
            src
              ? h('img', {
                  src,
                  alt: `frame ${f.index + 1} with its faces marked`,
                  title: 'click to enlarge',
                  'data-action': 'enlarge',
                  'data-arg': f.index,
                })
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
    );
  }

  /** The result. `opts`: frameSrc(i) -> image URL, big: Set of enlarged frame indexes,
   * unknownName ('Unknown'). */
  function resultView(result, opts) {
    opts = typeof opts === 'function' ? { frameSrc: opts } : opts || {};
    const unknownName = opts.unknownName || 'Unknown';
    const unknown = unknownCount(result, unknownName);
    const names = result.people.map((p) => p.name);
    return h(
      'div',
      { class: 'result', 'data-key': 'result' },
      h(
        'p',
        { class: 'recognized-name' },
        'Recognized: ',
        names.length
          ? names.map((n, i) => [i ? ', ' : null, h('strong', { class: 'name' }, n)])
          : h('strong', { class: 'name' }, result.name),
        h(
          'span',
          { class: 'muted unknown-count' },
          ` · ${unknown} ${unknown === 1 ? 'face' : 'faces'} stayed ${unknownName}`,
        ),
      ),
      peopleTable(result),
      F.kv([
        ['result (<stem>.txt)', result.name],
        ['video', result.video.key],
        ['frames analysed', result.framesAnalysed !== undefined ? String(result.framesAnalysed) : undefined],
        ['frames failed', result.framesFailed ? String(result.framesFailed) : undefined],
        ['faces', result.faces !== undefined ? String(result.faces) : undefined],
        ['video length', typeof result.durationSec === 'number' ? secs(result.durationSec) : undefined],
        ['profile', result.profile],
      ]),
      h('h4', {}, 'Timeline'),
      timeline(result),
      framesView(result, opts.frameSrc, opts.big),
      result.timings.length
        ? h('div', {}, h('h4', {}, 'Timings'), F.kv(result.timings.map((t) => [t.label, duration(t.ms)])))
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
      result.notes.map((n) => h('p', { class: 'muted note' }, n)),
    );
  }

  /** A definition list of [label, value] pairs; empty values are left out. */
  function kv(pairs, cls) {
    return h(
      'dl',
      { class: `kv${cls ? ` ${cls}` : ''}` },
      pairs
        .filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== '')
        .map(([k, v]) => h('div', { class: 'kv-row' }, h('dt', {}, k), h('dd', {}, v))),
    );
  }

  Object.assign(F, { kv, resultView });
})(window.Facerec);
