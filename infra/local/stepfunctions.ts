/**
 * The local Step Functions service: executions of one state machine, run by the
 * aws-local-stepfunctions interpreter on the deployed ASL file, with every Lambda Task bound to
 * an in-process function by its Resource ARN. It keeps what the API reports: status, input,
 * output, error/cause, and an execution history in the AWS event format.
 *
 * Back-pressure, not timeouts: on AWS a Task's TimeoutSeconds runs while its Lambda runs; here a
 * Task may first wait for a free slot of the local function (the concurrency limit), and that
 * wait is not charged, neither to the state's TimeoutSeconds (its clock starts when the
 * invocation gets its slot) nor to the execution's (paused while the execution only waits for
 * slots). The interpreter's own timers are therefore replaced by these clocks. Work that is
 * abandoned (a state timed out, the execution ended or was stopped) is cancelled: a queued
 * invocation leaves the line, a running one gets its abort signal.
 *
 * Durable: with `journalDir`, executions and their history are journaled (journal.ts); a new
 * service on the same folder lists them again, and `resumeInterrupted()` re-runs the executions
 * that were running (an `ExecutionRedriven` event, as AWS records a redrive), answering the tasks
 * that had already finished from the journal instead of invoking them again.
 */
import './polyfill.js';
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { jsonBytes, STATE_PAYLOAD_LIMIT } from '../../functions/core/batches.js';
import { settleWithin } from '../../functions/core/concurrency.js';
import { ExecutionJournal } from './journal.js';
import type { LocalFunction } from './lambda.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A history event before it gets its id (ids follow the time order). */
export interface RecordedEvent {
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export interface HistoryEvent extends RecordedEvent {
  id: number;
  previousEventId: number;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Times the execution was re-run after a restart of the service (AWS: a redrive). */
  redriveCount?: number;
  redriveDate?: number;
  events: RecordedEvent[];
}

/** An error the API reports (`__type` in the JSON protocol). */
export class SfnApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** A Task past its TimeoutSeconds (counted from the moment its invocation got a slot). */
class StatesTimeout extends Error {
  override name = 'States.Timeout';
  readonly isRetryable = true;
  readonly isCatchable = true;
}

/** Errors Step Functions raises itself and that States.ALL does not catch. */
class StatesDataLimitExceeded extends Error {
  override name = 'States.DataLimitExceeded';
  readonly isRetryable = false;
  readonly isCatchable = false;
}

const NAME_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;

/**
 * The time an execution is charged for, against the definition's TimeoutSeconds: everything
 * except the stretches where it waits for local slots and runs nothing.
 */
class ExecutionClock {
  private waiting = 0;
  private running = 0;
  private charged = 0;
  private since = Date.now();
  private accrue() {
    const now = Date.now();
    if (!(this.waiting > 0 && this.running === 0)) this.charged += now - this.since;
    this.since = now;
  }
  queued() {
    this.accrue();
    this.waiting++;
  }
  started() {
    this.accrue();
    this.waiting--;
    this.running++;
  }
  /** An invocation settled (or was abandoned), after (`started`) or before getting its slot. */
  left(started: boolean) {
    this.accrue();
    if (started) this.running--;
    else this.waiting--;
  }
  chargedMs(): number {
    this.accrue();
    return this.charged;
  }
}

interface Running {
  abort: () => void;
  done: Promise<void>;
  /** Aborted when the execution ends: cancels its queued and running invocations. */
  cancel: AbortController;
  clock: ExecutionClock;
  /** Task outputs already obtained (journaled), by task key: a re-run does not invoke them again. */
  tasks: Map<string, unknown>;
  timedOut?: boolean;
}

/** Longer than any run; below setTimeout's limit (2^31 ms). */
const NO_TIMEOUT_SECONDS = 2_000_000;

/** AWS's default when a Task has no TimeoutSeconds. */
const AWS_DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

type StateDefinitions = Record<
  string,
  {
    Type: string;
    Resource?: string;
    TimeoutSeconds?: number;
    ItemProcessor?: { States: StateDefinitions };
    Iterator?: { States: StateDefinitions };
  }
>;

/** The definition the interpreter runs: its timers off (this service keeps the clocks). */
function withoutInterpreterTimers(definition: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(definition)) as Record<string, unknown> & {
    States: StateDefinitions;
  };
  delete copy.TimeoutSeconds;
  const walk = (states: StateDefinitions) => {
    for (const st of Object.values(states)) {
      if (st.Type === 'Task') st.TimeoutSeconds = NO_TIMEOUT_SECONDS;
      const nested = st.ItemProcessor ?? st.Iterator;
      if (nested) walk(nested.States);
    }
  };
  walk(copy.States);
  return copy;
}

