/**
 * Planning an extraction, before ffmpeg runs: how many frames a video may give (the configured
 * count, the state payload's budget), the ffmpeg arguments of each profile, and the time budget
 * a clip gets from its duration, resolution, frame rate and the profile.
 */
import path from 'node:path';
import { framesWithinBudget } from '../batches.js';
import type { Profile } from '../facts.js';
import { frameFileName, frameFilePattern, frameKey } from '../layout.js';

/**
 * Pessimistic decoding speed, in pixels per second: about 15 frames of 1080p per second, a
 * fraction of what one core of a 2018 ffmpeg build does with H.264 (measured: docs/benchmarks.md,
 * "Local mode robustness"), so that a busy machine or a heavier codec still fits.
 */
export const DECODE_PIXELS_PER_SECOND = 30e6;
/** Starting ffmpeg, opening the input, writing JPEGs: a floor for any clip. */
const BUDGET_BASE_MS = 10_000;
/** Frames decoded per seek of the long-video plan (from a keyframe: at most a GOP). */
const FRAMES_PER_SEEK = 250;

export interface BudgetInput {
  profile: Profile;
  /** Frames asked for (default profile). */
  frames: number;
  durationSec?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/**
 * ffmpeg's time budget for one video: the frames the profile's command decodes, times the
 * pixels per frame, at a pessimistic decoding speed, plus a fixed floor. It scales with the
 * clip (duration, frame rate, resolution) and the profile, so that a long 1080p clip gets the
 * time it needs and a hung ffmpeg on a short clip is stopped early. Unknown values count as
 * large (1080p, 30 fps; a duration of 10 minutes).
 */
export function ffmpegBudgetMs(b: BudgetInput): number {
  const pixels = (b.width ?? 1920) * (b.height ?? 1080);
  const fps = Math.min(b.fps ?? 30, 240);
  const totalFrames = (b.durationSec ?? 600) * fps;
  let decoded: number;
  switch (b.profile) {
    case 'cse546-p2':
      // One frame, but a stream may open on a long run of frames before its first keyframe.
      decoded = Math.min(totalFrames, FRAMES_PER_SEEK);
      break;
    case 'cse546-p1':
      // `-r 1` re-times the input to 1 fps: ten frames at fps=1/10 read about 100 input frames.
      decoded = Math.min(totalFrames, 100);
      break;
    default: {
      const n = Math.max(1, b.frames);
      if (b.durationSec === undefined) decoded = Math.min(totalFrames, n * fps);
      else if (b.durationSec <= SINGLE_PASS_MAX_SECONDS) decoded = totalFrames;
      else decoded = Math.min(totalFrames, n * FRAMES_PER_SEEK);
    }
  }
  return Math.round(BUDGET_BASE_MS + (decoded * pixels * 1000) / DECODE_PIXELS_PER_SECOND);
}

/** `n` timestamps spread evenly over `duration`: 0, d/n, 2d/n … (what ffmpeg's fps filter
 * picks in one pass). */
export function evenTimestamps(durationSec: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number(((i * durationSec) / n).toFixed(3)));
}

/** Videos up to this long are decoded in one pass; longer ones are sampled by seeking. */
const SINGLE_PASS_MAX_SECONDS = 120;
const SEEK_INPUTS_PER_RUN = 8;

const QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];

export interface FramePlan {
  /** One or more ffmpeg runs (argument lists, without the binary). */
  runs: string[][];
  /** The number of frames asked for. */
  requested: number;
  /** Timestamps of the frames, when known (default profile). */
  times?: number[];
}

export interface PlanInput {
  profile: Profile;
  /** The video's key stem (names the cse546-p2 frame). */
  stem: string;
  videoPath: string;
  /** Folder where frames are written (relative names in the args). */
  outDir: string;
  /** Default profile: frames to take (already capped). */
  frames: number;
  durationSec?: number;
}

