/**
 * Proves the ONNX conversions in models/generated/ reproduce face-api running on tfjs: the
 * fixture in test/fixtures/reference/ holds real face crops (lossless PNG) and face-api's raw
 * outputs for them (scripts/make-reference-fixture.ts). All faces go through the ONNX models in
 * one batch, which also proves the dynamic batch axis. No skipping when the models are missing:
 * the postinstall builds them, so their absence is a real failure.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  DESCRIPTOR_INPUT_SIZE,
  DESCRIPTOR_MODEL_ID,
  DETECTOR_INPUT_HEIGHT,
  DETECTOR_INPUT_WIDTH,
  LANDMARKS_INPUT_SIZE,
  MODEL_NAMES,
  checkModelFiles,
  modelPath,
  readModelManifest,
  type ModelManifest,
} from '../../models/manifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir = path.join(root, 'models', 'generated');
const fixtureDir = path.join(root, 'test', 'fixtures', 'reference');
const TOLERANCE = 1e-4;

interface ReferenceFace {
  id: string;
  descriptorInput: string;
  descriptor: number[];
  landmarksInput: string;
  landmarks: number[];
}
const reference = JSON.parse(readFileSync(path.join(fixtureDir, 'reference.json'), 'utf8')) as {
  faces: ReferenceFace[];
};

async function rgb(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The fixture PNGs as one float32 NHWC batch of 0..255 values. */
async function batchOf(files: string[], size: number): Promise<ort.Tensor> {
  const per = size * size * 3;
  const batch = new Float32Array(files.length * per);
  for (const [i, file] of files.entries()) {
    const img = await rgb(path.join(fixtureDir, file));
    expect([img.width, img.height]).toEqual([size, size]);
    batch.set(img.data, i * per);
  }
  return new ort.Tensor('float32', batch, [files.length, size, size, 3]);
}

function maxAbsDiff(actual: Float32Array, expected: number[][]): number {
  const width = expected[0].length;
  let max = 0;
  expected.forEach((row, i) =>
    row.forEach((v, j) => (max = Math.max(max, Math.abs(actual[i * width + j] - v)))),
  );
  return max;
}

let manifest: ModelManifest;
const sessions: Partial<Record<(typeof MODEL_NAMES)[number], ort.InferenceSession>> = {};

beforeAll(async () => {
  // Throws "No model manifest at ...: run `npm run models`" when the build has not run.
  manifest = readModelManifest(modelsDir);
  for (const name of MODEL_NAMES)
    sessions[name] = await ort.InferenceSession.create(modelPath(modelsDir, manifest, name));
});

afterAll(async () => {
  for (const s of Object.values(sessions)) await s?.release();
});

test('the manifest lists the three models, and the files match their sha256', () => {
  expect(Object.keys(manifest.models).sort()).toEqual([...MODEL_NAMES].sort());
  expect(checkModelFiles(modelsDir, manifest)).toEqual([]);
  expect(manifest.models.descriptor.id).toBe(DESCRIPTOR_MODEL_ID);
  expect(manifest.models.detector.sha256).toBe(
    '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854',
  );
  for (const name of MODEL_NAMES) {
    const entry = manifest.models[name];
    expect(entry.source.package).toMatch(/^[@\w/.-]+@\d+\.\d+\.\d+$/);
    expect(sessions[name]!.inputNames).toEqual(entry.inputs.map((t) => t.name));
    expect([...sessions[name]!.outputNames].sort()).toEqual(entry.outputs.map((t) => t.name).sort());
  }
});

test('descriptor.onnx reproduces face-api FaceRecognitionNet on a batch of faces', async () => {
  const faces = reference.faces;
  expect(faces.length).toBeGreaterThanOrEqual(4);
  const input = await batchOf(
    faces.map((f) => f.descriptorInput),
    DESCRIPTOR_INPUT_SIZE,
  );
  const { descriptor } = await sessions.descriptor!.run({ input });
  expect(descriptor.dims).toEqual([faces.length, 128]);
  expect(
    maxAbsDiff(
      descriptor.data as Float32Array,
      faces.map((f) => f.descriptor),
    ),
  ).toBeLessThan(TOLERANCE);
});

test('landmarks68.onnx reproduces face-api FaceLandmark68Net (raw output) on a batch of faces', async () => {
  const faces = reference.faces;
  const input = await batchOf(
    faces.map((f) => f.landmarksInput),
    LANDMARKS_INPUT_SIZE,
  );
  const { landmarks } = await sessions.landmarks68!.run({ input });
  expect(landmarks.dims).toEqual([faces.length, 136]);
  expect(
    maxAbsDiff(
      landmarks.data as Float32Array,
      faces.map((f) => f.landmarks),
    ),
  ).toBeLessThan(TOLERANCE);
});

test('detector.onnx returns decoded 0..1 corner boxes: the top box covers a pasted face', async () => {
  // One fixture face pasted at a known place on a grey 320x240 canvas.
  const [W, H, S, left, top] = [DETECTOR_INPUT_WIDTH, DETECTOR_INPUT_HEIGHT, DESCRIPTOR_INPUT_SIZE, 100, 50];
  const { data } = await sharp({
    create: { width: W, height: H, channels: 3, background: { r: 128, g: 128, b: 128 } },
  })
    .composite([{ input: path.join(fixtureDir, reference.faces[0].descriptorInput), left, top }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const chw = new Float32Array(3 * W * H);
  for (let i = 0; i < W * H; i++)
    for (let c = 0; c < 3; c++) chw[c * W * H + i] = (data[i * 3 + c] - 127) / 128;
  const { scores, boxes } = await sessions.detector!.run({
    input: new ort.Tensor('float32', chw, [1, 3, H, W]),
  });
  const s = scores.data as Float32Array;
  const b = boxes.data as Float32Array;
  let best = 0;
  for (let i = 1; i < s.length / 2; i++) if (s[i * 2 + 1] > s[best * 2 + 1]) best = i;
  expect(s[best * 2 + 1]).toBeGreaterThan(0.9);
  const [x1, y1, x2, y2] = Array.from(b.subarray(best * 4, best * 4 + 4));
  // Decoded corner form in 0..1 of the input: centre inside the pasted crop, sensible size.
  expect(x1).toBeLessThan(x2);
  expect(y1).toBeLessThan(y2);
  const [cx, cy] = [((x1 + x2) / 2) * W, ((y1 + y2) / 2) * H];
  expect(cx).toBeGreaterThan(left);
  expect(cx).toBeLessThan(left + S);
  expect(cy).toBeGreaterThan(top);
  expect(cy).toBeLessThan(top + S);
  expect((x2 - x1) * W).toBeGreaterThan(S * 0.4);
  expect((x2 - x1) * W).toBeLessThan(S * 1.2);
});
