/**
 * What a failure record in a bucket may say: the reason in words, its kind, the error name;
 * never a stack trace or a path of the machine that ran the function (a bucket is read by people
 * and tools that have no business with either). Pure.
 */
import { ERROR_NAMES } from './facts.js';

/** The kinds of failure a record names (what a user must do differs per kind). */
export type FailureKind =
  | 'empty'
  | 'no-video-stream'
  | 'not-a-video'
  | 'undecodable'
  | 'too-large'
  /** Longer than its sampling may take (FACEREC_TOO_LONG=refuse). */
  | 'too-long'
  | 'timeout'
  | 'no-frames-analysed'
  | 'configuration'
  | 'transient'
  | 'internal';

/** Roots of machine paths (Linux, macOS, Lambda's /var/task, CI runners). */
const MACHINE_PATH =
  /(^|[\s"'(=:[,])((?:file:\/\/)?\/(?:tmp|var|opt|usr|home|root|work|srv|mnt|proc|etc|private|Users|build|runner|app|lambda|workspace|github)\/[^\s"'),;\]]*)/g;

/** Machine paths in `text` -> their last segment (`/tmp/facerec-split-x/video.mp4` -> `video.mp4`). */
export function scrubPaths(text: string): string {
  return text.replace(MACHINE_PATH, (_, lead: string, p: string) => {
    const parts = p.replace(/\/+$/, '').split('/');
    return `${lead}${parts.at(-1) || '.'}`;
  });
}

/** The message of a Lambda error cause (`{"errorType","errorMessage","trace"}`), else the cause. */
export function reasonFromCause(error: string, cause: string | undefined): string {
  if (!cause) return error;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string' && parsed.errorMessage) return parsed.errorMessage;
  } catch {
    /* not JSON */
  }
  return cause;
}

/** A cause fit for a record: the error type and message, scrubbed; the trace dropped. */
export function publicCause(cause: string | undefined, max = 2048): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && ('errorType' in parsed || 'errorMessage' in parsed)) {
      return JSON.stringify({
        errorType: typeof parsed.errorType === 'string' ? parsed.errorType : undefined,
        errorMessage:
          typeof parsed.errorMessage === 'string' ? scrubPaths(parsed.errorMessage).slice(0, max) : undefined,
      });
    }
  } catch {
    /* not JSON: plain text */
  }
  // Stack frames ("    at fn (/path/file.js:1:2)") are not a reason.
  const text = cause
    .split('\n')
    .filter((l) => !/^\s+at\s/.test(l))
    .join('\n');
  return scrubPaths(text).slice(0, max);
}

/** Which kind of failure an error name and reason (the messages of core/ffmpeg/ and the
 * handlers) describe. */
export function failureKind(error: string, reason: string): FailureKind {
  if (error === ERROR_NAMES.Timeout || error === 'States.Timeout' || error === 'Sandbox.Timedout')
    return 'timeout';
  if (error === ERROR_NAMES.Config) return 'configuration';
  if (error === ERROR_NAMES.Transient) return 'transient';
  if (/\bempty \(0 bytes\)/.test(reason)) return 'empty';
  if (/no video stream/.test(reason)) return 'no-video-stream';
  if (/^(?:[^:]*: )?not a video\b/.test(reason)) return 'not-a-video';
  if (/cannot decode|no decodable frame|produced no frame|truncated/.test(reason)) return 'undecodable';
  if (/too long for its sampling/.test(reason)) return 'too-long';
  if (/does not fit|too large|exceeds/.test(reason)) return 'too-large';
  if (/none of the \d+ frames could be analysed/.test(reason)) return 'no-frames-analysed';
  return error === ERROR_NAMES.BadInput ? 'not-a-video' : 'internal';
}
