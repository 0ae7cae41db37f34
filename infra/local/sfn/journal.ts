/**
 * The local Step Functions service's journal: every execution's state and history appended to
 * one file under the data folder (`<FACEREC_LOCAL_DIR>/executions/journal.ndjson`), one JSON
 * line per change, so that a restart (after a crash too: each line is handed to the kernel
 * before the state machine moves on) finds every execution as it was, and the tasks a
 * running execution had finished.
 *
 * Lines: `{k:'exec', r}` an execution (whole record), `{k:'ev', a, e}` a history event,
 * `{k:'end', a, ...}` its end (status, output, error, cause, stopDate), `{k:'redrive', a, ...}`
 * a re-run after a restart, `{k:'task', a, key, out | err}` a task's outcome (for resuming). A torn
 * line (the process died mid-write) is skipped.
 *
 * Bounded (issue 21): the journal keeps the newest executions within `maxBytes` of lines (and
 * `maxExecutions`); when the file passes `maxBytes` while the service runs, it is rewritten with
 * what is kept (compacted). A start reads at most the last `maxBytes` of the file, whatever its
 * size (a journal of an older version, of any length, starts as fast as a compacted one); the
 * executions that began before that window are dropped.
 *
 * A full disk ends nothing: a line that cannot be written waits in memory (in order, up to
 * PENDING_MAX bytes) and is written with the next one that can be; a failed compaction leaves
 * the file as it was.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionRecord, RecordedEvent } from './records.js';
import { ERROR_NAMES } from '../../../functions/core/facts.js';

/** A task's outcome: its output, or the error it ended with (replayed as such on a re-run). */
export type TaskOutcome = { out: unknown } | { err: { name: string; message: string } };

type Line =
  | { k: 'exec'; r: ExecutionRecord }
  | { k: 'ev'; a: string; e: RecordedEvent }
  | {
      k: 'end';
      a: string;
      status: ExecutionRecord['status'];
      stopDate: number;
      output?: string;
      error?: string;
      cause?: string;
    }
  | { k: 'redrive'; a: string; redriveCount: number; redriveDate: number }
  | ({ k: 'task'; a: string; key: string } & TaskOutcome);

export interface JournalState {
  /** Oldest first. */
  executions: ExecutionRecord[];
  /** Bytes of journal lines per execution (what retention counts), when read from a file. */
  sizes?: Map<string, number>;
  /** Task outcomes of executions not finished, by execution ARN and task key (in order). */
  tasks: Map<string, Map<string, TaskOutcome[]>>;
}

export interface JournalLimits {
  maxExecutions: number;
  /** Bytes of journal kept (and read at start). */
  maxBytes: number;
}

/** Default: 32 MB of journal (a start reads it in well under a second, 2-3 s on a loaded
 * machine), keeping at most half of it and 10,000 executions after a compaction. */
export const DEFAULT_JOURNAL_LIMITS: JournalLimits = { maxExecutions: 10_000, maxBytes: 32 * 1024 * 1024 };

/** Lines kept in memory while the disk refuses them. */
const PENDING_MAX = 16 * 1024 * 1024;

/** The size of an execution's lines in the journal (what retention counts). */
function recordBytes(r: ExecutionRecord): number {
  return Buffer.byteLength(JSON.stringify({ k: 'exec', r })) + 1;
}

