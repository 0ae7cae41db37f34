/**
 * Who is in a video and when, as the terminal shows it (`run`, `executions`, `up`, `demo`): from
 * an execution's output (functions/core/contracts.ts ResultOutput). Names are printed through
 * printable(): a gallery name cannot forge a line or colour the terminal.
 */
import type { Interval, Person, ResultOutput } from '../../functions/core/contracts.js';
import { printable } from '../../functions/core/printable.js';

/** `12.5s`, `1:05.0`, `1:02:03.0`. */
export function formatTime(sec: number): string {
  if (sec < 60) return `${sec.toFixed(1)}s`;
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = (sec % 60).toFixed(1).padStart(4, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `0.0s-4.5s`, or `frames 1-3` when the frame times are unknown (frames counted from 1). */
export function formatInterval(i: Interval): string {
  if (i.startSec !== null && i.endSec !== null)
    return i.startSec === i.endSec
      ? formatTime(i.startSec)
      : `${formatTime(i.startSec)}-${formatTime(i.endSec)}`;
  return i.firstFrame === i.lastFrame
    ? `frame ${i.firstFrame + 1}`
    : `frames ${i.firstFrame + 1}-${i.lastFrame + 1}`;
}

/** A person's intervals on one line (`+N more` when the output lists only the first few). */
function intervalsText(p: Person): string {
  const shown = (p.intervals ?? []).map(formatInterval);
  const more = (p.intervalsTotal ?? shown.length) - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` +${more} more` : ''}`;
}

/** The people cell of a table: everyone recognized, most screen time first, cut to `width`
 * characters with `+N more`; the vote's name (`Unknown`, `No face`) when nobody was. */
export function peopleCell(out: Pick<ResultOutput, 'name' | 'people' | 'peopleTotal'>, width = 60): string {
  const names = out.people.map((p) => printable(p.name));
  const total = out.peopleTotal ?? names.length;
  if (total === 0) return printable(out.name);
  let text = '';
  for (const [i, name] of names.entries()) {
    const next = text ? `${text}, ${name}` : name;
    const rest = total - i - 1;
    const tail = rest > 0 ? ` +${rest} more` : '';
    if (text && next.length + tail.length > width) return `${text} +${total - i} more`;
    text = next;
  }
  const unlisted = total - names.length;
  return unlisted > 0 ? `${text} +${unlisted} more` : text;
}

/** One line per person: name, when, screen time, frames, best distance. */
export function peopleLines(out: Pick<ResultOutput, 'people' | 'peopleTotal'>, indent = '    '): string[] {
  const width = Math.min(32, Math.max(0, ...out.people.map((p) => printable(p.name).length)));
  const lines = out.people.map((p) => {
    const screen =
      typeof p.screenTimeSec === 'number' && p.screenTimeSec > 0
        ? `${formatTime(p.screenTimeSec)} on screen, `
        : '';
    const best = p.bestDistance === null ? '' : `, best distance ${p.bestDistance.toFixed(2)}`;
    return `${indent}${printable(p.name).padEnd(width)}  ${intervalsText(p)}  (${screen}${p.frames} frame${p.frames === 1 ? '' : 's'}${best})`;
  });
  const unlisted = (out.peopleTotal ?? out.people.length) - out.people.length;
  if (unlisted > 0) lines.push(`${indent}… ${unlisted} more people (all in <video>.json)`);
  return lines;
}

/** Do these results say when people appear (more than one sampled frame)? */
export function hasTimeline(outs: ReadonlyArray<Pick<ResultOutput, 'people'> | undefined>): boolean {
  return outs.some((o) => o?.people.some((p) => (p.intervals ?? []).some((i) => i.lastFrame > 0)));
}
