/**
 * Describing faces: what the engine needs of a descriptor model (DescriptorModel: the net that
 * turns an aligned face chip into a vector, and everything that goes with that net; one file
 * per shipped model in descriptors/, named for FACEREC_DESCRIPTOR by descriptors/registry.ts),
 * running a net on all chips of a batch at once, and the distances descriptors are compared by.
 */
import type { AlignmentMethod } from './align.js';
import type { RgbImage } from './image.js';
import { flipHorizontal, nhwcBatch } from './image.js';
import type { ModelName } from './model-manifest.js';
import type { Point } from './types.js';

/** dlib's ResNet descriptor length (the default `size` of describeFaces). */
export const DESCRIPTOR_SIZE = 128;

export type DescriptorMetric = 'euclidean' | 'cosine';

/** Runs a descriptor net on `count` square NHWC RGB chips; returns count x size values. */
export type DescriptorNet = (batch: Uint8Array, count: number) => Promise<Float32Array>;

/** A face to describe: the working image it is in and its 68 landmarks there. */
export interface FaceToDescribe {
  image: RgbImage;
  landmarks: Point[];
}

interface DescribeSettings {
  /** The chip of a model that lets it be chosen (FACEREC_ALIGNMENT); others ignore it. */
  alignment: AlignmentMethod;
  /** Average each frame's chip with its mirror image (FACEREC_MIRROR_DESCRIPTOR). */
  mirror: boolean;
  /** Describe each face as a gallery template (engine.ts, AnalyzeOptions.enrollment). */
  enrollment: boolean;
}

export interface DescriptorModel {
  /** The manifest entry of the model's ONNX file. */
  readonly modelName: ModelName;
  /** Length of one descriptor. */
  readonly size: number;
  /** Side of the square chip the net takes. */
  readonly chipSize: number;
  readonly metric: DescriptorMetric;
  /** The 1:1 distance threshold (same person at or under it): `facerec compare`, and the
   * ceiling of the 1:N decision (open-set.ts). */
  readonly pairThreshold: number;
  /** Average with the mirror image unless FACEREC_MIRROR_DESCRIPTOR says otherwise. */
  readonly mirrorByDefault: boolean;
  /** The 68-point net's first square, in units of the detector box's longer side. */
  readonly landmarkSquareScale: number;
  /**
   * How often faces of two different people come within a distance: [share of comparisons,
   * distance], share decreasing. Measured on ../shared/data/openset (LFW; 700 people, 359,100
   * pairs: frames against enrolled photos and templates, and frames against frames), not on the
   * openset-large test set; open-set.ts interpolates it.
   */
  readonly differentPersonTail: ReadonlyArray<readonly [number, number]>;
  /**
   * The id of the views an enrolled photo's template averages, recorded with each gallery image.
   * Not part of the model id: the mean stays in the same space, so a gallery from an older recipe
   * still matches; `facerec enroll` refreshes its images when the recipe differs. Change it
   * whenever the enrollment views change.
   */
  readonly enrollmentRecipe: string;
  /** The net and chip part of the id galleries record (engine.ts `pipelineModelId`). */
  chipId(alignment: AlignmentMethod): string;
  /** The descriptors of `faces`, in order, from one run of the net. */
  describe(net: DescriptorNet, faces: FaceToDescribe[], settings: DescribeSettings): Promise<Float32Array[]>;
}

/**
 * With `mirror`, each chip and its mirror image are described and the two averaged: the
 * network is not exactly symmetric, and the average is a steadier description of the face.
 * With `normalize`, each descriptor is scaled to unit length (after the average), so that the
 * cosine distance is half the squared Euclidean one.
 */
export async function describeFaces(
  net: DescriptorNet,
  chips: RgbImage[],
  mirror: boolean,
  { size = DESCRIPTOR_SIZE, normalize = false }: { size?: number; normalize?: boolean } = {},
): Promise<Float32Array[]> {
  if (chips.length === 0) return [];
  const inputs = mirror ? [...chips, ...chips.map(flipHorizontal)] : chips;
  const out = await net(nhwcBatch(inputs), inputs.length);
  return chips.map((_, i) => {
    const d = out.slice(i * size, (i + 1) * size);
    if (mirror) {
      const m = (chips.length + i) * size;
      for (let j = 0; j < size; j++) d[j] = (d[j] + out[m + j]) / 2;
    }
    if (normalize) toUnitLength(d);
    return d;
  });
}

/** Scales `v` in place to length 1 (a zero vector stays zero): what cosine descriptors are compared as. */
export function toUnitLength(v: Float32Array): Float32Array {
  let sum = 0;
  for (let j = 0; j < v.length; j++) sum += v[j] * v[j];
  const norm = Math.sqrt(sum) || 1;
  for (let j = 0; j < v.length; j++) v[j] /= norm;
  return v;
}

export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** 1 - cosine similarity (0: same direction, 2: opposite). */
function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / (Math.sqrt(na * nb) || 1);
}

/** The distance a descriptor pipeline's metric gives two descriptors. */
export function descriptorDistance(metric: DescriptorMetric, a: ArrayLike<number>, b: ArrayLike<number>) {
  return metric === 'cosine' ? cosineDistance(a, b) : euclideanDistance(a, b);
}
