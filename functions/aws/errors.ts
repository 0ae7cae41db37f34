/**
 * Typed errors: what a function throws decides what the state machine does with it.
 * The Lambda runtime reports `error.name` as the error type, and the ASL matches on it:
 *
 * | name               | meaning                                             | state machine    |
 * |--------------------|-----------------------------------------------------|------------------|
 * | Facerec.Transient  | S3 throttling / 5xx, network errors, SDK timeouts   | Retry (backoff)  |
 * | Facerec.BadInput   | not a video, undecodable, empty, missing object     | never retried    |
 * | Facerec.Timeout    | ffmpeg past its time limit                          | never retried    |
 * | Facerec.Config     | missing gallery / models / ffmpeg, access denied    | never retried    |
 * | Facerec.Internal   | anything else (a bug)                               | never retried    |
 */
import { z } from 'zod';
import { FfmpegError } from '../core/ffmpeg/run.js';
import { ERROR_NAMES } from '../core/facts.js';

/** The names a function throws (their one list is core/facts.ts ERROR_NAMES). */
export const ErrorName = {
  Transient: ERROR_NAMES.Transient,
  BadInput: ERROR_NAMES.BadInput,
  Timeout: ERROR_NAMES.Timeout,
  Config: ERROR_NAMES.Config,
  Internal: ERROR_NAMES.Internal,
} as const;
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

/** Error names the state machine retries. */
const RETRYABLE: readonly ErrorName[] = [ErrorName.Transient];

export class PipelineError extends Error {
  constructor(
    override readonly name: ErrorName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get retryable(): boolean {
    return RETRYABLE.includes(this.name);
  }
}

export class TransientError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.Transient, message, options);
  }
}
export class BadInputError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.BadInput, message, options);
  }
}
class StageTimeoutError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.Timeout, message, options);
  }
}
export class ConfigError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.Config, message, options);
  }
}
class InternalError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.Internal, message, options);
  }
}

const TRANSIENT_AWS = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestAbortedError',
]);
const TRANSIENT_NET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
const CONFIG_AWS = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'StateMachineDoesNotExist',
  'InvalidArn',
  'ExpiredToken',
  'UnrecognizedClientException',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * S3's answer for an object (or version) that is not there: NoSuchKey (GetObject), NotFound
 * (HeadObject: no body, so only the status), NoSuchVersion, or any 404. Not a 403: S3 answers
 * 403 for a missing object to a caller without s3:ListBucket, but also for a denied one, so the
 * roles that must tell them apart are granted ListBucket (infra/aws/pipeline-function.ts).
 */
export function isNotFound(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  return MISSING.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 404;
}

/** Map anything thrown to one of the typed errors. */
export function classifyError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  if (err instanceof FfmpegError) {
    switch (err.kind) {
      case 'not-a-video':
      case 'decode':
      case 'too-large':
        return new BadInputError(err.message, { cause: err });
      case 'timeout':
      case 'aborted':
        return new StageTimeoutError(err.message, { cause: err });
      case 'spawn':
        return new ConfigError(err.message, { cause: err });
    }
  }
  if (!(err instanceof Error)) return new InternalError(`non-error thrown: ${String(err)}`);
  const e = err as Error & AwsLikeError;
  const name = e.name ?? '';
  const message = e.message || name;
  switch (name) {
    case 'ParseError': {
      // Powertools' parser: the schema's issues are the cause.
      const issues = (e as { cause?: unknown }).cause;
      const detail = Array.isArray(issues) ? z.prettifyError({ issues }) : message;
      return new BadInputError(`invalid input: ${detail}`, { cause: err });
    }
    case 'ImageDecodeError':
    case 'ZodError':
      return new BadInputError(message, { cause: err });
    case 'GalleryError':
    case 'FfmpegNotFoundError':
    case 'CredentialsProviderError':
      return new ConfigError(message, { cause: err });
  }
  const status = e.$metadata?.httpStatusCode;
  if (name === 'PreconditionFailed' || status === 412) {
    // GetObject If-Match: a newer upload of the key replaced the one this execution is for.
    return new BadInputError(`superseded: the object is no longer this upload (${message})`, { cause: err });
  }
  if (isNotFound(err) && !CONFIG_AWS.has(name)) {
    return new BadInputError(`object not found (${name || status}): ${message}`, { cause: err });
  }
  if (CONFIG_AWS.has(name) || status === 403) return new ConfigError(`${name}: ${message}`, { cause: err });
  if (
    TRANSIENT_AWS.has(name) ||
    TRANSIENT_NET.has(e.code ?? '') ||
    TRANSIENT_NET.has(name) ||
    e.$retryable ||
    (status !== undefined && (status === 429 || status >= 500))
  ) {
    return new TransientError(`${name}: ${message}`, { cause: err });
  }
  return new InternalError(`${name && name !== 'Error' ? `${name}: ` : ''}${message}`, { cause: err });
}
