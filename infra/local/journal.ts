/**
 * The local Step Functions service's journal: every execution's state and history appended to
 * one file under the data folder (`<FACEREC_LOCAL_DIR>/executions/journal.ndjson`), one JSON
 * line per change, so that a restart (after a crash too: each line is handed to the kernel
 * before the state machine moves on) finds every execution as it was, and the tasks a
 * running execution had finished.
 *
 * Lines: `{k:'exec', r}` an execution (whole record), `{k:'ev', a, e}` a history event,
 * `{k:'end', a, ...}` its end (status, output, error, cause, stopDate), `{k:'redrive', a, ...}`
 * a re-run after a restart, `{k:'task', a, key, out}` a task's output (for resuming). A torn last
 * line (the process died mid-write) is skipped. Loading rewrites the file compactly.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionRecord, RecordedEvent } from './sfn-records.js';

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
  | { k: 'task'; a: string; key: string; out: unknown };

export interface JournalState {
  /** Oldest first. */
  executions: ExecutionRecord[];
  /** Finished task outputs of executions still RUNNING, by execution ARN and task key. */
  tasks: Map<string, Map<string, unknown>>;
}

export class ExecutionJournal {
  readonly file: string;
  private fd: number | undefined;

  constructor(dir: string) {
    this.file = path.join(dir, 'journal.ndjson');
  }

  /** Read the journal, keep the newest `maxExecutions`, rewrite it compactly, open it for appending. */
  load(maxExecutions: number): JournalState {
    const byArn = new Map<string, ExecutionRecord>();
    const tasks = new Map<string, Map<string, unknown>>();
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // torn write
      }
      if (line.k === 'exec') {
        byArn.set(line.r.executionArn, { ...line.r, events: [...line.r.events] });
        continue;
      }
      const r = byArn.get(line.a);
      if (!r) continue;
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
          tasks.delete(line.a);
          break;
        case 'redrive':
          r.redriveCount = line.redriveCount;
          r.redriveDate = line.redriveDate;
          break;
        case 'task': {
          const m = tasks.get(line.a) ?? new Map<string, unknown>();
          m.set(line.key, line.out);
          tasks.set(line.a, m);
          break;
        }
      }
    }
    let executions = [...byArn.values()].sort((a, b) => a.startDate - b.startDate);
    if (executions.length > maxExecutions) {
      const finished = executions.filter((r) => r.status !== 'RUNNING');
      const drop = new Set(finished.slice(0, executions.length - maxExecutions).map((r) => r.executionArn));
      executions = executions.filter((r) => !drop.has(r.executionArn));
    }
    for (const arn of tasks.keys()) if (byArn.get(arn)?.status !== 'RUNNING') tasks.delete(arn);

    mkdirSync(path.dirname(this.file), { recursive: true });
    const lines: string[] = executions.map((r) => JSON.stringify({ k: 'exec', r }));
    for (const [a, m] of tasks)
      for (const [key, out] of m) lines.push(JSON.stringify({ k: 'task', a, key, out }));
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, lines.length ? `${lines.join('\n')}\n` : '');
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a');
    return { executions, tasks };
  }

  started(r: ExecutionRecord) {
    this.append({ k: 'exec', r });
  }
  event(a: string, e: RecordedEvent) {
    this.append({ k: 'ev', a, e });
  }
  task(a: string, key: string, out: unknown) {
    this.append({ k: 'task', a, key, out });
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
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: Line) {
    if (this.fd === undefined) return;
    // One write per line, straight to the kernel: a kill -9 loses at most the line being written.
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }
}
