/**
 * Platform packages the build machine lacks, fetched by the real npm client from a registry
 * (here a registry of our own on 127.0.0.1, in a child process: the fetch is synchronous, as CDK's
 * bundling is), checked against the pinned integrity, cached, and reused when the registry is gone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { copyNativeModules } from '#infra/aws/bundling/native-modules.js';
import {
  cacheEntryDir,
  fetchPinnedPackage,
  lockKeyFor,
  type PinnedPackage,
} from '#infra/aws/bundling/platform-packages.js';

const linuxX64 = { os: 'linux', arch: 'x64', libc: 'glibc' } as const;

let root: string;
let registry: ChildProcess | undefined;
let registryUrl: string;
const tarballs = new Map<string, { file: string; integrity: string; name: string; version: string }>();

/** An npm tarball (`package/...`) of `files`, and its sha512 integrity. */
function makeTarball(name: string, version: string, json: object, files: Record<string, string>) {
  const dir = mkdtempSync(path.join(root, 'pack-'));
  const pkgDir = path.join(dir, 'package');
  mkdirSync(pkgDir);
  writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name, version, ...json }));
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(pkgDir, f)), { recursive: true });
    writeFileSync(path.join(pkgDir, f), content);
  }
  const file = path.join(root, 'tarballs', `${name.replace(/[@/]/g, '_')}-${version}.tgz`);
  mkdirSync(path.dirname(file), { recursive: true });
  expect(spawnSync('tar', ['-czf', file, '-C', dir, 'package']).status).toBe(0);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
  tarballs.set(name, { file, integrity, name, version });
  return { name, version, integrity } satisfies PinnedPackage;
}

/** The registry: packuments and tarballs of `tarballs`, served by a child process. */
const REGISTRY = `
const http = require('node:http');
const fs = require('node:fs');
const pkgs = JSON.parse(process.argv[1]);
const server = http.createServer((req, res) => {
  const url = decodeURIComponent(req.url.split('?')[0]);
  const base = 'http://127.0.0.1:' + server.address().port;
  const tar = Object.values(pkgs).find((p) => url === '/tarballs/' + require('node:path').basename(p.file));
  if (tar) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); return res.end(fs.readFileSync(tar.file)); }
  const p = pkgs[url.slice(1)];
  if (!p) { res.writeHead(404, { 'content-type': 'application/json' }); return res.end('{"error":"not found"}'); }
  const dist = { tarball: base + '/tarballs/' + require('node:path').basename(p.file), integrity: p.integrity };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: p.name, 'dist-tags': { latest: p.version }, versions: { [p.version]: { name: p.name, version: p.version, dist } } }));
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

async function startRegistry(): Promise<void> {
  registry = spawn(process.execPath, ['-e', REGISTRY, JSON.stringify(Object.fromEntries(tarballs))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  registry.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  while (!/PORT \d+/.test(out)) await once(registry.stdout!, 'data');
  registryUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(out)![1]}/`;
}

async function stopRegistry(): Promise<void> {
  const child = registry;
  registry = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}

/** npm pointed at our registry, with its own empty cache and no user config. */
function npmEnv(cache = 'npm-cache'): Record<string, string> {
  const userconfig = path.join(root, 'npmrc');
  writeFileSync(userconfig, '');
  return {
    npm_config_registry: registryUrl,
    npm_config_cache: path.join(root, cache),
    npm_config_userconfig: userconfig,
    npm_config_fetch_retries: '0',
    npm_config_fetch_timeout: '20000',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'facerec-platform-'));
  tarballs.clear();
});
afterEach(async () => {
  await stopRegistry();
  rmSync(root, { recursive: true, force: true });
});

