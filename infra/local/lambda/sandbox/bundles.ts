/**
 * The code local execution environments run, as Lambda runs it: each function's handler bundled by
 * esbuild into one ESM file with the deployment's options (infra/aws/bundling/bundle.ts; the
 * native packages left to node_modules), and the environments' runtime (runtime.ts) likewise. A
 * bundle loads in one parse: no TypeScript compiled in each environment, no module graph walked
 * through a loader (a cold start of the sources through tsx cost ~1-2 s of CPU, paid again by every
 * environment a burst starts).
 *
 * Built when a stack starts and a source changed, cached under
 * `node_modules/.cache/facerec-functions/` (a bundle's record lists the content hash of every file
 * esbuild read; any change rebuilds it). Bundles sit inside the project's node_modules so that their
 * external packages (sharp, onnxruntime-node, @ffmpeg-installer) resolve as they do for the sources.
 * Several processes may build at once: each builds in a folder of its own and renames it into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion } from 'esbuild';
import type { FunctionName } from '../../../../functions/core/facts.js';
import { functionBuildOptions } from '../../../aws/bundling/bundle.js';
import { defaultEntry, NATIVE_MODULES } from '../../../aws/functions.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** Where a bundle's sources are (esbuild's working folder) and where bundles are kept. */
export interface BundleStore {
  projectRoot: string;
  cacheDir: string;
}
const PROJECT_STORE: BundleStore = {
  projectRoot: PROJECT_ROOT,
  cacheDir: path.join(PROJECT_ROOT, 'node_modules', '.cache', 'facerec-functions'),
};
/** Bundles no record names any more are removed after this long (a running stack may still start
 * environments from one). */
const STALE_MS = 24 * 3600_000;

export interface BundleRequest {
  /** Cache entry name, e.g. `splitter`. */
  name: string;
  /** Absolute path of the TypeScript entry. */
  entry: string;
  /** Packages loaded from node_modules at run time. */
  external: string[];
}

interface BundleRecord {
  /** Hash of the build's options (esbuild's version and the host's Node major included). */
  options: string;
  /** Project-relative path -> sha256, size and mtime of each file the build read. */
  inputs: Record<string, Fingerprint>;
  /** Folder (under the cache) holding index.mjs and its source map. */
  dir: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A file's content hash, with the size and mtime it had: an unchanged stat spares the hashing. */
type Fingerprint = [hash: string, size: number, mtimeMs: number];

async function fingerprint(file: string): Promise<Fingerprint> {
  const st = await stat(file);
  return [sha256(await readFile(file)), st.size, st.mtimeMs];
}

/** Whether `file` still has the content `f` was taken of. */
async function unchanged(file: string, f: Fingerprint): Promise<boolean> {
  try {
    const st = await stat(file);
    if (st.size === f[1] && st.mtimeMs === f[2]) return true;
    return sha256(await readFile(file)) === f[0];
  } catch {
    return false;
  }
}

function buildOptionsOf(store: BundleStore, req: BundleRequest, outfile: string) {
  return {
    ...functionBuildOptions({
      entry: req.entry,
      projectRoot: store.projectRoot,
      outfile,
      nativeModules: req.external,
      nodeMajor: Number(process.versions.node.split('.')[0]),
    }),
    metafile: true,
  };
}

const optionsHash = (store: BundleStore, req: BundleRequest) =>
  sha256(JSON.stringify([esbuildVersion, buildOptionsOf(store, req, 'index.mjs')]));

/** The record's bundle, when every input still has the content it was built from. */
async function upToDate(
  { projectRoot, cacheDir }: BundleStore,
  req: BundleRequest,
  options: string,
): Promise<string | undefined> {
  let record: BundleRecord;
  try {
    record = JSON.parse(await readFile(path.join(cacheDir, `${req.name}.json`), 'utf8')) as BundleRecord;
  } catch {
    return undefined;
  }
  const file = path.join(cacheDir, record.dir, 'index.mjs');
  if (record.options !== options || !existsSync(file)) return undefined;
  const checks = await Promise.all(
    Object.entries(record.inputs).map(([input, f]) => unchanged(path.join(projectRoot, input), f)),
  );
  return checks.every(Boolean) ? file : undefined;
}

/** Builds the bundle in a folder of its own, renames it to its content's name, records it. */
async function rebuild(store: BundleStore, req: BundleRequest, options: string): Promise<string> {
  const { projectRoot, cacheDir } = store;
  await mkdir(cacheDir, { recursive: true });
  const work = path.join(cacheDir, `.${req.name}-${randomUUID()}`);
  const startedAt = Date.now();
  try {
    const result = await build(buildOptionsOf(store, req, path.join(work, 'index.mjs')));
    const inputs: Record<string, Fingerprint> = {};
    for (const input of Object.keys(result.metafile!.inputs)) {
      const file = path.join(projectRoot, input);
      if (existsSync(file)) inputs[input] = await fingerprint(file);
    }
    const dir = `${req.name}-${sha256(readFileSync(path.join(work, 'index.mjs'))).slice(0, 16)}`;
    const final = path.join(cacheDir, dir);
    if (existsSync(final)) rmSync(work, { recursive: true, force: true });
    else renameSync(work, final);
    // A source edited while esbuild ran: this bundle may hold the older text; record nothing, so
    // that the next start builds again.
    if (Object.values(inputs).some((f) => f[2] >= startedAt)) return path.join(final, 'index.mjs');
    const record: BundleRecord = { options, inputs, dir };
    const tmp = path.join(cacheDir, `.${req.name}-${randomUUID()}.json`);
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, path.join(cacheDir, `${req.name}.json`));
    removeStale(cacheDir, req.name, dir);
    return path.join(final, 'index.mjs');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Older bundles of `name` (and build folders of crashed processes) past STALE_MS. */
function removeStale(cacheDir: string, name: string, current: string): void {
  const now = Date.now();
  for (const entry of readdirSync(cacheDir)) {
    const ours = entry.startsWith(`${name}-`) || entry.startsWith(`.${name}-`);
    if (!ours || entry === current) continue;
    const full = path.join(cacheDir, entry);
    try {
      if (now - statSync(full).mtimeMs > STALE_MS) rmSync(full, { recursive: true, force: true });
    } catch {
      // Another process removed it.
    }
  }
}

/** The bundle of `req` (its index.mjs path): the stored one if its sources are unchanged, else
 * built now. */
export async function storedBundle(store: BundleStore, req: BundleRequest): Promise<string> {
  const options = optionsHash(store, req);
  return (await upToDate(store, req, options)) ?? rebuild(store, req, options);
}

const pending = new Map<string, Promise<string>>();

/** storedBundle in the project's cache, once per process and entry. */
function cachedBundle(req: BundleRequest): Promise<string> {
  const id = JSON.stringify(req);
  let p = pending.get(id);
  if (!p) {
    p = storedBundle(PROJECT_STORE, req);
    pending.set(id, p);
    p.catch(() => pending.delete(id));
  }
  return p;
}

/** The environments' runtime (runtime.ts), bundled; tsx stays external (loaded only to run a
 * TypeScript handler module that was not bundled: tests' handlers). */
export function runtimeBundle(): Promise<string> {
  return cachedBundle({
    name: 'runtime',
    entry: fileURLToPath(new URL('./runtime.ts', import.meta.url)),
    external: ['tsx'],
  });
}

/** A function's bundle (its `index.mjs`, export `handler`), as the deployment builds it. */
export function functionBundle(name: FunctionName): Promise<string> {
  return cachedBundle({ name, entry: defaultEntry(PROJECT_ROOT, name), external: NATIVE_MODULES[name] });
}
