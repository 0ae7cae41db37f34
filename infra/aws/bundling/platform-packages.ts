/**
 * Packages the build machine did not install, fetched at the exact version and integrity a pin
 * names (package-lock.json for the native parts of the bundles; lambda-runtime.ts for Lambda's
 * Node), into a cache on this machine that later builds reuse offline.
 *
 * npm installs only the host's binaries: on a Mac, a Linux arm64 box or a musl Linux, the
 * linux-x64 glibc packages the Lambda bundles need (sharp's @img/sharp-linux-x64 and
 * @img/sharp-libvips-linux-x64, @ffmpeg-installer/linux-x64) are absent. They are ordinary npm
 * packages, so npm itself fetches them (`npm pack`, which honours the user's registry, proxy,
 * credentials and npm's own cache), and we check each tarball against the pinned integrity
 * before unpacking it. No Docker, no install scripts.
 *
 * Cache layout: `<cache>/<name with / as +>@<version>-<first 16 hex of the integrity digest>/`,
 * holding the unpacked package; a directory appears only complete (unpacked elsewhere, then
 * renamed), so an interrupted fetch leaves nothing that looks usable.
 *
 * No CDK imports: functions/Dockerfile's bundling (cli.ts) and the tests run the same code.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a pin names: package-lock.json's `version` and `integrity` of one package. */
export interface PinnedPackage {
  name: string;
  version: string;
  /** Subresource-integrity string, e.g. `sha512-<base64>`. */
  integrity: string;
}

export interface FetchOptions {
  /** The cache folder (default: defaultPackageCache()). */
  cacheDir?: string;
  /** Where `npm pack` runs: its .npmrc (registry, credentials) applies. */
  cwd?: string;
  /** Extra environment for npm (tests point it at an unreachable registry). */
  npmEnv?: Record<string, string>;
  /** Told about each fetch from the registry (not about cache hits). */
  onFetch?: (pkg: PinnedPackage, from: string) => void;
}

/** The per-user cache, shared by every clone on this machine (so one download serves all). */
function defaultPackageCache(): string {
  const home = os.homedir();
  const base =
    process.platform === 'darwin' ? path.join(home, 'Library', 'Caches') : path.join(home, '.cache');
  return path.join(base, 'facerec', 'packages');
}

const SRI = /^(sha512|sha384|sha256|sha1)-([A-Za-z0-9+/]+={0,2})$/;

function parseIntegrity(pkg: PinnedPackage): { algorithm: string; digest: Buffer } {
  // An SRI string may list several hashes; the first of the strongest kind npm writes is enough.
  const first = pkg.integrity
    .trim()
    .split(/\s+/)
    .map((s) => SRI.exec(s))
    .find((m) => m !== null);
  if (!first) throw new Error(`${pkg.name}@${pkg.version}: unreadable integrity "${pkg.integrity}"`);
  return { algorithm: first[1], digest: Buffer.from(first[2], 'base64') };
}

/** Does the file's content match the pinned integrity? */
function matchesIntegrity(file: string, pkg: PinnedPackage): boolean {
  const { algorithm, digest } = parseIntegrity(pkg);
  return createHash(algorithm).update(readFileSync(file)).digest().equals(digest);
}

export function cacheEntryDir(pkg: PinnedPackage, cacheDir = defaultPackageCache()): string {
  const { digest } = parseIntegrity(pkg);
  return path.join(
    cacheDir,
    `${pkg.name.replace(/\//g, '+')}@${pkg.version}-${digest.toString('hex').slice(0, 16)}`,
  );
}

/** Marker written last inside a cache entry: the tarball it came from matched this integrity. */
export const VERIFIED = '.facerec-verified';

/**
 * The unpacked package (its root folder: package.json, ...), from the cache, else fetched with
 * npm and verified against `pkg.integrity`. Throws a message that says what to do when neither
 * the cache nor the registry has it, or when the registry's tarball is not the pinned one.
 */
