/**
 * The local Step Functions service: executions of one state machine, run by the
 * aws-local-stepfunctions interpreter on the deployed ASL file, with every Lambda Task bound to
 * an in-process function by its Resource ARN. It keeps what the API reports: status, input,
 * output, error/cause, and an execution history in the AWS event format (history.ts).
 *
 * Back-pressure, not timeouts (task.ts): a Task's clock starts when its invocation gets a
 * slot of the local function, and the execution's clock pauses while it only waits for slots;
 * the interpreter's own timers are therefore replaced by these clocks (task-states.ts).
 *
 * Durable: with `journalDir`, executions and their history are journaled (journal.ts); a new
 * service on the same folder lists them again, and `resumeInterrupted()` re-runs the executions
 * that were running (an `ExecutionRedriven` event, as AWS records a redrive), answering the tasks
 * that had already finished from the journal instead of invoking them again.
 */
import './promise-with-resolvers.js';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_REGION, STATE_PAYLOAD_LIMIT } from '../../../functions/core/facts.js';
import { settleWithin } from '../../../functions/core/concurrency.js';
import {
  DEFAULT_JOURNAL_LIMITS,
  ExecutionJournal,
  retained,
  STACK_STOPPED_ERROR,
  type TaskOutcome,
} from './journal.js';
import { SfnApiError } from './errors.js';
import { LocalDistributedMaps } from './distributed-map.js';
import type { LocalFunction } from '../lambda/service.js';
import {
  executionTimeoutMs,
  retryingStates,
  taskResources,
  taskTimeouts,
  withoutInterpreterTimers,
} from './task-states.js';
import { causeText, recordInterpreterEvent, repeatFilter, type InterpreterEvent } from './history.js';
import type { ExecutionRecord, ExecutionStatus, HistoryEvent, RecordedEvent } from './records.js';
import { ExecutionClock, slotTimedTask, type TaskExecution } from './task.js';

export type { ExecutionRecord, ExecutionStatus, HistoryEvent, RecordedEvent };

export { SfnApiError };

const NAME_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;

interface Running extends TaskExecution {
  abort: () => void;
  done: Promise<void>;
  timedOut?: boolean;
}

/** The error of an execution the local stack stopped in its course (its next start redrives it). */
export { STACK_STOPPED_ERROR };

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
  /** Bytes of journal kept and read at start (journal.ts; default 64 MB). */
  maxJournalBytes?: number;
  /** The local S3 a Distributed Map's ItemReader and ResultWriter use (asked for when one runs). */
  s3?: () => S3Client | undefined;
}

/** How an interpreter run ended -> the execution's status, error and cause. */
function outcomeOf(
  err: Error & { cause?: Error },
  timedOut: boolean,
): Pick<ExecutionRecord, 'status' | 'error' | 'cause'> {
  if (timedOut || err.name === 'ExecutionTimeoutError')
    return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (err.name === 'ExecutionAbortedError') return { status: 'ABORTED' };
  const root = err.cause instanceof Error ? err.cause : err;
  return { status: 'FAILED', error: root.name, cause: causeText(root.message) };
}

