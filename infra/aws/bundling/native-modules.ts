/**
 * Copies packages that esbuild must leave external (native addons, binaries) into a Lambda
 * bundle, for one target platform only.
 *
 * npm installs what the *build* machine needs; some packages ship every platform's binaries
 * anyway (onnxruntime-node carries darwin, win32 and both linux architectures: ~290 MB). We
 * walk the dependency graph from each root package, keep only packages whose `os`/`cpu`/`libc`
 * fields match the Lambda target, and apply per-package prune rules, so the bundle holds
 * exactly the binaries `linux/<arch>` needs.
 *
 * No CDK imports here: functions/Dockerfile runs the same code (infra/aws/bundling/cli.ts).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  fetchPinnedPackage,
  lockKeyFor,
  pinOf,
  readLockfile,
  VERIFIED,
  type FetchOptions,
  type LockEntry,
  type Lockfile,
} from './platform-packages.js';

export type LambdaArch = 'x64' | 'arm64';

export interface TargetPlatform {
  os: 'linux';
  arch: LambdaArch;
  /** The Lambda Node.js runtimes run on Amazon Linux (glibc). */
  libc: 'glibc';
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

/** How to trim one package: relative paths (posix, from the package root) to drop, and
 * dependencies that only its install/build scripts use. */
interface PruneRule {
  drop: (relPath: string, target: TargetPlatform) => boolean;
  skipDependencies?: string[];
  /** Files that must be present after pruning, or the module cannot load on the target. */
  required?: (target: TargetPlatform) => string[];
  /** Files an install script would have made executable (we run no install scripts). */
  executables?: string[];
}

const ORT_BIN = /^bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/;

const PRUNE_RULES: Record<string, PruneRule> = {
  'onnxruntime-node': {
    // bin/napi-v6/<platform>/<arch>/: keep linux/<arch> only. lib/ is the TypeScript source of
    // dist/, script/ the install and build scripts.
    drop: (rel, t) => {
      if (rel === 'lib' || rel.startsWith('lib/') || rel === 'script' || rel.startsWith('script/'))
        return true;
      const m = ORT_BIN.exec(rel);
      if (!m) return false;
      if (m[1] !== t.os) return true;
      return m[2] !== undefined && m[2] !== t.arch;
    },
    // Only script/install.js (the CUDA download we never run) needs these.
    skipDependencies: ['adm-zip', 'global-agent'],
    required: (t) => [`bin/napi-v6/${t.os}/${t.arch}/onnxruntime_binding.node`],
  },
  'onnxruntime-common': {
    drop: (rel) => rel === 'lib' || rel.startsWith('lib/'),
  },
  sharp: {
    // C++ sources and the from-source install helpers: prebuilt binaries come from @img/*.
    drop: (rel) => rel === 'src' || rel.startsWith('src/') || rel === 'install' || rel.startsWith('install/'),
    required: () => ['dist/index.cjs'],
  },
};

/** Rules shared by every package of a family (the per-platform packages of an installer). */
function ruleFor(name: string): PruneRule | undefined {
  if (PRUNE_RULES[name]) return PRUNE_RULES[name];
  // @ffmpeg-installer/linux-x64's postinstall is `chmod u+x ffmpeg`.
  if (/^@ffmpeg-installer\/linux-/.test(name)) return { drop: () => false, executables: ['ffmpeg'] };
  return undefined;
}

/** Packages whose prebuilt binary for the target must be in the bundle when the root is. */
const REQUIRED_PLATFORM_PACKAGES: Record<string, (t: TargetPlatform) => string[]> = {
  sharp: (t) => [`@img/sharp-${t.os}-${t.arch}`, `@img/sharp-libvips-${t.os}-${t.arch}`],
  '@ffmpeg-installer/ffmpeg': (t) => [`@ffmpeg-installer/${t.os}-${t.arch}`],
};

