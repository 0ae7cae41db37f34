/**
 * Frame extraction with ffmpeg: argument building per profile, and running ffmpeg with a time
 * limit into a folder. Pure of AWS: the splitter handler downloads the video, calls
 * `extractFrames`, and uploads what it returns.
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { framesWithinBudget } from './batches.js';
import type { Profile } from './facts.js';
import { frameFileName, frameFilePattern, frameKey } from './layout.js';
import { stage } from './stages.js';

export type FfmpegFailure =
  /** Not a video at all (no video stream, unknown format, empty file). */
  | 'not-a-video'
  /** A video whose frames could not be decoded (truncated, corrupt). */
  | 'decode'
  /** ffmpeg ran past its time limit and was killed. */
  | 'timeout'
  /** Frames larger than the face engine reads, or more memory than ffmpeg's cap. */
  | 'too-large'
  /** ffmpeg could not be started. */
  | 'spawn'
  /** Aborted by the caller (the function is about to time out). */
  | 'aborted';

export class FfmpegError extends Error {
  override name = 'FfmpegError';
  constructor(
    readonly kind: FfmpegFailure,
    message: string,
    readonly stderrTail = '',
  ) {
    super(message);
  }
}

export interface FfmpegRun {
  code: number | null;
  /** The signal that ended ffmpeg, when one did (e.g. SIGSEGV when an allocation under its memory
   * cap was not checked). */
  signal?: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

const STDERR_KEEP = 16 * 1024;

/**
 * How ffmpeg runs under a memory cap: `prlimit --as=<bytes>` (util-linux, on Linux machines and
 * where the Lambda image has it) around the binary. Without prlimit (macOS, a minimal image) the
 * cap is not enforced and the refusal by probed dimensions is what bounds ffmpeg's memory.
 */
export interface MemoryCap {
  bytes: number;
  /** The prlimit binary, when found. */
  prlimit?: string;
}

/** The command line of one ffmpeg run: the binary and its arguments, under the cap when it can be. */
export function ffmpegCommand(binary: string, args: string[], cap?: MemoryCap): [string, string[]] {
  if (!cap?.prlimit) return [binary, args];
  return [cap.prlimit, [`--as=${Math.round(cap.bytes)}`, binary, ...args]];
}

/**
 * ffmpeg's environment under an address-space cap: glibc's malloc reserves up to 8 arenas per core,
 * 64 MB of address space each, for threads that allocate at once; ffmpeg's decoder and encoder
 * threads (eight seeking inputs per run in the sampled splitter) took them all and a 480p clip
 * passed a 768 MB cap (local mode and a 1,024 MB Lambda), failing every video of the default
 * profile. Two arenas reserve what the cap is for, memory in use, not unused reservations.
 */
export function ffmpegEnvironment(cap?: MemoryCap): NodeJS.ProcessEnv | undefined {
  return cap?.prlimit ? { ...process.env, MALLOC_ARENA_MAX: '2' } : undefined;
}

const MB = 1024 * 1024;

/**
 * ffmpeg's memory cap (address space), so that one upload cannot take the machine: an explicit
 * FACEREC_FFMPEG_MEMORY_MB; on Lambda the function's memory less what Node and the splitter keep
 * (one invocation per sandbox); locally half the machine's memory shared by the splitter's
 * concurrent invocations, between 512 MB and 4 GB each (so cap x concurrency fits the machine).
 */
export function ffmpegMemoryCapBytes(o: {
  explicitMb?: number;
  lambdaMemoryMb?: number;
  totalMemBytes: number;
  concurrency: number;
}): number {
  if (o.explicitMb) return o.explicitMb * MB;
  if (o.lambdaMemoryMb) return Math.max(256, o.lambdaMemoryMb - 256) * MB;
  const share = (o.totalMemBytes * 0.5) / Math.max(1, o.concurrency);
  return Math.min(4096 * MB, Math.max(512 * MB, share));
}

/** Run ffmpeg, keeping the tail of stderr; kill it (SIGKILL) past `timeoutMs`. Never hangs:
 * stdin is closed and the promise settles on exit, error, timeout or abort. ffmpeg runs in its
 * own process group: a Ctrl-C in the terminal of the local stack reaches the stack, which stops
 * its work in order, not ffmpeg directly (which would fail the video as undecodable). */
export function runFfmpeg(
  binary: string,
  args: string[],
  opts: {
    timeoutMs: number;
    signal?: AbortSignal;
    cwd?: string;
    memoryCap?: MemoryCap;
    /** Every chunk of stderr as it comes (a reader of per-frame lines: core/ffmpeg/showinfo.ts). */
    onStderr?: (chunk: string) => void;
  },
): Promise<FfmpegRun> {
  // Observed (traced and timed on AWS: core/stages.ts) as one ffmpeg run.
  return stage('ffmpeg', () => ffmpegRun(binary, args, opts));
}

function ffmpegRun(
  binary: string,
  args: string[],
  opts: Parameters<typeof runFfmpeg>[2],
): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    if (opts.signal?.aborted) {
      reject(new FfmpegError('aborted', 'ffmpeg not started: aborted'));
      return;
    }
    const [command, commandArgs] = ffmpegCommand(binary, args, opts.memoryCap);
    const child = spawn(command, commandArgs, {
      cwd: opts.cwd,
      env: ffmpegEnvironment(opts.memoryCap),
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      // The cap counts address space, and glibc reserves a malloc arena (64 MB) per thread that
      // allocates: two arenas keep what ffmpeg reserves near what it uses (8 seeks into a 1080p
      // clip: 1.8 GB of address space with the default, 512 MB with two arenas and one thread an
      // input; bench figures in docs/benchmarks.md).
      ...(opts.memoryCap?.prlimit ? { env: { ...process.env, MALLOC_ARENA_MAX: '2' } } : {}),
    });
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(
      () => {
        kill();
        finish(() =>
          reject(
            new FfmpegError(
              'timeout',
              `ffmpeg did not finish within ${opts.timeoutMs} ms (killed)`,
              stderr.slice(-2000),
            ),
          ),
        );
      },
      Math.min(opts.timeoutMs, 2 ** 31 - 1),
    ); // setTimeout fires at once past 2^31-1 ms
    const onAbort = () => {
      kill();
      finish(() => reject(new FfmpegError('aborted', 'ffmpeg aborted', stderr.slice(-2000))));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      opts.onStderr?.(chunk);
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (err) =>
      finish(() => reject(new FfmpegError('spawn', `cannot run ffmpeg (${binary}): ${err.message}`))),
    );
    child.on('close', (code, signal) =>
      finish(() => resolve({ code, signal, stderr, ms: performance.now() - start })),
    );
  });
}

