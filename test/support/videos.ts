/** Real test videos made with ffmpeg (the binary the pipeline resolves). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../functions/config.js';
import { resolveFfmpeg } from '../../functions/core/ffmpeg/binary.js';
import { patternToVideo, stillToVideo } from '../../cli/lib/still-video.js';

const run = promisify(execFile);
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function ffmpegPath(): string {
  const p = loadConfig().pipeline;
  return resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath }).path;
}

export function tempDir(prefix = 'facerec-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Face photos every install has (@vladmandic/face-api's demo images). */
export const SAMPLE_IMAGES = [1, 2, 3, 4, 5, 6].map((i) =>
  path.join(repoRoot, 'node_modules/@vladmandic/face-api/demo', `sample${i}.jpg`),
);

/** Labeled faces of the shared data folder, when present. */
export const SHARED_FACES = path.resolve(repoRoot, '../shared/data/faces');

/** A still image as an H.264 video (`seconds` long, `height` lines, even sizes). */
export async function videoFromImage(
  image: string,
  out: string,
  opts: { seconds?: number; height?: number; fps?: number; width?: number } = {},
): Promise<string> {
  const seconds = opts.seconds ?? 2;
  const scale = opts.width ? `scale=${opts.width}:${opts.height ?? -2}` : `scale=-2:${opts.height ?? 720}`;
  return stillToVideo(ffmpegPath(), image, out, {
    filter: `${scale},pad=ceil(iw/2)*2:ceil(ih/2)*2`,
    seconds,
    fps: opts.fps ?? 25,
    preset: 'ultrafast',
  });
}

/** A synthetic test pattern (no faces). */
export function patternVideo(out: string, seconds = 2, size = '320x240'): Promise<string> {
  return patternToVideo(ffmpegPath(), out, { size, seconds, preset: 'ultrafast' });
}

/** Audio only: a valid media file without a video stream. */
export async function audioOnly(out: string, seconds = 1): Promise<string> {
  await run(ffmpegPath(), [
    ...[
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${seconds}`,
    ],
    out,
  ]);
  return out;
}

/** The first `fraction` of a file (a truncated upload). */
export function truncated(src: string, out: string, fraction = 0.3): string {
  const bytes = readFileSync(src);
  writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return out;
}

/** A file with a video extension and random (non-video) bytes. */
export function garbage(out: string, size = 4096): string {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7919 + 13) % 251;
  writeFileSync(out, b);
  return out;
}
