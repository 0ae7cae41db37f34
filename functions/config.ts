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
    },
    galleryPath: e.FACEREC_GALLERY,
  };
}
