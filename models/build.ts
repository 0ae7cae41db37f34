/**
 * Builds models/generated/{detector,landmarks68,descriptor}.onnx and manifest.json.
 * Runs as the root package's postinstall (so `npm ci` on a fresh clone produces the models) and
 * as `npm run models`.
 *
 * Idempotent and cached: each model records a build key (hash of its source pins, weights and
 * the converter code); a model whose file still matches its recorded sha256 under the same key
 * is left alone, so a second run only hashes files. Converters (and onnx-proto) are loaded only
 * when something must be rebuilt.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DETECTOR_SOURCE,
  fetchDetector,
  fetchMobileFaceNet,
  MOBILEFACENET_SOURCE,
} from './detector-source.js';
import {
  DESCRIPTOR_INPUT_SIZE,
  DESCRIPTOR_MODEL_ID,
  DETECTOR_INPUT_HEIGHT,
  DETECTOR_INPUT_WIDTH,
  DETECTOR_LOCATIONS_OUTPUT,
  DETECTOR_MODEL_ID,
  DETECTOR_SCORES_OUTPUT,
  FACE_API_VERSION,
  LANDMARKS_INPUT_SIZE,
  LANDMARKS_MODEL_ID,
  MANIFEST_FILE,
  MOBILEFACENET_INPUT_SIZE,
  MOBILEFACENET_MODEL_ID,
  MOBILEFACENET_OUTPUT_SIZE,
  MODEL_NAMES,
  readModelManifest,
  sha256File,
  type ModelEntry,
  type ModelManifest,
  type ModelName,
} from '../functions/core/faces/model-manifest.js';

const modelsDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(modelsDir, '..');
const outDir = path.join(modelsDir, 'generated');
const cacheDir = path.join(modelsDir, '.cache');
const FACE_API = '@vladmandic/face-api';
const faceApiDir = path.join(root, 'node_modules', FACE_API);
const faceApiModelDir = path.join(faceApiDir, 'model');
const faceApiSource = `${FACE_API}@${FACE_API_VERSION}`;

/** Everything a model's manifest entry says, except what comes from the built bytes. */
type Description = Omit<ModelEntry, 'buildKey' | 'sha256' | 'bytes'>;

interface Recipe {
  description: Description;
  /** Inputs that determine the output bytes. */
  keyParts: () => string[];
  build: () => Promise<Uint8Array>;
}

/** The model contract the runtime reads (ids, I/O names and sizes), relative to models/. */
const MANIFEST_SOURCE = '../functions/core/faces/model-manifest.ts';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The code a converted model depends on: a change to any of it must rebuild that model.
 * Listed explicitly so unrelated files under models/ don't trigger rebuilds. */
function converterSources(converter: string): string[] {
  return [
    'build.ts',
    MANIFEST_SOURCE,
    'convert/graph.ts',
    'convert/tfjs-weights.ts',
    `convert/${converter}`,
  ].map((f) => `${f}:${sha256File(path.join(modelsDir, f))}`);
}

function weightFiles(base: string): string[] {
  return [`${base}-weights_manifest.json`, `${base}.bin`].map(
    (f) => `${f}:${sha256File(path.join(faceApiModelDir, f))}`,
  );
}

/** ONNX metadata_props, so a model file carries its id and origin even outside the manifest. */
function onnxMetadata(d: Description): Record<string, string> {
  return {
    model_id: d.id,
    source: `${d.source.package} ${d.source.files.join(',')}`,
    license: d.license,
    provenance: d.provenance,
  };
}

