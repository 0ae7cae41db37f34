/**
 * Issue 25, one-off: a float32 TFLite face descriptor as an ONNX model of the repo's I/O contract
 * (bench/tflite-onnx.ts), for bench/candidates-describe-onnx.ts, checked against the TFLite
 * runtime itself:
 * `npx tsx bench/candidates-tflite.ts <model.tflite> <out.onnx> [--mean 127.5] [--divisor 128] [--bgr]
 *   [--check <cacheDir> --runtime <tfjs-tflite package folder> [--crop a112@1] [--count 40]]`.
 *
 * Prints the graph's operators. With `--check`, runs `--count` cached chips (candidates-extract.ts)
 * through both the ONNX model (onnxruntime) and TFLite's own interpreter (XNNPACK) as built to
 * WebAssembly in `@tensorflow/tfjs-tflite` (not a dependency: `npm pack @tensorflow/tfjs-tflite@0.0.1-alpha.10`
 * outside the repository and pass the extracted `package` folder), the same pixels normalised the
 * same way, and prints the largest difference and the smallest cosine between the two outputs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { flag, option } from './args.js';
import { describeChips } from './candidates-describe-onnx.js';
import { parseCrop } from './candidates-extract.js';
import { readTflite } from './tflite.js';
import { tfliteToOnnx } from './tflite-onnx.js';

/** The embind surface of tfjs-tflite's `tflite_web_api_cc.js` that this uses. */
interface TfliteTensorInfo {
  name: string;
  shape: string;
  dataType: string;
  data(): Float32Array;
}
interface TfliteVector {
  get(i: number): TfliteTensorInfo;
}
interface TfliteWasm {
  _malloc(n: number): number;
  HEAPU8: Uint8Array;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(
      ptr: number,
      length: number,
      options: { numThreads: number; enableProfiling: boolean; maxProfilingBufferEntries: number },
    ): {
      ok(): boolean;
      errorMessage(): string;
      value(): { GetInputs(): TfliteVector; GetOutputs(): TfliteVector; Infer(): boolean };
    };
  };
}

/** Runs chips (uint8 NHWC RGB) through TFLite's interpreter, its input's batch at a time. */
async function runTflite(
  runtimeDir: string,
  model: Uint8Array,
  chips: Uint8Array,
  count: number,
  normalise: (v: number) => number,
): Promise<Float32Array> {
  const wasmDir = path.join(runtimeDir, 'wasm');
  const factory = createRequire(import.meta.url)(path.join(wasmDir, 'tflite_web_api_cc.js')) as (o: {
    wasmBinary: Uint8Array;
  }) => Promise<TfliteWasm>;
  const wasm = await factory({ wasmBinary: readFileSync(path.join(wasmDir, 'tflite_web_api_cc.wasm')) });
  const at = wasm._malloc(model.length);
  wasm.HEAPU8.set(model, at);
  const created = wasm.TFLiteWebModelRunner.CreateFromBufferAndOptions(at, model.length, {
    numThreads: 1,
    enableProfiling: false,
    maxProfilingBufferEntries: 1024,
  });
  if (!created.ok()) throw new Error(`TFLite: ${created.errorMessage()}`);
  const runner = created.value();
  const input = runner.GetInputs().get(0);
  const output = runner.GetOutputs().get(0);
  const batch = Number(input.shape.split(',')[0]);
  const stride = chips.length / count;
  let out = new Float32Array(0);
  for (let r = 0; r < count; r += batch) {
    const dst = input.data();
    // A last partial batch repeats the last chip.
    for (let k = 0; k < batch * stride; k++) {
      const i = Math.min(r * stride + k, count * stride - stride + (k % stride));
      dst[k] = normalise(chips[i]);
    }
    if (!runner.Infer()) throw new Error('TFLite: Infer failed');
    const y = output.data();
    const dim = y.length / batch;
    if (!out.length) out = new Float32Array(count * dim);
    out.set(y.subarray(0, Math.min(batch, count - r) * dim), r * dim);
  }
  return out;
}

async function main(): Promise<void> {
  const [tfliteFile, onnxFile] = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !(all[i - 1]?.startsWith('--') && all[i - 1] !== '--bgr'));
  const mean = Number(option('--mean', '127.5'));
  const divisor = Number(option('--divisor', '128'));
  const bgr = flag('--bgr');
  const file = new Uint8Array(readFileSync(tfliteFile));
  const parsed = readTflite(file);
  const census = new Map<string, number>();
  for (const op of parsed.operators) census.set(op.op, (census.get(op.op) ?? 0) + 1);
  const io = (i: number) =>
    `${parsed.tensors[i].name} ${parsed.tensors[i].type} [${parsed.tensors[i].shape}]`;
  console.log(
    `${tfliteFile}: ${parsed.description}, schema ${parsed.version}; in ${io(parsed.inputs[0])}, out ${io(parsed.outputs[0])}; ` +
      [...census].map(([op, n]) => `${n} ${op}`).join(', ') +
      `; tensor types: ${[...new Set(parsed.tensors.map((t) => t.type))].join(', ')}`,
  );
  const onnx = tfliteToOnnx(file, {
    graphName: path.basename(tfliteFile, '.tflite'),
    doc: `${path.basename(tfliteFile)} converted by bench/tflite-onnx.ts: (v - ${mean}) / ${divisor}${bgr ? ', BGR' : ''}`,
    mean,
    divisor,
    bgr,
    metadata: {},
  });
  writeFileSync(onnxFile, onnx);
  console.log(`${onnxFile}: ${onnx.length} bytes`);

  const cacheDir = option('--check', '');
  if (!cacheDir) return;
  const runtimeDir = option('--runtime', '');
  if (!runtimeDir) throw new Error('--check needs --runtime <tfjs-tflite package folder>');
  const crop = option('--crop', 'a112@1');
  const count = Number(option('--count', '40'));
  const { size } = parseCrop(crop);
  const stride = size * size * 3;
  const chips = new Uint8Array(readFileSync(path.join(cacheDir, `${crop}.u8`)).subarray(0, count * stride));
  // The ONNX graph takes RGB (a BGR net's order folded into its first convolution); the TFLite
  // net gets the order it was trained with.
  const netPixels = bgr ? chips.map((_, i) => chips[i - (i % 3) + 2 - (i % 3)]) : chips;
  const t = performance.now();
  const reference = await runTflite(runtimeDir, file, netPixels, count, (v) => (v - mean) / divisor);
  const tfliteMs = (performance.now() - t) / count;
  const session = await ort.InferenceSession.create(onnxFile, { intraOpNumThreads: 1 });
  const converted = await describeChips(session, chips, count, size);
  const dim = reference.length / count;
  let maxDiff = 0;
  let maxValue = 0;
  let minCosine = 1;
  for (let r = 0; r < count; r++) {
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(reference[j] - converted[j]));
      maxValue = Math.max(maxValue, Math.abs(reference[j]));
      dot += reference[j] * converted[j];
      a += reference[j] ** 2;
      b += converted[j] ** 2;
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(a * b));
  }
  console.log(
    `${count} chips (${crop}): TFLite interpreter vs ONNX conversion: max |difference| ${maxDiff.toExponential(2)} ` +
      `(largest |value| ${maxValue.toFixed(2)}), smallest cosine ${minCosine.toFixed(7)}; TFLite wasm ${tfliteMs.toFixed(1)} ms a face`,
  );
}

await main();
