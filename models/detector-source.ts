/**
 * Fetches the face detector: the RFB-320 ONNX file that the npm package
 * faceplugin-face-recognition-js@0.0.1 ships. Installing that package would pull hundreds of
 * dependencies, so we `npm pack` its tarball (41 MB, cached in models/.cache/), check it
 * against the registry integrity pinned here, and extract the one file we need.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export const DETECTOR_SOURCE = {
  package: 'faceplugin-face-recognition-js',
  version: '0.0.1',
  /** `npm view faceplugin-face-recognition-js@0.0.1 dist.integrity` */
  integrity:
    'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
  member: 'package/model/fr_detect.onnx',
  /** sha256 of the extracted member, so the file is pinned independently of the tarball. */
  sha256: '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854',
} as const;

const tarballName = `${DETECTOR_SOURCE.package}-${DETECTOR_SOURCE.version}.tgz`;

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Runs `npm pack <spec>` with the npm that is running us (npm_execpath under `npm ci` /
 * `npm run`), falling back to `npm` on PATH when started directly with tsx. */
function npmPack(spec: string, dest: string): void {
  const args = ['pack', spec, '--pack-destination', dest, '--ignore-scripts', '--silent'];
  const npmCli = process.env.npm_execpath;
  const [cmd, argv] =
    npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, ...args]] : ['npm', args];
  try {
    execFileSync(cmd, argv, {
      stdio: ['ignore', 'ignore', 'pipe'],
      shell: process.platform === 'win32' && cmd === 'npm',
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`\`npm pack ${spec}\` failed${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}

/** Path of the verified tarball in `cacheDir`, running `npm pack` if it is missing or bad. */
function ensureDetectorTarball(cacheDir: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const tgz = path.join(cacheDir, tarballName);
  if (existsSync(tgz) && integrityOf(tgz) === DETECTOR_SOURCE.integrity) return tgz;
  rmSync(tgz, { force: true });
  // Pack into a scratch folder and move it in only once verified, so the cache never holds a
  // partial or tampered tarball.
  const scratch = path.join(cacheDir, `.pack-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  try {
    npmPack(`${DETECTOR_SOURCE.package}@${DETECTOR_SOURCE.version}`, scratch);
    const packed = path.join(scratch, tarballName);
    if (!existsSync(packed)) throw new Error(`npm pack did not produce ${tarballName}`);
    const got = integrityOf(packed);
    if (got !== DETECTOR_SOURCE.integrity) {
      throw new Error(`${tarballName} integrity mismatch: expected ${DETECTOR_SOURCE.integrity}, got ${got}`);
    }
    renameSync(packed, tgz);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return tgz;
}

/** Reads one regular file out of a .tgz: gunzip, then walk the 512-byte ustar headers. No
 * dependency on a `tar` binary (not a given on Windows or in slim images). */
function extractFromTgz(tgz: string, member: string): Buffer {
  const tar = gunzipSync(readFileSync(tgz));
  const field = (off: number, len: number) => tar.toString('latin1', off, off + len).replace(/\0.*$/s, '');
  let paxPath: string | undefined;
  for (let off = 0; off + 512 <= tar.length;) {
    if (tar[off] === 0) break; // an all-zero block ends the archive
    const size = parseInt(field(off + 124, 12).trim() || '0', 8);
    const type = field(off + 156, 1);
    const prefix = field(off + 345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(off, 100)}` : field(off, 100));
    const body = tar.subarray(off + 512, off + 512 + size);
    paxPath = undefined;
    if (type === 'x') {
      // A pax extended header: its `path=` record names the next entry (long paths).
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if ((type === '0' || type === '') && name === member) {
      return Buffer.from(body);
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${member} not found in ${path.basename(tgz)}`);
}

/** MobileFaceNet from the same tarball (faceplugin's `fr_feature.onnx`), pinned by sha256. */
export const MOBILEFACENET_SOURCE = {
  member: 'package/model/fr_feature.onnx',
  sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
} as const;

/** The verified MobileFaceNet ONNX bytes. */
export function fetchMobileFaceNet(cacheDir: string): Buffer {
  const onnx = extractFromTgz(ensureDetectorTarball(cacheDir), MOBILEFACENET_SOURCE.member);
  const sha = createHash('sha256').update(onnx).digest('hex');
  if (sha !== MOBILEFACENET_SOURCE.sha256) {
    throw new Error(
      `${MOBILEFACENET_SOURCE.member} sha256 mismatch: expected ${MOBILEFACENET_SOURCE.sha256}, got ${sha}`,
    );
  }
  return onnx;
}

/** The verified detector ONNX bytes. */
export function fetchDetector(cacheDir: string): Buffer {
  const onnx = extractFromTgz(ensureDetectorTarball(cacheDir), DETECTOR_SOURCE.member);
  const sha = createHash('sha256').update(onnx).digest('hex');
  if (sha !== DETECTOR_SOURCE.sha256) {
    throw new Error(
      `${DETECTOR_SOURCE.member} sha256 mismatch: expected ${DETECTOR_SOURCE.sha256}, got ${sha}`,
    );
  }
  return onnx;
}
