/**
 * Which ffmpeg runs, decided in one place: `FFMPEG_PATH` first, then a system `ffmpeg` on the
 * PATH (usually newer), then the static build that @ffmpeg-installer/ffmpeg ships inside
 * node_modules (a 2018 build; enough for frame extraction). Callers log the result.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

type FfmpegSource = 'FFMPEG_PATH' | 'system' | '@ffmpeg-installer';

export interface FfmpegBinary {
  path: string;
  source: FfmpegSource;
}

class FfmpegNotFoundError extends Error {
  override name = 'FfmpegNotFoundError';
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** First `ffmpeg` on a PATH-style search list, if any. */
function findOnPath(searchPath: string, name = 'ffmpeg'): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The binary inside @ffmpeg-installer's platform package, if installed. */
function findInstallerBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    // The package throws a plain string when its platform binary is missing.
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    return isExecutableFile(installer.path) ? installer.path : undefined;
  } catch {
    return undefined;
  }
}

export interface ResolveOptions {
  /** FFMPEG_PATH. When set it must point at an executable: no silent fallback. */
  explicitPath?: string;
  /** The PATH to search for a system ffmpeg. */
  searchPath: string;
}

export function resolveFfmpeg(opts: ResolveOptions): FfmpegBinary {
  if (opts.explicitPath) {
    if (!isExecutableFile(opts.explicitPath)) {
      throw new FfmpegNotFoundError(`FFMPEG_PATH=${opts.explicitPath} is not an executable file`);
    }
    return { path: opts.explicitPath, source: 'FFMPEG_PATH' };
  }
  const system = findOnPath(opts.searchPath);
  if (system) return { path: system, source: 'system' };
  const bundled = findInstallerBinary();
  if (bundled) return { path: bundled, source: '@ffmpeg-installer' };
  throw new FfmpegNotFoundError(
    'no ffmpeg found: set FFMPEG_PATH, install ffmpeg on the PATH, or install @ffmpeg-installer/ffmpeg',
  );
}

const versions = new Map<string, Promise<string>>();

/** First line of `ffmpeg -version` (cached per binary), e.g. `ffmpeg version 6.1.1-3ubuntu5`. */
export function ffmpegVersion(binary: string): Promise<string> {
  let v = versions.get(binary);
  if (!v) {
    v = new Promise((resolve) => {
      execFile(binary, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
        const line = String(stdout ?? '')
          .split('\n')[0]
          ?.trim();
        resolve(err && !line ? `unknown (${err.message})` : line || 'unknown');
      });
    });
    versions.set(binary, v);
  }
  return v;
}

/** One line for logs and the CLI: `ffmpeg 6.1.1 (system: /usr/bin/ffmpeg)`. */
export function describeFfmpeg(binary: FfmpegBinary, version: string): string {
  const short = version.replace(/^ffmpeg version\s+/, '').split(/\s/)[0];
  return `ffmpeg ${short} (${binary.source}: ${binary.path})`;
}
