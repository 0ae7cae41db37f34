/**
 * The one loader of the three ONNX models. Sessions are created once per process and reused:
 * a warm Lambda container must not pay the load again.
 */
import ort from 'onnxruntime-node';
import {
  DETECTOR_LOCATIONS_OUTPUT,
  DETECTOR_SCORES_OUTPUT,
  modelPath,
  readModelManifest,
  type ModelManifest,
  type ModelName,
} from './model-manifest.js';
import type { RgbImage } from './image.js';
import type { DetectorNet } from './detection-passes.js';
import { LANDMARK_INPUT_SIZE, type LandmarkNet } from './landmarks.js';
import { initOnnxRuntimeOnLargeStack } from './onnxruntime-init.js';
import type { DescriptorNet } from './describe.js';
import { DESCRIPTORS, type DescriptorKind } from './descriptors/registry.js';

export interface FaceModels {
  manifest: ModelManifest;
  detector: DetectorNet;
  landmarks: LandmarkNet;
  /** The configured descriptor net (`kind`); the other one is not loaded. */
  descriptor: DescriptorNet;
  descriptorKind: DescriptorKind;
  /** Wall time spent creating the sessions. */
  loadMs: number;
}

const loaded = new Map<string, Promise<FaceModels>>();

/** `threads`: onnxruntime intra-op threads per session, 0 for one per core. */
export function loadFaceModels(
  modelsDir: string,
  threads = 0,
  descriptorKind: DescriptorKind = 'dlib-resnet',
): Promise<FaceModels> {
  const key = `${modelsDir}\n${threads}\n${descriptorKind}`;
  let models = loaded.get(key);
  if (!models) {
    models = createModels(modelsDir, threads, descriptorKind);
    loaded.set(key, models);
    // A failed load must not be cached forever: the next call tries again.
    models.catch(() => loaded.delete(key));
  }
  return models;
}

async function createModels(
  modelsDir: string,
  threads: number,
  descriptorKind: DescriptorKind,
): Promise<FaceModels> {
  const start = performance.now();
  const descriptorModel = DESCRIPTORS[descriptorKind];
  const manifest = readModelManifest(modelsDir);
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    // onnxruntime's workers spin while waiting for work by default, stealing the cores that
    // ffmpeg, libvips and other recognitions need on a busy machine (docs/benchmarks.md, "Speed").
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  // Before any session on this thread: see onnxruntime-init.ts (long command lines crashed).
  await initOnnxRuntimeOnLargeStack();
  const [det, lm, desc] = await Promise.all([
    ort.InferenceSession.create(modelPath(modelsDir, manifest, 'detector'), options),
    ort.InferenceSession.create(modelPath(modelsDir, manifest, 'landmarks68'), options),
    ort.InferenceSession.create(modelPath(modelsDir, manifest, descriptorModel.modelName), options),
  ]);
  const io = (name: ModelName) => ({
    input: manifest.models[name].inputs[0].name,
    outputs: manifest.models[name].outputs.map((o) => o.name),
  });
  const detIo = io('detector');
  const lmIo = io('landmarks68');
  const descIo = io(descriptorModel.modelName);

  const detector: DetectorNet = async (image: RgbImage) => {
    // The pixels as they are: the graph casts, transposes and normalises (models/README.md).
    const { data, width, height } = image;
    const out = await det.run({ [detIo.input]: new ort.Tensor('uint8', data, [1, height, width, 3]) });
    return {
      scores: out[DETECTOR_SCORES_OUTPUT].data as Float32Array,
      locations: out[DETECTOR_LOCATIONS_OUTPUT].data as Float32Array,
    };
  };
  const landmarks: LandmarkNet = async (batch, count) => {
    const s = LANDMARK_INPUT_SIZE;
    const out = await lm.run({ [lmIo.input]: new ort.Tensor('uint8', batch, [count, s, s, 3]) });
    return out[lmIo.outputs[0]].data as Float32Array;
  };
  const descriptor: DescriptorNet = async (batch, count) => {
    const s = descriptorModel.chipSize;
    const out = await desc.run({ [descIo.input]: new ort.Tensor('uint8', batch, [count, s, s, 3]) });
    return out[descIo.outputs[0]].data as Float32Array;
  };
  return { manifest, detector, landmarks, descriptor, descriptorKind, loadMs: performance.now() - start };
}
