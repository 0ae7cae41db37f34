/**
 * The contract between the model build step (models/build.ts) and everything that runs the
 * models: file names, I/O names and shapes, model ids, and a typed reader for
 * models/generated/manifest.json.
 *
 * This module is imported at runtime by the engine (Lambda included), so it must stay light:
 * node built-ins only, no converter code.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The face-api release whose weights we convert. The build refuses any other installed
 * version, because the model ids below (recorded in galleries) would then lie. */
export const FACE_API_VERSION = '1.7.15';

/** Recorded in galleries next to each descriptor: descriptors from different models are not
 * comparable, so a gallery built with another id must be refused. */
export const DESCRIPTOR_MODEL_ID = `dlib-resnet-v1@face-api-${FACE_API_VERSION}`;
export const LANDMARKS_MODEL_ID = `face-landmark-68@face-api-${FACE_API_VERSION}`;
export const DETECTOR_MODEL_ID = 'ultraface-rfb-320@faceplugin-face-recognition-js-0.0.1';
/** The second descriptor (FACEREC_DESCRIPTOR=mobilefacenet): 512-D, cosine, 112x112 chips. */
export const MOBILEFACENET_MODEL_ID = 'mobilefacenet-512@faceplugin-face-recognition-js-0.0.1';

export const MODEL_NAMES = ['detector', 'landmarks68', 'descriptor', 'mobilefacenet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const MANIFEST_FILE = 'manifest.json';

/** Every net takes 8-bit RGB pixels, NHWC; each graph normalises them itself.
 * Landmark net: uint8 [N,112,112,3] -> [N,136] x0,y0,x1,y1,... in 0..1 of the input. */
export const LANDMARKS_INPUT_SIZE = 112;
/** Descriptor net: uint8 [N,150,150,3] -> [N,128]. */
export const DESCRIPTOR_INPUT_SIZE = 150;
/** MobileFaceNet: uint8 [N,112,112,3] RGB -> [N,512] (not normalised). */
export const MOBILEFACENET_INPUT_SIZE = 112;
export const MOBILEFACENET_OUTPUT_SIZE = 512;
/** Detector: uint8 [1,H,W,3], any H and W (trained at 240x320). Outputs
 * per-anchor scores and raw box regressions; the engine generates the priors and decodes. */
export const DETECTOR_INPUT_WIDTH = 320;
export const DETECTOR_INPUT_HEIGHT = 240;
export const DETECTOR_SCORES_OUTPUT = 'scores';
export const DETECTOR_LOCATIONS_OUTPUT = 'locations';

/** A dimension is a size, or a string naming a dynamic axis (the batch, 'N'). */
type Dim = number | string;

interface TensorSpec {
  name: string;
  dtype: 'float32' | 'uint8';
  shape: Dim[];
  description: string;
}

export interface ModelEntry {
  /** Model id, e.g. DESCRIPTOR_MODEL_ID; recorded by galleries. */
  id: string;
  /** File name inside the models folder. */
  file: string;
  /** Hash of everything the file depends on (source pins, weights, converter code): the build
   * redoes a model when it changes. */
  buildKey: string;
  sha256: string;
  bytes: number;
  /** Where the weights come from: npm package name@version and path(s) inside it. */
  source: { package: string; files: string[] };
  license: string;
  provenance: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface ModelManifest {
  schemaVersion: 1;
  models: Record<ModelName, ModelEntry>;
}

/** Checks the fields the engine relies on. Hand-written rather than zod so that the build's
 * no-op run (and a Lambda cold start) doesn't pay ~100 ms to import a schema library. */
function manifestProblem(m: unknown): string | undefined {
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (!obj(m) || m.schemaVersion !== 1 || !obj(m.models)) return 'not a schemaVersion 1 manifest';
  const models = m.models;
  for (const name of MODEL_NAMES) {
    const e = models[name];
    if (!obj(e)) return `no entry for ${name}`;
    if (typeof e.id !== 'string' || typeof e.file !== 'string' || typeof e.buildKey !== 'string')
      return `${name}: bad id/file`;
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) return `${name}: bad sha256`;
    if (typeof e.bytes !== 'number' || !obj(e.source) || typeof e.license !== 'string')
      return `${name}: bad bytes/source/license`;
    for (const io of [e.inputs, e.outputs]) {
      if (!Array.isArray(io) || !io.length) return `${name}: bad inputs/outputs`;
      if (!io.every((t) => obj(t) && typeof t.name === 'string' && Array.isArray(t.shape)))
        return `${name}: bad tensor spec`;
    }
    // Models built before the nets took 8-bit pixels (float32 input) would fail at the first run.
    if ((e.inputs as Record<string, unknown>[])[0].dtype !== 'uint8')
      return `${name}: built for float32 input by an older version`;
  }
  return undefined;
}

/** Reads and validates `<modelsDir>/manifest.json`. Throws a message that says how to fix it. */
export function readModelManifest(modelsDir: string): ModelManifest {
  const file = path.join(modelsDir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new Error(`No model manifest at ${file}: run \`npm run models\` to build the ONNX models.`);
  }
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const problem = manifestProblem(parsed);
  if (problem) throw new Error(`Invalid model manifest ${file} (${problem}): run \`npm run models\`.`);
  return parsed as ModelManifest;
}

/** Absolute path of one model file named in the manifest. */
export function modelPath(modelsDir: string, manifest: ModelManifest, name: ModelName): string {
  return path.join(modelsDir, manifest.models[name].file);
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Lists what is wrong with the files on disk compared with the manifest (empty = all good). */
export function checkModelFiles(modelsDir: string, manifest: ModelManifest): string[] {
  const problems: string[] = [];
  for (const name of MODEL_NAMES) {
    const entry = manifest.models[name];
    const file = path.join(modelsDir, entry.file);
    if (!existsSync(file)) problems.push(`${entry.file} is missing`);
    else if (sha256File(file) !== entry.sha256) problems.push(`${entry.file} does not match its sha256`);
  }
  return problems;
}
