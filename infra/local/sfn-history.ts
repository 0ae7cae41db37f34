/**
 * The execution history in the AWS event format, from the events the aws-local-stepfunctions
 * interpreter logs: Execution*, *StateEntered/Exited, Map iterations, and for Task states the
 * LambdaFunction* events AWS records (scheduled, started, succeeded, failed, timed out).
 */
import { publicCause } from '../../functions/core/failure.js';
import type { RecordedEvent } from './sfn-records.js';

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
      push(`${s.type}StateEntered`, {
        stateEnteredEventDetails: { name: s.name, input: json(s.input) },
        ...mapIndex(e),
      });
      if (s.type === 'Task') lambdaScheduled(push, ctx, s.name, s.input, e.index);
      break;
    }
    case 'StateExited': {
      const s = e.state!;
      if (s.type === 'Task') {
        push('LambdaFunctionSucceeded', {
          lambdaFunctionSucceededEventDetails: { output: json(s.output) },
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
