/**
 * The default profile's extraction: frames with the times ffmpeg gives them, at a cost that does
 * not grow with the video's length for count sampling.
 *
 * - At times (count sampling): one accurate seek per frame, `-ss` before `-i` (ffmpeg decodes from
 *   the keyframe before the time, at most a GOP, never the video up to it), eight inputs per run;
 *   each frame is the first one at or after its time.
 * - By rate, over a time range (rate sampling, one range per splitter invocation): one decoding
 *   pass from a seek to the range's start, a `select` that keeps the first frame at or after each
 *   tick of the sampling grid; when the grid is sparse compared with the frame rate, only reference
 *   frames are decoded (`-skip_frame noref`: about half the decoding work of H.264).
 *
 * Every frame's time comes from ffmpeg (`showinfo` with `-copyts`), minus the container's start
 * time, so it is the time a player shows. The input may be a file or an http(s) URL (the splitter
 * reads long videos through a presigned URL: range requests, no download).
 */
import { readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  FfmpegError,
  ffmpegReason,
  memoryCapError,
  runFfmpeg,
  type FfmpegRun,
  type MemoryCap,
} from './run.js';
import { frameFileName } from '../layout.js';
import { tickOf } from '../sampling.js';
import { ShowinfoReader } from './showinfo.js';

interface TimedFrame {
  /** The frame's number: its position among the planned times, or its tick on the rate grid. */
  index: number;
  /** `frame-0003.jpg`: its stage-1 key is `<stem>/<fileName>`. */
  fileName: string;
  file: string;
  bytes: number;
  /** Seconds from the start of the video, as ffmpeg timed it. */
  timeSec: number;
}

export interface TimedExtraction {
  frames: TimedFrame[];
  /** Wall time in ffmpeg. */
  ffmpegMs: number;
  runs: number;
}

interface RunOptions {
  ffmpeg: string;
  /** A file, or an http(s) URL. */
  input: string;
  /** The container's start time (`start:` in ffmpeg's description): frame times are relative to it. */
  originSec: number;
  outDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** ffmpeg's memory cap (run.ts): a huge frame fails the run, not the machine. */
  memoryCap?: MemoryCap;
}

const isUrl = (input: string) => /^https?:\/\//i.test(input);

