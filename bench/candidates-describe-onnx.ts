/**
 * Issue 25, one-off: describes the chips bench/candidates-extract.ts cached with an ONNX model
 * that follows the repo's I/O contract (models/README.md: `input` uint8 [N,S,S,3] RGB, the
 * normalisation inside the graph, one float output [N,D]), on onnxruntime-node, one thread,
 * batches of 8; the sibling of bench/candidates-describe.ts (TFJS models):
 * `nice -n 19 npx tsx bench/candidates-describe-onnx.ts <cacheDir> <model.onnx> <crop> [--mirror]`.
 *
 * Writes `<cacheDir>/<model>_<crop>[_mirror].f32` (rows x D float32) and prints the time per face.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { flag } from './args.js';
import { describeCachedChips } from './candidates-chips.js';

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
  await describeCachedChips({
    cacheDir,
    crop,
    name: path.basename(modelFile, '.onnx'),
    mirror: withMirror,
    batch,
    runtime: 'onnxruntime',
    net: (chips, count, size) => describeChips(session, chips, count, size),
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
