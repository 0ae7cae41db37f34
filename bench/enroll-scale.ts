/**
 * Enrolment at scale (issue 25 point 4): `npm run bench:enroll-scale [-- --photos 10000 --kill-at 0.4]`.
 *
 * Makes a people folder of `--photos` distinct photos from `../shared/data/openset` and
 * `../shared/data/openset-large` (each LFW photo as it is, mirrored, and cropped to 90%, under its
 * person's name, until the count is reached), plus three photos enrolment must report: one with
 * no face, one with several faces (`../shared/data/faces/bbt1.jpg`) and one whose face is small.
 * Then runs the real `facerec enroll` into a binary store as a user would, kills it with SIGKILL
 * once `--kill-at` of the photos are in its journal, runs the same command again and prints:
 * the progress lines of both runs, how many photos the second run took from the journal and how
 * many it described, both wall times, and whether each bad photo was reported by its path.
 * Figures are printed, not asserted (docs/benchmarks.md holds the measured ones).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { journalPathOf } from '../functions/core/gallery/enroll-journal.js';
import { galleryPeople, readGallery } from '../functions/core/gallery/read.js';
import { repoRoot } from './face-frames.js';

const shared = path.resolve(repoRoot, '..', 'shared', 'data');

interface Source {
  person: string;
  file: string;
}

/** Every photo of both open-set folders, by person (LFW names), in a fixed order. */
async function sourcePhotos(): Promise<Source[]> {
  const out: Source[] = [];
  for (const set of ['openset', 'openset-large'])
    for (const part of ['gallery', 'probe-known', 'probe-strangers']) {
      const dir = path.join(shared, set, part);
      if (!existsSync(dir)) continue;
      for (const person of (await readdir(dir)).sort())
        for (const f of (await readdir(path.join(dir, person))).sort())
          if (/\.(jpe?g|png)$/i.test(f)) out.push({ person, file: path.join(dir, person, f) });
    }
  return out;
}

const VARIANTS = ['as-is', 'mirrored', 'cropped'] as const;

async function variant(bytes: Buffer, kind: (typeof VARIANTS)[number]): Promise<Buffer> {
  if (kind === 'as-is') return bytes;
  if (kind === 'mirrored') return sharp(bytes).flop().jpeg({ quality: 92 }).toBuffer();
  const { width = 250, height = 250 } = await sharp(bytes).metadata();
  const [w, h] = [Math.round(width * 0.9), Math.round(height * 0.9)];
  return sharp(bytes)
    .extract({ left: Math.round((width - w) / 2), top: Math.round((height - h) / 2), width: w, height: h })
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** The people folder: `photos` distinct photos, plus the three bad ones (returned by path). */
async function makeFolder(folder: string, photos: number) {
  const sources = await sourcePhotos();
  if (sources.length === 0)
    throw new Error(`no photos under ${shared}/openset*: the benchmark needs ../shared`);
  const seen = new Set<string>();
  let made = 0;
  for (const kind of VARIANTS) {
    for (const s of sources) {
      if (made >= photos) break;
      const bytes = await variant(await readFile(s.file), kind);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(sha)) continue; // the same LFW photo in both folders
      seen.add(sha);
      const target = path.join(folder, s.person, `${kind}-${path.basename(s.file)}`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, bytes);
      made++;
    }
  }
  const bad = {
    noFace: path.join(folder, 'Nobody_Here', 'blank.jpg'),
    severalFaces: path.join(folder, 'Group_Photo', 'bbt1.jpg'),
    smallFace: path.join(folder, 'Small_Face', 'small.jpg'),
  };
  await mkdir(path.dirname(bad.noFace), { recursive: true });
  await writeFile(
    bad.noFace,
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 120, b: 150 } } })
      .jpeg()
      .toBuffer(),
  );
  await mkdir(path.dirname(bad.severalFaces), { recursive: true });
  await writeFile(bad.severalFaces, await readFile(path.join(shared, 'faces', 'bbt1.jpg')));
  // An LFW photo (face ~110 px of 250) shrunk to 120 px: a face of ~50 px.
  await mkdir(path.dirname(bad.smallFace), { recursive: true });
  await writeFile(
    bad.smallFace,
    await sharp(await readFile(sources[0].file))
      .resize(120)
      .jpeg()
      .toBuffer(),
  );
  return { made, bad, sources: sources.length };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `facerec enroll` in a child process; killed with SIGKILL once `killAtJournalLines` photos are
 * in its journal (when given). */
