/**
 * Builds test/fixtures/reference/: a few real face crops (lossless PNG) and the raw outputs of
 * face-api's own FaceRecognitionNet and FaceLandmark68Net for exactly those pixels, computed
 * with tfjs on the wasm backend. test/models/conversion.test.ts feeds the same PNGs to our ONNX
 * conversions and compares. Run by hand: `npx tsx scripts/make-reference-fixture.ts`.
 *
 * Faces come from the group photos face-api ships in demo/; they are found with face-api's
 * ssdMobilenetv1 so no crop rectangle is hand-picked.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

type FaceApi = typeof import('@vladmandic/face-api');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const faceApiDir = path.join(root, 'node_modules', '@vladmandic', 'face-api');
const outDir = path.join(root, 'test', 'fixtures', 'reference');
/** Four photos (one face each) keep the fixture well under 500 KB while still giving the test
 * a real batch; sample4's tilted head exercises the landmark net off the frontal pose. */
const SAMPLES = ['sample1.jpg', 'sample3.jpg', 'sample4.jpg', 'sample6.jpg'];
/** Square crop side relative to the detector box: a bit of context, like a face chip. */
const MARGIN = 1.25;

const require = createRequire(import.meta.url);
// The node-wasm bundle requires @tensorflow/tfjs and tfjs-backend-wasm itself (both are our
// devDependencies), so tensors and backend are shared through faceapi.tf.
const faceapi = require(path.join(faceApiDir, 'dist', 'face-api.node-wasm.js')) as FaceApi;
const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
// Same module instance as the one face-api required; used for backend control, which face-api's
// bundled tf typings don't expose.
const tfjs = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
const tf = faceapi.tf;

interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

async function decodeRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** NHWC float32 batch of one, the exact tensor face-api's toBatchTensor passes through
 * unchanged when the input already has the net's size. */
function toTensor4d(img: RgbImage) {
  return tf.tensor4d(Float32Array.from(img.data), [1, img.height, img.width, 3]);
}

async function main(): Promise<void> {
  // Local wasm binaries: no CDN, no network.
  wasm.setWasmPaths(path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep);
  await tfjs.setBackend('wasm');
  await tfjs.ready();
  const modelDir = path.join(faceApiDir, 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  mkdirSync(outDir, { recursive: true });

  const faces = [];
  for (const [i, sample] of SAMPLES.entries()) {
    const file = path.join(faceApiDir, 'demo', sample);
    const img = await decodeRgb(file);
    const imgTensor = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const detections = await faceapi.detectAllFaces(
      imgTensor,
      new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }),
    );
    imgTensor.dispose();
    // The most confident face of each photo: a different person each.
    const best = detections.sort((a, b) => b.score - a.score)[0];
    if (!best) throw new Error(`no face found in ${sample}`);
    const { x, y, width, height } = best.box;
    const side = Math.min(Math.round(Math.max(width, height) * MARGIN), img.width, img.height);
    const left = Math.min(Math.max(Math.round(x + width / 2 - side / 2), 0), img.width - side);
    const top = Math.min(Math.max(Math.round(y + height / 2 - side / 2), 0), img.height - side);
    const crop = { left, top, width: side, height: side };

    const id = `face${i + 1}`;
    const entry: Record<string, unknown> = { id, source: `@vladmandic/face-api/demo/${sample}`, crop };
    for (const [size, key] of [
      [150, 'descriptor'],
      [112, 'landmarks'],
    ] as const) {
      const png = await sharp(file)
        .extract(crop)
        .resize(size, size)
        .removeAlpha()
        .png({ compressionLevel: 9 })
        .toBuffer();
      const name = `${id}-${size}.png`;
      writeFileSync(path.join(outDir, name), png);
      // Feed face-api the pixels decoded back from the PNG, i.e. exactly what the test will see.
      const input = toTensor4d(await decodeRgb(png));
      let output: Float32Array;
      if (key === 'descriptor') {
        output = (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input)) as Float32Array;
      } else {
        // runNet = raw net output, before postProcess rescales to the original image.
        const netInput = await faceapi.toNetInput(input);
        const raw = faceapi.nets.faceLandmark68Net.runNet(netInput);
        output = (await raw.data()) as Float32Array;
        raw.dispose();
      }
      input.dispose();
      entry[`${key}Input`] = name;
      entry[key] = Array.from(output);
    }
    faces.push(entry);
    console.log(`${id}: ${sample} score ${best.score.toFixed(3)} crop ${JSON.stringify(crop)}`);
  }

  const tfjsVersion = (
    JSON.parse(readFileSync(path.join(root, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const reference = {
    generatedBy: 'scripts/make-reference-fixture.ts',
    faceApi: faceapi.version,
    tfjs: tfjsVersion,
    backend: tfjs.getBackend(),
    note: 'descriptor = FaceRecognitionNet.computeFaceDescriptor on the 150x150 PNG; landmarks = FaceLandmark68Net.runNet (raw, 0..1 of the 112x112 input) on the 112x112 PNG.',
    faces,
  };
  // One line per number array keeps the file small and diffs readable.
  const json = JSON.stringify(reference, null, 2).replace(/\[[-\d.e,\s]+\]/g, (arr) =>
    arr.replace(/\s+/g, ''),
  );
  writeFileSync(path.join(outDir, 'reference.json'), json + '\n');
  console.log(`wrote ${faces.length} faces to ${path.relative(root, outDir)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
