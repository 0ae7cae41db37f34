/**
 * The execution history in the AWS event format, from the events the aws-local-stepfunctions
 * interpreter logs: Execution*, *StateEntered/Exited, Map iterations, and for Task states the
 * LambdaFunction* events AWS records (scheduled, started, succeeded, failed, timed out).
 */
import { publicCause } from '../../../functions/core/failure.js';
import type { RecordedEvent } from './records.js';

/** An event as the interpreter logs it (the fields used here). */
export interface InterpreterEvent {
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

export interface HistoryContext {
  /** Appends one event to the execution's history. */
  push: (event: RecordedEvent) => void;
  account: string;
  /** The Resource of a Task state (its function ARN). */
  resourceOf: (stateName: string) => string | undefined;
  /** The error and cause an abort is recorded with (StopExecution's, or the stack's stop). */
  abortDetails?: () => { error?: string; cause?: string };
  /** Task visits whose failure a Catch took (one execution's; see StateCaught below). */
  caught?: Set<string>;
}

type Push = (type: string, details?: Record<string, unknown>) => void;

/** Step Functions' limit on a cause. */
const MAX_CAUSE = 32_768;

/**
 * A cause as the API reports it: a Lambda error's type and message (its stack trace dropped), any
 * path of this machine cut to its last segment (what a history or a console shows is not a map
 * of the machine that ran the functions).
 */
export function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  const text =
    typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : JSON.stringify(cause);
  return publicCause(text, MAX_CAUSE);
}

const json = (v: unknown) => JSON.stringify(v ?? null);
const mapIndex = (e: InterpreterEvent) => (e.index !== undefined ? { mapIndex: e.index } : {});

/** Appends the history events one interpreter event stands for. */
export function recordInterpreterEvent(e: InterpreterEvent, ctx: HistoryContext): void {
  const push: Push = (type, details = {}) => ctx.push({ timestamp: e.timestamp, type, ...details });
  switch (e.type) {
    case 'ExecutionStarted':
      push('ExecutionStarted', {
        executionStartedEventDetails: {
          input: json(e.input),
          roleArn: `arn:aws:iam::${ctx.account}:role/local`,
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
      push('ExecutionAborted', { executionAbortedEventDetails: ctx.abortDetails?.() ?? {} });
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
      push(`${s.type}StateEntered`, {
        stateEnteredEventDetails: { name: s.name, input: json(s.input) },
        ...mapIndex(e),
      });
      if (s.type === 'Task') lambdaScheduled(push, ctx, s.name, s.input, e.index);
      break;
    }
    case 'StateCaught': {
      // The interpreter then exits the state normally (with the Catch's output): AWS records
      // TaskStateExited, and no LambdaFunctionSucceeded for an attempt that failed.
      const s = e.state!;
      if (s.type === 'Task') ctx.caught?.add(`${s.name}\u0000${e.index ?? ''}`);
      break;
    }
    case 'StateExited': {
      const s = e.state!;
      const caught = ctx.caught?.delete(`${s.name}\u0000${e.index ?? ''}`) === true;
      if (s.type === 'Task' && !caught) {
        push('LambdaFunctionSucceeded', {
          lambdaFunctionSucceededEventDetails: { output: json(s.output) },
          stateName: s.name,
          ...mapIndex(e),
        });
      }
      push(`${s.type}StateExited`, {
        stateExitedEventDetails: { name: s.name, output: json(s.output) },
        ...mapIndex(e),
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
          ...mapIndex(e),
        });
      }
      break;
    }
    case 'StateRetried': {
      const s = e.state!;
      if (s.type === 'Task') lambdaScheduled(push, ctx, s.name, s.input, e.index);
      break;
    }
    default:
      break;
  }
}

function lambdaScheduled(push: Push, ctx: HistoryContext, stateName: string, input: unknown, index?: number) {
  const extra = { stateName, ...(index !== undefined ? { mapIndex: index } : {}) };
  push('LambdaFunctionScheduled', {
    lambdaFunctionScheduledEventDetails: {
      resource: ctx.resourceOf(stateName),
      input: JSON.stringify(input ?? null),
    },
    ...extra,
  });
  push('LambdaFunctionStarted', extra);
}

/** Which step of which state visit an event records: its type, state and Map iteration. */
function eventSignature(e: RecordedEvent): string {
  const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as
    { name?: string; index?: number } | undefined;
  const state = (e.stateName as string | undefined) ?? details?.name ?? '';
  const index = (e.mapIndex as number | undefined) ?? details?.index ?? '';
  return `${e.type}\u0000${state}\u0000${index}`;
}

const LAMBDA_RESULTS = ['LambdaFunctionSucceeded', 'LambdaFunctionFailed', 'LambdaFunctionTimedOut'];

/**
 * What a redriven execution must not record again: the events its history already holds. A re-run
 * starts from the beginning and answers the finished tasks from the journal, so it passes again
 * through every step that already happened; counted per step (type, state, Map iteration), the
 * first n of a step are already in the history and the rest are new. A Lambda attempt that was
 * interrupted (scheduled or started, no result) counts as not having happened: its re-run is a new
 * attempt with its own LambdaFunctionScheduled and LambdaFunctionStarted, after ExecutionRedriven.
 * Execution-level events are always new. Returns `isRepeat(event)`, to be called once per event
 * of the re-run, in order.
 */
export function repeatFilter(prior: readonly RecordedEvent[]): (e: RecordedEvent) => boolean {
  const count = (events: readonly RecordedEvent[]) => {
    const m = new Map<string, number>();
    for (const e of events) m.set(eventSignature(e), (m.get(eventSignature(e)) ?? 0) + 1);
    return m;
  };
  const seen = count(prior);
  // Attempts with a result, per state visit.
  const results = new Map<string, number>();
  for (const e of prior) {
    if (!LAMBDA_RESULTS.includes(e.type)) continue;
    const visit = eventSignature({ ...e, type: '' });
    results.set(visit, (results.get(visit) ?? 0) + 1);
  }
  for (const [sig, n] of seen) {
    const [type] = sig.split('\u0000');
    if (type !== 'LambdaFunctionScheduled' && type !== 'LambdaFunctionStarted') continue;
    const visit = `${sig.slice(type.length)}`;
    seen.set(sig, Math.min(n, results.get(visit) ?? 0));
  }
  const again = new Map<string, number>();
  return (e) => {
    if (e.type.startsWith('Execution')) return false;
    const sig = eventSignature(e);
    const n = (again.get(sig) ?? 0) + 1;
    again.set(sig, n);
    return n <= (seen.get(sig) ?? 0);
  };
}
