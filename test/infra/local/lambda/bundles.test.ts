/**
 * The bundles local execution environments run (infra/local/lambda/sandbox/bundles.ts): built with
 * the deployment's esbuild options, kept while their sources are unchanged, rebuilt when one
 * changes, and safe when several processes build at once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { storedBundle, type BundleStore } from '#infra/local/lambda/sandbox/bundles.js';
import { tempDir } from '#test/support/videos.js';

/** A project with a handler importing a module, and a store of its own. */
function project(): { store: BundleStore; entry: string; write: (greeting: string) => void } {
  const root = tempDir('facerec-bundles-');
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'tsconfig.json'), '{}');
  const entry = path.join(root, 'src', 'handler.ts');
  writeFileSync(
    entry,
    "import { greeting } from './greeting.js';\nexport const handler = async (): Promise<string> => greeting;\n",
  );
  const write = (greeting: string) =>
    writeFileSync(path.join(root, 'src', 'greeting.ts'), `export const greeting: string = '${greeting}';\n`);
  write('hello');
  return { store: { projectRoot: root, cacheDir: path.join(root, 'cache') }, entry, write };
}

/** What the bundle's handler answers, run by Node as an environment runs it. */
const answer = (bundle: string) =>
  execFileSync(
    process.execPath,
    [
      '-e',
      `import(${JSON.stringify(pathToFileURL(bundle).href)}).then((m) => m.handler()).then(console.log)`,
    ],
    { encoding: 'utf8' },
  ).trim();

test('a bundle runs, is kept while its sources are unchanged, and is rebuilt when one changes', async () => {
  const { store, entry, write } = project();
  const req = { name: 'fn', entry, external: [] };
  const first = await storedBundle(store, req);
  expect(answer(first)).toBe('hello');
  // A build rewrites the bundle's record; a kept bundle leaves it as it was.
  const record = path.join(store.cacheDir, 'fn.json');
  const recordedAt = statSync(record, { bigint: true }).mtimeNs;

  const again = await storedBundle(store, req);
  expect(again).toBe(first);
  expect(statSync(record, { bigint: true }).mtimeNs).toBe(recordedAt);

  write('changed');
  const rebuilt = await storedBundle(store, req);
  expect(rebuilt).not.toBe(first);
  expect(answer(rebuilt)).toBe('changed');
}, 60_000);

test('builds at once in one store agree and leave no work folders behind', async () => {
  const { store, entry } = project();
  const req = { name: 'fn', entry, external: [] };
  const bundles = await Promise.all(Array.from({ length: 4 }, () => storedBundle(store, req)));
  expect(new Set(bundles).size).toBe(1);
  expect(answer(bundles[0])).toBe('hello');
  expect(readdirSync(store.cacheDir).filter((f) => f.startsWith('.'))).toEqual([]);
}, 60_000);