function taskTimeouts(states: StateDefinitions, out: Map<string, number>) {
  for (const [name, st] of Object.entries(states)) {
    if (st.Type === 'Task') out.set(name, st.TimeoutSeconds ?? AWS_DEFAULT_TASK_TIMEOUT_SECONDS);
    const nested = st.ItemProcessor ?? st.Iterator;
    if (nested) taskTimeouts(nested.States, out);
  }
  return out;
}

/** A task's identity within an execution: its state and its input (Map items carry their index). */
function taskKey(stateName: string, input: unknown): string {
  return createHash('sha256').update(stateName).update('\u0000').update(JSON.stringify(input)).digest('hex');
}

export interface LocalStepFunctionsOptions {
  definition: Record<string, unknown>;
  name: string;
  functions: LocalFunction[];
  region?: string;
  account?: string;
  /** Keep at most this many finished executions (oldest dropped). */
  maxExecutions?: number;
  /** Tests: wait this long before every retry instead of the definition's backoff. */
  retryIntervalMs?: number;
  /** Service integrations by Resource ARN (e.g. `arn:aws:states:::events:putEvents`): the
   * local stand-ins for AWS services a Task calls, each given the task's input. */
  services?: Record<string, (input: unknown) => Promise<unknown>>;
  /** Journal executions here (durable across restarts); memory only when unset. */
  journalDir?: string;
}

function taskStates(
  states: Record<
    string,
    { Type: string; Resource?: string; ItemProcessor?: { States: never }; Iterator?: { States: never } }
  >,
  out: Map<string, string>,
) {
  for (const [name, s] of Object.entries(states)) {
    if (s.Type === 'Task' && s.Resource) out.set(name, s.Resource);
    const nested = s.ItemProcessor ?? s.Iterator;
    if (nested) taskStates(nested.States, out);
  }
  return out;
}