const RECIPES: Record<ModelName, Recipe> = {
  detector: {
    description: {
      id: DETECTOR_MODEL_ID,
      file: 'detector.onnx',
      source: {
        package: `${DETECTOR_SOURCE.package}@${DETECTOR_SOURCE.version}`,
        files: [DETECTOR_SOURCE.member],
      },
      license: 'MIT',
      provenance:
        'Ultra-Light-Fast-Generic-Face-Detector-1MB RFB-320 (Linzaer, MIT), trained on WIDER FACE; the ONNX file shipped in faceplugin-face-recognition-js (MIT, sha256 pinned), with its fixed-size prior-box decoder cut off, height/width made dynamic and 8-bit NHWC pixels taken in (cast, transpose and normalisation in the graph) by models/convert/detector.ts (weights untouched).',
      inputs: [
        {
          name: 'input',
          dtype: 'uint8',
          shape: [1, 'height', 'width', 3],
          description: `RGB, NHWC; the graph makes it NCHW and (v - 127) / 128; any size (trained at ${DETECTOR_INPUT_WIDTH}x${DETECTOR_INPUT_HEIGHT})`,
        },
      ],
      outputs: [
        {
          name: DETECTOR_SCORES_OUTPUT,
          dtype: 'float32',
          shape: [1, 'anchors', 2],
          description: 'softmax [background, face] per prior box',
        },
        {
          name: DETECTOR_LOCATIONS_OUTPUT,
          dtype: 'float32',
          shape: [1, 'anchors', 4],
          description:
            'raw regressions per prior box: centre offsets (variance 0.1) and log sizes (variance 0.2); priors and decoding in functions/core/faces/detection-passes.ts',
        },
      ],
    },
    keyParts: () => [
      JSON.stringify(DETECTOR_SOURCE),
      ...['build.ts', MANIFEST_SOURCE, 'convert/graph.ts', 'convert/detector.ts'].map(
        (f) => `${f}:${sha256File(path.join(modelsDir, f))}`,
      ),
    ],
    build: async () => {
      const { makeSizeFreeDetector } = await import('./convert/detector.js');
      return makeSizeFreeDetector(fetchDetector(cacheDir));
    },
  },
  landmarks68: {
    description: {
      id: LANDMARKS_MODEL_ID,
      file: 'landmarks68.onnx',
      source: {
        package: faceApiSource,
        files: ['model/face_landmark_68_model-weights_manifest.json', 'model/face_landmark_68_model.bin'],
      },
      license: 'MIT',
      provenance:
        'face-api.js FaceLandmark68Net (MIT) as shipped in @vladmandic/face-api (MIT); tfjs weights converted to ONNX by models/convert/landmarks68.ts, normalization included.',
      inputs: [
        {
          name: 'input',
          dtype: 'uint8',
          shape: ['N', LANDMARKS_INPUT_SIZE, LANDMARKS_INPUT_SIZE, 3],
          description:
            'RGB, NHWC, face crop resized to 112x112; the graph subtracts meanRgb [122.782,117.001,104.298] and divides by 255',
        },
      ],
      outputs: [
        {
          name: 'landmarks',
          dtype: 'float32',
          shape: ['N', 136],
          description:
            '68 points interleaved x0,y0,x1,y1,... in 0..1 of the 112x112 input (face-api runNet output, before postProcess)',
        },
      ],
    },
    keyParts: () => [
      FACE_API_VERSION,
      ...weightFiles('face_landmark_68_model'),
      ...converterSources('landmarks68.ts'),
    ],
    build: async () => {
      const [{ readTfjsWeights }, { buildLandmarks68 }] = await Promise.all([
        import('./convert/tfjs-weights.js'),
        import('./convert/landmarks68.js'),
      ]);
      return buildLandmarks68(
        readTfjsWeights(faceApiModelDir, 'face_landmark_68_model'),
        onnxMetadata(RECIPES.landmarks68.description),
      );
    },
  },
  descriptor: {
    description: {
      id: DESCRIPTOR_MODEL_ID,
      file: 'descriptor.onnx',
      source: {
        package: faceApiSource,
        files: ['model/face_recognition_model-weights_manifest.json', 'model/face_recognition_model.bin'],
      },
      license: 'Public domain (dlib weights) + MIT (face-api.js port)',
      provenance:
        "dlib's ResNet face descriptor (dlib_face_recognition_resnet_model_v1, weights released to the public domain by Davis King) via face-api.js FaceRecognitionNet (MIT); tfjs weights converted to ONNX by models/convert/descriptor.ts, normalization included.",
      inputs: [
        {
          name: 'input',
          dtype: 'uint8',
          shape: ['N', DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3],
          description:
            'RGB, NHWC, aligned face chip resized to 150x150; the graph subtracts meanRgb [122.782,117.001,104.298] and divides by 255',
        },
      ],
      outputs: [
        {
          name: 'descriptor',
          dtype: 'float32',
          shape: ['N', 128],
          description: '128-D face descriptor (compare with Euclidean distance)',
        },
      ],
    },
    keyParts: () => [
      FACE_API_VERSION,
      ...weightFiles('face_recognition_model'),
      ...converterSources('descriptor.ts'),
    ],
    build: async () => {
      const [{ readTfjsWeights }, { buildDescriptor }] = await Promise.all([
        import('./convert/tfjs-weights.js'),
        import('./convert/descriptor.js'),
      ]);
      return buildDescriptor(
        readTfjsWeights(faceApiModelDir, 'face_recognition_model'),
        onnxMetadata(RECIPES.descriptor.description),
      );
    },
  },
  mobilefacenet: {
    description: {
      id: MOBILEFACENET_MODEL_ID,
      file: 'mobilefacenet.onnx',
      source: {
        package: `${DETECTOR_SOURCE.package}@${DETECTOR_SOURCE.version}`,
        files: [MOBILEFACENET_SOURCE.member],
      },
      license:
        'MIT (the npm package); weights: training data undocumented (likely MS1M / MS-Celeb-1M, research-only terms)',
      provenance:
        "MobileFaceNet (Chen et al. 2018) as shipped in faceplugin-face-recognition-js (MIT, sha256 pinned); its layers match the public InsightFace_Pytorch MobileFaceNet (50 Conv, 33 PRelu, 12 residual Add, BatchNorm folded). The package does not say what the weights were trained on: likely MS1M (MS-Celeb-1M, withdrawn by Microsoft in 2019; its images are of public figures, LFW's people among them, so LFW-based figures may flatter it). Converted by models/convert/mobilefacenet.ts: its 8,938 denormal weights zeroed (outputs unchanged within 1e-6), BGR order folded into the first convolution, 8-bit RGB NHWC input with (v - 127) / 128 in the graph, dynamic batch, each PRelu as Relu(x) - s Relu(-x) with 1x1 depthwise convolutions (the same values; onnxruntime runs it 2x faster).",
      inputs: [
        {
          name: 'input',
          dtype: 'uint8',
          shape: ['N', MOBILEFACENET_INPUT_SIZE, MOBILEFACENET_INPUT_SIZE, 3],
          description:
            'RGB, NHWC, 112x112 chip aligned on ArcFace 5 points (eye centres, nose tip, mouth corners); the graph takes (v - 127) / 128 and the weights read the channels as BGR',
        },
      ],
      outputs: [
        {
          name: 'output',
          dtype: 'float32',
          shape: ['N', MOBILEFACENET_OUTPUT_SIZE],
          description: '512-D embedding, not normalised (compare with cosine similarity)',
        },
      ],
    },
    keyParts: () => [
      JSON.stringify(DETECTOR_SOURCE),
      JSON.stringify(MOBILEFACENET_SOURCE),
      ...['build.ts', MANIFEST_SOURCE, 'convert/graph.ts', 'convert/mobilefacenet.ts'].map(
        (f) => `${f}:${sha256File(path.join(modelsDir, f))}`,
      ),
    ],
    build: async () => {
      const { convertMobileFaceNet } = await import('./convert/mobilefacenet.js');
      return convertMobileFaceNet(fetchMobileFaceNet(cacheDir), {
        channelOrder: 'bgr',
        flushDenormals: true,
        metadata: onnxMetadata(RECIPES.mobilefacenet.description),
      }).model;
    },
  },
};

