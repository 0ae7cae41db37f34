/**
 * What each of the four functions carries, where things land inside its bundle, and the
 * environment that points the code at them. CDK-free: the stack and functions/Dockerfile
 * (through bundling/cli.ts) both build bundles from this.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FunctionName } from '../../functions/core/facts.js';
import { galleryFromBytes } from '../../functions/core/gallery/read.js';
import {
  checkModelFiles,
  MANIFEST_FILE,
  MODEL_NAMES,
  readModelManifest,
} from '../../functions/core/faces/model-manifest.js';
import type { BundleSpec, ExtraFile } from './bundling/bundle.js';
import type { LambdaArch } from './bundling/native-modules.js';

/** Where Lambda unpacks a zip, and where the container images copy the same tree. */
export const TASK_ROOT = '/var/task';

/** Bundle-relative locations, and the environment that points the functions at them. */
export const BUNDLE_PATHS = {
  modelsDir: 'models',
  gallery: 'gallery.json',
  ffmpeg: (arch: LambdaArch) => `node_modules/@ffmpeg-installer/linux-${arch}/ffmpeg`,
} as const;

/** Packages each function loads from node_modules at run time instead of bundling. */
export const NATIVE_MODULES: Record<FunctionName, string[]> = {
  starter: [],
  // The static ffmpeg binary travels inside its installer package (linux-<arch> only); the
  // code finds it through FFMPEG_PATH, or through the installer if it imports it.
  splitter: ['@ffmpeg-installer/ffmpeg'],
  recognition: ['onnxruntime-node', 'sharp'],
  result: [],
};

export function defaultEntry(projectRoot: string, name: FunctionName): string {
  return path.join(projectRoot, 'functions', name, 'handler.ts');
}

/** The three ONNX models and their manifest, checked against the manifest's sha256s. */
export function modelFiles(modelsDir: string): ExtraFile[] {
  if (!existsSync(path.join(modelsDir, MANIFEST_FILE))) {
    throw new Error(
      `No ONNX models in ${modelsDir} (no ${MANIFEST_FILE}). The recognition function carries them: ` +
        'run `npm run models` (npm ci runs it as postinstall), then synthesize again.',
    );
  }
  const manifest = readModelManifest(modelsDir);
  const problems = checkModelFiles(modelsDir, manifest);
  if (problems.length > 0) {
    throw new Error(
      `The models in ${modelsDir} are not usable (${problems.join('; ')}): run \`npm run models\`.`,
    );
  }
  return [
    { from: path.join(modelsDir, MANIFEST_FILE), to: `${BUNDLE_PATHS.modelsDir}/${MANIFEST_FILE}` },
    ...MODEL_NAMES.map((m) => ({
      from: path.join(modelsDir, manifest.models[m].file),
      to: `${BUNDLE_PATHS.modelsDir}/${manifest.models[m].file}`,
    })),
  ];
}

/** Fails early, at synth, on a gallery the function could not load (missing or malformed).
 * Whether its model id matches the engine's settings is checked by the function itself. */
export function checkGalleryFile(file: string): void {
  if (!existsSync(file)) {
    throw new Error(
      `Gallery ${file} not found. The recognition function needs the gallery of known faces: pass ` +
        '`-c gallery=path/to/gallery.json` (a file built with the gallery tool; a binary store works too) or `-c gallery=s3://bucket/key`.',
    );
  }
  // JSON or a binary store (functions/core/gallery/read.ts tells them apart).
  galleryFromBytes(readFileSync(file), undefined, file);
}

export interface BundleInputs {
  projectRoot: string;
  arch: LambdaArch;
  entry?: string;
  /** recognition only */
  modelsDir?: string;
  /** recognition only: a local gallery file to embed (omit when the gallery lives in S3). */
  galleryFile?: string;
  /** Cache of platform packages this machine lacks (BundleSpec.packageCache). */
  packageCache?: string;
}

export function bundleSpecFor(name: FunctionName, inputs: BundleInputs): BundleSpec {
  const extraFiles: ExtraFile[] = [];
  if (name === 'recognition') {
    extraFiles.push(...modelFiles(inputs.modelsDir ?? path.join(inputs.projectRoot, 'models', 'generated')));
    if (inputs.galleryFile) {
      checkGalleryFile(inputs.galleryFile);
      extraFiles.push({ from: inputs.galleryFile, to: BUNDLE_PATHS.gallery });
    }
  }
  return {
    name,
    entry: inputs.entry ?? defaultEntry(inputs.projectRoot, name),
    projectRoot: inputs.projectRoot,
    nativeModules: NATIVE_MODULES[name],
    extraFiles,
    arch: inputs.arch,
    ...(inputs.packageCache ? { packageCache: inputs.packageCache } : {}),
  };
}