test('fetches the pinned package through npm, checks it, caches it, and reuses the cache with the registry gone', async () => {
  const pin = makeTarball('@x/tool-linux-x64', '2.1.0', { os: ['linux'], cpu: ['x64'] }, { bin: 'ELF' });
  await startRegistry();
  const cacheDir = path.join(root, 'cache');
  const fetched: string[] = [];
  const dir = fetchPinnedPackage(pin, {
    cacheDir,
    npmEnv: npmEnv(),
    onFetch: (p) => fetched.push(`${p.name}@${p.version}`),
  });
  expect(fetched).toEqual(['@x/tool-linux-x64@2.1.0']);
  expect(dir).toBe(cacheEntryDir(pin, cacheDir));
  expect(readFileSync(path.join(dir, 'bin'), 'utf8')).toBe('ELF');
  expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version).toBe('2.1.0');
  // Nothing half-done left beside it.
  expect(readdirSync(cacheDir)).toEqual([path.basename(dir)]);

  // Offline: registry stopped, and a fresh npm cache (npm itself could not serve it).
  await stopRegistry();
  const again = fetchPinnedPackage(pin, {
    cacheDir,
    npmEnv: npmEnv('npm-cache-2'),
    onFetch: (p) => fetched.push(p.name),
  });
  expect(again).toBe(dir);
  expect(fetched).toHaveLength(1);
});

test('a tarball that is not the pinned one is refused, and nothing is cached', async () => {
  const real = makeTarball('tool-linux-x64', '1.0.0', { os: ['linux'] }, { bin: 'genuine' });
  await startRegistry();
  const cacheDir = path.join(root, 'cache');
  const forged = { ...real, integrity: `sha512-${createHash('sha512').update('other').digest('base64')}` };
  expect(() => fetchPinnedPackage(forged, { cacheDir, npmEnv: npmEnv() })).toThrow(
    /tool-linux-x64@1\.0\.0 from the registry does not match the integrity pinned for it.*package-lock\.json/s,
  );
  expect(existsSync(cacheEntryDir(forged, cacheDir))).toBe(false);
  expect(readdirSync(cacheDir)).toEqual([]);
});