/** The model ids recorded in galleries name a face-api version, so refuse any other one. */
function checkFaceApiVersion(): void {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const pinned = pkg.dependencies?.[FACE_API];
  if (pinned !== FACE_API_VERSION) {
    throw new Error(
      `package.json pins ${FACE_API} "${pinned}" but functions/core/faces/model-manifest.ts expects ${FACE_API_VERSION}; the model ids would lie. Change both together.`,
    );
  }
  const installedFile = path.join(faceApiDir, 'package.json');
  if (!existsSync(installedFile))
    throw new Error(`${FACE_API} is not installed in ${faceApiDir}: run \`npm ci\`.`);
  const installed = (JSON.parse(readFileSync(installedFile, 'utf8')) as { version: string }).version;
  if (installed !== pinned) {
    throw new Error(`installed ${FACE_API} is ${installed} but package.json pins ${pinned}: run \`npm ci\`.`);
  }
}

function readExisting(): ModelManifest | undefined {
  try {
    return readModelManifest(outDir);
  } catch {
    return undefined; // missing or stale format: everything is rebuilt
  }
}

/** Writes via a temp file + rename so an interrupted build never leaves a truncated model. */
function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

async function main(): Promise<void> {
  checkFaceApiVersion();
  mkdirSync(outDir, { recursive: true });
  const existing = readExisting();
  const models = {} as Record<ModelName, ModelEntry>;

  for (const name of MODEL_NAMES) {
    const recipe = RECIPES[name];
    const { file } = recipe.description;
    const target = path.join(outDir, file);
    const buildKey = sha256(recipe.keyParts().join('\n'));
    const previous = existing?.models[name];
    const upToDate =
      previous?.buildKey === buildKey &&
      previous.file === file &&
      existsSync(target) &&
      sha256File(target) === previous.sha256;
    if (upToDate) {
      models[name] = { ...recipe.description, buildKey, sha256: previous.sha256, bytes: previous.bytes };
      console.log(`models: ${file} up to date`);
      continue;
    }
    const started = performance.now();
    const bytes = await recipe.build();
    writeAtomic(target, bytes);
    models[name] = { ...recipe.description, buildKey, sha256: sha256(bytes), bytes: bytes.length };
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`models: ${file} built in ${secs} s (${(bytes.length / 1e6).toFixed(1)} MB)`);
  }

  const manifest: ModelManifest = { schemaVersion: 1, models };
  const json = JSON.stringify(manifest, null, 2) + '\n';
  const manifestFile = path.join(outDir, MANIFEST_FILE);
  // Rewrite only on change, so a no-op run leaves the tree untouched.
  if (!existsSync(manifestFile) || readFileSync(manifestFile, 'utf8') !== json)
    writeAtomic(manifestFile, json);
}

main().catch((err: unknown) => {
  console.error(`models: build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
