/**
 * models/generated/mobilefacenet.onnx against the file it comes from (faceplugin's
 * fr_feature.onnx, read from the pinned tarball the build cached): on real face chips (the
 * reference fixture's 112x112 crops), the converted net fed 8-bit RGB NHWC must give what the
 * original gives on float NCHW BGR (v - 127) / 128, in one batch (the dynamic batch axis), with
 * no denormal weight left and no PRelu (rewritten as depthwise convolutions, the same values).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import onnxProto from 'onnx-proto';
import { readFileSync } from 'node:fs';
import { fetchMobileFaceNet } from '#models/detector-source.js';
import { modelPath, readModelManifest } from '#functions/core/faces/model-manifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir = path.join(root, 'models', 'generated');
const chips = [1, 2, 3, 4].map((i) => path.join(root, 'test', 'fixtures', 'reference', `face${i}-112.png`));

function denormals(model: Uint8Array): number {
  const m = onnxProto.onnx.ModelProto.decode(model);
  let n = 0;
  for (const t of m.graph!.initializer!) {
    if (t.dataType !== 1 || !t.rawData?.length) continue;
    const f = new Float32Array(new Uint8Array(t.rawData).slice().buffer);
    for (const v of f) if (v !== 0 && Math.abs(v) < 1.1754943508222875e-38) n++;
  }
  return n;
}

test('mobilefacenet.onnx = fr_feature.onnx on BGR (v-127)/128, batched, without denormals', async () => {
  const original = fetchMobileFaceNet(path.join(root, 'models', '.cache'));
  const converted = readFileSync(modelPath(modelsDir, readModelManifest(modelsDir), 'mobilefacenet'));
  expect(denormals(original)).toBeGreaterThan(1000);
  expect(denormals(converted)).toBe(0);
  // PRelu rewritten as Relu(x) - s Relu(-x) with depthwise convolutions (2x faster in onnxruntime).
  const ops = onnxProto.onnx.ModelProto.decode(converted).graph!.node!.map((n) => n.opType);
  expect(ops.filter((o) => o === 'PRelu')).toHaveLength(0);
  expect(ops.filter((o) => o === 'Conv')).toHaveLength(50 + 2 * 33);

  const pixels = await Promise.all(
    chips.map(async (f) => (await sharp(f).removeAlpha().resize(112, 112).raw().toBuffer()) as Buffer),
  );
  const batch = new Uint8Array(pixels.length * 112 * 112 * 3);
  pixels.forEach((p, i) => batch.set(p, i * p.length));
  const conv = await ort.InferenceSession.create(converted);
  const out = (await conv.run({ input: new ort.Tensor('uint8', batch, [pixels.length, 112, 112, 3]) }))
    .output;
  expect(out.dims).toEqual([pixels.length, 512]);

  const orig = await ort.InferenceSession.create(original);
  for (const [i, p] of pixels.entries()) {
    const planes = new Float32Array(3 * 112 * 112);
    for (let j = 0; j < 112 * 112; j++)
      for (let c = 0; c < 3; c++) planes[(2 - c) * 112 * 112 + j] = (p[j * 3 + c] - 127) / 128; // BGR
    const want = (await orig.run({ input: new ort.Tensor('float32', planes, [1, 3, 112, 112]) })).output
      .data as Float32Array;
    const got = (out.data as Float32Array).subarray(i * 512, (i + 1) * 512);
    let worst = 0;
    for (let j = 0; j < 512; j++) worst = Math.max(worst, Math.abs(got[j] - want[j]));
    expect(worst).toBeLessThan(1e-4);
  }
});
