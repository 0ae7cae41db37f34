/**
 * The local Step Functions service: executions of one state machine, run by the
 * aws-local-stepfunctions interpreter on the deployed ASL file, with every Lambda Task bound to
 * an in-process function by its Resource ARN. It keeps what the API reports: status, input,
 * output, error/cause, and an execution history in the AWS event format.
 */
import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { jsonBytes, STATE_PAYLOAD_LIMIT } from '../../functions/core/batches.js';
import { settleWithin } from '../../functions/core/concurrency.js';
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

/** Errors Step Functions raises itself and that States.ALL does not catch. */
class StatesDataLimitExceeded extends Error {
  override name = 'States.DataLimitExceeded';
  readonly isRetryable = false;
  readonly isCatchable = false;
}

const NAME_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;

interface Running {
  abort: () => void;
  done: Promise<void>;
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
  private readonly overrides: Record<string, (input: unknown) => Promise<unknown>>;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(private readonly opts: LocalStepFunctionsOptions) {
    super();
    this.region = opts.region ?? 'us-east-1';
    this.account = opts.account ?? '000000000000';
    this.stateMachineArn = `arn:aws:states:${this.region}:${this.account}:stateMachine:${opts.name}`;
    this.definition = opts.definition;
    this.machine = new StateMachine(opts.definition as unknown as StateMachineDefinition);
    const byArn = new Map(opts.functions.map((f) => [f.arn, f]));
    this.overrides = {};
    const tasks = taskStates(opts.definition.States as never, new Map());
    for (const [stateName, resource] of tasks) {
      const service = opts.services?.[resource];
      if (service) {
        this.overrides[stateName] = service;
        continue;
      }
      const fn = byArn.get(resource);
      if (!fn) throw new Error(`state "${stateName}": no local function for resource ${resource}`);
      this.overrides[stateName] = async (input: unknown) => {
        if (jsonBytes(input) > STATE_PAYLOAD_LIMIT) {
          throw new StatesDataLimitExceeded(`the input of state "${stateName}" exceeds 256 KB`);
        }
        const output = await fn.invoke(input);
        if (jsonBytes(output) > STATE_PAYLOAD_LIMIT) {
          throw new StatesDataLimitExceeded(`the output of ${fn.spec.name} exceeds 256 KB`);
        }
        return output;
      };
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
    let input: unknown;
    try {
      input = JSON.parse(inputText);
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
    this.prune();
    const retryIntervalOverrides =
      this.opts.retryIntervalMs === undefined
        ? undefined
        : Object.fromEntries(this.retryableStates().map((n) => [n, this.opts.retryIntervalMs!]));
    const run = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.overrides as never, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${this.account}:role/local` },
        StateMachine: { Id: this.stateMachineArn, Name: this.opts.name },
      },
    });
    const events = (async () => {
      for await (const e of run.eventLogs) this.record(record, e as unknown as InterpreterEvent);
    })();
    const done = (async () => {
      try {
        const output = await run.result;
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output);
      } catch (err) {
        const e = err as Error & { cause?: Error };
        if (e.name === 'ExecutionAbortedError') record.status = 'ABORTED';
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
        record.stopDate = Date.now();
        await settleWithin(events, 1000);
        this.running.delete(executionArn);
        this.emit('finished', record);
      }
    })();
    this.running.set(executionArn, { abort: run.abort, done });
    this.emit('started', record);
    return { executionArn, startDate };
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

  /** Wait for running executions (up to `graceMs`), then abort the rest. */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (graceMs > 0) await settleWithin(all(), graceMs);
    for (const r of this.running.values()) r.abort();
    await settleWithin(all(), 2000);
  }

  private prune() {
    const max = this.opts.maxExecutions ?? 10_000;
    if (this.executions.size <= max) return;
    for (const r of [...this.executions.values()].sort((a, b) => a.startDate - b.startDate)) {
      if (this.executions.size <= max) break;
      if (r.status !== 'RUNNING') this.executions.delete(r.executionArn);
    }
  }

  private record(record: ExecutionRecord, e: InterpreterEvent) {
    const push = (type: string, details: Record<string, unknown> = {}) =>
      record.events.push({ timestamp: e.timestamp, type, ...details });
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