/** The executions and task outcomes that the lines describe (lines of unknown executions skipped). */
function replayLines(lines: Iterable<string>): JournalState {
  const byArn = new Map<string, ExecutionRecord>();
  const tasks = new Map<string, Map<string, TaskOutcome[]>>();
  const sizes = new Map<string, number>();
  for (const raw of lines) {
    if (!raw) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // torn write
    }
    if (line.k === 'exec') {
      byArn.set(line.r.executionArn, { ...line.r, events: [...line.r.events] });
      sizes.set(line.r.executionArn, raw.length + 1);
      continue;
    }
    const r = byArn.get(line.a);
    if (!r) continue; // its start is before the window read
    sizes.set(line.a, sizes.get(line.a)! + raw.length + 1);
    switch (line.k) {
      case 'ev':
        r.events.push(line.e);
        break;
      case 'end':
        Object.assign(r, {
          status: line.status,
          stopDate: line.stopDate,
          output: line.output,
          error: line.error,
          cause: line.cause,
        });
        break;
      case 'redrive':
        Object.assign(r, {
          status: 'RUNNING',
          redriveCount: line.redriveCount,
          redriveDate: line.redriveDate,
          stopDate: undefined,
          output: undefined,
          error: undefined,
          cause: undefined,
        });
        break;
      case 'task': {
        const m = tasks.get(line.a) ?? new Map<string, TaskOutcome[]>();
        const outcome: TaskOutcome = 'err' in line ? { err: line.err } : { out: line.out };
        m.set(line.key, [...(m.get(line.key) ?? []), outcome]);
        tasks.set(line.a, m);
        break;
      }
    }
  }
  return { executions: [...byArn.values()].sort((a, b) => a.startDate - b.startDate), tasks, sizes };
}

/** The error of an execution the local stack stopped mid-way (service.ts): redriven next start. */
export const STACK_STOPPED_ERROR = ERROR_NAMES.StackStopped;

/** Executions a next start redrives: running (the service was killed), or stopped by the stack. */
const unfinished = (r: ExecutionRecord) =>
  r.status === 'RUNNING' || (r.status === 'ABORTED' && r.error === STACK_STOPPED_ERROR);

/**
 * The newest executions within the limits (unfinished ones always kept: they are redriven).
 * Oldest first.
 */
export function retained(
  executions: ExecutionRecord[],
  limits: JournalLimits,
  sizes?: ReadonlyMap<string, number>,
): ExecutionRecord[] {
  const keep: ExecutionRecord[] = [];
  let bytes = 0;
  for (let i = executions.length - 1; i >= 0; i--) {
    const r = executions[i];
    const size = sizes?.get(r.executionArn) ?? recordBytes(r);
    const within = keep.length < limits.maxExecutions && bytes + size <= limits.maxBytes / 2;
    if (within || unfinished(r)) {
      keep.push(r);
      bytes += size;
    }
  }
  return keep.reverse();
}

/** The last `maxBytes` of a file, from its first whole line on (the whole file when smaller). */
function readTail(file: string, maxBytes: number): { text: string; size: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', size: 0 };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    let text = buf.subarray(0, got).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // a line cut by the window
    return { text, size };
  } finally {
    closeSync(fd);
  }
}

export class ExecutionJournal {
  readonly file: string;
  private fd: number | undefined;
  /** Lines the disk has not taken yet, in order. */
  private pending: Buffer = Buffer.alloc(0);
  private droppedBytes = 0;
  private written = 0;
  private readonly limits: JournalLimits;

  constructor(
    dir: string,
    limits: Partial<JournalLimits> = {},
    /** Told when the disk refuses a write or a compaction (once per kind of trouble). */
    private readonly onTrouble: (message: string) => void = (m) => console.error(`execution journal: ${m}`),
  ) {
    this.file = path.join(dir, 'journal.ndjson');
    this.limits = { ...DEFAULT_JOURNAL_LIMITS, ...limits };
  }

  /** Bytes appended since the last compaction (or load). */
  get size(): number {
    return this.written;
  }

  /**
   * Read the journal (its last `maxBytes` at most), keep what the limits allow, rewrite it
   * compactly (when the disk lets it), open it for appending.
   */
  load(): JournalState {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const { text } = readTail(this.file, this.limits.maxBytes);
    const state = replayLines(text.split('\n'));
    const executions = retained(state.executions, this.limits, state.sizes);
    const kept = new Set(executions.map((r) => r.executionArn));
    for (const arn of [...state.tasks.keys()]) {
      const r = executions.find((x) => x.executionArn === arn);
      if (!kept.has(arn) || !r || !unfinished(r)) state.tasks.delete(arn);
    }
    this.compact(executions, state.tasks);
    return { executions, tasks: state.tasks };
  }

