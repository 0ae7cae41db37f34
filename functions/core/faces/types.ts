/** Shapes shared by the face engine and its callers. Pixel coordinates are in the decoded,
 * EXIF-oriented image. */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The name given to a face whose best gallery distance is beyond the threshold. */
export const UNKNOWN = 'Unknown';

export interface RecognizedFace {
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /** 68 landmark points (iBUG 300-W order). */
  landmarks: Point[];
  /** Best gallery match, or `Unknown`. */
  name: string;
  /** Euclidean distance to the best gallery descriptor of `name` (or of the nearest person when
   * Unknown); null when the gallery is empty. */
  distance: number | null;
}

export interface StageTimings {
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
  descriptorMs: number;
}

export interface FrameAnalysis {
  width: number;
  height: number;
  faces: RecognizedFace[];
  timings: StageTimings;
}
