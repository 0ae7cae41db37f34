/**
 * What the engine needs of a descriptor model: the net that turns an aligned face chip into a
 * vector, and everything that goes with that net (its chip, length, metric, thresholds, the id
 * galleries record, how it describes frames and enrolled photos). One file per shipped model
 * (dlib-resnet.ts, mobilefacenet.ts); registry.ts names them for FACEREC_DESCRIPTOR.
 */
import type { AlignmentMethod } from '../align.js';
import type { DescriptorMetric, DescriptorNet } from '../describe.js';
import type { RgbImage } from '../image.js';
import type { ModelName } from '../model-manifest.js';
import type { Point } from '../types.js';

/** A face to describe: the working image it is in and its 68 landmarks there. */
export interface FaceToDescribe {
  image: RgbImage;
  landmarks: Point[];
}

export interface DescribeSettings {
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