/**
 * ffmpeg arguments per profile:
 * - cse546-p2: `ffmpeg -i <video> -vframes 1 <stem>.jpg` (the original part 2);
 * - cse546-p1: `ffmpeg -ss 0 -r 1 -i <video> -vf fps=1/10 -start_number 0 -vframes 10 output-%02d.jpg`
 *   (the original part 1, verbatim);
 * - default: N frames at evenly spread timestamps: one decoding pass with the fps filter for
 *   short videos, input seeking (keyframe-accurate, so long videos stay cheap) otherwise.
 */
export function planExtraction(p: PlanInput): FramePlan {
  const out = (name: string) => path.join(p.outDir, name);
  switch (p.profile) {
    case 'cse546-p2':
      return {
        runs: [[...QUIET, '-i', p.videoPath, '-vframes', '1', out(frameFilePattern(p.profile, p.stem))]],
        requested: 1,
      };
    case 'cse546-p1':
      return {
        runs: [
          [
            ...QUIET,
            ...[
              '-ss',
              '0',
              '-r',
              '1',
              '-i',
              p.videoPath,
              '-vf',
              'fps=1/10',
              '-start_number',
              '0',
              '-vframes',
              '10',
            ],
            out(frameFilePattern(p.profile, p.stem)),
          ],
        ],
        requested: 10,
      };
    default: {
      const n = Math.max(1, p.frames);
      const d = p.durationSec;
      if (!d) {
        // Unknown duration: one frame per second from the start.
        return {
          runs: [
            [
              ...QUIET,
              ...['-i', p.videoPath, '-vf', 'fps=1', '-frames:v', String(n), '-q:v', '2'],
              ...['-start_number', '0', out(frameFilePattern(p.profile, p.stem))],
            ],
          ],
          requested: n,
        };
      }
      const times = evenTimestamps(d, n);
      if (d <= SINGLE_PASS_MAX_SECONDS) {
        // fps=n/d emits the frames at 0, d/n, 2d/n … in one decoding pass.
        const rate = `${n}/${d.toFixed(3)}`;
        return {
          runs: [
            [
              ...QUIET,
              ...['-i', p.videoPath, '-vf', `fps=fps=${rate}`],
              ...['-frames:v', String(n), '-q:v', '2', '-start_number', '0'],
              out(frameFilePattern(p.profile, p.stem)),
            ],
          ],
          requested: n,
          times,
        };
      }
      const runs: string[][] = [];
      for (let first = 0; first < n; first += SEEK_INPUTS_PER_RUN) {
        const idx = times.slice(first, first + SEEK_INPUTS_PER_RUN).map((_, j) => first + j);
        const args = [...QUIET];
        for (const i of idx) args.push('-noaccurate_seek', '-ss', String(times[i]), '-i', p.videoPath);
        idx.forEach((i, j) =>
          args.push(
            '-map',
            `${j}:v:0`,
            '-frames:v',
            '1',
            '-q:v',
            '2',
            out(frameFileName(p.profile, p.stem, i)),
          ),
        );
        runs.push(args);
      }
      return { runs, requested: n, times };
    }
  }
}

/**
 * How many frames to take from one video: the configured count and cap, then what the state
 * payload budget allows for this video's frame keys (the longest one it could get).
 */
export function frameLimits(o: {
  profile: Profile;
  stem: string;
  count: number;
  max: number;
  batchSize: number;
  /** Faces each frame reports (FACEREC_FACES_PER_FRAME; unset: the default). */
  facesPerFrame?: number;
}): { frames: number; maxFrames: number } {
  const longestKey = Buffer.byteLength(frameKey(o.profile, o.stem, frameFileName(o.profile, o.stem, 9999)));
  const maxFrames = Math.min(o.max, framesWithinBudget(longestKey, o.batchSize, o.facesPerFrame));
  return { frames: Math.min(o.count, maxFrames), maxFrames };
}
