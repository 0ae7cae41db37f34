/**
 * Galleries of 100,000 people: `npm run bench:gallery-scale [-- --people 100000 --rounds 3]`.
 *
 * Synthetic templates (random unit vectors, MobileFaceNet's 512 values; one photo per person)
 * written as a binary store (float16 and float32), then measured as the recognition function
 * uses them:
 * - load: the file read and decoded into search matrices, and the first decision's preparation
 *   (the stored stranger sample, so nothing is measured again);
 * - search: one face, and a frame's worth of faces at once (the matrix is read once per pass);
 * - recognition's cold start: the recognition handler in a fresh process, first invocation on a
 *   one-face frame, with the store as its gallery against an empty gallery, alternated; and its
 *   memory (RSS) after that invocation.
 * Figures are printed, not asserted (docs/benchmarks.md holds the measured ones and the machine).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../functions/config.js';
import { decideIdentities, measureStrangers } from '../functions/core/faces/open-set.js';
import { emptyGallery, galleryFromBytes, type CompiledGallery } from '../functions/core/gallery/read.js';
import { galleryBytes, serializeGallery } from '../functions/core/gallery/write.js';
import type { StoreDtype } from '../functions/core/gallery/store.js';
import { nearestRows } from '../functions/core/faces/match.js';
import { randomUnitRows } from './synthetic-faces.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIZE = 512;

const randomTemplates = (count: number, seed: number) => randomUnitRows(count, SIZE, seed);

function syntheticGallery(modelId: string, people: number): CompiledGallery {
  const images = randomTemplates(people, 1);
  const names = Array.from({ length: people }, (_, i) => `Person ${String(i).padStart(6, '0')}`);
  const provenance = names.map((n, i) => ({
    file: `${n}/photo.jpg`,
    sha256: i.toString(16).padStart(64, '0'),
    recipe: 'views:mirror+zoom0.1',
  }));
  return {
    kind: 'compiled',
    modelId,
    descriptorSize: SIZE,
    id: 'synthetic',
    names,
    counts: new Uint32Array(people).fill(1),
    images,
    cohort: new Float32Array(),
    provenance: () => provenance,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Wall and CPU time (this process, every thread) of `f`: on a machine shared with other jobs the
 * wall time is an upper bound, the CPU time closer to the cost. */
async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000 };
}
const both = (xs: Array<{ wall: number; cpu: number }>) =>
  `${ms(median(xs.map((x) => x.wall)))} wall, ${ms(median(xs.map((x) => x.cpu)))} CPU`;

/** One recognition cold start in a fresh process: wall time to the first answer, and RSS. */
type ColdStart = { wallMs: number; rssMb: number; firstMs: number; firstCpuMs: number };

