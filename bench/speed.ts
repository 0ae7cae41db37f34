/**
 * Speed benchmark: `npm run bench:speed [-- images...] [--rounds N] [--json] [--no-face-api]
 * [--no-floor] [--group] [--batch N]`.
 *
 * Without arguments it builds 1280x720 frames holding one face each, from the shared labelled
 * faces when present (else from the group photos face-api ships). Reports, warm: per-stage
 * median and p95 (per image and per face) and model load time; the floor (the decode and the
 * network runs alone, see `prepareFloor`); the same images through @vladmandic/face-api on
 * tfjs-wasm, the two taking turns image by image (a shared machine's load then weighs on both),
 * and the ratio of wall medians and of CPU time; peak RSS. `--batch N` runs the engine on N
 * frames at a time (each detected, then one landmark and one descriptor run for all their faces).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import os from 'node:os';
import { Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../functions/config.js';
import { createFaceEngine, detectOptionsFor } from '../functions/core/faces/engine.js';
import { decodeImage } from '../functions/core/faces/decode.js';
import { planPasses } from '../functions/core/faces/detection-passes.js';
import { loadFaceModels } from '../functions/core/faces/models.js';
import { resizeRgb } from '../functions/core/faces/resize.js';
import { LANDMARK_INPUT_SIZE } from '../functions/core/faces/landmarks.js';
import { DESCRIPTORS } from '../functions/core/faces/descriptors/registry.js';
import type { EngineConfig } from '../functions/config.js';
import { listPeopleFolder } from '../cli/lib/people-folder.js';
import { composeFaceFrame, DEMO_PHOTOS, hasSharedFaces, repoRoot, SHARED_FACES } from './face-frames.js';

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const stats = (xs: number[]) => ({ median: quantile(xs, 0.5), p95: quantile(xs, 0.95) });
/** Median and p95 of each named series of samples. */
const statsOf = (series: Record<string, number[]>) =>
  Object.fromEntries(Object.entries(series).map(([k, v]) => [k, stats(v)]));
const fmt = (s: { median: number; p95: number }) =>
  `${s.median.toFixed(1).padStart(7)} ${s.p95.toFixed(1).padStart(7)}`;

