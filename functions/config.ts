/**
 * The one place where settings are read from the environment. Everything else receives a
 * typed `Config` (or the part of it it needs) as an argument, so cores stay pure and tests
 * can build configs without touching process.env.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const numberFrom = (fallback: number) => z.coerce.number().finite().default(fallback);

const EnvSchema = z.object({
  FACEREC_MODELS_DIR: z.string().default(path.join(repoRoot, 'models', 'generated')),
  FACEREC_GALLERY: z.string().optional(),
  FACEREC_MATCH_THRESHOLD: numberFrom(0.6),
  FACEREC_MIN_FACE_SCORE: numberFrom(0.7),
  FACEREC_MIRROR_DESCRIPTOR: z.enum(['true', 'false']).default('true'),
  FACEREC_ALIGNMENT: z.enum(['dlib-chip', 'landmark-box']).default('dlib-chip'),
  FACEREC_MIN_FACE_SIZE: numberFrom(40),
  FACEREC_MAX_IMAGE_MEGAPIXELS: numberFrom(100),
});

export interface EngineConfig {
  /** Folder holding detector.onnx, landmarks68.onnx, descriptor.onnx and manifest.json. */
  modelsDir: string;
  /** Euclidean distance beyond which a face is `Unknown`. */
  matchThreshold: number;
  /** Detector score floor: lower-scored boxes are dropped. */
  minFaceScore: number;
  /** Average the descriptor of the chip and of its mirror image. */
  mirrorDescriptor: boolean;
  /** How the 150x150 chip is cut from the landmarks (see functions/core/faces/align.ts). */
  alignment: 'dlib-chip' | 'landmark-box';
  /** Smallest face side, in pixels of a 1080p-sized frame, that detection must find. */
  minFaceSize: number;
  /** Images with more pixels are refused as bad input. */
  maxImageMegapixels: number;
}

export interface Config {
  repoRoot: string;
  engine: EngineConfig;
  galleryPath?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = EnvSchema.parse(env);
  return {
    repoRoot,
    engine: {
      modelsDir: e.FACEREC_MODELS_DIR,
      matchThreshold: e.FACEREC_MATCH_THRESHOLD,
      minFaceScore: e.FACEREC_MIN_FACE_SCORE,
      mirrorDescriptor: e.FACEREC_MIRROR_DESCRIPTOR === 'true',
      alignment: e.FACEREC_ALIGNMENT,
      minFaceSize: e.FACEREC_MIN_FACE_SIZE,
      maxImageMegapixels: e.FACEREC_MAX_IMAGE_MEGAPIXELS,
    },
    galleryPath: e.FACEREC_GALLERY,
  };
}