/** `Duration: 00:01:02.50` in ffmpeg's input description -> seconds. */
export function parseDuration(stderr: string): number | undefined {
  const m = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  if (!m) return undefined;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

export function hasVideoStream(stderr: string): boolean {
  return /Stream #\d+:\d+.*: Video: /.test(stderr);
}

const NOT_A_VIDEO = [
  'Invalid data found when processing input',
  'moov atom not found',
  'does not contain any stream',
  'could not find codec parameters',
  'Could not find codec parameters',
  'unknown format',
];

/** What ffmpeg's complaints mean, most specific first. */
const HINTS: Array<[RegExp, string]> = [
  [/partial file/, 'the file is truncated'],
  [/moov atom not found/, 'the file is truncated or damaged (no moov atom)'],
  [/does not contain any stream|no video stream/i, 'the file has no video stream'],
  [
    /Invalid NAL unit|Error splitting the input|Error while decoding|corrupt|concealing/i,
    'its frames cannot be decoded',
  ],
  [/Invalid data found when processing input|unknown format/i, 'ffmpeg cannot read this format'],
  [/could not find codec parameters/i, 'ffmpeg cannot find a decodable stream'],
];

/** A readable reason from ffmpeg's stderr: what it means, and ffmpeg's own most telling line. */
export function ffmpegReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]+\]\s*/, '').trim())
    .filter(Boolean);
  for (const [pattern, meaning] of HINTS) {
    const line = lines.find((l) => pattern.test(l));
    if (line) return `${meaning} (ffmpeg: ${line.slice(0, 200)})`;
  }
  const telling = lines.find((l) => /error|invalid/i.test(l)) ?? lines.at(-1);
  return telling ? `ffmpeg: ${telling.slice(0, 200)}` : 'ffmpeg gave no reason';
}

export interface ProbeResult {
  durationSec?: number;
  hasVideo: boolean;
  /** An audio stream and no video stream (a voice memo, a song named .mp4). */
  audioOnly: boolean;
  /** The input is a still image (PNG, JPEG, WebP, BMP … whatever its name says). */
  image?: string;
  width?: number;
  height?: number;
  fps?: number;
  stderr: string;
}

/** ffmpeg demuxers that read single images (`png_pipe`, `jpeg_pipe`, `image2`, …). */
const IMAGE_DEMUXER = /^Input #0, (image2|[a-z0-9]+_pipe|bmp|webp)\b/m;

