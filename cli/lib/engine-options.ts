/** Options shared by the commands that run the face engine, and the engine they configure. */
import type { Command } from 'commander';
import { parseNumber } from './options.js';
import { loadConfig, type EngineConfig } from '../../functions/config.js';
import { createFaceEngine, type FaceEngine } from '../../functions/core/faces/engine.js';

export interface EngineFlags {
  threshold?: number;
  models?: string;
}

export function withEngineOptions(command: Command): Command {
  return command
    .option(
      '--threshold <distance>',
      "match threshold, fixed (the descriptor's distance; default: FACEREC_MATCH_THRESHOLD, else calibrated on the gallery)",
      parseNumber({ min: 0 }),
    )
    .option('--models <dir>', 'folder of the ONNX models (default: models/generated)');
}

export function engineConfig(flags: EngineFlags): EngineConfig {
  const base = loadConfig().engine;
  return {
    ...base,
    matchThreshold: flags.threshold ?? base.matchThreshold,
    matchThresholdFixed: flags.threshold !== undefined || base.matchThresholdFixed,
    modelsDir: flags.models ?? base.modelsDir,
  };
}

export function openEngine(flags: EngineFlags): Promise<FaceEngine> {
  return createFaceEngine(engineConfig(flags));
}