export class LocalStepFunctions extends EventEmitter {
  readonly stateMachineArn: string;
  readonly region: string;
  readonly account: string;
  readonly definition: Record<string, unknown>;
  readonly createdAt = Date.now();
  private readonly machine: StateMachine;
  /** Distributed Map states: run by this service, not the interpreter (distributed-map.ts). */
  private readonly distributedMaps: LocalDistributedMaps;
  /** Task state name -> its Resource. */
  private readonly resources: Map<string, string>;
  /** Task state name -> its function. */
  private readonly taskFunctions = new Map<string, LocalFunction>();
  /** Tasks answered by a local stand-in for an AWS service (no Lambda slot, no journal). */
  private readonly serviceTasks = new Map<string, (input: unknown) => Promise<unknown>>();
  private readonly taskTimeoutSeconds: Map<string, number>;
  private readonly executionTimeoutMs?: number;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Running>();
  private readonly journal?: ExecutionJournal;
  /** Task outcomes journaled by executions that were running when the last service stopped. */
  private readonly resumable = new Map<string, Map<string, TaskOutcome[]>>();
  private clockTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: LocalStepFunctionsOptions) {
    super();
    this.region = opts.region ?? DEFAULT_REGION;
    this.account = opts.account ?? '000000000000';
    this.stateMachineArn = `arn:aws:states:${this.region}:${this.account}:stateMachine:${opts.name}`;
    this.definition = opts.definition;
    this.distributedMaps = new LocalDistributedMaps(opts.definition, {
      region: this.region,
      account: this.account,
      stateMachineName: opts.name,
      s3: opts.s3,
    });
    this.machine = new StateMachine(
      withoutInterpreterTimers(
        this.distributedMaps.interpreterDefinition(opts.definition),
      ) as unknown as StateMachineDefinition,
    );
    this.executionTimeoutMs = executionTimeoutMs(opts.definition);
    this.taskTimeoutSeconds = taskTimeouts(opts.definition);
    this.resources = taskResources(opts.definition);
    this.bindTasks();
    if (opts.journalDir) this.journal = this.replayJournal(opts.journalDir);
  }

  /** Every Task state to its local function, or to the stand-in of the AWS service it calls. */
  private bindTasks(): void {
    const byArn = new Map(this.opts.functions.map((f) => [f.arn, f]));
    for (const [stateName, resource] of this.resources) {
      const service = this.opts.services?.[resource];
      if (service) {
        this.serviceTasks.set(stateName, service);
        continue;
      }
      const fn = byArn.get(resource);
      if (!fn) throw new Error(`state "${stateName}": no local function for resource ${resource}`);
      this.taskFunctions.set(stateName, fn);
    }
  }

  /** The executions a previous service journaled, and the task outputs of those still running. */
  private replayJournal(dir: string): ExecutionJournal {
    const journal = new ExecutionJournal(dir, {
      maxExecutions: this.opts.maxExecutions ?? DEFAULT_JOURNAL_LIMITS.maxExecutions,
      maxBytes: this.opts.maxJournalBytes ?? DEFAULT_JOURNAL_LIMITS.maxBytes,
    });
    const state = journal.load();
    for (const r of state.executions) this.executions.set(r.executionArn, r);
    for (const [arn, m] of state.tasks) this.resumable.set(arn, m);
    return journal;
  }

  executionArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.account}:execution:${this.opts.name}:${name}`;
  }

  startExecution(req: { stateMachineArn?: string; name?: string; input?: string }): {
    executionArn: string;
    startDate: number;
  } {
    const { name, inputText } = this.checkStartRequest(req);
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

  /** The API's checks of a StartExecution request: service up, this machine, name, input. */
  private checkStartRequest(req: { stateMachineArn?: string; name?: string; input?: string }): {
    name: string;
    inputText: string;
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
    return { name, inputText };
  }

  /**
   * Redrive the executions a previous service did not finish: those it left RUNNING (it was
   * killed: the history gets the ExecutionAborted it could not write) and those it stopped
   * (ABORTED with STACK_STOPPED_ERROR). Each runs again from the beginning with its name and input,
   * recorded as AWS records a redrive (ExecutionRedriven, redriveCount); the tasks it had finished
   * answer from the journal and what the history already holds is not recorded again
   * (history.ts repeatFilter). Returns them.
   */
  resumeInterrupted(): ExecutionRecord[] {
    const interrupted = [...this.executions.values()].filter(
      (r) =>
        !this.running.has(r.executionArn) &&
        (r.status === 'RUNNING' || (r.status === 'ABORTED' && r.error === STACK_STOPPED_ERROR)),
    );
    for (const record of interrupted) {
      const now = Date.now();
      if (record.status === 'RUNNING') {
        this.pushEvent(record, {
          timestamp: now,
          type: 'ExecutionAborted',
          executionAbortedEventDetails: {
            error: STACK_STOPPED_ERROR,
            cause:
              'the local stack ended while this execution ran (killed or crashed); this start redrives it',
          },
        });
      }
      Object.assign(record, {
        status: 'RUNNING',
        stopDate: undefined,
        output: undefined,
        error: undefined,
        cause: undefined,
        redriveCount: (record.redriveCount ?? 0) + 1,
        redriveDate: now,
      });
      this.journal?.redriven(record);
      const prior = [...record.events];
      this.pushEvent(record, {
        timestamp: now,
        type: 'ExecutionRedriven',
        executionRedrivenEventDetails: { redriveCount: record.redriveCount },
      });
      this.launch(record, this.resumable.get(record.executionArn) ?? new Map(), repeatFilter(prior));
      this.resumable.delete(record.executionArn);
      this.emit('redriven', record);
    }
    return interrupted;
  }

  /** Runs one execution on the interpreter: its tasks, its history, its final status. */
  private launch(
    record: ExecutionRecord,
    tasks: Map<string, TaskOutcome[]>,
    isRepeat: (e: RecordedEvent) => boolean = () => false,
  ) {
    const { executionArn, name } = record;
    const exec: Running = {
      abort: () => undefined,
      done: Promise.resolve(),
      cancel: new AbortController(),
      clock: new ExecutionClock(),
      tasks,
      answered: (key, outcome) => {
        const outcomes = this.outcomes.get(executionArn) ?? new Map<string, TaskOutcome[]>();
        outcomes.set(key, [...(outcomes.get(key) ?? []), outcome]);
        this.outcomes.set(executionArn, outcomes);
        this.journal?.task(executionArn, key, outcome);
      },
    };
    // Outcomes carried over from the journal stay recorded (a compaction keeps them).
    this.outcomes.set(executionArn, new Map([...tasks].map(([k, v]) => [k, [...v]])));
    const overrides = Object.fromEntries([
      ...this.serviceTasks,
      ...[...this.taskFunctions].map(([stateName, fn]) => [
        stateName,
        slotTimedTask(stateName, fn, this.taskTimeoutSeconds.get(stateName)!, exec),
      ]),
    ]);
    const retryIntervalOverrides =
      this.opts.retryIntervalMs === undefined
        ? undefined
        : Object.fromEntries(retryingStates(this.definition).map((n) => [n, this.opts.retryIntervalMs!]));
    Object.assign(
      overrides,
      this.distributedMaps.handlers({
        executionArn,
        overrides,
        retryIntervalOverrides,
        push: (event) => this.pushEvent(record, event),
        signal: exec.cancel.signal,
      }),
    );
    const run = this.machine.run(JSON.parse(record.input) as never, {
      overrides: { taskResourceLocalHandlers: overrides as never, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${this.account}:role/local` },
        StateMachine: { Id: this.stateMachineArn, Name: this.opts.name },
      },
    });
    const redrive = (record.redriveCount ?? 0) > 0;
    const history = {
      push: (event: RecordedEvent) => {
        if (!isRepeat(event)) this.pushEvent(record, event);
      },
      account: this.account,
      resourceOf: (s: string) => this.resources.get(s),
      abortDetails: () => ({
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
      }),
      caught: new Set<string>(),
    };
    const events = (async () => {
      for await (const e of run.eventLogs) {
        const ev = e as unknown as InterpreterEvent;
        // A re-run is the same execution: one ExecutionStarted in its history.
        if (redrive && ev.type === 'ExecutionStarted') continue;
        if (exec.timedOut && ev.type === 'ExecutionAborted') ev.type = 'ExecutionTimeout';
        recordInterpreterEvent(this.distributedMaps.asMapEvent(ev), history);
      }
    })();
    exec.abort = run.abort;
    exec.done = (async () => {
      try {
        const output = await run.result;
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output);
      } catch (err) {
        Object.assign(record, outcomeOf(err as Error & { cause?: Error }, exec.timedOut === true));
      } finally {
        // Whatever this execution still has queued or running is abandoned.
        exec.cancel.abort(new Error(`execution ${name} ended (${record.status})`));
        record.stopDate = Date.now();
        await settleWithin(events, 1000);
        this.journal?.finished(record);
        this.running.delete(executionArn);
        // An execution the stack stopped keeps its task outcomes for its redrive.
        if (record.error !== STACK_STOPPED_ERROR) this.outcomes.delete(executionArn);
        this.emit('finished', record);
        this.compactIfDue();
      }
    })();
    this.running.set(executionArn, exec);
    this.watchClocks();
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
    return withCausalLinks([...r.events].sort((a, b) => a.timestamp - b.timestamp));
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
   * Wait for running executions (up to `graceMs`), then stop: the executions still running are
   * stopped (ABORTED, error STACK_STOPPED_ERROR, in the journal too), so that no execution is left
   * RUNNING without a service to run it; the next service on the same journal redrives them
   * (resumeInterrupted). Their work in flight is cancelled.
   */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (graceMs > 0) await settleWithin(all(), graceMs);
    for (const [arn, run] of this.running) {
      const record = this.executions.get(arn)!;
      // The abort closes the interpreter's event log: what the cancelled work does next (a task
      // failing, a Catch path) is not history; ExecutionAborted is its last event.
      record.error = STACK_STOPPED_ERROR;
      record.cause = this.journal
        ? 'the local stack stopped while this execution ran; the next start on this data folder redrives it'
        : 'the local stack stopped while this execution ran';
      run.abort();
      run.cancel.abort(new Error('the service is stopping'));
    }
    await settleWithin(all(), 2000);
    this.journal?.close();
    clearInterval(this.clockTimer);
    this.clockTimer = undefined;
  }

  /** Executions running or stopped mid-way: what a stop now would leave to the next start. */
  get interruptedCount(): number {
    return this.running.size;
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
    this.compactIfDue();
  }

  /** Task outcomes of the executions not finished (what a compaction must keep for resuming). */
  private readonly outcomes = new Map<string, Map<string, TaskOutcome[]>>();

  /**
   * The journal past its size: keep the newest executions within its limits (memory follows: the
   * ones dropped leave this service too), rewrite it with them.
   */
  private compactIfDue() {
    const journal = this.journal;
    if (!journal?.needsCompaction()) return;
    const sorted = [...this.executions.values()].sort((a, b) => a.startDate - b.startDate);
    const keep = retained(sorted, journal.limitsInForce);
    const kept = new Set(keep.map((r) => r.executionArn));
    for (const arn of [...this.executions.keys()]) if (!kept.has(arn)) this.executions.delete(arn);
    const tasks = new Map<string, Map<string, TaskOutcome[]>>();
    for (const [arn, m] of this.outcomes) if (kept.has(arn)) tasks.set(arn, m);
    for (const [arn, m] of this.resumable) if (kept.has(arn)) tasks.set(arn, m);
    journal.compact(keep, tasks);
  }
}

/**
 * Ids in time order, and previousEventId as AWS links it: an event of a Map iteration follows the
 * previous event of the same iteration (its MapIterationStarted first, which follows the event
 * before it), so iterations that ran side by side stay apart for a reader that walks the links
 * (the console's one-iteration view); `mapIndex` itself does not survive the SDK's parsing.
 */
function withCausalLinks(events: RecordedEvent[]): HistoryEvent[] {
  const lastOf = new Map<number, number>();
  let lastOuter = 0;
  return events.map((e, i) => {
    const id = i + 1;
    const started = (e.mapIterationStartedEventDetails as { index?: number } | undefined)?.index;
    const ended = (
      (e.mapIterationSucceededEventDetails ?? e.mapIterationFailedEventDetails) as
        { index?: number } | undefined
    )?.index;
    const inner = typeof e.mapIndex === 'number' ? e.mapIndex : ended;
    let previousEventId = i;
    if (typeof started === 'number') {
      previousEventId = lastOuter;
      lastOf.set(started, id);
    } else if (typeof inner === 'number') {
      previousEventId = lastOf.get(inner) ?? i;
      lastOf.set(inner, id);
    } else lastOuter = id;
    return { ...e, id, previousEventId };
  });
}
