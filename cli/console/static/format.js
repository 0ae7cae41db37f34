/*
 * How the views say things: statuses (with their colour class), durations, times (relative and
 * absolute), distances, counts.
 */
'use strict';
(function (F) {
  const { h } = F;
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
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  /** Local date and time to the millisecond, as the Step Functions console shows event times. */
  function clock(t) {
    if (typeof t !== 'number' || !isFinite(t)) return '–';
    const d = new Date(t);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
      d.getMinutes(),
    )}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }
  const isoTime = (t) => (typeof t === 'number' && isFinite(t) ? new Date(t).toISOString() : undefined);
  /** A <time> element: local time shown, ISO (UTC) as its machine value and tooltip. */
  const time = (t) =>
    typeof t === 'number' && isFinite(t)
      ? h('time', { datetime: isoTime(t), title: isoTime(t) }, clock(t))
      : '–';
  const dist = (d) => (typeof d === 'number' ? d.toFixed(3) : '–');
  const secs = (t) => (typeof t === 'number' ? `${t.toFixed(1)} s` : '');
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many || `${one}s`}`;

  /** A row of tabs: [id, label] pairs, `active` the shown one; a click runs the page's `tab`
   * action with the tab's id. `extra` goes at the row's end. */
  function tabs(list, active, ...extra) {
    return h(
      'div',
      { class: 'tabs', role: 'tablist' },
      list.map(([id, label]) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            class: active === id ? 'tab active' : 'tab',
            'aria-selected': active === id ? 'true' : 'false',
            'data-action': 'tab',
            'data-arg': id,
          },
          label,
        ),
      ),
      extra,
    );
  }

  Object.assign(F, { tabs, STATUS_TEXT, statusClass, pill, duration, clock, time, dist, secs, plural });
})(window.Facerec);
