/**
 * The middy stack every function shares:
 * 1. structured logging (Powertools logger): one child logger per invocation, with the function,
 *    the request id, the execution and the video key attached; a start and an end line;
 * 2. error classification: whatever the handler throws leaves as a typed error (errors.ts), so
 *    the state machine retries transient failures and never retries bad input;
 * 3. input validation: the event is parsed with the function's zod schema; an invalid event is
 *    bad input.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { DEFAULT_LOG_LEVEL, LOG_SERVICE_NAME, type FunctionName, type LogLevel } from '../core/facts.js';
import { BadInputError, classifyError, ErrorName, type PipelineError } from './errors.js';

export interface FacerecContext extends Context {
  /** This invocation's logger. */
  log: Logger;
  /** Local mode only: aborted when the caller abandons the invocation (its state timed out, its
   * execution ended) or its time limit passes, where Lambda would stop the sandbox. */
  abortSignal?: AbortSignal;
}

const baseLoggers = new Map<string, Logger>();

export function functionLogger(fn: FunctionName, logLevel: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  const id = `${fn}:${logLevel}`;
  let l = baseLoggers.get(id);
  if (!l) {
    l = new Logger({ serviceName: LOG_SERVICE_NAME, logLevel, persistentKeys: { function: fn } });
    baseLoggers.set(id, l);
  }
  return l;
}

export interface PipelineMiddlewareOptions<T> {
  fn: FunctionName;
  schema: z.ZodType<T>;
  /** Keys attached to every log line of the invocation (execution, video). */
  logKeys?: (event: T) => Record<string, string | number | undefined>;
  /** Resolved at the first invocation (settings come from the environment). */
  logLevel?: () => LogLevel;
}

/** Wrap a handler `(event, context) => result` with the shared middleware. */
export function wrapHandler<T, R>(
  opts: PipelineMiddlewareOptions<T>,
  handler: (event: T, context: FacerecContext) => Promise<R>,
) {
  return middy<unknown, R, Error, Context>()
    .use(pipelineMiddleware(opts))
    .handler(handler as unknown as (event: unknown, context: Context) => Promise<R>);
}

export function pipelineMiddleware<T>(
  opts: PipelineMiddlewareOptions<T>,
): MiddlewareObj<unknown, unknown, Error, Context> {
  const started = new WeakMap<object, number>();
  return {
    name: 'facerec-pipeline',
    before: (request) => {
      const base = functionLogger(opts.fn, opts.logLevel?.() ?? DEFAULT_LOG_LEVEL);
      const log = base.createChild();
      log.addContext(request.context);
      (request.context as FacerecContext).log = log;
      started.set(request.context, performance.now());
      const parsed = opts.schema.safeParse(request.event);
      if (!parsed.success) {
        throw new BadInputError(`invalid ${opts.fn} input: ${z.prettifyError(parsed.error)}`);
      }
      request.event = parsed.data;
      const keys = opts.logKeys?.(parsed.data) ?? {};
      const defined = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
      log.appendPersistentKeys(defined as Record<string, string | number>);
      log.debug('invocation', { event: request.event as Record<string, unknown> });
    },
    after: (request) => {
      const log = (request.context as FacerecContext).log;
      const t0 = started.get(request.context);
      log?.info('done', { ms: t0 === undefined ? undefined : Math.round(performance.now() - t0) });
    },
    onError: (request) => {
      const classified: PipelineError = classifyError(request.error);
      const ctx = request.context as FacerecContext;
      const log = ctx.log ?? functionLogger(opts.fn, opts.logLevel?.() ?? DEFAULT_LOG_LEVEL);
      const t0 = started.get(request.context);
      const fields = {
        errorName: classified.name,
        retryable: classified.retryable,
        ms: t0 === undefined ? undefined : Math.round(performance.now() - t0),
      };
      if (classified.name === ErrorName.BadInput) log.warn(classified.message, fields);
      else log.error(classified.message, { ...fields, error: request.error as Error });
      request.error = classified;
    },
  };
}
