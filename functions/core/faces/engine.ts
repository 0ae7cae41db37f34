/**
 * The face engine: image bytes -> every face with box, score, landmarks, descriptor, and (given
 * a gallery) a name. Pure of Lambda and S3; the handlers and the CLI share it.
 *
 * decode -> detect (coarse + fine pass; more scales on a frame without a face) -> 68 landmarks
 * -> aligned chip -> descriptor (averaged with the mirror image's when so configured, and always
 * for enrollment) -> the 1:N decision against the gallery (open-set.ts).
 */
import type { EngineConfig } from '../../config.js';
import type { AnyGallery } from '../gallery/read.js';
import { decodeImage, type DecodedImage } from './decode.js';
import type { DescriptorModel } from './describe.js';
import { DESCRIPTORS } from './descriptors/registry.js';
import { detectFaces } from './detect-faces.js';
import { DEFAULT_DETECT_OPTIONS, type Detection, type DetectOptions } from './detection-passes.js';
import { findLandmarksInImages } from './landmarks.js';
import { decideIdentities } from './open-set.js';
import type { Match } from './match.js';
import { loadFaceModels, type FaceModels } from './models.js';
import type { Box, FrameAnalysis, Point, RecognizedFace, StageTimings } from './types.js';
import { stage } from '../stages.js';

export interface AnalyzedFace {
  box: Box;
  score: number;
  landmarks: Point[];
  descriptor: Float32Array;
}

export interface ImageAnalysis {
  width: number;
  height: number;
  faces: AnalyzedFace[];
  timings: StageTimings;
}

export interface AnalyzeOptions {
  /**
   * Describe each face as a gallery template: the mean descriptor of several views of the chip,
   * where a frame's face gets one (the views: each descriptor model's `describe`; its recipe id
   * is recorded with the image). A gallery photo is described once, so the evidence costs
   * nothing per frame (dlib's jitter at enrollment, InsightFace's flip test); the mean stays in
   * the same space, so the model id does not change. Measured in docs/benchmarks.md
   * ("Multi-view templates for enrolled photos").
   */
  enrollment?: boolean;
}

/** An image decoded for the engine (BatchFaceEngine.decode), with the time the decode took. */
interface DecodedFrame extends DecodedImage {
  decodeMs: number;
}

/** A decoded image with the faces the detector found (BatchFaceEngine.detect). */
interface DetectedFrame extends DecodedFrame {
  detections: Detection[];
  detectMs: number;
}

export interface FaceEngine {
  /** Identifies the descriptor pipeline (model + alignment + mirroring); galleries record it. */
  readonly modelId: string;
  /** How enrolled photos are described (enrollmentRecipe); galleries record it per image, and
   * enrolling again re-describes images stored with another recipe. */
  readonly enrollmentRecipe: string;
  readonly descriptorSize: number;
  /** Time it took to load the models (0 when they were already loaded in this process). */
  readonly loadMs: number;
  readonly config: EngineConfig;
  /** Find and describe every face. Throws ImageDecodeError for bytes that are not an image. */
  analyzeFaces(image: Uint8Array, options?: AnalyzeOptions): Promise<ImageAnalysis>;
  /** analyzeFaces, then name each face from the gallery (JSON or compiled). */
  identifyFaces(image: Uint8Array, gallery: AnyGallery): Promise<FrameAnalysis>;
}

/** The engine createFaceEngine makes: FaceEngine, and the same work on several images at once
 * (what callers with many frames use: the recognition function, benchmarks). */
export interface BatchFaceEngine extends FaceEngine {
  /** The decode step alone (sharp decodes off the main thread, so a caller can decode the next
   * images while the nets run on others). Throws ImageDecodeError for bytes that are not an image. */
  decode(image: Uint8Array): Promise<DecodedFrame>;
  /** Detection on one decoded image (the detector's passes run on the calling thread). */
  detect(frame: DecodedFrame): Promise<DetectedFrame>;
  /**
   * The rest of analyzeFaces for several detected images at once: the landmarks of every face of
   * every image in one network run, then their descriptors in one more (a batch costs less per
   * face than a run per face or per image). The same faces and descriptors as one image at a
   * time. Timings: decode and detection are each image's own; the batch's landmark and
   * descriptor times are shared among the images in proportion to their faces.
   */
  analyzeDetected(frames: DetectedFrame[], options?: AnalyzeOptions): Promise<ImageAnalysis[]>;
  /** analyzeDetected, then name each face from the gallery. */
  identifyDetected(frames: DetectedFrame[], gallery: AnyGallery): Promise<FrameAnalysis[]>;
}

/** The id recorded in galleries: descriptors differ when any of these parts differ. */
export function pipelineModelId(
  config: Pick<EngineConfig, 'alignment' | 'mirrorDescriptor' | 'landmarkRefinement'> &
    Partial<Pick<EngineConfig, 'descriptor'>>,
): string {
  // `-level`: refinement passes turn their square to level the eyes (descriptors differ from
  // the upright passes of earlier galleries).
  const refine = config.landmarkRefinement > 0 ? `+refine${config.landmarkRefinement}-level` : '';
  const mirror = config.mirrorDescriptor ? '+mirror' : '';
  const model = DESCRIPTORS[config.descriptor ?? 'dlib-resnet'];
  return `${model.chipId(config.alignment)}${mirror}${refine}`;
}

/** Detection settings for a working image that is `scale` times the original. */
export function detectOptionsFor(config: EngineConfig, scale: number): DetectOptions {
  return {
    ...DEFAULT_DETECT_OPTIONS,
    minScore: config.minFaceScore,
    minFaceSize: config.minFaceSize * scale,
    fallbackMinScales: config.noFaceFallback ? DEFAULT_DETECT_OPTIONS.fallbackMinScales : 0,
  };
}