test('neither cache nor registry: a message that names the package, the cache and what to do', async () => {
  const pin = makeTarball('tool-linux-x64', '1.0.0', { os: ['linux'] }, { bin: 'x' });
  await startRegistry();
  const env = npmEnv();
  await stopRegistry(); // the registry's port now refuses connections
  const cacheDir = path.join(root, 'cache');
  let message = '';
  try {
    fetchPinnedPackage(pin, { cacheDir, npmEnv: env });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('tool-linux-x64@1.0.0 is needed for the Lambda bundle');
  expect(message).toContain(`neither installed here nor in the cache ${cacheDir}`);
  expect(message).toMatch(/npm could not fetch it from the registry/);
  expect(message).toMatch(/Connect to the npm registry once/);
});

test('lockKeyFor follows Node: the nested copy first, then each parent up to the top', () => {
  const lock = {
    'node_modules/a': {},
    'node_modules/b': {},
    'node_modules/a/node_modules/b': {},
    'node_modules/@s/c': {},
  };
  expect(lockKeyFor(lock, 'b', 'node_modules/a')).toBe('node_modules/a/node_modules/b');
  expect(lockKeyFor(lock, 'b', 'node_modules/a/node_modules/b')).toBe('node_modules/a/node_modules/b');
  expect(lockKeyFor(lock, 'b', '')).toBe('node_modules/b');
  expect(lockKeyFor(lock, '@s/c', 'node_modules/a/node_modules/b')).toBe('node_modules/@s/c');
  expect(lockKeyFor(lock, 'missing', 'node_modules/a')).toBeUndefined();
});

describe('copyNativeModules on a host without the target platform packages (a Mac)', () => {
  /** A project whose lock pins every platform's package but whose node_modules holds the host's. */
  function project(lockPackages: Record<string, object>) {
    const proj = path.join(root, 'proj');
    const nm = path.join(proj, 'node_modules');
    mkdirSync(path.join(nm, 'addon'), { recursive: true });
    writeFileSync(
      path.join(nm, 'addon', 'package.json'),
      JSON.stringify({
        name: 'addon',
        version: '1.0.0',
        optionalDependencies: { '@x/addon-linux-x64': '1.0.0', '@x/addon-darwin-arm64': '1.0.0' },
      }),
    );
    writeFileSync(path.join(nm, 'addon', 'index.js'), '');
    // The Mac's own binary is installed; the linux one is not.
    mkdirSync(path.join(nm, '@x', 'addon-darwin-arm64'), { recursive: true });
    writeFileSync(
      path.join(nm, '@x', 'addon-darwin-arm64', 'package.json'),
      JSON.stringify({ name: '@x/addon-darwin-arm64', version: '1.0.0', os: ['darwin'], cpu: ['arm64'] }),
    );
    writeFileSync(
      path.join(proj, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        packages: { '': {}, 'node_modules/addon': { version: '1.0.0' }, ...lockPackages },
      }),
    );
    return proj;
  }

  test('the missing linux-x64 package comes, pinned, from the registry into the bundle; other platforms stay out', async () => {
    const linux = makeTarball(
      '@x/addon-linux-x64',
      '1.0.0',
      { os: ['linux'], cpu: ['x64'] },
      { 'addon.node': 'linux binary' },
    );
    await startRegistry();
    const proj = project({
      'node_modules/@x/addon-linux-x64': {
        version: '1.0.0',
        integrity: linux.integrity,
        os: ['linux'],
        cpu: ['x64'],
        optional: true,
      },
      'node_modules/@x/addon-darwin-arm64': {
        version: '1.0.0',
        integrity: 'sha512-AAAA',
        os: ['darwin'],
        cpu: ['arm64'],
        optional: true,
      },
      // Pinned, for linux, but another libc: not for Lambda.
      'node_modules/@x/addon-linuxmusl-x64': {
        version: '1.0.0',
        integrity: 'sha512-AAAA',
        os: ['linux'],
        cpu: ['x64'],
        libc: ['musl'],
        optional: true,
      },
    });
    const out = path.join(root, 'out');
    const fetched: string[] = [];
    const { packages } = copyNativeModules(['addon'], proj, out, linuxX64, {
      cacheDir: path.join(root, 'cache'),
      npmEnv: npmEnv(),
      onFetch: (p) => fetched.push(p.name),
    });
    expect(fetched).toEqual(['@x/addon-linux-x64']);
    expect(packages).toEqual([
      { name: 'addon', version: '1.0.0', from: 'node_modules/addon' },
      {
        name: '@x/addon-linux-x64',
        version: '1.0.0',
        from: 'node_modules/@x/addon-linux-x64',
        fetched: true,
      },
    ]);
    expect(readFileSync(path.join(out, 'node_modules/@x/addon-linux-x64/addon.node'), 'utf8')).toBe(
      'linux binary',
    );
    expect(readdirSync(path.join(out, 'node_modules/@x'))).toEqual(['addon-linux-x64']);
    expect(existsSync(path.join(out, 'node_modules/@x/addon-linux-x64/.facerec-verified'))).toBe(false);
  });

  test('an installed native package without the target binary is replaced by the pinned one (onnxruntime-node)', async () => {
    const full = makeTarball(
      'onnxruntime-node',
      '1.30.0',
      { os: ['win32', 'darwin', 'linux'] },
      {
        'dist/index.js': '',
        'bin/napi-v6/linux/x64/onnxruntime_binding.node': 'linux x64',
        'bin/napi-v6/darwin/arm64/onnxruntime_binding.node': 'mac',
      },
    );
    await startRegistry();
    const proj = path.join(root, 'proj');
    const ort = path.join(proj, 'node_modules', 'onnxruntime-node');
    // As an install that kept only the host's (darwin) binaries would leave it.
    mkdirSync(path.join(ort, 'bin/napi-v6/darwin/arm64'), { recursive: true });
    writeFileSync(
      path.join(ort, 'package.json'),
      JSON.stringify({ name: 'onnxruntime-node', version: '1.30.0', os: ['win32', 'darwin', 'linux'] }),
    );
    writeFileSync(path.join(ort, 'bin/napi-v6/darwin/arm64/onnxruntime_binding.node'), 'mac');
    writeFileSync(
      path.join(proj, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        packages: { 'node_modules/onnxruntime-node': { version: '1.30.0', integrity: full.integrity } },
      }),
    );
    const out = path.join(root, 'out');
    const { packages } = copyNativeModules(['onnxruntime-node'], proj, out, linuxX64, {
      cacheDir: path.join(root, 'cache'),
      npmEnv: npmEnv(),
    });
    expect(packages).toEqual([
      { name: 'onnxruntime-node', version: '1.30.0', from: 'node_modules/onnxruntime-node', fetched: true },
    ]);
    const bin = path.join(out, 'node_modules/onnxruntime-node/bin/napi-v6');
    expect(readdirSync(bin)).toEqual(['linux']);
    expect(readFileSync(path.join(bin, 'linux/x64/onnxruntime_binding.node'), 'utf8')).toBe('linux x64');
  });
});
