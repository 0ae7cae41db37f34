/**
 * Builds one Lambda function's code directory, without Docker:
 *   index.mjs (+ .map)     the handler and everything it imports, bundled by esbuild as ESM
 *   node_modules/...       native packages esbuild must leave external, pruned to linux/<arch>
 *   <extra files>          the ONNX models, the gallery, ...
 *
 * The CDK stack calls this from `bundling.local.tryBundle`; functions/Dockerfile calls it through
 * cli.ts, so the zip and the container image hold the same files.
 */
import { buildSync, type BuildOptions } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_NODE_MAJOR } from './lambda-runtime.js';
import { copyNativeModules, type CopiedPackage, type LambdaArch } from './native-modules.js';

/** Lambda's limit for a function's code, unzipped, layers included. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

export interface ExtraFile {
  /** Absolute path on the build machine. */
  from: string;
  /** Path inside the bundle (posix). */
  to: string;
  /** Mark executable (ffmpeg). */
  executable?: boolean;
}

export interface BundleSpec {
  /** Function name, for messages. */
  name: string;
  /** Absolute path of the TypeScript handler module (exports `handler`). */
  entry: string;
  /** Folder holding package.json, tsconfig.json and node_modules. */
  projectRoot: string;
  /** Packages loaded at run time from node_modules (native addons, binaries), never bundled. */
  nativeModules?: string[];
  extraFiles?: ExtraFile[];
  arch: LambdaArch;
  /** Defaults to true: smaller file, faster cold start; the source map keeps stack traces readable. */
  minify?: boolean;
  /** Where platform packages this machine lacks are cached (default: the per-user cache,
   * platform-packages.ts defaultPackageCache). */
  packageCache?: string;
}

export interface BundleReport {
  name: string;
  outDir: string;
  /** Unzipped size of everything in outDir. */
  totalBytes: number;
  /** Unzipped size per top-level entry (`index.mjs`, `node_modules/sharp`, `models`, ...). */
  breakdown: Record<string, number>;
  packages: CopiedPackage[];
}

/**
 * Lets CommonJS dependencies bundled into ESM call `require` (esbuild's interop shim looks for
 * a `require` in scope). The aliased import avoids clashing with names in bundled modules.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __facerecCreateRequire } from 'node:module'; const require = __facerecCreateRequire(import.meta.url);";

/**
 * esbuild's options for a function's `index.mjs`: one ESM file, native packages left to
 * node_modules. Shared by the deployment and by local mode, which runs the same bundles
 * (infra/local/lambda/sandbox/bundles.ts) built for this machine's Node.
 */
export function functionBuildOptions(o: {
  entry: string;
  projectRoot: string;
  outfile: string;
  nativeModules?: string[];
  /** Node major the code must run on (default: Lambda's). */
  nodeMajor?: number;
  minify?: boolean;
}): BuildOptions {
  return {
    absWorkingDir: o.projectRoot,
    entryPoints: [o.entry],
    outfile: o.outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${o.nodeMajor ?? LAMBDA_NODE_MAJOR}`,
    // Prefer packages' ESM builds: better tree shaking, no interop.
    mainFields: ['module', 'main'],
    external: (o.nativeModules ?? []).flatMap((m) => [m, `${m}/*`]),
    banner: { js: ESM_REQUIRE_BANNER },
    minify: o.minify ?? true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    tsconfig: path.join(o.projectRoot, 'tsconfig.json'),
    logLevel: 'silent',
  };
}

export function bundleFunction(spec: BundleSpec, outDir: string): BundleReport {
  if (!existsSync(spec.entry)) {
    throw new Error(`Cannot bundle the ${spec.name} function: its handler ${spec.entry} does not exist.`);
  }
  mkdirSync(outDir, { recursive: true });
  const result = buildSync(
    functionBuildOptions({
      entry: spec.entry,
      projectRoot: spec.projectRoot,
      outfile: path.join(outDir, 'index.mjs'),
      nativeModules: spec.nativeModules,
      minify: spec.minify,
    }),
  );
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed for ${spec.name}: ${result.errors.map((e) => e.text).join('; ')}`);
  }

  const { packages } = spec.nativeModules?.length
    ? copyNativeModules(
        spec.nativeModules,
        spec.projectRoot,
        outDir,
        {
          os: 'linux',
          arch: spec.arch,
          libc: 'glibc',
        },
        {
          cacheDir: spec.packageCache,
          onFetch: (pkg) =>
            process.stderr.write(
              `facerec: fetched ${pkg.name}@${pkg.version} (not installed here; integrity checked)\n`,
            ),
        },
      )
    : { packages: [] };

  for (const file of spec.extraFiles ?? []) {
    if (!existsSync(file.from)) {
      throw new Error(`Cannot bundle the ${spec.name} function: ${file.from} does not exist.`);
    }
    const dest = path.join(outDir, ...file.to.split('/'));
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(file.from, dest);
    chmodSync(dest, file.executable ? 0o755 : 0o644);
  }

  const breakdown = sizeBreakdown(outDir);
  const totalBytes = Object.values(breakdown).reduce((a, b) => a + b, 0);
  const report: BundleReport = { name: spec.name, outDir, totalBytes, breakdown, packages };
  if (totalBytes >= LAMBDA_UNZIPPED_LIMIT_BYTES) {
    throw new Error(
      `The ${spec.name} bundle is ${formatMB(totalBytes)} unzipped, over Lambda's 250 MB limit:\n${formatBreakdown(report)}`,
    );
  }
  return report;
}

/** Bytes of regular files under `dir`, recursively (symlinks counted as links, not followed). */
export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(full);
    else total += lstatSync(full).size;
  }
  return total;
}

/** Sizes of the top-level entries, with `node_modules` split per package. */
function sizeBreakdown(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name === 'node_modules' && entry.isDirectory()) {
      for (const pkg of readdirSync(full)) {
        const pkgDir = path.join(full, pkg);
        const names = pkg.startsWith('@') ? readdirSync(pkgDir).map((p) => `${pkg}/${p}`) : [pkg];
        for (const name of names) out[`node_modules/${name}`] = directorySize(path.join(full, name));
      }
    } else {
      out[entry.name] = entry.isDirectory() ? directorySize(full) : statSync(full).size;
    }
  }
  return out;
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatBreakdown(report: BundleReport): string {
  return Object.entries(report.breakdown)
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => `  ${formatMB(bytes).padStart(9)}  ${name}`)
    .join('\n');
}
