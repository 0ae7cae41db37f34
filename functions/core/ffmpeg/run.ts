/**
 * Running ffmpeg: one run under a time limit (killed past it, or on abort) and, where prlimit is
 * found, an address-space cap; the tail of its stderr kept, and read for what a failure means
 * (a readable reason, the memory cap reached). Pure of AWS; probe.ts, extract.ts and
 * timed-frames.ts run ffmpeg through here, and binary.ts says which ffmpeg.
 */
import { spawn } from 'node:child_process';
import { stage } from '../stages.js';

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
function ffmpegEnvironment(cap?: MemoryCap): NodeJS.ProcessEnv | undefined {
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
      // The cap counts address space, and glibc reserves a malloc arena (64 MB) per thread that
      // allocates: two arenas keep what ffmpeg reserves near what it uses (8 seeks into a 1080p
      // clip: 1.8 GB of address space with the default, 512 MB with two arenas and one thread an
      // input; bench figures in docs/benchmarks.md).
      env: ffmpegEnvironment(opts.memoryCap),
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
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
