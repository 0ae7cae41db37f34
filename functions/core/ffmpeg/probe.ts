/**
 * Probing an input: what ffmpeg's description of it says (duration, video stream, size, frame
 * rate, a still image), and the refusals that follow from it before any frame is decoded (not a
 * video, frames larger than the face engine reads).
 */
import { FfmpegError, ffmpegReason, runFfmpeg, type MemoryCap } from './run.js';

/** `Duration: 00:01:02.50` in ffmpeg's input description -> seconds. */
export function parseDuration(stderr: string): number | undefined {
  const m = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  if (!m) return undefined;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
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