async function defaultImages(group: boolean): Promise<{ label: string; images: Buffer[] }> {
  if (!group && hasSharedFaces()) {
    const people = await listPeopleFolder(SHARED_FACES);
    const files = people.flatMap((p) => p.files.slice(0, 2));
    const images = await Promise.all(
      files.map((f, i) => composeFaceFrame(f, { width: 1280, height: 720, faceHeight: 260, seed: i + 1 })),
    );
    return {
      label: `${images.length} frames 1280x720, one face each (faces from ../shared/data/faces)`,
      images,
    };
  }
  const images = await Promise.all(
    DEMO_PHOTOS.map((f) => sharp(f).resize(1280, 720, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer()),
  );
  return {
    label: `${images.length} frames 1280x720 from face-api's demo group photos (several faces each)`,
    images,
  };
}

/** One image through face-api: wall and CPU ms, faces found. */
type FaceApiRun = (bytes: Buffer) => Promise<{ ms: number; cpuMs: number; faces: number }>;

/** @vladmandic/face-api on tfjs-wasm (ssdMobilenetv1 + landmarks68 + recognition), loaded. */
async function loadFaceApi(): Promise<{ run: FaceApiRun; loadMs: number }> {
  const require = createRequire(import.meta.url);
  const faceApiDir = path.join(repoRoot, 'node_modules', '@vladmandic', 'face-api');
  const faceapi = require(
    path.join(faceApiDir, 'dist', 'face-api.node-wasm.js'),
  ) as typeof import('@vladmandic/face-api');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const tfjs = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  wasm.setWasmPaths(
    path.join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep,
  );
  await tfjs.setBackend('wasm');
  await tfjs.ready();
  const t0 = performance.now();
  const modelDir = path.join(faceApiDir, 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const loadMs = performance.now() - t0;
  const run: FaceApiRun = async (bytes) => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const tensor = faceapi.tf.tensor3d(data, [info.height, info.width, 3], 'int32');
    const result = await faceapi
      .detectAllFaces(tensor as never)
      .withFaceLandmarks()
      .withFaceDescriptors();
    tensor.dispose();
    return { ms: performance.now() - start, cpuMs: cpuMsSince(cpu), faces: result.length };
  };
  return { run, loadMs };
}

/** CPU time of this process (all its threads) since `start`, in ms. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * The floor under the engine's time (run(i) per image, timed into `parts`): per frame, the decode and the network runs the engine
 * makes on a one-face frame (coarse pass, fine pass when planned, one landmark crop, the
 * descriptor batch), back to back, with every input prepared beforehand. No code around the
 * networks can bring the engine below this on the machine at hand. The detector gets the
 * frame's own shrunk pixels; landmark and descriptor inputs are constant (dense convolutions
 * take the same time whatever the pixels).
 */
async function prepareFloor(images: Buffer[], config: EngineConfig) {
  const models = await loadFaceModels(config.modelsDir, config.onnxThreads, config.descriptor); // the engine's sessions
  const frames = await Promise.all(
    images.map(async (bytes) => {
      const { image, scale } = await decodeImage(bytes);
      const { coarse, fine } = planPasses(image.width, image.height, detectOptionsFor(config, scale));
      return {
        bytes,
        coarse: await resizeRgb(image, coarse.width, coarse.height),
        fine: fine ? await resizeRgb(image, fine.width, fine.height) : undefined,
      };
    }),
  );
  const crop = new Uint8Array(LANDMARK_INPUT_SIZE * LANDMARK_INPUT_SIZE * 3).fill(128);
  const chips = config.mirrorDescriptor ? 2 : 1;
  const chipSize = DESCRIPTORS[config.descriptor].chipSize;
  const chipBatch = new Uint8Array(chips * chipSize * chipSize * 3).fill(128);
  const parts = {
    decode: [] as number[],
    detector: [] as number[],
    landmarks: [] as number[],
    descriptor: [] as number[],
    total: [] as number[],
  };
  /** The floor of image `i`; `record` false for a warm-up. */
  const run = async (i: number, record = true) => {
    const f = frames[i];
    const t0 = performance.now();
    await decodeImage(f.bytes);
    const t1 = performance.now();
    await models.detector(f.coarse);
    if (f.fine) await models.detector(f.fine);
    const t2 = performance.now();
    await models.landmarks(crop, 1);
    const t3 = performance.now();
    await models.descriptor(chipBatch, chips);
    const t4 = performance.now();
    if (!record) return;
    parts.decode.push(t1 - t0);
    parts.detector.push(t2 - t1);
    parts.landmarks.push(t3 - t2);
    parts.descriptor.push(t4 - t3);
    parts.total.push(t4 - t0);
  };
  return { run, parts };
}

interface SpeedOptions {
  rounds: number;
  batch: number;
  group?: boolean;
  faceApi: boolean;
  floor: boolean;
  json?: boolean;
}

const program = new Command('bench:speed')
  .argument('[images...]', 'images to time (default: generated 1280x720 one-face frames)')
  .option('--rounds <n>', 'timed passes over the images', (v) => parseInt(v, 10), 3)
  .option(
    '--batch <n>',
    'frames per engine run (one landmark and one descriptor run each)',
    (v) => parseInt(v, 10),
    1,
  )
  .option(
    '--group',
    "time face-api's demo group photos at 1280x720 (several faces each; the default without ../shared)",
  )
  .option('--no-face-api', 'skip the face-api (tfjs-wasm) comparison')
  .option('--no-floor', 'skip the floor (decode and network runs alone)')
  .option('--json', 'print one JSON object as the last line')
  .action(async (files: string[], opts: SpeedOptions) => {
    const set = files.length
      ? { label: `${files.length} given images`, images: await Promise.all(files.map((f) => readFile(f))) }
      : await defaultImages(Boolean(opts.group));
    const config = loadConfig().engine;
    const engine = await createFaceEngine(config);
    const batch = Math.max(1, opts.batch);
    console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, node ${process.version}`);
    console.log(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
    console.log(`images: ${set.label}`);
    console.log(
      `engine: ${engine.modelId}; model load ${engine.loadMs.toFixed(0)} ms; onnxruntime threads ${config.onnxThreads || 'one per core'}` +
        (batch > 1 ? `; frames ${batch} at a time (one landmark and one descriptor run per group)` : ''),
    );
    const faceApi = opts.faceApi ? await loadFaceApi() : undefined;
    const floor = opts.floor ? await prepareFloor(set.images, config) : undefined;
    /** The engine on a group of images: decode, detect each, one run of each later net. */
    const analyse = async (images: Buffer[]) => {
      const detected = [];
      for (const img of images) detected.push(await engine.detect(await engine.decode(img)));
      return engine.analyzeDetected(detected);
    };
    for (const [i, img] of set.images.slice(0, 3).entries()) {
      await analyse([img]); // warm-up
      await faceApi?.run(img);
      await floor?.run(i, false);
    }
    const stages = {
      decode: [] as number[],
      detect: [] as number[],
      landmarks: [] as number[],
      descriptor: [] as number[],
      total: [] as number[],
    };
    const perFace = { landmarks: [] as number[], descriptor: [] as number[] };
    const fa = { perImage: [] as number[], cpuMs: 0, faces: 0 };
    let cpuMs = 0;
    let faceCount = 0;
    const groups: Buffer[][] = [];
    for (let i = 0; i < set.images.length; i += batch) groups.push(set.images.slice(i, i + batch));
    // The engine, the floor and face-api take turns image group by image group, so that all
    // meet the same load on a shared machine; CPU time (all threads) is kept beside wall time.
    for (let r = 0; r < opts.rounds; r++) {
      for (const [g, group] of groups.entries()) {
        const start = performance.now();
        const cpu = process.cpuUsage();
        const analyses = await analyse(group);
        const ms = performance.now() - start;
        cpuMs += cpuMsSince(cpu);
        for (const a of analyses) {
          stages.total.push(ms / group.length);
          stages.decode.push(a.timings.decodeMs);
          stages.detect.push(a.timings.detectMs);
          stages.landmarks.push(a.timings.landmarksMs);
          stages.descriptor.push(a.timings.descriptorMs);
          if (a.faces.length) {
            perFace.landmarks.push(a.timings.landmarksMs / a.faces.length);
            perFace.descriptor.push(a.timings.descriptorMs / a.faces.length);
          }
          faceCount += a.faces.length;
        }
        for (let i = 0; floor && i < group.length; i++) await floor.run(g * batch + i);
        for (const img of faceApi ? group : []) {
          const run = await faceApi!.run(img);
          fa.perImage.push(run.ms);
          fa.cpuMs += run.cpuMs;
          fa.faces += run.faces;
        }
      }
    }
    const n = stages.total.length;
    console.log(`\nonnxruntime-node engine, ${n} warm runs, ${(faceCount / n).toFixed(2)} faces per image`);
    console.log(`stage          median     p95   (ms per image)`);
    for (const [k, v] of Object.entries(stages)) console.log(`${k.padEnd(12)} ${fmt(stats(v))}`);
    console.log(
      `per face: landmarks ${fmt(stats(perFace.landmarks))}, descriptor ${fmt(stats(perFace.descriptor))}`,
    );
    console.log(`CPU time (all threads): ${(cpuMs / n).toFixed(1)} ms per image`);
    const summary: Record<string, unknown> = {
      images: set.label,
      loadAverage: os.loadavg(),
      runs: n,
      framesPerRun: batch,
      facesPerImage: faceCount / n,
      modelLoadMs: engine.loadMs,
      stages: statsOf(stages),
      perFace: statsOf(perFace),
      cpuMsPerImage: cpuMs / n,
    };
    if (floor) {
      const parts = statsOf(floor.parts);
      console.log(
        `\nfloor, for one face per frame: decode and network runs alone, inputs prepared beforehand (see prepareFloor), taking turns with the engine`,
      );
      for (const [k, v] of Object.entries(parts)) console.log(`${k.padEnd(12)} ${fmt(v)}`);
      const overFloor = stats(stages.total).median / parts.total.median;
      // Paired: each image's engine time over its floor taken right after it (load drifts less
      // between the two than across the run).
      const paired = stats(stages.total.map((t, i) => t / floor.parts.total[i])).median;
      console.log(
        `engine / floor: ${overFloor.toFixed(2)}x (medians); ${paired.toFixed(2)}x (median of each image's pair)`,
      );
      summary.overFloorPaired = paired;
      summary.floor = parts;
      summary.overFloor = overFloor;
    }
    if (faceApi) {
      const faMedian = stats(fa.perImage).median;
      const ratio = faMedian / stats(stages.total).median;
      const cpuRatio = fa.cpuMs / cpuMs;
      console.log(
        `\nface-api 1.7.15 on tfjs-wasm (ssdMobilenetv1 + landmarks68 + recognition), same images, taking turns:`,
      );
      console.log(
        `total        ${fmt(stats(fa.perImage))}; CPU ${(fa.cpuMs / fa.perImage.length).toFixed(1)} ms per image; model load ${faceApi.loadMs.toFixed(0)} ms; ${(fa.faces / fa.perImage.length).toFixed(2)} faces per image`,
      );
      console.log(
        `ratio (face-api median / ours): ${ratio.toFixed(1)}x wall; ${cpuRatio.toFixed(1)}x CPU time`,
      );
      summary.faceApi = {
        total: stats(fa.perImage),
        cpuMsPerImage: fa.cpuMs / fa.perImage.length,
        modelLoadMs: faceApi.loadMs,
        facesPerImage: fa.faces / fa.perImage.length,
      };
      summary.ratio = ratio;
      summary.cpuRatio = cpuRatio;
    }
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(
      `\npeak RSS ${peakRssMb.toFixed(0)} MB${opts.faceApi ? ' (both engines in one process)' : ''}`,
    );
    summary.peakRssMb = peakRssMb;
    if (opts.json) console.log(JSON.stringify(summary));
  });

await program.parseAsync();
