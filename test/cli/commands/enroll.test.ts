/**
 * `facerec enroll` with the real engine on a people folder made from face-api's demo photos:
 * what it reports (no face, several faces, a small face, a photo of someone else under a name,
 * one photo under two names, the threshold in plain words), that it never writes a gallery with
 * no one in it, that it writes a binary store when asked, and that a run killed with SIGKILL
 * resumes without describing its photos again.
 */
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { readGallery, galleryPeople, isCompiled } from '#functions/core/gallery/read.js';
import { demoPeople, demoPhotos, faceCrop, type Person } from '#cli/lib/demo-data.js';
import { background } from '#bench/face-frames.js';
import { runEnroll } from '#cli/commands/enroll.js';
import { journalPathOf } from '#functions/core/gallery/enroll-journal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let dir: string;
let people: Person[];

const find = (name: string) => people.find((p) => p.name === name)!;

async function put(file: string, bytes: Uint8Array | Buffer) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

/** runEnroll in this process, its --json summary parsed. */
async function enroll(folder: string, gallery: string, extra: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const log = jest
    .spyOn(console, 'log')
    .mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const code = await runEnroll([folder], { gallery, json: true, ...extra });
    return { code, summary: JSON.parse(lines[lines.length - 1]) };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'enroll-cli-'));
  people = await demoPeople(await createFaceEngine(loadConfig({}).engine));
  const folder = path.join(dir, 'people');
  const ann = find('sample1-face1');
  await put(path.join(folder, 'ann', '1.jpg'), await faceCrop(ann, 1.6));
  await put(path.join(folder, 'ann', '2.jpg'), await faceCrop(ann, 2.2));
  await put(path.join(folder, 'ann', '3.jpg'), await faceCrop(ann, 1.9));
  // someone else under ann's name
  await put(path.join(folder, 'ann', '4.jpg'), await faceCrop(find('sample4-face1'), 1.6));
  const bob = await faceCrop(find('sample2-face1'), 1.6);
  await put(path.join(folder, 'bob', '1.jpg'), bob);
  // the very same photo under a second name
  await put(path.join(folder, 'robert', '1.jpg'), bob);
  await mkdir(path.join(folder, 'carol'), { recursive: true });
  await copyFile(demoPhotos()[2], path.join(folder, 'carol', 'group.jpg'));
  await put(path.join(folder, 'dave', 'wall.png'), await background(320, 240, 5));
  // a face about 50 px across (the crop is twice the face, made 100 px)
  const eve = find('sample5-face1');
  await put(path.join(folder, 'eve', 'small.jpg'), await faceCrop(eve, 2, 100));
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('facerec enroll', () => {
  it('reports each problem photo by path, and the threshold in plain words', async () => {
    const gallery = path.join(dir, 'g.json');
    const { code, summary } = await enroll(path.join(dir, 'people'), gallery);
    expect(code).toBe(0);
    expect(summary.people.map((p: { name: string }) => p.name)).toEqual([
      'ann',
      'bob',
      'carol',
      'eve',
      'robert',
    ]);
    expect(summary.noFace.map((s: { file: string }) => s.file)).toEqual(['dave/wall.png']);
    expect(summary.peopleWithoutImages).toEqual(['dave']);
    expect(summary.mainFaceChosen.map((c: { file: string }) => c.file)).toEqual(['carol/group.jpg']);
    expect(summary.smallFaces).toEqual([{ person: 'eve', file: 'eve/small.jpg', px: expect.any(Number) }]);
    expect(summary.smallFaces[0].px).toBeLessThan(64);
    // the photo of someone else, with its distance from ann's other photos
    expect(summary.farPhotos[0]).toMatchObject({ person: 'ann', file: 'ann/4.jpg', others: 3 });
    expect(summary.farPhotos[0].distance).toBeGreaterThan(summary.threshold.threshold);
    expect(summary.samePhoto).toEqual([{ file: 'bob/1.jpg', people: ['bob', 'robert'] }]);
    expect(summary.twoNames.map((t: { person: string; other: string }) => `${t.person}->${t.other}`)).toEqual(
      expect.arrayContaining(['bob->robert', 'robert->bob']),
    );
    expect(summary.threshold.reason).toMatch(
      /aiming at 0\.2% of strangers \(1 in 500 searches\) named as someone/,
    );
    expect(summary.threshold.reason).toMatch(/only \d+ enrolled photos can be searched as strangers/);
    expect(existsSync(journalPathOf(gallery))).toBe(false);
  }, 300_000);

  it('prints names with control characters and terminal escapes made visible', async () => {
    const name = 'x\u001b[2J\u001b]0;pwn\u0007y';
    const folder = path.join(dir, 'hostile');
    await put(path.join(folder, name, '1.jpg'), await faceCrop(find('sample2-face1'), 1.6));
    const printed: string[] = [];
    const keep = (...a: unknown[]) => void printed.push(a.join(' '));
    const spies = [
      jest.spyOn(console, 'log').mockImplementation(keep),
      jest.spyOn(console, 'error').mockImplementation(keep),
      jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (keep(chunk), true)),
    ];
    try {
      expect(await runEnroll([folder], { gallery: path.join(dir, 'hostile.json') })).toBe(0);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const text = printed.join('\n');
    expect(text).toContain('x\\x1b[2J\\x1b]0;pwn\\x07y');
    // eslint-disable-next-line no-control-regex -- control characters are what must not be printed
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  }, 300_000);

  it('never writes a gallery with no one in it', async () => {
    const folder = path.join(dir, 'faceless');
    await put(path.join(folder, 'zed', 'wall.png'), await background(320, 240, 9));
    const gallery = path.join(dir, 'none.json');
    const { code, summary } = await enroll(folder, gallery);
    expect(code).toBe(1);
    expect(summary).toMatchObject({ written: false, people: [] });
    expect(existsSync(gallery)).toBe(false);
  }, 300_000);

  it('writes a binary store when the name is not .json, read back with the same people', async () => {
    const gallery = path.join(dir, 'g.gallery');
    const { code, summary } = await enroll(path.join(dir, 'people'), gallery);
    expect(code).toBe(0);
    expect(summary.format).toBe('store');
    const read = await readGallery(gallery, undefined);
    if (!isCompiled(read)) throw new Error('not a store');
    expect(galleryPeople(read).map((p) => p.name)).toEqual(['ann', 'bob', 'carol', 'eve', 'robert']);
    expect(read.strangerSample?.people).toBe(5);
    expect(read.storedAs).toBe('float32');
  }, 300_000);

  it('killed with SIGKILL mid-way, resumes without describing the done photos again', async () => {
    const folder = path.join(dir, 'many');
    const faces = people.filter((p) => !p.name.startsWith('sample3')).slice(0, 8);
    for (const p of faces) await put(path.join(folder, p.name, '1.jpg'), await faceCrop(p, 1.7));
    const gallery = path.join(dir, 'many.json');
    const journal = journalPathOf(gallery);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'cli', 'main.ts'), 'enroll', folder, '--gallery', gallery],
      { cwd: root, stdio: 'ignore', env: { ...process.env, FACEREC_ONNX_THREADS: '1' } },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it once the journal holds two photos (it is written photo by photo).
    await new Promise<void>((resolve, reject) => {
      const watch = setInterval(() => {
        const lines = existsSync(journal)
          ? readFileSync(journal, 'utf8').split('\n').filter(Boolean).length
          : 0;
        if (lines >= 2) {
          clearInterval(watch);
          child.kill('SIGKILL');
          resolve();
        }
      }, 50);
      child.on('exit', () => {
        clearInterval(watch);
        reject(new Error('enroll finished before it could be killed'));
      });
    });
    await exited;
    expect(existsSync(gallery)).toBe(false);
    // lines that parse: a line torn by the kill would not count (the journal skips it too)
    const done = readFileSync(journal, 'utf8')
      .split('\n')
      .filter((l) => {
        try {
          return Boolean(JSON.parse(l));
        } catch {
          return false;
        }
      }).length;
    expect(done).toBeGreaterThanOrEqual(2);
    const { code, summary } = await enroll(folder, gallery);
    expect(code).toBe(0);
    expect(summary.resumed).toBe(done);
    expect(summary.enrolled).toBe(faces.length);
    expect(summary.people).toHaveLength(faces.length);
    expect(existsSync(journal)).toBe(false);
  }, 300_000);
});
