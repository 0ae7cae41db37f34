/**
 * `facerec identify / compare / enroll` with folders and long argument lists (issue 12): ~390
 * paths (30 KB of command line) used to end the process with SIGSEGV before any output (see
 * functions/core/faces/onnxruntime-init.ts). Runs the real command in a child process.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expandImagePaths } from '#cli/lib/image-paths.js';
import { repoRoot, tempDir } from '#test/support/videos.js';

const run = promisify(execFile);
const FACE = path.join(repoRoot, 'test/fixtures/reference/face1-112.png');
const FACE_BIG = path.join(repoRoot, 'test/fixtures/reference/face1-150.png');
const facerec = (args: string[]) =>
  run(process.execPath, [path.join(repoRoot, 'bin/facerec.js'), ...args], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FACEREC_ONNX_THREADS: '1' },
  });

test('expandImagePaths: files as given, folders walked in order, loops and hidden entries skipped', async () => {
  const dir = tempDir('facerec-paths-');
  mkdirSync(path.join(dir, 'b/deeper'), { recursive: true });
  mkdirSync(path.join(dir, '.hidden'));
  for (const f of ['b/2.PNG', 'b/1.jpg', 'b/deeper/3.webp', 'b/notes.txt', '.hidden/x.jpg', 'a.jpeg']) {
    writeFileSync(path.join(dir, f), 'x');
  }
  symlinkSync(path.join(dir, 'b'), path.join(dir, 'b/deeper/loop'));
  // A FIFO would be read until something writes to it: said, never opened.
  execFileSync('mkfifo', [path.join(dir, 'pipe.jpg')]);
  const r = await expandImagePaths([
    path.join(dir, 'a.jpeg'),
    path.join(dir, 'b'),
    path.join(dir, 'nope.jpg'),
    path.join(dir, 'b/notes.txt'),
    path.join(dir, 'pipe.jpg'),
  ]);
  expect(r.files.map((f) => path.relative(dir, f))).toEqual([
    'a.jpeg',
    'b/1.jpg',
    'b/2.PNG',
    'b/deeper/3.webp',
    'b/notes.txt',
  ]);
  expect(r.missing).toEqual([
    { path: path.join(dir, 'nope.jpg'), error: 'no such file or folder' },
    { path: path.join(dir, 'pipe.jpg'), error: 'not a regular file' },
  ]);
});

test('identify with 160 long paths (36 KB of arguments) and a folder; enroll --person; compare against a folder', async () => {
  const dir = tempDir('facerec-cli-');
  const gallery = path.join(dir, 'gallery.json');
  const enrolled = await facerec(['enroll', '--person', 'Alice', FACE_BIG, '--gallery', gallery, '--json']);
  expect(JSON.parse(enrolled.stdout)).toMatchObject({ people: [{ name: 'Alice', images: 1 }] });

  const many = path.join(dir, 'many');
  mkdirSync(many);
  const paths = Array.from({ length: 160 }, (_, i) => {
    const p = path.join(many, `${String(i).padStart(3, '0')}-${'long-image-name-'.repeat(13)}.png`);
    symlinkSync(FACE, p);
    return p;
  });
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);
  symlinkSync(FACE, path.join(folder, 'one.png'));
  symlinkSync(FACE_BIG, path.join(folder, 'two.png'));
  const args = ['identify', ...paths, folder, '--gallery', gallery, '--json'];
  expect(args.join(' ').length).toBeGreaterThan(35_000);
  const { stdout } = await facerec(args);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file: string; faces: Array<{ name: string }> });
  expect(lines).toHaveLength(162);
  expect(lines.at(-1)!.file).toBe(path.join(folder, 'two.png'));
  expect(lines.every((l) => l.faces[0]?.name === 'Alice')).toBe(true);

  const compared = await facerec(['compare', FACE_BIG, folder, '--json']);
  const pairs = compared.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { b: string; same: boolean });
  expect(pairs.map((p) => [path.basename(p.b), p.same])).toEqual([
    ['one.png', true],
    ['two.png', true],
  ]);
}, 180_000);
