/**
 * Speed benchmark: `npm run bench:speed [-- images...] [--rounds N] [--json] [--no-face-api]
 * [--no-floor] [--group]`.
 *
 * Without arguments it builds 1280x720 frames holding one face each, from the shared labelled
 * faces when present (else from the group photos face-api ships). Reports, warm: per-stage
 * median and p95 (per image and per face) and model load time; the floor (the decode and the
 * network runs alone, see `floorTimes`); the same images through @vladmandic/face-api on
 * tfjs-wasm, and the ratio; peak RSS.
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
import { planPasses } from '../functions/core/faces/detector.js';
import { loadFaceModels } from '../functions/core/faces/models.js';
import { resizeRgb } from '../functions/core/faces/resize.js';
import { LANDMARK_INPUT_SIZE } from '../functions/core/faces/landmarks.js';
import { DESCRIPTORS } from '../functions/core/faces/describe.js';
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

async function faceApiTimes(
  images: Buffer[],
  rounds: number,
): Promise<{ perImage: number[]; faces: number[]; loadMs: number }> {
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
  const perImage: number[] = [];
  const faces: number[] = [];
  const run = async (bytes: Buffer) => {
    const start = performance.now();
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const tensor = faceapi.tf.tensor3d(data, [info.height, info.width, 3], 'int32');
    const result = await faceapi
      .detectAllFaces(tensor as never)
      .withFaceLandmarks()
      .withFaceDescriptors();
    tensor.dispose();
    return { ms: performance.now() - start, faces: result.length };
  };
  await run(images[0]);
  for (let r = 0; r < rounds; r++) {
    for (const img of images) {
      const { ms, faces: n } = await run(img);
      perImage.push(ms);
      faces.push(n);
    }
  }
  return { perImage, faces, loadMs };
}

/**
 * The floor under the engine's time: per frame, the decode and the network runs the engine
 * makes on a one-face frame (coarse pass, fine pass when planned, one landmark crop, the
 * descriptor batch), back to back, with every input prepared beforehand. No code around the
 * networks can bring the engine below this on the machine at hand. The detector gets the
 * frame's own shrunk pixels; landmark and descriptor inputs are constant (dense convolutions
 * take the same time whatever the pixels).
 */
async function floorTimes(images: Buffer[], config: EngineConfig, rounds: number) {
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
  for (let r = 0; r <= rounds; r++) {
    for (const f of frames) {
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
      if (r === 0) continue; // warm-up round
      parts.decode.push(t1 - t0);
      parts.detector.push(t2 - t1);
      parts.landmarks.push(t3 - t2);
      parts.descriptor.push(t4 - t3);
      parts.total.push(t4 - t0);
    }
  }
  return statsOf(parts);
}

interface SpeedOptions {
  rounds: number;
  group?: boolean;
  faceApi: boolean;
  floor: boolean;
  json?: boolean;
}

const program = new Command('bench:speed')
  .argument('[images...]', 'images to time (default: generated 1280x720 one-face frames)')
  .option('--rounds <n>', 'timed passes over the images', (v) => parseInt(v, 10), 3)
  .option('--group', "time face-api's demo group photos at 1280x720 (several faces each; the default without ../shared)")
  .option('--no-face-api', 'skip the face-api (tfjs-wasm) comparison')
  .option('--no-floor', 'skip the floor (decode and network runs alone)')
  .option('--json', 'print one JSON object as the last line')
  .action(async (files: string[], opts: SpeedOptions) => {
    const set = files.length
      ? { label: `${files.length} given images`, images: await Promise.all(files.map((f) => readFile(f))) }
      : await defaultImages(Boolean(opts.group));
    const config = loadConfig().engine;
    const engine = await createFaceEngine(config);
    console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, node ${process.version}`);
    console.log(`images: ${set.label}`);
    console.log(`engine: ${engine.modelId}; model load ${engine.loadMs.toFixed(0)} ms`);
    for (const img of set.images.slice(0, 3)) await engine.analyzeFaces(img); // warm-up
    const stages = {
      decode: [] as number[],
      detect: [] as number[],
      landmarks: [] as number[],
      descriptor: [] as number[],
      total: [] as number[],
    };
    const perFace = { landmarks: [] as number[], descriptor: [] as number[] };
    let faceCount = 0;
    for (let r = 0; r < opts.rounds; r++) {
      for (const img of set.images) {
        const start = performance.now();
        const a = await engine.analyzeFaces(img);
        stages.total.push(performance.now() - start);
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
    }
    const n = stages.total.length;
    console.log(`\nonnxruntime-node engine, ${n} warm runs, ${(faceCount / n).toFixed(2)} faces per image`);
    console.log(`stage          median     p95   (ms per image)`);
    for (const [k, v] of Object.entries(stages)) console.log(`${k.padEnd(12)} ${fmt(stats(v))}`);
    console.log(
      `per face: landmarks ${fmt(stats(perFace.landmarks))}, descriptor ${fmt(stats(perFace.descriptor))}`,
    );
    const summary: Record<string, unknown> = {
      images: set.label,
      runs: n,
      facesPerImage: faceCount / n,
      modelLoadMs: engine.loadMs,
      stages: statsOf(stages),
      perFace: statsOf(perFace),
    };
    if (opts.floor) {
      const floor = await floorTimes(set.images, config, opts.rounds);
      console.log(
        `\nfloor, for one face per frame: decode and network runs alone, inputs prepared beforehand (see floorTimes)`,
      );
      for (const [k, v] of Object.entries(floor)) console.log(`${k.padEnd(12)} ${fmt(v)}`);
      summary.floor = floor;
    }
    if (opts.faceApi) {
      const fa = await faceApiTimes(set.images, opts.rounds);
      const faMedian = stats(fa.perImage).median;
      const ratio = faMedian / stats(stages.total).median;
      console.log(
        `\nface-api 1.7.15 on tfjs-wasm (ssdMobilenetv1 + landmarks68 + recognition), same images:`,
      );
      console.log(
        `total        ${fmt(stats(fa.perImage))}; model load ${fa.loadMs.toFixed(0)} ms; ${(fa.faces.reduce((a, b) => a + b, 0) / fa.faces.length).toFixed(2)} faces per image`,
      );
      console.log(`ratio (face-api median / ours): ${ratio.toFixed(1)}x`);
      summary.faceApi = {
        total: stats(fa.perImage),
        modelLoadMs: fa.loadMs,
        facesPerImage: fa.faces.reduce((a, b) => a + b, 0) / fa.faces.length,
      };
      summary.ratio = ratio;
    }
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(
      `\npeak RSS ${peakRssMb.toFixed(0)} MB${opts.faceApi ? ' (both engines in one process)' : ''}`,
    );
    summary.peakRssMb = peakRssMb;
    if (opts.json) console.log(JSON.stringify(summary));
  });

await program.parseAsync();
