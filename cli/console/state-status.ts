/**
 * What each state of one execution did, from its history (the AWS event format: the local
 * endpoint and Step Functions alike): how often it was entered and left, whether it is running,
 * whether its failures were caught, its time, its errors, and the input and output of its last
 * run. The console colours the graph with `status`.
 *
 * A state entered more often than left either still runs or failed. Failures that a Catch
 * handled show as entries of the catch target (in ASL a target is named by one state's Catch);
 * the rest, once the execution has ended, failed it.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

type StateStatus = 'NOT_RUN' | 'RUNNING' | 'SUCCEEDED' | 'CAUGHT' | 'FAILED';

export interface StateRun {
  status: StateStatus;
  entered: number;
  exited: number;
  /** Failures a Catch handled. */
  caught: number;
  /** Failed attempts (including those retried). */
  failedAttempts: number;
  /** Attempts that a Retry rule ran again. */
  retries: number;
  running: number;
  /** Time in the state summed over its runs (ms). */
  totalMs: number;
  firstEnteredAt?: number;
  lastExitedAt?: number;
  /** The last run's input and output (JSON text, cut to `maxData` characters). */
  input?: string;
  output?: string;
  errors: Array<{ error: string; cause?: string }>;
}

export interface ConsoleEvent {
  id: number;
  previousEventId?: number;
  /** ms since the execution started. */
  at: number;
  /** Epoch ms. */
  timestamp: number;
  type: string;
  state?: string;
  /** The Map iteration the event belongs to. */
  iteration?: number;
  /** What a task event ran: a Lambda function's name, a service integration (never an ARN with
   * an account). */
  resource?: string;
  /** The event's error, or its input/output, cut short: one line for the table. */
  detail?: string;
  /** The event's details (its `…EventDetails`), strings cut to `maxData`, for an expanded row. */
  details?: Record<string, unknown>;
}

/** Per Map iteration: its status and what each of its states did. */
export interface IterationRun {
  index: number;
  status: StateStatus;
  states: Record<string, StateRun>;
}

/** Event time in ms (the SDK gives Dates; raw JSON epoch seconds). */
function timeOf(e: HistoryEvent): number {
  if (e.timestamp instanceof Date) return e.timestamp.getTime();
  const n = Number(e.timestamp ?? 0);
  return n < 1e11 ? n * 1000 : n;
}

const cut = (s: string | undefined, n: number) =>
  s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s;

type Details = { name?: string; input?: string; output?: string; error?: string; cause?: string };

/** The `…EventDetails` object of an event, whichever its type. */
function detailsOf(e: HistoryEvent): Details | undefined {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && v && typeof v === 'object') return v as Details;
  }
  return undefined;
}

const isFailure = (type: string | undefined) =>
  !!type && /(Failed|TimedOut)$/.test(type) && !/^Execution|^MapIteration|^MapRun/.test(type);

/** The state a failure event belongs to: its `stateName` (local endpoint), else the state entered
 * up its chain of previous events (AWS: TaskFailed -> TaskStarted -> TaskScheduled -> Entered). */
function stateOfEvent(e: HistoryEvent, byId: Map<number, HistoryEvent>): string | undefined {
  const named = (e as { stateName?: unknown }).stateName;
  if (typeof named === 'string') return named;
  let cur: HistoryEvent | undefined = e;
  for (let hops = 0; cur && hops < 60; hops++) {
    const entered = cur.stateEnteredEventDetails?.name;
    if (entered) return entered;
    cur = cur.previousEventId ? byId.get(cur.previousEventId) : undefined;
  }
  return undefined;
}

