/**
 * The platform filter and pruning of copyNativeModules, on a made-up node_modules tree (the
 * real onnxruntime-node/sharp/ffmpeg bundles are checked in stack.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyNativeModules, supportsTarget } from '#infra/aws/bundling/native-modules.js';

const linuxX64 = { os: 'linux', arch: 'x64', libc: 'glibc' } as const;

let root: string;
let out: string;

function pkg(dir: string, json: Record<string, unknown>, files: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: '1.0.0', ...json }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'facerec-native-'));
  out = path.join(root, 'out');
  const nm = path.join(root, 'node_modules');
  pkg(
    path.join(nm, 'addon'),
    {
      name: 'addon',
      dependencies: { helper: '1' },
      optionalDependencies: {
        '@x/addon-linux-x64': '1',
        '@x/addon-linux-arm64': '1',
        '@x/addon-darwin-arm64': '1',
      },
    },
    { 'index.js': 'module.exports = 1', 'README.md': '#', 'index.d.ts': 'export {}', 'index.js.map': '{}' },
  );
  pkg(path.join(nm, 'helper'), { name: 'helper' }, { 'index.js': '' });
  // A nested, different version of helper under addon wins for addon (npm layout kept).
  pkg(
    path.join(nm, '@x', 'addon-linux-x64'),
    { name: '@x/addon-linux-x64', os: ['linux'], cpu: ['x64'] },
    { 'a.node': 'x' },
  );
  pkg(
    path.join(nm, '@x', 'addon-linux-arm64'),
    { name: '@x/addon-linux-arm64', os: ['linux'], cpu: ['arm64'] },
    { 'a.node': 'x' },
  );
  pkg(path.join(nm, '@x', 'addon-darwin-arm64'), {
    name: '@x/addon-darwin-arm64',
    os: ['darwin'],
    cpu: ['arm64'],
  });
  pkg(path.join(nm, '@x', 'addon-linux-x64-musl'), {
    name: '@x/addon-linux-x64-musl',
    os: ['linux'],
    libc: ['musl'],
  });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('copies the root, its dependencies, and only the optional packages for linux-x64 glibc', () => {
  const { packages } = copyNativeModules(['addon'], root, out, linuxX64);
  expect(packages.map((p) => p.name).sort()).toEqual(['@x/addon-linux-x64', 'addon', 'helper']);
  expect(readdirSync(path.join(out, 'node_modules', '@x'))).toEqual(['addon-linux-x64']);
});

test('drops docs, type declarations and source maps, keeps code', () => {
  copyNativeModules(['addon'], root, out, linuxX64);
  expect(readdirSync(path.join(out, 'node_modules', 'addon')).sort()).toEqual(['index.js', 'package.json']);
});

test('for arm64, the arm64 package instead', () => {
  copyNativeModules(['addon'], root, out, { ...linuxX64, arch: 'arm64' });
  expect(readdirSync(path.join(out, 'node_modules', '@x'))).toEqual(['addon-linux-arm64']);
});

test('keeps nested node_modules where npm put them', () => {
  pkg(path.join(root, 'node_modules', 'addon', 'node_modules', 'helper'), {
    name: 'helper',
    version: '2.0.0',
  });
  const { packages } = copyNativeModules(['addon'], root, out, linuxX64);
  expect(packages.find((p) => p.name === 'helper')).toEqual({
    name: 'helper',
    version: '2.0.0',
    from: 'node_modules/addon/node_modules/helper',
  });
  expect(existsSync(path.join(out, 'node_modules', 'addon', 'node_modules', 'helper', 'package.json'))).toBe(
    true,
  );
  expect(existsSync(path.join(out, 'node_modules', 'helper'))).toBe(false);
});

test('a missing required dependency is an error that says to run npm ci', () => {
  rmSync(path.join(root, 'node_modules', 'helper'), { recursive: true });
  expect(() => copyNativeModules(['addon'], root, out, linuxX64)).toThrow(
    /helper \(needed by addon\).*npm ci/,
  );
});

test('sharp without its linux binary for the target, and no lock pinning one, is an error that says what to do', () => {
  pkg(path.join(root, 'node_modules', 'sharp'), { name: 'sharp' }, { 'dist/index.cjs': '' });
  expect(() => copyNativeModules(['sharp'], root, out, { ...linuxX64, arch: 'arm64' })).toThrow(
    /sharp needs @img\/sharp-linux-arm64 on Lambda linux-arm64, but it is neither installed here nor pinned in package-lock\.json.*npm install/s,
  );
});

test('onnxruntime-node keeps bin/napi-v*/linux/<arch> only, and neither its install scripts nor their dependencies', () => {
  const nm = path.join(root, 'node_modules');
  pkg(
    path.join(nm, 'onnxruntime-node'),
    {
      name: 'onnxruntime-node',
      dependencies: { 'onnxruntime-common': '1', 'adm-zip': '1', 'global-agent': '1' },
    },
    {
      'dist/index.js': '',
      'lib/index.ts': '',
      'script/install.js': '',
      'bin/napi-v6/linux/x64/onnxruntime_binding.node': 'x',
      'bin/napi-v6/linux/x64/libonnxruntime.so.1': 'x',
      'bin/napi-v6/linux/arm64/onnxruntime_binding.node': 'x',
      'bin/napi-v6/darwin/arm64/onnxruntime_binding.node': 'x',
      'bin/napi-v6/win32/x64/onnxruntime_binding.node': 'x',
    },
  );
  pkg(path.join(nm, 'onnxruntime-common'), { name: 'onnxruntime-common' }, { 'dist/cjs/index.js': '' });
  const { packages } = copyNativeModules(['onnxruntime-node'], root, out, linuxX64);
  expect(packages.map((p) => p.name).sort()).toEqual(['onnxruntime-common', 'onnxruntime-node']);
  const ort = path.join(out, 'node_modules', 'onnxruntime-node');
  expect(readdirSync(ort).sort()).toEqual(['bin', 'dist', 'package.json']);
  expect(readdirSync(path.join(ort, 'bin', 'napi-v6'))).toEqual(['linux']);
  expect(readdirSync(path.join(ort, 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
});

test('supportsTarget follows npm: os/cpu/libc lists, with ! negations', () => {
  expect(supportsTarget({}, linuxX64)).toBe(true);
  expect(supportsTarget({ os: ['!win32'] }, linuxX64)).toBe(true);
  expect(supportsTarget({ cpu: ['!x64'] }, linuxX64)).toBe(false);
  expect(supportsTarget({ libc: ['musl'] }, linuxX64)).toBe(false);
});
