/**
 * The local Lambda service: how a Task (or an S3 notification) reaches a handler in local mode.
 * It does what Lambda does around a handler and nothing else: JSON in and out (no shared
 * objects), a context object with the time limit, errors reported as `{ errorType, errorMessage,
 * trace }`, a concurrency limit per function (queued: back-pressure on this machine's cores), an
 * optional account-level concurrency limit (beyond it an invocation is throttled with
 * TooManyRequestsException, as Lambda does), and for asynchronous (event) invocations two retries
 * like Lambda's.
 *
 * A function runs in execution environments (`sandbox`: child processes, each with the function's
 * own environment and credentials, kept warm; infra/local/lambda/sandbox/), or in this process
 * (`handler`: tests' stand-ins). A caller's `signal` takes a queued invocation out of the line
 * before it starts, and reaches a running handler as `context.abortSignal` (aborted too when the
 * function's own time limit passes), so that abandoned work stops; an environment whose handler
 * does not stop is terminated, as Lambda stops a sandbox.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { Semaphore } from '../../../functions/core/concurrency.js';
import { EnvironmentPool, SandboxError, type SandboxSpec } from './sandbox/environment.js';
import type { SandboxContext } from './sandbox/protocol.js';
import { DEFAULT_REGION } from '../../../functions/core/facts.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** A function's code: an in-process handler (tests' stand-ins), or a handler module run in
 * execution environments (child processes) with the function's own environment variables. */
export type FunctionCode = { handler: LambdaHandler } | { sandbox: Omit<SandboxSpec, 'name'> };

export interface LocalFunctionSpec {
  /** Function name, e.g. `facerec-splitter`. */
  name: string;
  /** An in-process handler; else `deploy` gives the code later. */
  handler?: LambdaHandler;
  timeoutSeconds: number;
  /** Concurrent invocations; more wait in line. */
  concurrency: number;
  /** The account's concurrency limit, shared by all its functions: beyond it, throttled. */
  accountConcurrency?: AccountConcurrency;
  memoryMb?: number;
  region?: string;
  account?: string;
}

/**
 * The account's concurrency limit (a new AWS account's quota is 10): at most `limit` invocations
 * of all functions in flight at once (running, or waiting for a slot of this machine); one more is
 * refused with TooManyRequestsException.
 */
export class AccountConcurrency {
  private inFlight = 0;
  /** Invocations refused so far. */
  throttles = 0;
  constructor(readonly limit: number) {}

  get running(): number {
    return this.inFlight;
  }

  tryAcquire(): boolean {
    if (this.inFlight >= this.limit) {
      this.throttles++;
      return false;
    }
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }
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

/** Lambda's answer when the account (or function) has no concurrency left: Step Functions' Lambda
 * integration reports it as `Lambda.TooManyRequestsException` (the ASL retries it); an SQS event
 * source mapping retries it within the visibility timeout (infra/local/queue.ts). */
class TooManyRequestsException extends LambdaFunctionError {
  constructor(functionName: string, limit: number) {
    super(
      'Lambda.TooManyRequestsException',
      `Rate Exceeded. (Service: Lambda, Status Code: 429; Reason: ConcurrentInvocationLimitExceeded; ` +
        `${functionName}: the account's ${limit} concurrent invocations are in use)`,
    );
  }
}

const isThrottle = (err: unknown): err is TooManyRequestsException => err instanceof TooManyRequestsException;

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
  private handler?: LambdaHandler;
  private environments?: EnvironmentPool;
  /** Invocations refused with TooManyRequestsException. */
  throttled = 0;

  constructor(readonly spec: LocalFunctionSpec) {
    this.arn = `arn:aws:lambda:${spec.region ?? DEFAULT_REGION}:${spec.account ?? '000000000000'}:function:${spec.name}`;
    this.slots = new Semaphore(Math.max(1, spec.concurrency));
    if (spec.handler) this.deploy({ handler: spec.handler });
  }

  /** Sets the function's code (once: what a deployment does before the first invocation). */
  deploy(code: FunctionCode): void {
    if (this.handler || this.environments) throw new Error(`${this.spec.name} is already deployed`);
    if ('handler' in code) this.handler = code.handler;
    else this.environments = new EnvironmentPool({ ...code.sandbox, name: this.spec.name });
  }