function coldStart(gallery: string): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'gallery-cold-start.ts')], {
      env: { ...process.env, FACEREC_GALLERY: gallery, FACEREC_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`cold start child exited ${code}: ${out}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<ColdStart, 'wallMs'>;
      resolve({ wallMs: performance.now() - started, ...r });
    });
  });
}

const program = new Command('bench:gallery-scale')
  .option('--people <n>', 'people in the synthetic gallery', (t) => Number(t), 100_000)
  .option('--rounds <n>', 'cold starts of each kind, alternated', (t) => Number(t), 3)
  .option('--dtype <list>', 'store value types to measure', (t) => t.split(','), ['float16', 'float32'])
  .action(async (opts: { people: number; rounds: number; dtype: StoreDtype[] }) => {
    const config = loadConfig().engine;
    const { pipelineModelId } = await import('../functions/core/faces/engine.js');
    const modelId = pipelineModelId(config);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gallery-scale-'));
    try {
      console.log(
        `machine: ${os.cpus().length} cores, load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
      let t = performance.now();
      const synthetic = syntheticGallery(modelId, opts.people);
      console.log(
        `${opts.people.toLocaleString('en-US')} synthetic people made in ${ms(performance.now() - t)}`,
      );
      t = performance.now();
      const sample = await measureStrangers(synthetic, config.descriptor);
      console.log(
        `stranger sample (${sample.distance.length} photos searched among ${opts.people.toLocaleString('en-US')}): ${ms(performance.now() - t)} (at enrolment or convert, once)`,
      );
      const files: Record<string, string> = {};
      for (const dtype of opts.dtype) {
        t = performance.now();
        const bytes = galleryBytes(synthetic, { format: 'store', dtype, strangerSample: sample });
        const file = path.join(dir, `gallery-${dtype}.store`);
        await writeFile(file, bytes);
        files[dtype] = file;
        console.log(
          `store ${dtype}: ${(bytes.length / 1e6).toFixed(1)} MB, encoded in ${ms(performance.now() - t)}`,
        );
      }
      const empty = path.join(dir, 'empty.json');
      await writeFile(empty, serializeGallery(emptyGallery(modelId, SIZE)));

      for (const dtype of opts.dtype) {
        const loads: Array<{ wall: number; cpu: number }> = [];
        const prepares: Array<{ wall: number; cpu: number }> = [];
        let loaded: CompiledGallery | undefined;
        for (let r = 0; r < 3; r++) {
          const load = await timed(
            async () =>
              galleryFromBytes(await readFile(files[dtype]), modelId, files[dtype]) as CompiledGallery,
          );
          loads.push(load);
          loaded = load.value;
          // threshold (the stored sample), templates, row norms, the first pass
          prepares.push(
            await timed(() => decideIdentities(load.value, [load.value.images.subarray(0, SIZE)], config)),
          );
        }
        console.log(
          `load ${dtype}: read + decode ${both(loads)}; first decision (preparation + one search) ${both(prepares)} ` +
            `(medians of 3); target <= 1 s together`,
        );
        const probes = randomTemplates(64, 2);
        // The same sitting's float32 pass (the search before the coarse pass; one photo per person,
        // so the templates are the photos), one face alone, for comparison.
        const photos = { data: loaded!.images, rows: opts.people, size: SIZE, norms: loaded!.imageNorms };
        const floatPass: Array<{ wall: number; cpu: number }> = [];
        for (let r = 0; r < 12; r++)
          floatPass.push(
            await timed(() =>
              nearestRows(photos, probes.subarray((r % 64) * SIZE, ((r % 64) + 1) * SIZE), 1, 'cosine', {
                threads: config.onnxThreads,
                coarseMinRows: Infinity,
              }),
            ),
          );
        console.log(
          `search ${dtype}, 1 face, one float32 pass over every template (before the coarse pass): ${both(floatPass)} (median of 12)`,
        );
        for (const batch of [1, 5, 8, 32]) {
          const times: Array<{ wall: number; cpu: number }> = [];
          for (let r = 0; r < 12; r++) {
            const faces = Array.from({ length: batch }, (_, i) =>
              probes.subarray(((r * batch + i) % 64) * SIZE, (((r * batch + i) % 64) + 1) * SIZE),
            );
            times.push(await timed(() => decideIdentities(loaded!, faces, config)));
          }
          const perFace = (k: 'wall' | 'cpu') => ms(median(times.map((x) => x[k])) / batch);
          console.log(
            `search ${dtype}, ${batch} face${batch === 1 ? '' : 's'} at once: ${both(times)} (median of 12); ` +
              `per face ${perFace('wall')} wall, ${perFace('cpu')} CPU (target <= 5 ms per face)`,
          );
        }
      }

      // Cold starts: an empty gallery and each store, alternated.
      const kinds = ['empty', ...opts.dtype] as const;
      const runs = new Map<string, ColdStart[]>(kinds.map((k) => [k, []]));
      for (let r = 0; r < opts.rounds; r++)
        for (const k of kinds) runs.get(k)!.push(await coldStart(k === 'empty' ? empty : files[k]));
      const med = (k: string, f: keyof ColdStart) => median(runs.get(k)!.map((x) => x[f]));
      for (const k of kinds) {
        const what =
          k === 'empty'
            ? 'empty gallery'
            : `${opts.people.toLocaleString('en-US')} people (${k} store, ${((await stat(files[k])).size / 1e6).toFixed(0)} MB)`;
        console.log(
          `recognition cold start, ${what}: process ${ms(med(k, 'wallMs'))}, first invocation ${ms(med(k, 'firstMs'))} wall ` +
            `(${ms(med(k, 'firstCpuMs'))} CPU), RSS ${med(k, 'rssMb').toFixed(0)} MB`,
        );
      }
      for (const k of opts.dtype)
        console.log(
          `cold start grows with the ${k} store by ${ms(med(k, 'firstMs') - med('empty', 'firstMs'))} wall, ` +
            `${ms(med(k, 'firstCpuMs') - med('empty', 'firstCpuMs'))} CPU (first invocation, medians of ${opts.rounds}); target <= 500 ms`,
        );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

await program.parseAsync();