/** What ffmpeg's input description says about the first video stream. */
export function parseProbe(stderr: string): Omit<ProbeResult, 'stderr'> {
  const video = /Stream #\d+:\d+.*?: Video: (.*)$/m.exec(stderr)?.[1];
  const size = video ? /(?:^|[ ,])(\d{2,5})x(\d{2,5})(?=[ ,\]]|$)/.exec(video) : null;
  const fps = video ? /([\d.]+)(k?) (?:fps|tbr)\b/.exec(video) : null;
  const image = IMAGE_DEMUXER.exec(stderr)?.[1];
  return {
    durationSec: parseDuration(stderr),
    hasVideo: video !== undefined,
    audioOnly: video === undefined && /Stream #\d+:\d+.*?: Audio: /.test(stderr),
    ...(image ? { image: image.replace(/_pipe$/, '') } : {}),
    ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}),
    ...(fps && Number(fps[1]) > 0 ? { fps: Number(fps[1]) * (fps[2] ? 1000 : 1) } : {}),
  };
}

/** What ffmpeg says about an input (`ffmpeg -i video` with no output: exits 1 by design). */
export async function probeVideo(
  binary: string,
  videoPath: string,
  opts: { timeoutMs: number; signal?: AbortSignal; memoryCap?: MemoryCap },
): Promise<ProbeResult> {
  const run = await runFfmpeg(binary, ['-hide_banner', '-nostdin', '-i', videoPath], opts);
  return { ...parseProbe(run.stderr), stderr: run.stderr };
}

/** A probed input that is not a video (no video stream, audio only, a still image): FfmpegError
 * `not-a-video` with the reason. `scrub` removes the machine's paths from ffmpeg's messages. */
export function refuseNonVideo(probe: ProbeResult, scrub: (text: string) => string): void {
  if (!probe.hasVideo) {
    const reason = probe.audioOnly
      ? 'the file has audio but no video stream'
      : ffmpegReason(scrub(probe.stderr));
    throw new FfmpegError('not-a-video', `not a video: ${reason}`, scrub(probe.stderr).slice(-2000));
  }
  if (probe.image) {
    throw new FfmpegError(
      'not-a-video',
      `not a video: the file is a still image (${probe.image}), whatever its name says`,
      scrub(probe.stderr).slice(-2000),
    );
  }
}

/** Probing reads the container's headers only: this long is plenty, whatever the clip. */
export const PROBE_TIMEOUT_MS = 15_000;

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
export const SINGLE_PASS_MAX_SECONDS = 120;
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

/** ffmpeg's words when an allocation failed (its memory cap reached): frame buffers, encoder
 * threads, a filter graph or an encoder it could not (re)build (its only words when the failed
 * allocation was in a filter or in opening the JPEG encoder: both seen under a 150 MB cap; the
 * encoder's was "Error while opening encoder for output stream ... maybe incorrect parameters"),
 * anything else. Read only for a run under the cap. */
const OUT_OF_MEMORY =
  /Cannot allocate memory|Out of memory|ENOMEM|failed to allocate|get_buffer\(\) failed|thread_encoder_init failed|Error reinitializing filters|Error while opening encoder/i;

/**
 * Under a memory cap, a failed allocation (or a crash on one ffmpeg did not check) is the cap's
 * doing: a `too-large` error that says so (not "cannot decode"). Undefined for any other outcome.
 * `clip` describes the video; `scrub` cleans ffmpeg's text (URLs) before it is quoted.
 */
export function memoryCapError(
  run: FfmpegRun,
  cap: MemoryCap | undefined,
  clip: string,
  scrub: (text: string) => string = (t) => t,
): FfmpegError | undefined {
  if (cap?.prlimit === undefined || run.code === 0) return undefined;
  if (!OUT_OF_MEMORY.test(run.stderr) && !(run.code === null && !!run.signal)) return undefined;
  return new FfmpegError(
    'too-large',
    `the video is too large to decode within ffmpeg's memory cap (${Math.round(cap.bytes / MB)} MB; ${clip}): ${ffmpegReason(scrub(run.stderr))}`,
    scrub(run.stderr).slice(-2000),
  );
}

/**
 * Frames larger than the face engine reads are refused from the probe, before ffmpeg decodes one
 * (a 16000x9000 frame made ffmpeg peak at 3.3 GB, and ten of them were stored before recognition
 * refused each).
 */
export function refuseHugeFrames(
  probe: Pick<ProbeResult, 'width' | 'height'>,
  maxFramePixels: number | undefined,
): void {
  if (!maxFramePixels || !probe.width || !probe.height) return;
  const pixels = probe.width * probe.height;
  if (pixels <= maxFramePixels) return;
  throw new FfmpegError(
    'too-large',
    `the video's frames are too large: ${probe.width}x${probe.height} (${(pixels / 1e6).toFixed(1)} MP) exceeds the ` +
      `${(maxFramePixels / 1e6).toFixed(0)} MP the face engine reads (FACEREC_MAX_IMAGE_MEGAPIXELS); refused before decoding`,
  );
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