export function fetchPinnedPackage(pkg: PinnedPackage, opts: FetchOptions = {}): string {
  const cacheDir = opts.cacheDir ?? defaultPackageCache();
  const entry = cacheEntryDir(pkg, cacheDir);
  if (isVerifiedEntry(entry, pkg)) return entry;

  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(path.join(cacheDir, '.fetch-'));
  try {
    const spec = `${pkg.name}@${pkg.version}`;
    const npm = spawnSync(
      'npm',
      ['pack', spec, '--json', '--prefer-offline', '--ignore-scripts', '--pack-destination', work],
      {
        cwd: opts.cwd ?? work,
        encoding: 'utf8',
        env: { ...process.env, ...opts.npmEnv },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 10 * 60_000,
      },
    );
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (npm.status !== 0 || !tarball) {
      const why =
        npm.error?.message ??
        (npm.stderr || '')
          .split('\n')
          .filter((l) => /npm error/i.test(l))
          .slice(0, 4)
          .join('\n  ');
      throw new Error(
        `${spec} is needed for the Lambda bundle, but it is neither installed here nor in the cache ` +
          `${cacheDir}, and npm could not fetch it from the registry${why ? `:\n  ${why}` : '.'}\n` +
          `Connect to the npm registry once (the package is then cached for offline builds), or install it: ` +
          `\`npm i --no-save --force ${spec}\`.`,
      );
    }
    const file = path.join(work, tarball);
    if (!matchesIntegrity(file, pkg)) {
      throw new Error(
        `${spec} from the registry does not match the integrity pinned for it (${pkg.integrity.slice(0, 24)}...): ` +
          'refusing to bundle it. If package-lock.json was changed by hand, restore it (git checkout package-lock.json) ' +
          'and run `npm ci`.',
      );
    }
    const unpacked = path.join(work, 'unpacked');
    mkdirSync(unpacked);
    const tar = spawnSync('tar', ['-xzf', file, '-C', unpacked], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`Cannot unpack ${tarball}: ${tar.error?.message ?? tar.stderr}`);
    // npm tarballs hold one top folder (usually `package/`).
    const tops = readdirSync(unpacked);
    if (tops.length !== 1) throw new Error(`${tarball}: expected one top folder, found ${tops.join(', ')}`);
    const root = path.join(unpacked, tops[0]);
    writeFileSync(path.join(root, VERIFIED), `${pkg.integrity}\n`);
    rmSync(entry, { recursive: true, force: true });
    try {
      renameSync(root, entry);
    } catch (e) {
      // Another build filled the same entry meanwhile: theirs is as good as ours.
      if (!isVerifiedEntry(entry, pkg)) throw e;
    }
    opts.onFetch?.(pkg, spec);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function isVerifiedEntry(entry: string, pkg: PinnedPackage): boolean {
  const marker = path.join(entry, VERIFIED);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pkg.integrity.trim();
}

// ---------------------------------------------------------------- package-lock.json

export interface LockEntry {
  version?: string;
  integrity?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
}

export type Lockfile = Record<string, LockEntry>;

/** package-lock.json's `packages` (lockfile v2/v3), or undefined when there is none. */
export function readLockfile(projectRoot: string): Lockfile | undefined {
  const file = path.join(projectRoot, 'package-lock.json');
  if (!existsSync(file)) return undefined;
  const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages?: Lockfile };
  return lock.packages;
}

/**
 * Where npm placed `name` as seen from the package at `fromRel` (`''` for the project,
 * `node_modules/a/node_modules/b` for a nested one): Node's lookup, on the lockfile's keys.
 */
export function lockKeyFor(lock: Lockfile, name: string, fromRel: string): string | undefined {
  let dir = fromRel.split(path.sep).join('/');
  for (;;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock[key]) return key;
    if (!dir) return undefined;
    const at = dir.lastIndexOf('node_modules/');
    dir = at <= 0 ? '' : dir.slice(0, at - 1);
  }
}

/** A lock entry as a pin, or undefined when it lacks a version or an integrity. */
export function pinOf(name: string, entry: LockEntry | undefined): PinnedPackage | undefined {
  if (!entry?.version || !entry.integrity) return undefined;
  return { name, version: entry.version, integrity: entry.integrity };
}