function enroll(folder: string, gallery: string, killAtJournalLines?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin/facerec.js'), 'enroll', folder, '--gallery', gallery],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      process.stderr.write(c);
    });
    const journal = journalPathOf(gallery);
    // Lines counted as they are appended (the journal grows to tens of MB: never re-read whole).
    let offset = 0;
    let lines = 0;
    const watch =
      killAtJournalLines === undefined
        ? undefined
        : setInterval(() => {
            if (!existsSync(journal)) return;
            const fd = openSync(journal, 'r');
            try {
              const size = fstatSync(fd).size;
              if (size <= offset) return;
              const chunk = Buffer.alloc(size - offset);
              readSync(fd, chunk, 0, chunk.length, offset);
              offset = size;
              for (const byte of chunk) if (byte === 10) lines++;
            } finally {
              closeSync(fd);
            }
            if (lines >= killAtJournalLines) {
              clearInterval(watch);
              child.kill('SIGKILL');
            }
          }, 500);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (watch) clearInterval(watch);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

const program = new Command('bench:enroll-scale')
  .option(
    '--photos <n>',
    'distinct photos in the people folder (plus 3 bad ones)',
    (v) => parseInt(v, 10),
    10_000,
  )
  .option(
    '--kill-at <share>',
    'SIGKILL the first run once this share of photos is journalled',
    parseFloat,
    0.4,
  )
  .option('--keep', 'keep the temporary folder')
  .action(async (opts: { photos: number; killAt: number; keep?: boolean }) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enroll-scale-'));
    try {
      const folder = path.join(dir, 'people');
      const gallery = path.join(dir, 'people.gallery');
      let t = performance.now();
      const made = await makeFolder(folder, opts.photos);
      const total = made.made + 3;
      const people = (await readdir(folder)).length;
      console.log(
        `people folder: ${total} photos of ${people} people (${made.made} from ${made.sources} LFW photos as they are, ` +
          `mirrored, cropped; + no face, several faces, small face), made in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      const killAt = Math.max(1, Math.round(total * opts.killAt));
      console.log(
        `run 1: facerec enroll ${folder} --gallery ${gallery}, SIGKILL at ${killAt} journalled photos`,
      );
      const first = await enroll(folder, gallery, killAt);
      const journalled = existsSync(journalPathOf(gallery))
        ? readFileSync(journalPathOf(gallery), 'utf8').split('\n').filter(Boolean).length
        : 0;
      console.log(
        `run 1: ended by ${first.signal ?? `exit ${first.code}`} after ${first.seconds.toFixed(1)} s, ` +
          `${journalled} photos in the journal, gallery written: ${existsSync(gallery)}, ` +
          `${first.stderr.split('\n').filter((l) => l.startsWith('enroll: ')).length} progress lines`,
      );
      console.log('run 2: the same command');
      t = performance.now();
      const second = await enroll(folder, gallery);
      const resumedLine = second.stderr.split('\n').find((l) => l.startsWith('resuming:')) ?? '(none)';
      const counts = second.stdout.split('\n').find((l) => l.startsWith('enrolled ')) ?? '(none)';
      console.log(`run 2: exit ${second.code} after ${second.seconds.toFixed(1)} s`);
      console.log(`  ${resumedLine}`);
      console.log(`  ${counts}`);
      const g = existsSync(gallery) ? await readGallery(gallery, undefined) : undefined;
      const photosIn = g ? galleryPeople(g).reduce((n, p) => n + p.images, 0) : 0;
      console.log(
        `  gallery: ${g ? `${galleryPeople(g).length} people, ${photosIn} photos` : 'not written'}; ` +
          `journal left: ${existsSync(journalPathOf(gallery))}`,
      );
      for (const [what, file] of Object.entries(made.bad)) {
        const rel = path.relative(folder, file);
        const line = second.stdout.split('\n').find((l) => l.includes(rel));
        console.log(`  ${what} ${rel}: ${line ? `reported: ${line.trim()}` : 'NOT reported'}`);
      }
      for (const l of second.stdout
        .split('\n')
        .filter((l) => /^\S.*\(\d+\):$/.test(l) || l.startsWith('identification')))
        console.log(`  ${l}`);
      console.log(
        `total: ${(first.seconds + second.seconds).toFixed(1)} s wall for ${total} photos ` +
          `(${(((first.seconds + second.seconds) / total) * 1000).toFixed(0)} ms a photo)`,
      );
    } finally {
      if (opts.keep) console.log(`kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    }
  });

await program.parseAsync();
