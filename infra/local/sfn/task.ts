/**
 * Back-pressure, not timeouts: on AWS a Task's TimeoutSeconds runs while its Lambda runs; here a
 * Task may first wait for a free slot of the local function (its concurrency limit), and that
 * wait is charged neither to the state's TimeoutSeconds (its clock starts when the invocation
 * gets its slot) nor to the execution's (ExecutionClock pauses while the execution only waits
 * for slots). Work that is abandoned (a state timed out, the execution ended) is cancelled: a
 * queued invocation leaves the line, a running one gets its abort signal.
 */
import { createHash } from 'node:crypto';
import { jsonBytes } from '../../../functions/core/batches.js';
import { STATE_PAYLOAD_LIMIT } from '../../../functions/core/facts.js';
import type { LocalFunction } from '../lambda/service.js';
import type { TaskOutcome } from './journal.js';
import { NO_TIMEOUT_SECONDS } from './task-states.js';

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

/**
 * The time an execution is charged for, against the definition's TimeoutSeconds: everything
 * except the stretches where it waits for local slots and runs nothing.
 */
export class ExecutionClock {
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

/** What a Task needs of the execution it runs in. */
export interface TaskExecution {
  /** Aborted when the execution ends: cancels its queued and running invocations. */
  cancel: AbortController;
  clock: ExecutionClock;
  /** Task outcomes already obtained (journaled), by task key, in order: a re-run replays them
   * (the same output, or the same error, so that it takes the same Retry and Catch paths) instead
   * of invoking the function again. */
  tasks: Map<string, TaskOutcome[]>;
  /** Called with each new outcome, while the execution still runs (the service journals it). */
  answered(key: string, outcome: TaskOutcome): void;
}

/** An outcome as the interpreter sees it again: the output, or the error thrown anew. */
function replay(outcome: TaskOutcome): unknown {
  if ('out' in outcome) return outcome.out;
  const err = new Error(outcome.err.message);
  err.name = outcome.err.name;
  throw err;
}

/** What is recorded of a failure: its name, and its cause as the interpreter reads it. */
function failureOf(err: unknown): TaskOutcome {
  const e = err as Error & { cause?: unknown };
  return {
    err: { name: e?.name ?? 'Error', message: typeof e?.cause === 'string' ? e.cause : String(e?.message) },
  };
}

/** A task's identity within an execution: its state and its input (Map items carry their index). */
function taskKey(stateName: string, input: unknown): string {
  return createHash('sha256').update(stateName).update('\u0000').update(JSON.stringify(input)).digest('hex');
}

/** The handler the interpreter calls for one Task state of one execution. */
export function slotTimedTask(
  stateName: string,
  fn: LocalFunction,
  timeoutSeconds: number,
  exec: TaskExecution,
): (input: unknown) => Promise<unknown> {
  const limitMs = timeoutSeconds * 1000;
  return async (input: unknown) => {
    if (jsonBytes(input) > STATE_PAYLOAD_LIMIT) {
      throw new StatesDataLimitExceeded(`the input of state "${stateName}" exceeds 256 KB`);
    }
    const key = taskKey(stateName, input);
    const recorded = exec.tasks.get(key);
    if (recorded?.length) return replay(recorded.shift()!);
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
    // Outcomes of work the execution abandoned (it ended, the service is stopping) are not
    // recorded: a re-run invokes that work again.
    const record = (outcome: TaskOutcome) => {
      if (!exec.cancel.signal.aborted) exec.answered(key, outcome);
    };
    try {
      const output = await Promise.race([invocation, timedOut]);
      if (jsonBytes(output) > STATE_PAYLOAD_LIMIT) {
        throw new StatesDataLimitExceeded(`the output of ${fn.spec.name} exceeds 256 KB`);
      }
      record({ out: output });
      return output;
    } catch (err) {
      if (!(err instanceof StatesDataLimitExceeded)) record(failureOf(err));
      throw err;
    } finally {
      clearTimeout(timer);
      exec.clock.left(started);
    }
  };
}
