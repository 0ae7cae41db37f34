/**
 * The install (package.json, .npmrc): npm commands in the project print no config warning, and
 * onnxruntime-node's CUDA download stays skipped (package.json's allowScripts denies its install
 * script; issue 20 point 5).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '#test/support/videos.js';

const run = promisify(execFile);

test('npm in the project warns about no config key (the old .npmrc key made every npm and npx command warn)', async () => {
  const { stdout, stderr } = await run('npm', ['config', 'get', 'registry'], {
    cwd: repoRoot,
    timeout: 60_000,
  });
  expect(stdout.trim()).toMatch(/^https?:\/\//);
  expect(stderr).not.toMatch(/Unknown project config/);
  // .npmrc holds comments only: nothing npm could call unknown.
  const keys = readFileSync(path.join(repoRoot, '.npmrc'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  expect(keys).toEqual([]);
}, 90_000);

test("onnxruntime-node's install script is denied, and no CUDA library was downloaded", () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    allowScripts?: Record<string, boolean>;
  };
  expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  const bin = path.join(
    repoRoot,
    'node_modules/onnxruntime-node/bin/napi-v6',
    process.platform,
    process.arch,
  );
  expect(existsSync(bin)).toBe(true);
  expect(readdirSync(bin).filter((f) => /providers_(cuda|tensorrt|shared)/.test(f))).toEqual([]);
});