/** Never useful at run time, whatever the package. */
function droppedEverywhere(rel: string): boolean {
  const base = path.posix.basename(rel);
  return (
    /\.d\.[cm]?ts$/.test(base) ||
    base.endsWith('.map') ||
    /^(readme|changelog|history)(\.[a-z]+)?$/i.test(base) ||
    base.endsWith('~') ||
    base === VERIFIED
  );
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

function matches(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  const negated = list.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  if (negated.includes(value)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

/** Does this package install on the target (npm's own os/cpu/libc rules)? */
export function supportsTarget(
  pkg: Pick<PackageJson, 'os' | 'cpu' | 'libc'>,
  target: TargetPlatform,
): boolean {
  return matches(pkg.os, target.os) && matches(pkg.cpu, target.arch) && matches(pkg.libc, target.libc);
}

/** Node's lookup: `<dir>/node_modules/<name>`, then each parent, up to `root`. */
function resolvePackageDir(name: string, fromDir: string, root: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.resolve(dir) === path.resolve(root)) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    // Climb out of `.../node_modules/<pkg>` (or `.../node_modules/@scope/<pkg>`).
    dir = parent;
  }
}

export interface CopiedPackage {
  name: string;
  version: string;
  /** Path relative to the project root, e.g. `node_modules/sharp`. */
  from: string;
  /** Set when the package was not installed here and came from the package cache (or the
   * registry, through it), at the version and integrity package-lock.json pins. */
  fetched?: boolean;
}

export interface NativeCopyResult {
  packages: CopiedPackage[];
}

/** How to get platform packages the build machine lacks (platform-packages.ts). */
export type NativeCopyOptions = Pick<FetchOptions, 'cacheDir' | 'npmEnv' | 'onFetch'>;

/** A lock entry that names a platform (os/cpu/libc): npm skips it on other hosts. */
const isPlatformSpecific = (e: LockEntry) => Boolean(e.os?.length || e.cpu?.length || e.libc?.length);

/**
 * Copies `roots` and their runtime dependencies from `<projectRoot>/node_modules` into
 * `<outDir>/node_modules`, keeping npm's layout (so Node resolves them the same way).
 *
 * A package for the target that npm did not install on this host (the linux-x64 binaries on a
 * Mac), or one installed without the target's binary, is taken at the version and integrity
 * package-lock.json pins, from the package cache or else the registry (platform-packages.ts).
 */
export function copyNativeModules(
  roots: string[],
  projectRoot: string,
  outDir: string,
  target: TargetPlatform,
  options: NativeCopyOptions = {},
): NativeCopyResult {
  let lock: Lockfile | undefined | null = null;
  const lockfile = () => (lock === null ? (lock = readLockfile(projectRoot)) : lock);
  /** The pinned copy of the package npm would place at lock key `key`, if the lock pins one. */
  const pinned = (name: string, key: string | undefined): string | undefined => {
    const pin = key ? pinOf(name, lockfile()?.[key]) : undefined;
    return pin ? fetchPinnedPackage(pin, { ...options, cwd: projectRoot }) : undefined;
  };

  const seen = new Map<string, CopiedPackage>();
  const queue: Array<{ name: string; fromRel: string; optional: boolean; parent?: string }> = roots.map(
    (name) => ({ name, fromRel: '', optional: false }),
  );

  while (queue.length > 0) {
    const { name, fromRel, optional, parent } = queue.shift()!;
    const installed = resolvePackageDir(name, path.join(projectRoot, fromRel), projectRoot);
    let rel: string;
    let src: string;
    let fetched = false;
    if (installed) {
      rel = path.relative(projectRoot, installed).split(path.sep).join('/');
      if (seen.has(rel)) continue;
      // Real path: a linked node_modules (a copy of the project, pnpm) is copied as files.
      src = realpathSync(installed);
    } else {
      const key = lockfile() && lockKeyFor(lockfile()!, name, fromRel);
      const entry = key ? lockfile()![key] : undefined;
      // Missing because npm skipped it on this host (another platform's package) and the target
      // needs it: fetch the pinned one. Anything else missing is a broken install.
      const platformPackageForTarget =
        key !== undefined &&
        entry !== undefined &&
        isPlatformSpecific(entry) &&
        supportsTarget(entry, target);
      if (!platformPackageForTarget) {
        if (optional) continue;
        throw new Error(
          `Cannot bundle ${name}${parent ? ` (needed by ${parent})` : ''}: it is not installed under ${projectRoot}/node_modules. Run \`npm ci\`.`,
        );
      }
      rel = key;
      if (seen.has(rel)) continue;
      src = pinned(name, key) ?? missingPin(name, parent);
      fetched = true;
    }
    let pkg = readPackageJson(src);
    if (!supportsTarget(pkg, target)) {
      if (optional) continue;
      throw new Error(`${name} does not support ${target.os}-${target.arch} (${target.libc}).`);
    }
    const rule = ruleFor(pkg.name);
    // Installed, but without the target's binary (an install that kept the host's only).
    const lacking = (rule?.required?.(target) ?? []).filter((f) => !existsSync(path.join(src, f)));
    if (lacking.length > 0 && !fetched) {
      const copy = pinned(pkg.name, rel);
      if (copy && (rule?.required?.(target) ?? []).every((f) => existsSync(path.join(copy, f)))) {
        src = copy;
        pkg = readPackageJson(src);
        fetched = true;
      }
    }
    copyPackage(src, path.join(outDir, rel), rule, target);
    seen.set(rel, { name: pkg.name, version: pkg.version, from: rel, ...(fetched ? { fetched } : {}) });

    const skip = new Set(rule?.skipDependencies ?? []);
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!skip.has(dep)) queue.push({ name: dep, fromRel: rel, optional: false, parent: pkg.name });
    }
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!skip.has(dep)) queue.push({ name: dep, fromRel: rel, optional: true, parent: pkg.name });
    }
  }

  const packages = [...seen.values()];
  for (const root of roots) {
    for (const needed of REQUIRED_PLATFORM_PACKAGES[root]?.(target) ?? []) {
      if (!packages.some((p) => p.name === needed)) {
        throw new Error(
          `${root} needs ${needed} on Lambda ${target.os}-${target.arch}, but it is neither installed here nor ` +
            `pinned in package-lock.json (npm only installs the build machine's binaries; the bundling fetches ` +
            `the others at the locked version). Run \`npm install\` once with the registry reachable so that ` +
            `package-lock.json lists every platform's package, then synthesize again.`,
        );
      }
    }
  }
  return { packages };
}

