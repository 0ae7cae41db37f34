/** Short H.264 clips from a still image or a test pattern: how the demo, the benchmarks and the
 * tests make videos. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface StillVideoOptions {
  /** ffmpeg filters applied before the conversion to yuv420p (scale, pad, zoompan...). */
  filter?: string;
  seconds?: number;
  fps?: number;
  /** x264 speed preset: `ultrafast` for tests, `veryfast` (smaller files) otherwise. */
  preset?: 'ultrafast' | 'veryfast';
}

export async function stillToVideo(
  ffmpeg: string,
  image: string,
  out: string,
  options: StillVideoOptions = {},
): Promise<string> {
  const { filter, seconds = 2, fps = 25, preset = 'veryfast' } = options;
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-i', image],
    ...['-t', String(seconds), '-r', String(fps)],
    ...['-vf', filter ? `${filter},format=yuv420p` : 'format=yuv420p'],
    ...['-c:v', 'libx264', '-preset', preset, '-movflags', '+faststart', out],
  ]);
  return out;
}

/** ffmpeg's synthetic test pattern (no faces) as an H.264 clip; `size` like `640x360`. */
export async function patternToVideo(
  ffmpeg: string,
  out: string,
  options: Omit<StillVideoOptions, 'filter'> & { size: string },
): Promise<string> {
  const { size, seconds = 2, fps = 25, preset = 'veryfast' } = options;
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc=duration=${seconds}:size=${size}:rate=${fps}`],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', preset, out],
  ]);
  return out;
}