  /**
   * Rewrite the file with these executions and task outcomes, then append to it. On a full disk
   * the file stays as it is and appending goes on.
   */
  compact(
    executions: ExecutionRecord[],
    tasks: ReadonlyMap<string, ReadonlyMap<string, TaskOutcome[]>>,
  ): void {
    const lines: string[] = executions.map((r) => JSON.stringify({ k: 'exec', r }));
    for (const [a, m] of tasks)
      for (const [key, outcomes] of m)
        for (const o of outcomes) lines.push(JSON.stringify({ k: 'task', a, key, ...o }));
    const text = lines.length ? `${lines.join('\n')}\n` : '';
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeAll(fd, text);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      this.reopen();
      this.pending = Buffer.alloc(0); // what was pending is in the snapshot
      this.written = Buffer.byteLength(text);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.trouble(
        `could not compact ${this.file} (${(err as NodeJS.ErrnoException).code ?? err}): appending to it as it is`,
      );
      if (this.fd === undefined) this.reopen();
    }
  }

  /** Has the file grown past its limit since the last compaction? */
  needsCompaction(): boolean {
    return this.written > this.limits.maxBytes;
  }

  get limitsInForce(): JournalLimits {
    return this.limits;
  }

  started(r: ExecutionRecord) {
    this.append({ k: 'exec', r });
  }
  event(a: string, e: RecordedEvent) {
    this.append({ k: 'ev', a, e });
  }
  task(a: string, key: string, outcome: TaskOutcome) {
    this.append({ k: 'task', a, key, ...outcome });
  }
  redriven(r: ExecutionRecord) {
    this.append({
      k: 'redrive',
      a: r.executionArn,
      redriveCount: r.redriveCount!,
      redriveDate: r.redriveDate!,
    });
  }
  finished(r: ExecutionRecord) {
    this.append({
      k: 'end',
      a: r.executionArn,
      status: r.status,
      stopDate: r.stopDate!,
      output: r.output,
      error: r.error,
      cause: r.cause,
    });
  }

  close() {
    if (this.pending.length) this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private reopen() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    // A line torn by a kill -9 must not swallow the next one.
    const size = fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const r = openSync(this.file, 'r');
      try {
        readSync(r, last, 0, 1, size - 1);
      } finally {
        closeSync(r);
      }
      if (last[0] !== 0x0a) this.pending = Buffer.concat([Buffer.from('\n'), this.pending]);
    }
  }

  private append(line: Line) {
    if (this.fd === undefined) return;
    const text = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    if (this.pending.length + text.length > PENDING_MAX) {
      // The disk has refused writes for a long while: the oldest waiting lines are given up.
      this.droppedBytes += this.pending.length;
      this.pending = Buffer.alloc(0);
      this.troubled = false;
      this.trouble(`the disk refused ${this.droppedBytes} bytes of history: they are lost`);
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, text]) : text;
    this.flush();
  }

  /** One write per line, straight to the kernel: a kill -9 loses at most the line being written. */
  private flush() {
    if (this.fd === undefined || !this.pending.length) return;
    const buf = this.pending;
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    } catch (err) {
      this.trouble(
        `cannot write ${this.file} (${(err as NodeJS.ErrnoException).code ?? err}): history kept in memory until the disk has room`,
      );
    }
    this.written += done;
    this.pending = buf.subarray(done);
    if (!this.pending.length) this.troubled = false;
  }

  private troubled = false;
  private trouble(message: string) {
    if (this.troubled) return;
    this.troubled = true;
    this.onTrouble(message);
  }
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
}