export function stateRuns(
  events: readonly HistoryEvent[],
  opts: { executionRunning: boolean; catchTargets: Record<string, string[]>; now?: number; maxData?: number },
): Record<string, StateRun> {
  const now = opts.now ?? Date.now();
  const maxData = opts.maxData ?? 4000;
  const byId = new Map(events.map((e) => [e.id ?? 0, e]));
  type Acc = StateRun & { enteredAt: number[]; exitedAt: number[]; retries: number; caughtExits: number };
  const runs: Record<string, Acc> = {};
  const run = (name: string): Acc =>
    (runs[name] ??= {
      status: 'NOT_RUN',
      entered: 0,
      exited: 0,
      caught: 0,
      failedAttempts: 0,
      running: 0,
      totalMs: 0,
      errors: [],
      enteredAt: [],
      exitedAt: [],
      retries: 0,
      caughtExits: 0,
    });
  // Failures not (yet) followed by a retry, per state and Map iteration (when the history says).
  const pending = new Map<string, number>();
  const keyOf = (name: string, e: HistoryEvent) => {
    const i = (e as { mapIndex?: unknown }).mapIndex;
    return typeof i === 'number' ? `${name}\u0000${i}` : name;
  };
  for (const e of events) {
    const t = timeOf(e);
    const entered = e.stateEnteredEventDetails;
    const exited = e.stateExitedEventDetails;
    if (entered?.name) {
      const r = run(entered.name);
      r.entered++;
      r.enteredAt.push(t);
      r.firstEnteredAt ??= t;
      r.input = cut(entered.input, maxData);
    } else if (exited?.name) {
      const r = run(exited.name);
      const key = keyOf(exited.name, e);
      // The local interpreter also leaves a state whose failure a Catch handled (AWS does not):
      // that exit is the catch, not a success.
      if ((pending.get(key) ?? 0) > 0) {
        pending.set(key, pending.get(key)! - 1);
        r.caughtExits++;
        r.exitedAt.push(t);
      } else {
        r.exited++;
        r.exitedAt.push(t);
        r.lastExitedAt = t;
      }
      r.output = cut(exited.output, maxData);
    } else if (isFailure(e.type)) {
      const name = stateOfEvent(e, byId);
      if (!name) continue;
      const r = run(name);
      r.failedAttempts++;
      pending.set(keyOf(name, e), (pending.get(keyOf(name, e)) ?? 0) + 1);
      const d = detailsOf(e);
      if (r.errors.length < 20)
        r.errors.push({ error: d?.error ?? e.type ?? 'error', cause: cut(d?.cause, maxData) });
    } else if (/Scheduled$/.test(e.type ?? '')) {
      // A retry schedules the task again; the first schedule follows the state's entry.
      const previous = e.previousEventId ? byId.get(e.previousEventId) : undefined;
      if (previous?.stateEnteredEventDetails) continue;
      const name = stateOfEvent(e, byId);
      if (!name) continue;
      const key = keyOf(name, e);
      if ((pending.get(key) ?? 0) > 0) {
        pending.set(key, pending.get(key)! - 1);
        run(name).retries++;
      }
    }
  }
  const out: Record<string, StateRun> = {};
  const end = opts.executionRunning ? now : events.length ? timeOf(events[events.length - 1]) : now;
  for (const [name, r] of Object.entries(runs)) {
    const terminal = Math.max(0, r.failedAttempts - r.retries);
    const reachedCatch = (opts.catchTargets[name] ?? []).reduce(
      (n, target) => n + (runs[target]?.entered ?? 0),
      0,
    );
    const caught = Math.min(terminal, reachedCatch);
    // Entries neither left successfully nor ended by a failure, and failures no Catch took (yet).
    const unfinished = Math.max(0, r.entered - r.exited - terminal) + (terminal - caught);
    const running = opts.executionRunning ? unfinished : 0;
    const failed = opts.executionRunning ? 0 : unfinished;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const open = Math.max(0, r.enteredAt.length - r.exitedAt.length);
    const totalMs = Math.max(0, sum(r.exitedAt) + open * end - sum(r.enteredAt));
    const status: StateStatus =
      r.entered === 0
        ? r.failedAttempts
          ? 'FAILED'
          : 'NOT_RUN'
        : running > 0
          ? 'RUNNING'
          : failed > 0
            ? 'FAILED'
            : caught > 0
              ? 'CAUGHT'
              : 'SUCCEEDED';
    out[name] = {
      status,
      entered: r.entered,
      exited: r.exited,
      caught,
      failedAttempts: r.failedAttempts,
      running,
      totalMs,
      ...(r.firstEnteredAt !== undefined ? { firstEnteredAt: r.firstEnteredAt } : {}),
      ...(r.lastExitedAt !== undefined ? { lastExitedAt: r.lastExitedAt } : {}),
      ...(r.input !== undefined ? { input: r.input } : {}),
      ...(r.output !== undefined ? { output: r.output } : {}),
      errors: r.errors,
      retries: r.retries,
    };
  }
  return out;
}

/** The name of a Lambda function from its ARN; a service integration ARN as it is; nothing else
 * (no account id reaches a page). */
function resourceName(resource: unknown): string | undefined {
  if (typeof resource !== 'string') return undefined;
  const fn = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(resource)?.[1];
  if (fn) return fn;
  return /^arn:aws[\w-]*:states:::/.test(resource) ? resource : undefined;
}

/** An event's details for a page: ARNs with an account replaced by names, the role dropped,
 * strings cut to `maxData`. */
export function eventDetails(e: HistoryEvent, maxData: number): Record<string, unknown> | undefined {
  for (const [k, v] of Object.entries(e)) {
    if (!k.endsWith('EventDetails') || !v || typeof v !== 'object') continue;
    const out: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(v as Record<string, unknown>)) {
      if (field === 'roleArn' || field.endsWith('Details')) continue; // inputDetails: { truncated }
      if (field === 'resource') {
        const name = resourceName(value);
        if (name) out.resource = name;
        continue;
      }
      out[field] = typeof value === 'string' ? cut(value, maxData) : value;
    }
    return out;
  }
  return undefined;
}

