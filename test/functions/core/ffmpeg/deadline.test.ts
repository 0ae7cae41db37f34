/**
 * The one deadline rule of ffmpeg in the splitter (issue 24 point 3): the invocation's remaining
 * time less FFMPEG_RESERVE_SECONDS, on AWS and in local mode alike (the handler tests check that
 * both paths use it).
 */
import { FFMPEG_RESERVE_SECONDS, FUNCTION_TIMEOUT_SECONDS } from '#functions/core/facts.js';
import { FFMPEG_MIN_TIME_MS, ffmpegTimeLeftMs } from '#functions/core/ffmpeg/deadline.js';

const clock = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

describe('ffmpegTimeLeftMs', () => {
  test('the remaining time less the reserve: at the start of a splitter invocation, 270 s of 300 s', () => {
    const timeout = FUNCTION_TIMEOUT_SECONDS.splitter * 1000;
    expect(ffmpegTimeLeftMs(clock(timeout))).toBe(timeout - FFMPEG_RESERVE_SECONDS * 1000);
    expect(ffmpegTimeLeftMs(clock(300_000))).toBe(270_000);
    // Asked again later in the invocation, it gives what is left.
    expect(ffmpegTimeLeftMs(clock(100_000))).toBe(70_000);
  });

  test('the reserve leaves ffmpeg most of the splitter timeout (a segment is sized for ~90 s of decoding)', () => {
    expect(FFMPEG_RESERVE_SECONDS).toBeGreaterThan(0);
    expect(FUNCTION_TIMEOUT_SECONDS.splitter - FFMPEG_RESERVE_SECONDS).toBeGreaterThanOrEqual(120);
  });

  test('a ceiling (FACEREC_FFMPEG_TIMEOUT_MS) applies when it is shorter, never lengthens the time', () => {
    expect(ffmpegTimeLeftMs(clock(300_000), 5_000)).toBe(5_000);
    expect(ffmpegTimeLeftMs(clock(40_000), 500_000)).toBe(10_000);
  });

  test('less left than the reserve: the least time, so ffmpeg stops at once with a timeout', () => {
    expect(ffmpegTimeLeftMs(clock(FFMPEG_RESERVE_SECONDS * 1000))).toBe(FFMPEG_MIN_TIME_MS);
    expect(ffmpegTimeLeftMs(clock(0))).toBe(FFMPEG_MIN_TIME_MS);
    expect(ffmpegTimeLeftMs(clock(0), 50)).toBe(FFMPEG_MIN_TIME_MS);
  });

  test('outside an invocation (no clock): the ceiling, else no limit', () => {
    expect(ffmpegTimeLeftMs({}, 7_000)).toBe(7_000);
    expect(ffmpegTimeLeftMs({})).toBe(Infinity);
  });
});
