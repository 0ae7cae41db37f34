/**
 * Frame extraction with ffmpeg for the cse546 profiles and the tools (bench, CLI): probe the
 * video (probe.ts), plan its runs and budget (plan.ts), run ffmpeg (run.ts) with a time limit
 * into a folder, and list the frames it wrote. Pure of AWS: the splitter handler downloads the
 * video, calls `extractFrames`, and uploads what it returns. (The default profile's timed
 * extraction is timed-frames.ts.)
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Profile } from '../facts.js';
import { ffmpegBudgetMs, planExtraction } from './plan.js';
import { PROBE_TIMEOUT_MS, probeVideo, refuseHugeFrames, refuseNonVideo } from './probe.js';
import {
  FfmpegError,
  ffmpegReason,
  memoryCapError,
  runFfmpeg,
  type FfmpegRun,
  type MemoryCap,
} from './run.js';

const NOT_A_VIDEO = [
  'Invalid data found when processing input',
  'moov atom not found',
  'does not contain any stream',
  'could not find codec parameters',
  'Could not find codec parameters',
  'unknown format',
];

export interface ExtractedFrame {
  /** 0-based position among the extracted frames. */
  index: number;
  /** Base name of the file ffmpeg wrote (`frame-0003.jpg`, `output-03.jpg`, `<stem>.jpg`). */
  fileName: string;
  file: string;
  bytes: number;
  /** Seconds into the video, when known. */
  timeSec?: number;
}

export interface ExtractOptions {
  ffmpeg: string;
  profile: Profile;
  stem: string;
  videoPath: string;
  outDir: string;
  /** Default profile: frames wanted. */
  frames: number;
  /** Cap on frames kept, any profile. */
  maxFrames: number;
  /** Ceiling on the time for all ffmpeg runs of this video together (the function's remaining
   * time, or a setting); the clip's own budget (ffmpegBudgetMs) is used when it is shorter. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The face engine's largest image (pixels): larger frames are refused before any decoding. */
  maxFramePixels?: number;
  /** ffmpeg's memory cap (probe and extraction). */
  memoryCap?: MemoryCap;
}

export interface Extraction {
  frames: ExtractedFrame[];
  durationSec?: number;
  /** Wall time spent in ffmpeg (probe included). */
  ffmpegMs: number;
  /** ffmpeg runs after the probe. */
  runs: number;
  /** The time budget this clip got (before the ceiling). */
  budgetMs: number;
}

/**
 * Extract frames into `outDir` (which should be empty). Throws FfmpegError: `not-a-video` for
 * inputs without a decodable video stream, `decode` when ffmpeg fails or yields no frame,
 * `timeout` past the time limit.
 */
export async function extractFrames(o: ExtractOptions): Promise<Extraction> {
  const started = performance.now();
  let deadline = started + o.timeoutMs;
  const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
  let ffmpegMs = 0;
  const size = (await stat(o.videoPath)).size;
  if (size === 0) throw new FfmpegError('not-a-video', 'the video file is empty (0 bytes)');
  // ffmpeg's messages name the temporary files; the record of a failure must not.
  const scrub = (text: string) =>
    text
      .split(`${o.videoPath}: `)
      .join('')
      .split(o.videoPath)
      .join(path.basename(o.videoPath))
      .split(o.outDir + path.sep)
      .join('');

  const probe = await probeVideo(o.ffmpeg, o.videoPath, {
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, remaining()),
    signal: o.signal,
    memoryCap: o.memoryCap,
  });
  ffmpegMs += performance.now() - started;
  refuseNonVideo(probe, scrub);
  refuseHugeFrames(probe, o.maxFramePixels);
  const durationSec = probe.durationSec;
  const frames = Math.min(o.frames, o.maxFrames);
  const budgetMs = ffmpegBudgetMs({
    profile: o.profile,
    frames,
    durationSec,
    width: probe.width,
    height: probe.height,
    fps: probe.fps,
  });
  deadline = Math.min(deadline, performance.now() + budgetMs);
  const plan = planExtraction({
    profile: o.profile,
    stem: o.stem,
    videoPath: o.videoPath,
    outDir: o.outDir,
    frames,
    durationSec: o.profile === 'default' ? durationSec : undefined,
  });
  const clip = [
    durationSec !== undefined ? `${durationSec.toFixed(1)} s` : 'unknown duration',
    probe.width && probe.height ? `${probe.width}x${probe.height}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  let lastStderr = '';
  for (const args of plan.runs) {
    let run: FfmpegRun;
    try {
      run = await runFfmpeg(o.ffmpeg, args, {
        timeoutMs: remaining(),
        signal: o.signal,
        memoryCap: o.memoryCap,
      });
    } catch (err) {
      if (err instanceof FfmpegError && err.kind === 'timeout') {
        const limit = Math.round(deadline - started);
        throw new FfmpegError(
          'timeout',
          `ffmpeg did not finish within ${(limit / 1000).toFixed(1)} s (budget ${(budgetMs / 1000).toFixed(1)} s for this clip: ${clip}, profile ${o.profile}); killed`,
          scrub(err.stderrTail),
        );
      }
      throw err;
    }
    ffmpegMs += run.ms;
    lastStderr = run.stderr;
    const overCap = memoryCapError(run, o.memoryCap, clip, scrub);
    if (overCap) throw overCap;
    if (run.code !== 0) {
      const reason = ffmpegReason(scrub(run.stderr));
      // The probe found a video stream: a failure from here on is a video that does not decode,
      // unless ffmpeg says it cannot read the container at all.
      const kind =
        NOT_A_VIDEO.some((p) => run.stderr.includes(p)) &&
        !/partial file|NAL unit|Error while decoding/.test(run.stderr) &&
        durationSec === undefined
          ? 'not-a-video'
          : 'decode';
      throw new FfmpegError(
        kind,
        `${kind === 'not-a-video' ? 'not a video' : 'cannot decode the video'}: ${reason}`,
        scrub(run.stderr).slice(-2000),
      );
    }
  }
  const written = (await readdir(o.outDir)).filter((f) => f.endsWith('.jpg')).sort();
  const out: ExtractedFrame[] = [];
  for (const fileName of written.slice(0, o.maxFrames)) {
    const file = path.join(o.outDir, fileName);
    const bytes = (await stat(file)).size;
    if (bytes === 0) continue;
    const index = out.length;
    const n = /(\d+)\.jpg$/.exec(fileName);
    const planned = plan.times && n && o.profile === 'default' ? plan.times[Number(n[1])] : undefined;
    out.push({ index, fileName, file, bytes, timeSec: planned });
  }
  if (out.length === 0) {
    throw new FfmpegError(
      'decode',
      `cannot decode the video: ffmpeg produced no frame (${lastStderr ? ffmpegReason(scrub(lastStderr)) : 'no decodable frame'})`,
      scrub(lastStderr).slice(-2000),
    );
  }
  return { frames: out, durationSec, ffmpegMs, runs: plan.runs.length, budgetMs };
}