/**
 * The Map iteration of each event of a state inside a Map (`inner`): the local endpoint's
 * `mapIndex`, else (AWS) the index of the MapIterationStarted event up its previousEventId chain.
 */
function iterationsOf(events: readonly HistoryEvent[], inner: ReadonlySet<string>): Map<number, number> {
  const byId = new Map(events.map((e) => [e.id ?? 0, e]));
  const memo = new Map<number, number | undefined>();
  const up = (e: HistoryEvent | undefined, hops = 0): number | undefined => {
    if (!e || hops > 200) return undefined;
    const id = e.id ?? 0;
    if (memo.has(id)) return memo.get(id);
    const local = (e as { mapIndex?: unknown }).mapIndex;
    const index =
      typeof local === 'number'
        ? local
        : e.mapIterationStartedEventDetails
          ? e.mapIterationStartedEventDetails.index
          : up(e.previousEventId ? byId.get(e.previousEventId) : undefined, hops + 1);
    memo.set(id, index);
    return index;
  };
  const out = new Map<number, number>();
  for (const e of events) {
    const name = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? stateOfEvent(e, byId);
    const iterationEvent =
      e.mapIterationStartedEventDetails ??
      e.mapIterationSucceededEventDetails ??
      e.mapIterationFailedEventDetails ??
      e.mapIterationAbortedEventDetails;
    const index = iterationEvent ? iterationEvent.index : name && inner.has(name) ? up(e) : undefined;
    if (typeof index === 'number') out.set(e.id ?? 0, index);
  }
  return out;
}

/** What each Map iteration did: its status, and its states' runs as stateRuns counts them. */
export function iterationRuns(
  events: readonly HistoryEvent[],
  inner: ReadonlySet<string>,
  opts: { executionRunning: boolean; catchTargets: Record<string, string[]>; now?: number; max?: number },
): IterationRun[] {
  const of = iterationsOf(events, inner);
  const byIndex = new Map<number, HistoryEvent[]>();
  for (const e of events) {
    const i = of.get(e.id ?? 0);
    if (i === undefined) continue;
    let list = byIndex.get(i);
    if (!list) byIndex.set(i, (list = []));
    list.push(e);
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(0, opts.max ?? 2000)
    .map(([index, list]) => {
      const states = stateRuns(list, { ...opts, maxData: 2000 });
      const statuses = Object.values(states).map((r) => r.status);
      const ended = list.some((e) => e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed');
      const status: StateStatus = list.some((e) => e.type === 'MapIterationFailed')
        ? 'FAILED'
        : statuses.includes('RUNNING')
          ? 'RUNNING'
          : statuses.includes('FAILED')
            ? 'FAILED'
            : statuses.includes('CAUGHT')
              ? 'CAUGHT'
              : ended || statuses.length
                ? 'SUCCEEDED'
                : 'NOT_RUN';
      return { index, status, states };
    });
}

/** The history as table rows: time since start and absolute, type, state, Map iteration, the
 * resource, a one-line detail and the details (cut short). */
export function consoleEvents(
  events: readonly HistoryEvent[],
  maxData = 300,
  opts: { inner?: ReadonlySet<string>; maxDetails?: number } = {},
): ConsoleEvent[] {
  const byId = new Map(events.map((e) => [e.id ?? 0, e]));
  const start = events.length ? timeOf(events[0]) : 0;
  const iterations = opts.inner ? iterationsOf(events, opts.inner) : new Map<number, number>();
  return events.map((e, i) => {
    const d = detailsOf(e);
    // Task events name no state: it is the one entered up their previousEventId chain.
    const inState = !/^(Execution|Map(Iteration|Run))/.test(e.type ?? '');
    const state = d?.name ?? (inState ? stateOfEvent(e, byId) : undefined);
    const detail = d?.error ? `${d.error}${d.cause ? `: ${d.cause}` : ''}` : (d?.output ?? d?.input);
    const mapIndex = (e as { mapIndex?: unknown }).mapIndex;
    const iteration = iterations.get(e.id ?? i + 1) ?? (typeof mapIndex === 'number' ? mapIndex : undefined);
    const resource = resourceName((d as { resource?: unknown } | undefined)?.resource);
    const details = opts.maxDetails ? eventDetails(e, opts.maxDetails) : undefined;
    return {
      id: e.id ?? i + 1,
      ...(e.previousEventId ? { previousEventId: e.previousEventId } : {}),
      at: Math.max(0, timeOf(e) - start),
      timestamp: timeOf(e),
      type: e.type ?? '?',
      ...(state ? { state } : {}),
      ...(iteration !== undefined ? { iteration } : {}),
      ...(resource ? { resource } : {}),
      ...(detail ? { detail: cut(detail, maxData) } : {}),
      ...(details && Object.keys(details).length ? { details } : {}),
    };
  });
}
