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
import { createHash } from 'node:crypto';
import { decodePass } from '#functions/core/faces/detection-passes.js';
import { DETECTOR_SOURCE, fetchDetector } from '#models/detector-source.js';
import {
  DETECTOR_LOCATIONS_OUTPUT,
  DETECTOR_SCORES_OUTPUT,
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
} from '#functions/core/faces/model-manifest.js';

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

/** The fixture PNGs as one NHWC batch of 8-bit RGB, the input the converted nets take. */
async function batchOf(files: string[], size: number): Promise<ort.Tensor> {
  const per = size * size * 3;
  const batch = new Uint8Array(files.length * per);
  for (const [i, file] of files.entries()) {
    const img = await rgb(path.join(fixtureDir, file));
    expect([img.width, img.height]).toEqual([size, size]);
    batch.set(img.data, i * per);
  }
  return new ort.Tensor('uint8', batch, [files.length, size, size, 3]);
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

/** A fixture face pasted at a known place on a grey canvas: 8-bit RGB pixels, NHWC (our
 * detector's input), and the same normalised to NCHW (v - 127) / 128 (the original graph's). */
async function pastedFace(
  W: number,
  H: number,
  left: number,
  top: number,
): Promise<{ pixels: ort.Tensor; normalized: ort.Tensor }> {
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
  return {
    pixels: new ort.Tensor('uint8', new Uint8Array(data), [1, H, W, 3]),
    normalized: new ort.Tensor('float32', chw, [1, 3, H, W]),
  };
}

test('the size-free detector decoded in TypeScript equals the original graph with its own decoder', async () => {
  // The original file, as pinned, from the tarball the build cached.
  const original = fetchDetector(path.join(root, 'models', '.cache'));
  expect(createHash('sha256').update(original).digest('hex')).toBe(DETECTOR_SOURCE.sha256);
  const reference = await ort.InferenceSession.create(original);
  const [W, H] = [DETECTOR_INPUT_WIDTH, DETECTOR_INPUT_HEIGHT];
  const { pixels, normalized } = await pastedFace(W, H, 100, 50);
  const want = await reference.run({ input: normalized });
  const got = await sessions.detector!.run({ input: pixels });
  await reference.release();
  const scores = got[DETECTOR_SCORES_OUTPUT].data as Float32Array;
  expect(
    Math.max(...Array.from(scores, (v, i) => Math.abs(v - (want.scores.data as Float32Array)[i]))),
  ).toBeLessThan(1e-5);
  // Decode every anchor (score floor 0) and compare with the original decoder's corner boxes.
  const pass = { scale: 1, width: W, height: H };
  const decoded = decodePass(scores, got[DETECTOR_LOCATIONS_OUTPUT].data as Float32Array, pass, 0);
  const boxes = want.boxes.data as Float32Array;
  // decodePass clips boxes to the image and skips those left empty; the original does neither.
  const clip = (v: number, size: number) => Math.min(size, Math.max(0, v * size));
  const expected: number[][] = [];
  for (let i = 0; i < boxes.length / 4; i++) {
    const b = [
      clip(boxes[i * 4], W),
      clip(boxes[i * 4 + 1], H),
      clip(boxes[i * 4 + 2], W),
      clip(boxes[i * 4 + 3], H),
    ];
    if (b[2] > b[0] && b[3] > b[1]) expected.push(b);
  }
  expect(expected.length).toBeGreaterThan(4000);
  expect(decoded).toHaveLength(expected.length);
  let maxDiff = 0;
  decoded.forEach((d, i) => {
    const actual = [d.box.x, d.box.y, d.box.x + d.box.width, d.box.y + d.box.height];
    actual.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[i][k]))));
  });
  expect(maxDiff).toBeLessThan(1e-3); // pixels
});

test('the detector runs at other input sizes and finds the face where it was pasted', async () => {
  const [W, H, left, top] = [640, 360, 400, 150];
  const { scores, locations } = await sessions.detector!.run({
    input: (await pastedFace(W, H, left, top)).pixels,
  });
  const found = decodePass(
    scores.data as Float32Array,
    locations.data as Float32Array,
    { scale: 1, width: W, height: H },
    0.9,
  );
  expect(found.length).toBeGreaterThan(0);
  const best = found.sort((a, b) => b.score - a.score)[0].box;
  const S = DESCRIPTOR_INPUT_SIZE;
  expect(best.x + best.width / 2).toBeGreaterThan(left);
  expect(best.x + best.width / 2).toBeLessThan(left + S);
  expect(best.y + best.height / 2).toBeGreaterThan(top);
  expect(best.y + best.height / 2).toBeLessThan(top + S);
  expect(best.width).toBeGreaterThan(S * 0.4);
  expect(best.width).toBeLessThan(S * 1.2);
});
