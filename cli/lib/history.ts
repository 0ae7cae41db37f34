/** Per-state timings from a Step Functions execution history (local endpoint or AWS alike). */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { printable } from '../../functions/core/printable.js';

export interface StateTiming {
  name: string;
  /** Times the state ran (Map iterations, retries of a state entered once count once). */
  count: number;
  /** Time spent in the state, summed over its runs. */
  totalMs: number;
  /** First entry to last exit. */
  spanMs: number;
  running: boolean;
}

/** Timings of every state, in order of first entry. Concurrent runs of a state (Map iterations)
 * are summed: the total is Σ exit − Σ entry whatever the pairing. */
export function stateTimings(events: readonly HistoryEvent[], now = Date.now()): StateTiming[] {
  const byName = new Map<string, { entered: number[]; exited: number[] }>();
  for (const e of events) {
    const t = e.timestamp instanceof Date ? e.timestamp.getTime() : Number(e.timestamp);
    const entered = e.stateEnteredEventDetails?.name;
    const exited = e.stateExitedEventDetails?.name;
    if (entered) {
      const s = byName.get(entered) ?? { entered: [], exited: [] };
      s.entered.push(t);
      byName.set(entered, s);
    } else if (exited) {
      const s = byName.get(exited) ?? { entered: [], exited: [] };
      s.exited.push(t);
      byName.set(exited, s);
    }
  }
  return [...byName.entries()].map(([name, s]) => {
    const open = s.entered.length - s.exited.length;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const totalMs = sum(s.exited) + Math.max(0, open) * now - sum(s.entered);
    const last = open > 0 ? now : Math.max(...s.exited, s.entered[0] ?? now);
    return {
      name,
      count: s.entered.length,
      totalMs: Math.max(0, totalMs),
      spanMs: Math.max(0, last - (s.entered[0] ?? last)),
      running: open > 0,
    };
  });
}

/** The state an execution is in now (the last entered, not yet exited, top-level first). */
export function currentState(events: readonly HistoryEvent[]): string | undefined {
  const timings = stateTimings(events);
  return timings.filter((t) => t.running).at(-1)?.name ?? timings.at(-1)?.name;
}

export function seconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms < 10_000 ? (ms / 1000).toFixed(2) : (ms / 1000).toFixed(1);
}

/** A plain text table, columns padded (numbers right-aligned). Cells are printed through
 * printable(): a key or a name with a newline or an escape sequence cannot forge a row. */
export function table(header: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map((c) => printable(c ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$|^-$/.test(r[i] ?? '')),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