function missingPin(name: string, parent: string | undefined): never {
  throw new Error(
    `Cannot bundle ${name}${parent ? ` (needed by ${parent})` : ''}: it is not installed here and ` +
      'package-lock.json pins no version and integrity for it. Run `npm install` with the registry reachable.',
  );
}

function copyPackage(src: string, dest: string, rule: PruneRule | undefined, target: TargetPlatform): void {
  mkdirSync(dest, { recursive: true });
  cpSync(src, dest, {
    recursive: true,
    // Keep executables executable (ffmpeg) and never follow links out of the package.
    preserveTimestamps: false,
    verbatimSymlinks: true,
    filter: (from) => {
      const rel = path.relative(src, from).split(path.sep).join('/');
      if (rel === '') return true;
      // Dependencies are walked (and filtered by platform) separately.
      if (rel === 'node_modules' || rel.startsWith('node_modules/')) return false;
      if (statSync(from).isFile() && droppedEverywhere(rel)) return false;
      return !(rule?.drop(rel, target) ?? false);
    },
  });
  for (const file of rule?.executables ?? []) {
    if (existsSync(path.join(dest, file))) chmodSync(path.join(dest, file), 0o755);
  }
  for (const file of rule?.required?.(target) ?? []) {
    if (!existsSync(path.join(dest, file))) {
      throw new Error(
        `After pruning, ${path.basename(src)} lacks ${file}: it cannot load on ${target.os}-${target.arch}.`,
      );
    }
  }
}
