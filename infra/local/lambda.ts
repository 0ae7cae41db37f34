/**
 * In-process stand-in for the Lambda service: how a Task (or an S3 notification) reaches a
 * handler in local mode. It does what Lambda does around a handler and nothing else:
 * JSON in and out (no shared objects), a context object with the time limit, errors reported
 * as `{ errorType, errorMessage, trace }`, a concurrency limit per function (queued, not
 * throttled), and for asynchronous (event) invocations two retries like Lambda's.
 *
 * Where one process cannot do what Lambda does (stop a sandbox whose time is up or whose caller
 * gave up), the invocation is cancelled instead: a caller's `signal` takes a queued invocation
 * out of the line before it starts, and reaches a running handler as `context.abortSignal`
 * (aborted too when the function's own time limit passes), so that abandoned work stops.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { Semaphore } from '../../functions/core/concurrency.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalFunctionSpec {
  /** Function name, e.g. `facerec-splitter`. */
  name: string;
  handler: LambdaHandler;
  timeoutSeconds: number;
  /** Concurrent invocations; more wait in line. */
  concurrency: number;
  memoryMb?: number;
  region?: string;
  account?: string;
}

/** A failed invocation as the Lambda service reports it to Step Functions: the error type is
 * the name, the cause is the JSON the runtime returns. */
export class LambdaFunctionError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}

export interface InvokeOptions {
  /** The caller gave up: leave the line, or stop the running handler (context.abortSignal). */
  signal?: AbortSignal;
  /** Called when the invocation gets its slot and the handler starts. */
  onStart?: () => void;
}

/** The context local mode hands a handler: Lambda's, plus the cancellation signal. */
export interface LocalContext extends Context {
  abortSignal: AbortSignal;
}

export interface InvocationRecord {
  function: string;
  requestId: string;
  start: number;
  end: number;
  /** Time spent waiting for a free slot. */
  queuedMs: number;
  error?: string;
}

export class LocalFunction {
  readonly arn: string;
  private readonly slots: Semaphore;
  readonly invocations: InvocationRecord[] = [];
  private inFlight = 0;

  constructor(readonly spec: LocalFunctionSpec) {
    this.arn = `arn:aws:lambda:${spec.region ?? 'us-east-1'}:${spec.account ?? '000000000000'}:function:${spec.name}`;
    this.slots = new Semaphore(Math.max(1, spec.concurrency));
  }

  get running(): number {
    return this.slots.running;
  }
  get waiting(): number {
    return this.slots.waiting;
  }
  get pending(): number {
    return this.inFlight;
  }

  /** Synchronous (RequestResponse) invocation. Rejects with LambdaFunctionError, or with the
   * signal's reason when it aborts while the invocation waits for a slot. */
  async invoke(payload: unknown, opts: InvokeOptions = {}): Promise<unknown> {
    const queuedAt = performance.now();
    this.inFlight++;
    try {
      return await this.slots.run(() => {
        opts.onStart?.();
        return this.run(payload, performance.now() - queuedAt, opts.signal);
      }, opts.signal);
    } finally {
      this.inFlight--;
    }
  }

  /** Asynchronous (Event) invocation: retried twice after a failure (1 s, then 2 s later in
   * local mode; Lambda waits about 1 and 2 minutes). Resolves when done, never rejects. */
  async invokeAsync(payload: unknown, onFinalError?: (err: LambdaFunctionError) => void): Promise<void> {
    const delays = [1000, 2000];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.invoke(payload);
        return;
      } catch (err) {
        if (attempt >= delays.length) {
          onFinalError?.(err as LambdaFunctionError);
          return;
        }
        await new Promise((r) => setTimeout(r, delays[attempt]));
      }
    }
  }

  private async run(payload: unknown, queuedMs: number, signal?: AbortSignal): Promise<unknown> {
    const requestId = randomUUID();
    const start = Date.now();
    const deadline = start + this.spec.timeoutSeconds * 1000;
    const sandbox = new AbortController();
    const context: LocalContext = {
      abortSignal: signal ? AbortSignal.any([signal, sandbox.signal]) : sandbox.signal,
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arn,
      memoryLimitInMB: String(this.spec.memoryMb ?? 1024),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.spec.name}`,
      logStreamName: `local/${requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const record: InvocationRecord = { function: this.spec.name, requestId, start, end: start, queuedMs };
    // Lambda passes JSON, not objects: a handler never sees the caller's references.
    const event = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new LambdaFunctionError(
            'Sandbox.Timedout',
            `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
          );
          sandbox.abort(err);
          reject(err);
        }, this.spec.timeoutSeconds * 1000);
      });
      const result = await Promise.race([this.spec.handler(event, context), timeout]);
      return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
    } catch (err) {
      if (err instanceof LambdaFunctionError) {
        record.error = err.errorType;
        throw err;
      }
      const e = err instanceof Error ? err : new Error(String(err));
      record.error = e.name;
      throw new LambdaFunctionError(e.name || 'Error', e.message, (e.stack ?? '').split('\n'));
    } finally {
      clearTimeout(timer);
      record.end = Date.now();
      this.invocations.push(record);
      if (this.invocations.length > 5000) this.invocations.splice(0, this.invocations.length - 5000);
    }
  }
}