export class LocalStepFunctions extends EventEmitter {
  readonly stateMachineArn: string;
  readonly region: string;
  readonly account: string;
  readonly definition: Record<string, unknown>;
  readonly createdAt = Date.now();
  private readonly machine: StateMachine;
  /** Task state name -> its function. */
  private readonly taskFunctions = new Map<string, LocalFunction>();
  /** Tasks answered by a local stand-in for an AWS service (no Lambda slot, no journal). */
  private readonly serviceTasks = new Map<string, (input: unknown) => Promise<unknown>>();
  private readonly taskTimeoutSeconds: Map<string, number>;
  private readonly executionTimeoutMs?: number;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Running>();
  private readonly journal?: ExecutionJournal;
  /** Task outputs journaled by executions that were running when the last service stopped. */
  private readonly resumable = new Map<string, Map<string, unknown>>();
  private clockTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: LocalStepFunctionsOptions) {
    super();
    this.region = opts.region ?? 'us-east-1';
    this.account = opts.account ?? '000000000000';
    this.stateMachineArn = `arn:aws:states:${this.region}:${this.account}:stateMachine:${opts.name}`;
    this.definition = opts.definition;
    this.machine = new StateMachine(
      withoutInterpreterTimers(opts.definition) as unknown as StateMachineDefinition,
    );
    const timeout = opts.definition.TimeoutSeconds;
    this.executionTimeoutMs = typeof timeout === 'number' ? timeout * 1000 : undefined;
    this.taskTimeoutSeconds = taskTimeouts(opts.definition.States as StateDefinitions, new Map());
    const byArn = new Map(opts.functions.map((f) => [f.arn, f]));
    const tasks = taskStates(opts.definition.States as never, new Map());
    for (const [stateName, resource] of tasks) {
      const service = opts.services?.[resource];
      if (service) {
        this.serviceTasks.set(stateName, service);
        continue;
      }
      const fn = byArn.get(resource);
      if (!fn) throw new Error(`state "${stateName}": no local function for resource ${resource}`);
      this.taskFunctions.set(stateName, fn);
    }
    if (opts.journalDir) {
      this.journal = new ExecutionJournal(opts.journalDir);
      const state = this.journal.load(opts.maxExecutions ?? 10_000);
      for (const r of state.executions) this.executions.set(r.executionArn, r);
      for (const [arn, m] of state.tasks) this.resumable.set(arn, m);
    }
  }

  executionArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.account}:execution:${this.opts.name}:${name}`;
  }

  startExecution(req: { stateMachineArn?: string; name?: string; input?: string }): {
    executionArn: string;
    startDate: number;
  } {
    if (this.closed)
      throw new SfnApiError('ServiceUnavailable', 'the local Step Functions service is stopping', 503);
    if (req.stateMachineArn !== this.stateMachineArn) {
      throw new SfnApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${req.stateMachineArn}'`,
      );
    }
    const name = req.name ?? randomUUID();
    if (!NAME_PATTERN.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = req.input ?? '{}';
    try {
      JSON.parse(inputText);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    if (Buffer.byteLength(inputText) > STATE_PAYLOAD_LIMIT) {
      throw new SfnApiError('InvalidExecutionInput', 'Execution input exceeds 256 KB');
    }
    const executionArn = this.executionArn(name);
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Standard workflows: same name and input while running -> the same execution.
      if (existing.status === 'RUNNING' && existing.input === inputText) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const startDate = Date.now();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: this.stateMachineArn,
      name,
      status: 'RUNNING',
      startDate,
      input: inputText,
      events: [],
    };
    this.executions.set(executionArn, record);
    this.journal?.started(record);
    this.prune();
    this.launch(record, new Map());
    this.emit('started', record);
    return { executionArn, startDate };
  }

  /**
   * Re-run the executions a previous service left RUNNING (it stopped or crashed): each one
   * starts again from the beginning with its name and input, recorded as a redrive; the tasks it
   * had finished answer from the journal. Returns them.
   */
  resumeInterrupted(): ExecutionRecord[] {
    const interrupted = [...this.executions.values()].filter(
      (r) => r.status === 'RUNNING' && !this.running.has(r.executionArn),
    );
    for (const record of interrupted) {
      record.redriveCount = (record.redriveCount ?? 0) + 1;
      record.redriveDate = Date.now();
      this.journal?.redriven(record);
      this.pushEvent(record, {
        timestamp: record.redriveDate,
        type: 'ExecutionRedriven',
        executionRedrivenEventDetails: { redriveCount: record.redriveCount },
      });
      this.launch(record, this.resumable.get(record.executionArn) ?? new Map());
      this.resumable.delete(record.executionArn);
      this.emit('redriven', record);
    }
    return interrupted;
  }

  private launch(record: ExecutionRecord, tasks: Map<string, unknown>) {
    const { executionArn, name } = record;
    const exec: Running = {
      abort: () => undefined,
      done: Promise.resolve(),
      cancel: new AbortController(),
      clock: new ExecutionClock(),
      tasks,
    };
    const overrides = Object.fromEntries([
      ...this.serviceTasks,
      ...[...this.taskFunctions].map(([stateName, fn]) => [
        stateName,
        this.taskHandler(record, exec, stateName, fn),
      ]),
    ]);
    const retryIntervalOverrides =
      this.opts.retryIntervalMs === undefined
        ? undefined
        : Object.fromEntries(this.retryableStates().map((n) => [n, this.opts.retryIntervalMs!]));
    const run = this.machine.run(JSON.parse(record.input) as never, {
      overrides: { taskResourceLocalHandlers: overrides as never, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${this.account}:role/local` },
        StateMachine: { Id: this.stateMachineArn, Name: this.opts.name },
      },
    });
    const redrive = (record.redriveCount ?? 0) > 0;
    const events = (async () => {
      for await (const e of run.eventLogs) {
        const ev = e as unknown as InterpreterEvent;
        // A re-run is the same execution: one ExecutionStarted in its history.
        if (redrive && ev.type === 'ExecutionStarted') continue;
        if (exec.timedOut && ev.type === 'ExecutionAborted') ev.type = 'ExecutionTimeout';
        this.record(record, ev);
      }
    })();
    exec.abort = run.abort;
    exec.done = (async () => {
      try {
        const output = await run.result;
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output);
      } catch (err) {
        const e = err as Error & { cause?: Error };
        if (exec.timedOut) {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
        } else if (e.name === 'ExecutionAbortedError') record.status = 'ABORTED';
        else if (e.name === 'ExecutionTimeoutError') {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
        } else {
          record.status = 'FAILED';
          const root = e.cause instanceof Error ? e.cause : e;
          record.error = root.name;
          record.cause = root.message;
        }
      } finally {
        // Whatever this execution still has queued or running is abandoned.
        exec.cancel.abort(new Error(`execution ${name} ended (${record.status})`));
        record.stopDate = Date.now();
        await settleWithin(events, 1000);
        this.journal?.finished(record);
        this.running.delete(executionArn);
        this.emit('finished', record);
      }
    })();
    this.running.set(executionArn, exec);
    this.watchClocks();
  }

  /** The override the interpreter calls for a Task state of one execution. */
  private taskHandler(record: ExecutionRecord, exec: Running, stateName: string, fn: LocalFunction) {
    const limitMs = this.taskTimeoutSeconds.get(stateName)! * 1000;
    return async (input: unknown) => {
      if (jsonBytes(input) > STATE_PAYLOAD_LIMIT) {
        throw new StatesDataLimitExceeded(`the input of state "${stateName}" exceeds 256 KB`);
      }
      const key = taskKey(stateName, input);
      if (exec.tasks.has(key)) return exec.tasks.get(key);
      // The state's clock starts when the invocation gets its slot, not when it joins the line.
      const attempt = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      let started = false;
      let rejectTimeout: (e: Error) => void = () => undefined;
      const timedOut = new Promise<never>((_, reject) => (rejectTimeout = reject));
      exec.clock.queued();
      const invocation = fn.invoke(input, {
        signal: AbortSignal.any([exec.cancel.signal, attempt.signal]),
        onStart: () => {
          started = true;
          exec.clock.started();
          if (limitMs < NO_TIMEOUT_SECONDS * 1000) {
            timer = setTimeout(() => {
              const err = new StatesTimeout(`State "${stateName}" timed out after ${limitMs / 1000} s`);
              attempt.abort(err); // the invocation is abandoned: cancel it
              rejectTimeout(err);
            }, limitMs);
          }
        },
      });
      invocation.catch(() => undefined);
      try {
        const output = await Promise.race([invocation, timedOut]);
        if (jsonBytes(output) > STATE_PAYLOAD_LIMIT) {
          throw new StatesDataLimitExceeded(`the output of ${fn.spec.name} exceeds 256 KB`);
        }
        if (!exec.cancel.signal.aborted) {
          exec.tasks.set(key, output);
          this.journal?.task(record.executionArn, key, output);
        }
        return output;
      } finally {
        clearTimeout(timer);
        exec.clock.left(started);
      }
    };
  }

  /** One timer for all running executions: end those past their TimeoutSeconds (charged time). */
  private watchClocks() {
    if (this.clockTimer || this.executionTimeoutMs === undefined) return;
    const limit = this.executionTimeoutMs;
    this.clockTimer = setInterval(() => {
      for (const exec of this.running.values()) {
        if (!exec.timedOut && exec.clock.chargedMs() > limit) {
          exec.timedOut = true;
          exec.abort();
        }
      }
      if (this.running.size === 0) {
        clearInterval(this.clockTimer);
        this.clockTimer = undefined;
      }
    }, 250);
    this.clockTimer.unref();
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const r = this.executions.get(executionArn);
    if (!r) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return r;
  }

  /** Newest first, as the API lists them. */
  listExecutions(filter?: { status?: ExecutionStatus }): ExecutionRecord[] {
    return [...this.executions.values()]
      .filter((r) => !filter?.status || r.status === filter.status)
      .sort((a, b) => b.startDate - a.startDate);
  }

  history(executionArn: string): HistoryEvent[] {
    const r = this.describeExecution(executionArn);
    return [...r.events]
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((e, i) => ({ ...e, id: i + 1, previousEventId: i }));
  }

  stopExecution(executionArn: string, error?: string, cause?: string): number {
    const r = this.describeExecution(executionArn);
    const run = this.running.get(executionArn);
    if (run) {
      r.error = error;
      r.cause = cause;
      run.abort();
    }
    return Date.now();
  }

  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Wait for running executions (up to `graceMs`), then stop. With a journal, the executions
   * still running stay RUNNING in it (the next service re-runs them); without, they are aborted.
   */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (graceMs > 0) await settleWithin(all(), graceMs);
    const journal = this.journal;
    if (journal) {
      for (const r of this.running.values()) r.cancel.abort(new Error('the service is stopping'));
      journal.close(); // what is left running is recorded as running
    }
    for (const r of this.running.values()) r.abort();
    await settleWithin(all(), 2000);
    clearInterval(this.clockTimer);
    this.clockTimer = undefined;
  }

  private prune() {
    const max = this.opts.maxExecutions ?? 10_000;
    if (this.executions.size <= max) return;
    for (const r of [...this.executions.values()].sort((a, b) => a.startDate - b.startDate)) {
      if (this.executions.size <= max) break;
      if (r.status !== 'RUNNING') this.executions.delete(r.executionArn);
    }
  }

  private pushEvent(record: ExecutionRecord, event: RecordedEvent) {
    record.events.push(event);
    this.journal?.event(record.executionArn, event);
  }

  private record(record: ExecutionRecord, e: InterpreterEvent) {
    const push = (type: string, details: Record<string, unknown> = {}) =>
      this.pushEvent(record, { timestamp: e.timestamp, type, ...details });
    const json = (v: unknown) => JSON.stringify(v ?? null);
    const stateType = (t: string) => (t === 'Task' ? 'Task' : t);
    switch (e.type) {
      case 'ExecutionStarted':
        push('ExecutionStarted', {
          executionStartedEventDetails: {
            input: json(e.input),
            roleArn: `arn:aws:iam::${this.account}:role/local`,
          },
        });
        break;
      case 'ExecutionSucceeded':
        push('ExecutionSucceeded', { executionSucceededEventDetails: { output: json(e.output) } });
        break;
      case 'ExecutionFailed':
        push('ExecutionFailed', {
          executionFailedEventDetails: { error: e.Error, cause: causeText(e.Cause) },
        });
        break;
      case 'ExecutionAborted':
        push('ExecutionAborted', { executionAbortedEventDetails: {} });
        break;
      case 'ExecutionTimeout':
        push('ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } });
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${e.type[0].toLowerCase()}${e.type.slice(1)}EventDetails`;
        push(e.type, { [key]: { name: e.parentState?.name, index: e.index } });
        break;
      }
      case 'StateEntered': {
        const s = e.state!;
        push(`${stateType(s.type)}StateEntered`, {
          stateEnteredEventDetails: { name: s.name, input: json(s.input) },
          ...(e.index !== undefined ? { mapIndex: e.index } : {}),
        });
        if (s.type === 'Task') this.lambdaScheduled(push, s.name, s.input, e.index);
        break;
      }
      case 'StateExited': {
        const s = e.state!;
        if (s.type === 'Task') {
          push('LambdaFunctionSucceeded', {
            lambdaFunctionSucceededEventDetails: { output: json(s.output) },
            ...(e.index !== undefined ? { mapIndex: e.index } : {}),
          });
        }
        push(`${stateType(s.type)}StateExited`, {
          stateExitedEventDetails: { name: s.name, output: json(s.output) },
          ...(e.index !== undefined ? { mapIndex: e.index } : {}),
        });
        break;
      }
      case 'StateFailed': {
        const s = e.state!;
        if (s.type === 'Task') {
          const timedOut = e.Error === 'States.Timeout';
          push(timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed', {
            [timedOut ? 'lambdaFunctionTimedOutEventDetails' : 'lambdaFunctionFailedEventDetails']: {
              error: e.Error,
              cause: causeText(e.Cause),
            },
            stateName: s.name,
            ...(e.index !== undefined ? { mapIndex: e.index } : {}),
          });
        }
        break;
      }
      case 'StateRetried': {
        const s = e.state!;
        if (s.type === 'Task') this.lambdaScheduled(push, s.name, s.input, e.index);
        break;
      }
      default:
        break;
    }
  }

  private lambdaScheduled(
    push: (type: string, details?: Record<string, unknown>) => void,
    stateName: string,
    input: unknown,
    index?: number,
  ) {
    const resource = this.resourceOf(stateName);
    const extra = { stateName, ...(index !== undefined ? { mapIndex: index } : {}) };
    push('LambdaFunctionScheduled', {
      lambdaFunctionScheduledEventDetails: { resource, input: JSON.stringify(input ?? null) },
      ...extra,
    });
    push('LambdaFunctionStarted', extra);
  }

  private retryableStates(): string[] {
    const names: string[] = [];
    const walk = (
      states: Record<
        string,
        { Retry?: unknown; ItemProcessor?: { States: never }; Iterator?: { States: never } }
      >,
    ) => {
      for (const [name, st] of Object.entries(states)) {
        if (st.Retry) names.push(name);
        const nested = st.ItemProcessor ?? st.Iterator;
        if (nested) walk(nested.States);
      }
    };
    walk(this.opts.definition.States as never);
    return names;
  }

  private resourceCache?: Map<string, string>;
  private resourceOf(stateName: string): string | undefined {
    this.resourceCache ??= taskStates(this.opts.definition.States as never, new Map());
    return this.resourceCache.get(stateName);
  }
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

interface InterpreterEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  index?: number;
  parentState?: { name: string; type: string };
  state?: { name: string; type: string; input: unknown; output?: unknown };
}