/** Presigned URLs carry credentials: never in a message, a log or an error record. */
export function scrubUrls(text: string): string {
  return text.replace(/https?:\/\/[^\s'"]+/gi, '<video URL>');
}

/** An http(s) input survives a dropped connection. */
function inputOptions(input: string): string[] {
  return isUrl(input) ? ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '4'] : [];
}

// `-loglevel info`: showinfo prints at that level; `-nostats`: no progress lines.
const HEAD = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-y', '-copyts'];
const JPEG = ['-q:v', '2'];
/** A decoder or encoder of one frame: no thread pool (see seekArgs). */
const SINGLE_THREAD = ['-threads', '1'];
/** Frames per ffmpeg run when seeking (each is an input: more would hold many decoders at once). */
export const SEEKS_PER_RUN = 8;
/**
 * Address space one seek input holds while it decodes, in decoded frames (yuv420p: 1.5 bytes a
 * pixel): H.264's reference frames and those in flight, single-threaded. Measured under prlimit
 * with the @ffmpeg-installer build: 4K, 6 inputs fit in 1,792 MB and 7 did not; 1080p, 8 fit in
 * 768 MB, 2 in 300 MB. 28 frames leaves a margin over both.
 */
const FRAMES_HELD_PER_SEEK = 28;
/** ffmpeg itself, its filters and JPEG encoders, before any input. */
const RUN_BASE_BYTES = 128 * 1024 * 1024;

/** Seeks per ffmpeg run for frames of `width` x `height` within a memory cap of `capBytes`:
 * SEEKS_PER_RUN for ordinary videos, fewer for large frames (4K: 5 under the splitter's cap on
 * Lambda), at least one. */
export function seeksPerRun(o: { width?: number; height?: number; capBytes?: number }): number {
  if (!o.width || !o.height || !o.capBytes) return SEEKS_PER_RUN;
  const perSeek = o.width * o.height * 1.5 * FRAMES_HELD_PER_SEEK;
  return Math.max(1, Math.min(SEEKS_PER_RUN, Math.floor((o.capBytes - RUN_BASE_BYTES) / perSeek)));
}
/** After its seek, an input is read this long at most for its frame (a time past the end of the
 * video, or in a long gap of a variable-rate one, costs this and gives no frame). */
const SEEK_READ_SEC = 10;

const fmt = (sec: number) => String(Math.round(sec * 1e6) / 1e6);

/**
 * ffmpeg arguments for frames at `times` (seconds from the video's start), one input each:
 * accurate seeks (the first frame at or after each time, decoding from the keyframe before it),
 * or keyframe seeks (the keyframe at or before each time: one frame decoded).
 */
function seekArgs(o: {
  input: string;
  times: number[];
  originSec: number;
  outDir: string;
  fileNames: string[];
  accurate: boolean;
}): string[] {
  const args = [...HEAD];
  for (const t of o.times) {
    args.push(
      ...inputOptions(o.input),
      ...(o.accurate ? [] : ['-noaccurate_seek']),
      // One frame per input: frame threads only add threads (a stack and a malloc arena each) to
      // eight decoders at once, which passed ffmpeg's address-space cap (run.ts): 8 inputs
      // of a 720p or 1080p clip needed 1.8 GB with ffmpeg's threads, 1 GB with one each, 384-512 MB
      // with one each and two malloc arenas (issue 21, media limits).
      ...SINGLE_THREAD,
      // -ss counts from the start of the file (ffmpeg adds its start time itself).
      ...['-ss', fmt(t), '-t', String(SEEK_READ_SEC), '-i', o.input],
    );
  }
  args.push('-filter_complex', o.times.map((_, j) => `[${j}:v:0]showinfo[v${j}]`).join(';'));
  o.times.forEach((_, j) =>
    args.push(
      ...['-map', `[v${j}]`, '-frames:v', '1', ...JPEG, ...SINGLE_THREAD],
      path.join(o.outDir, o.fileNames[j]),
    ),
  );
  return args;
}

/**
 * The select expression of the sampling grid: keep a frame when its time has reached the next
 * tick (variable 0 holds it), within [start, end); then move the next tick past this frame. Times
 * are the file's (-copyts), so the grid starts at the container's start time.
 */
export function gridSelect(o: {
  originSec: number;
  periodSec: number;
  startSec: number;
  endSec?: number;
}): string {
  const s = fmt(o.originSec);
  const p = fmt(o.periodSec);
  const from = fmt(o.originSec + o.startSec);
  // t + 1e-6: a frame exactly on a tick (or a segment's boundary) is on it, whatever the rounding
  // of the tick's sum; a boundary frame belongs to the later segment.
  const until = o.endSec === undefined ? '1' : `lt(t+1e-6\\,${fmt(o.originSec + o.endSec)})`;
  const next = `${s}+(floor((t-${s})/${p}+1e-6)+1)*${p}`;
  return `select='if(gte(t+1e-6\\,max(ld(0)\\,${from}))*${until}\\,st(0\\,${next})*0+1\\,0)'`;
}

/** Temporary name of the n-th frame a rate run writes, before it is named by its tick. */
const RATE_PATTERN = 'grid-%07d.jpg';
const rateFile = (n: number) => `grid-${String(n).padStart(7, '0')}.jpg`;

/** ffmpeg arguments for one frame every `periodSec` over [startSec, endSec) of the video. */
function rateArgs(o: {
  input: string;
  originSec: number;
  periodSec: number;
  startSec: number;
  /** Unknown: to the end of the video. */
  endSec?: number;
  maxFrames: number;
  /** Decode reference frames only (sparse sampling of H.264 and the like). */
  referenceFramesOnly: boolean;
  /** Decoding threads; unset: ffmpeg's own choice. */
  decodeThreads?: number;
  outDir: string;
}): string[] {
  // -ss counts from the start of the file (ffmpeg adds its start time itself); with -copyts, the
  // frames keep their own times, so the grid (gridSelect) is in the file's times.
  const seek = o.startSec > 0 ? ['-ss', fmt(o.startSec)] : [];
  // Read a little past the end: the last tick's frame may come just before it.
  const span = o.endSec === undefined ? [] : ['-t', fmt(o.endSec - o.startSec + 1)];
  return [
    ...HEAD,
    ...(o.referenceFramesOnly ? ['-skip_frame', 'noref'] : []),
    ...(o.decodeThreads ? ['-threads', String(o.decodeThreads)] : []),
    ...inputOptions(o.input),
    ...seek,
    ...span,
    '-i',
    o.input,
    '-map',
    '0:v:0',
    '-vf',
    `${gridSelect(o)},showinfo`,
    '-vsync',
    '0',
    '-frames:v',
    String(o.maxFrames),
    ...JPEG,
    '-start_number',
    '0',
    path.join(o.outDir, RATE_PATTERN),
  ];
}

/**
 * Decoding only reference frames skips about half of H.264's work and changes nothing when frames
 * are sampled sparsely: the frame kept for a tick is then at most a few frames later. Below this
 * many source frames per sampled frame, every frame is decoded.
 */
const REFERENCE_ONLY_MIN_FRAMES_PER_SAMPLE = 8;

export function decodesReferenceFramesOnly(fps: number | undefined, periodSec: number): boolean {
  return fps !== undefined && fps * periodSec >= REFERENCE_ONLY_MIN_FRAMES_PER_SAMPLE;
}

async function run(o: RunOptions, args: string[]): Promise<{ run: FfmpegRun; shown: ShowinfoReader }> {
  const shown = new ShowinfoReader();
  let result: FfmpegRun;
  try {
    result = await runFfmpeg(o.ffmpeg, args, {
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      memoryCap: o.memoryCap,
      onStderr: (chunk) => shown.push(chunk),
    });
  } catch (err) {
    if (err instanceof FfmpegError) {
      throw new FfmpegError(err.kind, scrubUrls(err.message), scrubUrls(err.stderrTail));
    }
    throw err;
  }
  shown.end();
  // Issue 21: past ffmpeg's memory cap, too large for the cap (as run.ts says), not a
  // video that does not decode.
  const overCap = memoryCapError(result, o.memoryCap, 'sampled frames', scrubUrls);
  if (overCap) throw overCap;
  if (result.code !== 0) {
    const stderr = scrubUrls(shown.stderr);
    const reason = ffmpegReason(stderr);
    throw new FfmpegError('decode', `cannot decode the video: ${reason}`, stderr.slice(-2000));
  }
  return { run: result, shown };
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * Above this spacing between the frames asked for, the frames are first taken at the keyframe at
 * or before each time (one frame decoded per seek instead of up to a GOP): a keyframe a few
 * seconds early changes nothing when frames are half a minute apart or more. A keyframe too far
 * from its time (long GOPs: screen recordings), or one shared with another time, is taken again
 * with an accurate seek.
 */
const KEYFRAME_SEEK_MIN_SPACING_SEC = 30;

/**
 * Frames at `times` (seconds from the start of the video), numbered from `firstIndex`, timed by
 * ffmpeg. Times closer than KEYFRAME_SEEK_MIN_SPACING_SEC: each the first frame at or after its
 * time. Sparser: the keyframe before each time when it is within a quarter of the spacing, else as
 * above. A time past the last frame gives no frame; two times on the same frame give it once.
 */
export async function extractAtTimes(
  o: RunOptions & {
    times: number[];
    firstIndex?: number;
    /** The video's frame size (probed): large frames are taken fewer at a time (seeksPerRun). */
    width?: number;
    height?: number;
  },
): Promise<TimedExtraction> {
  const started = performance.now();
  const deadline = started + o.timeoutMs;
  const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
  const planned = o.times.map((t, j) => ({ t, index: (o.firstIndex ?? 0) + j }));
  const spacing = o.times.length > 1 ? (o.times.at(-1)! - o.times[0]) / (o.times.length - 1) : Infinity;
  const found = new Map<number, TimedFrame>();
  let ffmpegMs = 0;
  let runs = 0;
  const perRun = seeksPerRun({ width: o.width, height: o.height, capBytes: o.memoryCap?.bytes });
  const pass = async (todo: typeof planned, accurate: boolean) => {
    for (let first = 0; first < todo.length; first += perRun) {
      const group = todo.slice(first, first + perRun);
      const fileNames = group.map((g) => frameFileName('default', '', g.index));
      const { run: r, shown } = await run(
        { ...o, timeoutMs: remaining() },
        seekArgs({
          input: o.input,
          times: group.map((g) => g.t),
          originSec: o.originSec,
          outDir: o.outDir,
          fileNames,
          accurate,
        }),
      );
      ffmpegMs += r.ms;
      runs++;
      for (const [j, g] of group.entries()) {
        const shownFrame = shown.frames.find((f) => f.filter === j && f.n === 0);
        const file = path.join(o.outDir, fileNames[j]);
        const bytes = await sizeOf(file);
        if (!shownFrame || bytes === 0) continue;
        const timeSec = round6(shownFrame.timeSec - o.originSec);
        found.set(g.index, { index: g.index, fileName: fileNames[j], file, bytes, timeSec });
      }
    }
  };
  const keyframesFirst = spacing >= KEYFRAME_SEEK_MIN_SPACING_SEC;
  await pass(planned, !keyframesFirst);
  if (keyframesFirst) {
    const taken = new Set<number>();
    const retry = planned.filter((g) => {
      const f = found.get(g.index);
      const ok = f !== undefined && g.t - f.timeSec <= spacing / 4 && !taken.has(f.timeSec);
      if (ok) taken.add(f.timeSec);
      return !ok;
    });
    for (const g of retry) found.delete(g.index);
    if (retry.length > 0) await pass(retry, true);
  }
  // Two times on one frame (a clip shorter than its frames' spacing): keep it once.
  const seen = new Set<number>();
  const frames = [...found.values()]
    .sort((a, b) => a.index - b.index)
    .filter((f) => !seen.has(f.timeSec) && seen.add(f.timeSec));
  return { frames, ffmpegMs, runs };
}

/**
 * One frame every `periodSec` seconds over [startSec, endSec) (to the end when `endSec` is
 * unknown), at most `maxFrames`: each named after its tick on the grid (`frame-<tick>.jpg`), so
 * that segments extracted apart never collide and a tick with no frame leaves a gap in the names.
 */
export async function extractByRate(
  o: RunOptions & {
    periodSec: number;
    startSec: number;
    endSec?: number;
    maxFrames: number;
    /** The video's frame rate, when known (decides reference-only decoding). */
    fps?: number;
    /** Decoding threads (unset: ffmpeg's own choice). Frame threads cost the H.264 decoder ~80% more
     * CPU than one thread: where several extractions share the cores, one thread each is cheaper. */
    decodeThreads?: number;
  },
): Promise<TimedExtraction & { referenceFramesOnly: boolean }> {
  const referenceFramesOnly = decodesReferenceFramesOnly(o.fps, o.periodSec);
  const { run: r, shown } = await run(
    o,
    rateArgs({
      input: o.input,
      originSec: o.originSec,
      periodSec: o.periodSec,
      startSec: o.startSec,
      endSec: o.endSec,
      maxFrames: o.maxFrames,
      referenceFramesOnly,
      decodeThreads: o.decodeThreads,
      outDir: o.outDir,
    }),
  );
  const written = new Set((await readdir(o.outDir)).filter((f) => f.startsWith('grid-')));
  const frames: TimedFrame[] = [];
  const ticks = new Set<number>();
  for (const f of shown.frames) {
    const tmp = rateFile(f.n);
    if (!written.has(tmp)) continue;
    const timeSec = round6(f.timeSec - o.originSec);
    const index = tickOf(timeSec, o.periodSec);
    const bytes = await sizeOf(path.join(o.outDir, tmp));
    if (bytes === 0 || ticks.has(index)) continue;
    ticks.add(index);
    const fileName = frameFileName('default', '', index);
    const file = path.join(o.outDir, fileName);
    await rename(path.join(o.outDir, tmp), file);
    frames.push({ index, fileName, file, bytes, timeSec });
  }
  return { frames, ffmpegMs: r.ms, runs: 1, referenceFramesOnly };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** `start: 1.400000` in ffmpeg's input description: the container's first timestamp. */
export function parseStartTime(stderr: string): number {
  const m = /Duration:[^\n]*?,\s*start:\s*(-?\d+(?:\.\d+)?)/.exec(stderr);
  const v = m ? Number(m[1]) : 0;
  return Number.isFinite(v) ? v : 0;
}

/**
 * The length of a video whose container does not say (`Duration: N/A`: a stream written to a
 * pipe, a raw elementary stream): its packets read without decoding (`-c copy` to nowhere), the
 * last timestamp ffmpeg reports. Undefined when it reports none.
 */
export async function measureDuration(o: {
  ffmpeg: string;
  input: string;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<number | undefined> {
  const r = await runFfmpeg(
    o.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-stats',
      ...inputOptions(o.input),
      '-i',
      o.input,
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'null',
      '-',
    ],
    { timeoutMs: o.timeoutMs, signal: o.signal },
  );
  const times = [...r.stderr.matchAll(/time=\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/g)];
  const last = times.at(-1);
  if (!last) return undefined;
  const sec = Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]);
  return sec > 0 ? sec : undefined;
}