export async function createFaceEngine(config: EngineConfig): Promise<BatchFaceEngine> {
  const start = performance.now();
  const models = await loadFaceModels(config.modelsDir, config.onnxThreads, config.descriptor);
  const loadMs = performance.now() - start;
  return new OnnxFaceEngine(config, models, loadMs);
}

class OnnxFaceEngine implements BatchFaceEngine {
  readonly modelId: string;
  readonly enrollmentRecipe: string;
  readonly descriptorSize: number;
  private readonly descriptorModel: DescriptorModel;

  constructor(
    readonly config: EngineConfig,
    private readonly models: FaceModels,
    readonly loadMs: number,
  ) {
    this.modelId = pipelineModelId(config);
    this.descriptorModel = DESCRIPTORS[config.descriptor];
    this.enrollmentRecipe = this.descriptorModel.enrollmentRecipe;
    this.descriptorSize = this.descriptorModel.size;
  }

  async decode(bytes: Uint8Array): Promise<DecodedFrame> {
    const t0 = performance.now();
    const decoded = await stage('decode', () =>
      decodeImage(bytes, { maxInputPixels: this.config.maxImageMegapixels * 1e6, maxWorkingSide: 2560 }),
    );
    return { ...decoded, decodeMs: performance.now() - t0 };
  }

  async detect(frame: DecodedFrame): Promise<DetectedFrame> {
    const t = performance.now();
    const options = detectOptionsFor(this.config, frame.scale);
    const detections = await stage('detect', () => detectFaces(this.models.detector, frame.image, options));
    return { ...frame, detections, detectMs: performance.now() - t };
  }

  async analyzeFaces(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<ImageAnalysis> {
    const [analysis] = await this.analyzeDetected([await this.detect(await this.decode(bytes))], options);
    return analysis;
  }

  async analyzeDetected(frames: DetectedFrame[], options: AnalyzeOptions = {}): Promise<ImageAnalysis[]> {
    const detections = frames.map((f) => f.detections);
    const t2 = performance.now();
    const landmarks = await findLandmarksInImages(
      this.models.landmarks,
      frames.map((f, i) => ({ image: f.image, boxes: detections[i].map((d) => d.box) })),
      this.config.landmarkRefinement,
      this.descriptorModel.landmarkSquareScale,
    );
    const t3 = performance.now();
    const descriptors = await this.describe(frames, landmarks, options);
    const t4 = performance.now();
    const faceCounts = detections.map((d) => d.length);
    const totalFaces = faceCounts.reduce((a, b) => a + b, 0);
    const share = (ms: number, i: number) => (totalFaces ? (ms * faceCounts[i]) / totalFaces : 0);
    let next = 0;
    return frames.map((frame, i) => {
      // Report in the coordinates of the (oriented) original, not of the shrunk working copy.
      const toOriginal = 1 / frame.scale;
      const faces = detections[i].map((d, j) => ({
        box: {
          x: d.box.x * toOriginal,
          y: d.box.y * toOriginal,
          width: d.box.width * toOriginal,
          height: d.box.height * toOriginal,
        },
        score: d.score,
        landmarks: landmarks[i][j].map((p) => ({ x: p.x * toOriginal, y: p.y * toOriginal })),
        descriptor: descriptors[next++],
      }));
      return {
        width: frame.width,
        height: frame.height,
        faces,
        timings: {
          decodeMs: frame.decodeMs,
          detectMs: frame.detectMs,
          landmarksMs: share(t3 - t2, i),
          descriptorMs: share(t4 - t3, i),
        },
      };
    });
  }

  /** The descriptor of every face of every frame (in order), from one run of the net. */
  private async describe(
    frames: DetectedFrame[],
    landmarks: Point[][][],
    options: AnalyzeOptions,
  ): Promise<Float32Array[]> {
    const faces = frames.flatMap((f, i) => landmarks[i].map((l) => ({ image: f.image, landmarks: l })));
    return this.descriptorModel.describe(this.models.descriptor, faces, {
      alignment: this.config.alignment,
      mirror: this.config.mirrorDescriptor,
      enrollment: Boolean(options.enrollment),
    });
  }

  async identifyFaces(bytes: Uint8Array, gallery: AnyGallery): Promise<FrameAnalysis> {
    const [frame] = await this.identifyDetected([await this.detect(await this.decode(bytes))], gallery);
    return frame;
  }

  async identifyDetected(frames: DetectedFrame[], gallery: AnyGallery): Promise<FrameAnalysis[]> {
    const analyses = await stage('describe', () => this.analyzeDetected(frames));
    // All faces of all the frames in one search (one pass over the gallery's templates).
    const matches = await stage('match', () =>
      decideIdentities(
        gallery,
        analyses.flatMap((a) => a.faces.map((f) => f.descriptor)),
        this.config,
      ),
    );
    let next = 0;
    return analyses.map((analysis) =>
      this.identify(analysis, matches.slice(next, (next += analysis.faces.length))),
    );
  }

  private identify(analysis: ImageAnalysis, matches: Match[]): FrameAnalysis {
    const faces: RecognizedFace[] = analysis.faces.map((f, i) => {
      const match = matches[i];
      return {
        box: f.box,
        score: f.score,
        landmarks: f.landmarks,
        name: match.name,
        distance: match.distance,
      };
    });
    return { width: analysis.width, height: analysis.height, faces, timings: analysis.timings };
  }
}
