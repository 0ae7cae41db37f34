/**
 * How long ffmpeg may still run in this invocation: one rule for every ffmpeg run of the splitter,
 * on AWS and in local mode, from the invocation's remaining time (Lambda's
 * `getRemainingTimeInMillis`, which local mode's function stand-in provides from the same
 * FUNCTION_TIMEOUT_SECONDS, in process and in its sandboxes), so a video that fits on AWS fits
 * locally and fails the same way when it does not.
 */
import { FFMPEG_RESERVE_SECONDS } from '../facts.js';

/** The least ffmpeg is given: with less left, it is stopped at once and the video fails with a
 * timeout that says so, rather than the invocation being killed. */
export const FFMPEG_MIN_TIME_MS = 100;

/** What the rule reads of the invocation: a Lambda context, or local mode's. */
export interface InvocationClock {
  getRemainingTimeInMillis?: () => number;
}

/**
 * The invocation's remaining time less FFMPEG_RESERVE_SECONDS, under an optional ceiling
 * (FACEREC_FFMPEG_TIMEOUT_MS), never below FFMPEG_MIN_TIME_MS. Asked again before each run, so
 * each gets what the runs before it left. Without a clock (a tool outside any invocation): the
 * ceiling, or no limit.
 */
export function ffmpegTimeLeftMs(invocation: InvocationClock, ceilingMs?: number): number {
  const remaining = invocation.getRemainingTimeInMillis?.() ?? Infinity;
  return Math.max(
    FFMPEG_MIN_TIME_MS,
    Math.min(ceilingMs ?? Infinity, remaining - FFMPEG_RESERVE_SECONDS * 1000),
  );
}