  /** Execution environments created so far (cold starts); 0 for an in-process handler. */
  get coldStarts(): number {
    return this.environments?.coldStarts ?? 0;
  }

  /** Process ids of its execution environments alive now (diagnostics: their CPU in /proc). */
  get environmentPids(): number[] {
    return this.environments?.pids ?? [];
  }

  /** Starts one execution environment now, so that the first invocation finds it warm. */
  prewarm(): void {
    this.environments?.prewarm();
  }

  /** Stops the execution environments. */
  async close(): Promise<void> {
    await this.environments?.close();
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
    const account = this.spec.accountConcurrency;
    if (account && !account.tryAcquire()) {
      this.throttled++;
      throw new TooManyRequestsException(this.spec.name, account.limit);
    }
    const queuedAt = performance.now();
    this.inFlight++;
    try {
      return await this.slots.run(() => {
        opts.onStart?.();
        return this.run(payload, performance.now() - queuedAt, opts.signal);
      }, opts.signal);
    } finally {
      this.inFlight--;
      account?.release();
    }
  }

  /** Asynchronous (Event) invocation: retried twice after a failure (1 s, then 2 s later in
   * local mode; Lambda waits about 1 and 2 minutes); a throttled one is retried until it runs
   * (Lambda keeps it up to 6 hours), not counted as a failure. Resolves when done, never rejects. */
  async invokeAsync(payload: unknown, onFinalError?: (err: LambdaFunctionError) => void): Promise<void> {
    const delays = [1000, 2000];
    for (let attempt = 0; ; attempt++) {
      try {
        await invokeUnthrottled(this, payload, 6 * 3600_000);
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
    const sandbox = new AbortController();
    const abortSignal = signal ? AbortSignal.any([signal, sandbox.signal]) : sandbox.signal;
    const context: SandboxContext = {
      functionName: this.spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arn,
      memoryLimitInMB: String(this.spec.memoryMb ?? 1024),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.spec.name}`,
      logStreamName: `local/${requestId}`,
      deadline: start + this.spec.timeoutSeconds * 1000,
    };
    const record: InvocationRecord = { function: this.spec.name, requestId, start, end: start, queuedMs };
    // Lambda passes JSON, not objects: a handler never sees the caller's references.
    const event = JSON.stringify(payload ?? null);
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
        // The time limit alone does not keep the process alive: a handler at work does (its
        // environment, its sockets), one that only waits on nothing must not hold a stopped stack's
        // process for minutes.
        timer.unref();
      });
      return await Promise.race([this.call(event, context, abortSignal), timeout]);
    } catch (err) {
      if (err instanceof LambdaFunctionError) {
        record.error = err.errorType;
        throw err;
      }
      if (err instanceof SandboxError) {
        record.error = err.report.errorType;
        throw new LambdaFunctionError(err.report.errorType, err.report.errorMessage, err.report.trace);
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

  /** The handler, in an execution environment or in this process. */
  private async call(event: string, context: SandboxContext, abortSignal: AbortSignal): Promise<unknown> {
    if (this.environments) return this.environments.invoke(event, context, abortSignal);
    const { deadline, ...fields } = context;
    const local: LocalContext = {
      ...fields,
      abortSignal,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    if (!this.handler)
      throw new LambdaFunctionError('ResourceNotFoundException', `${this.spec.name} has no code yet`);
    const result = await this.handler(JSON.parse(event) as unknown, local);
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
  }
}

/**
 * Invokes `fn`, retrying while it is throttled (backing off, with jitter, up to 2 s apart) for at
 * most `withinMs`: what an SQS event source mapping does within a message's visibility timeout,
 * and Lambda's asynchronous invocation queue for up to 6 hours. Other errors are thrown at once.
 */
export async function invokeUnthrottled(
  fn: LocalFunction,
  payload: unknown,
  withinMs: number,
): Promise<unknown> {
  const started = Date.now();
  let backoffMs = 50;
  for (;;) {
    try {
      return await fn.invoke(payload);
    } catch (err) {
      if (!isThrottle(err) || Date.now() - started > withinMs) throw err;
      await new Promise((r) => setTimeout(r, backoffMs / 2 + Math.random() * backoffMs));
      backoffMs = Math.min(backoffMs * 2, 2000);
    }
  }
}
