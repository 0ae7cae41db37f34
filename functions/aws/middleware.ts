/**
 * The middy middlewares every function composes, one concern each (each handler's createHandler
 * lists them in this order):
 * 1. `logContext`: structured logging (Powertools logger): one logger per invocation as
 *    `context.log`, with the Lambda context injected by Powertools' `injectLambdaContext`, and a
 *    `done` line with the invocation's time;
 * 2. `classifyErrors`: whatever the handler (or the parser) throws leaves as a typed error
 *    (errors.ts), so the state machine retries transient failures and never retries bad input;
 * 3. input validation: Powertools' `parser` middleware with the function's zod schema
 *    (functions/core/contracts.ts); an invalid event is bad input (classifyErrors);
 * 4. `logKeys`: the validated input's keys (execution, video) on every log line that follows.
 *
 * A logger per invocation rather than one logger's appended keys: tests and stand-ins run
 * invocations of one handler side by side in one process, and each keeps its own keys.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { DEFAULT_LOG_LEVEL, LOG_SERVICE_NAME, type FunctionName, type LogLevel } from '../core/facts.js';
import { classifyError, ErrorName, type PipelineError } from './errors.js';

export interface FacerecContext extends Context {
  /** This invocation's logger. */
  log: Logger;
  /** Local mode only: aborted when the caller abandons the invocation (its state timed out, its
   * execution ended) or its time limit passes, where Lambda would stop the sandbox. */
  abortSignal?: AbortSignal;
}

/** What Lambda (and local mode) calls: any event, Lambda's context. */
export type LambdaEntry<R> = (event: unknown, context: Context) => Promise<R>;

/** A composed handler as Lambda calls it. Its middlewares validate the event and add `log` to the
 * context before the handler sees them, which middy's types cannot follow: the one cast. */
export function lambdaEntry<R>(composed: (event: never, context: never) => Promise<R>): LambdaEntry<R> {
  return composed as unknown as LambdaEntry<R>;
}

/** How every logger of a function is made: the service name, the level, and its `function` key. */
const loggerOptions = (fn: FunctionName, logLevel: LogLevel) => ({
  serviceName: LOG_SERVICE_NAME,
  logLevel,
  persistentKeys: { function: fn },
});

const baseLoggers = new Map<string, Logger>();

export function functionLogger(fn: FunctionName, logLevel: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  const id = `${fn}:${logLevel}`;
  let l = baseLoggers.get(id);
  if (!l) {
    l = new Logger(loggerOptions(fn, logLevel));
    baseLoggers.set(id, l);
  }
  return l;
}

/** Milliseconds since `t0`, for log lines. */
const since = (t0: number | undefined) => (t0 === undefined ? undefined : Math.round(performance.now() - t0));

/** An invocation's logger whose `cold_start` is its execution environment's: Powertools counts
 * a cold start per Logger instance, and this one is new at every invocation. */
class InvocationLogger extends Logger {
  constructor(fn: FunctionName, logLevel: LogLevel, coldStart: boolean) {
    super(loggerOptions(fn, logLevel));
    this.coldStart = coldStart;
  }
}

/** 1. The invocation's logger, with the Lambda context (Powertools), and its `done` line. The log
 * level is resolved at the first invocation (settings come from the environment). */
export function logContext(
  fn: FunctionName,
  logLevel: () => LogLevel = () => DEFAULT_LOG_LEVEL,
): MiddlewareObj<unknown, unknown, Error, FacerecContext> {
  const started = new WeakMap<object, number>();
  // One handler per execution environment (module scope): its first invocation is the cold one.
  let coldStart = true;
  return {
    before: async (request) => {
      const log = new InvocationLogger(fn, logLevel(), coldStart);
      coldStart = false;
      request.context.log = log;
      started.set(request.context, performance.now());
      await injectLambdaContext(log).before?.(request);
    },
    after: (request) => {
      request.context.log.info('done', { ms: since(started.get(request.context)) });
    },
  };
}

/** For an error before `logContext` ran (or without it). */
let unscopedLogger: Logger | undefined;

/** 2. Anything thrown leaves as a typed error (the names the ASL's Retry and Catch match), logged
 * once: bad input as a warning, the rest as errors with their stack. */
export function classifyErrors(): MiddlewareObj<unknown, unknown, Error, FacerecContext> {
  const started = new WeakMap<object, number>();
  return {
    before: (request) => {
      started.set(request.context, performance.now());
    },
    onError: (request) => {
      const classified: PipelineError = classifyError(request.error);
      const log = request.context.log ?? (unscopedLogger ??= new Logger({ serviceName: LOG_SERVICE_NAME }));
      const fields = {
        errorName: classified.name,
        retryable: classified.retryable,
        ms: since(started.get(request.context)),
      };
      if (classified.name === ErrorName.BadInput) log.warn(classified.message, fields);
      else log.error(classified.message, { ...fields, error: request.error as Error });
      request.error = classified;
    },
  };
}

type LogKeys = Record<string, string | number | undefined>;

/** 4. After validation: keys of the input attached to every later log line (undefined: left out). */
export function logKeys<T>(keysOf: (event: T) => LogKeys): MiddlewareObj<T, unknown, Error, FacerecContext> {
  return {
    before: (request) => {
      const { log } = request.context;
      const defined = Object.entries(keysOf(request.event)).filter(([, v]) => v !== undefined);
      log.appendPersistentKeys(Object.fromEntries(defined) as Record<string, string | number>);
      log.debug('invocation', { event: request.event as Record<string, unknown> });
    },
  };
}
