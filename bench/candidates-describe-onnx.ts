/**
 * Issue 25, one-off: describes the chips bench/candidates-extract.ts cached with an ONNX model
 * that follows the repo's I/O contract (models/README.md: `input` uint8 [N,S,S,3] RGB, the
 * normalisation inside the graph, one float output [N,D]), on onnxruntime-node, one thread,
 * batches of 8; the sibling of bench/candidates-describe.ts (TFJS models):
 * `nice -n 19 npx tsx bench/candidates-describe-onnx.ts <cacheDir> <model.onnx> <crop> [--mirror]`.
 *
 * Writes `<cacheDir>/<model>_<crop>[_mirror].f32` (rows x D float32) and prints the time per face.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { flag } from './args.js';
import { parseCrop } from './candidates-extract.js';
import { mirrorChips } from './candidates-describe.js';

/** Describes `count` chips of `size` pixels (uint8 NHWC RGB) with an ONNX session. */
export async function describeChips(
  session: ort.InferenceSession,
  chips: Uint8Array,
  count: number,
  size: number,
): Promise<Float32Array> {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('uint8', chips, [count, size, size, 3]) };
  const out = await session.run(feeds);
  return Float32Array.from(out[session.outputNames[0]].data as Float32Array);
}

async function main(): Promise<void> {
  const [cacheDir, modelFile, crop] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const withMirror = flag('--mirror');
  const batch = 8;
  const session = await ort.InferenceSession.create(modelFile, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const { size } = parseCrop(crop);
  const stride = size * size * 3;
  const all = new Uint8Array(readFileSync(path.join(cacheDir, `${crop}.u8`)));
  const rows = all.length / stride;
  let dim = 0;
  let result = new Float32Array(0);
  let ms = 0;
  for (let r = 0; r < rows; r += batch) {
    const count = Math.min(batch, rows - r);
    const chips = all.slice(r * stride, (r + count) * stride);
    const t = performance.now();
    const d = await describeChips(session, chips, count, size);
    ms += performance.now() - t;
    if (withMirror) {
      const m = await describeChips(session, mirrorChips(chips, count, size), count, size);
      for (let i = 0; i < d.length; i++) d[i] = (d[i] + m[i]) / 2;
    }
    if (!dim) {
      dim = d.length / count;
      result = new Float32Array(rows * dim);
    }
    result.set(d, r * dim);
    if ((r / batch) % 50 === 0) process.stderr.write(`  ${r + count}/${rows}\n`);
  }
  const name = path.basename(modelFile, '.onnx');
  const out = path.join(cacheDir, `${name}_${crop}${withMirror ? '_mirror' : ''}.f32`);
  writeFileSync(out, Buffer.from(result.buffer));
  console.log(
    `${out}: ${rows} x ${dim}; ${(ms / rows).toFixed(1)} ms a face (onnxruntime, 1 thread, batches of ${batch})`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
