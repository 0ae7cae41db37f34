/**
 * Frame batches for the Map state, sized so that every state's payload stays far under the
 * Step Functions limit (256 KB per state input/output), whatever the key length.
 *
 * The biggest payload is the Map's output (every frame's faces, read by the result task), so the
 * splitter caps the frames of a video with `framesWithinBudget`, assuming every frame carries
 * the faces-per-frame setting's number of faces (FACEREC_FACES_PER_FRAME, default
 * DEFAULT_FACES_PER_FRAME) with long names; recognition reports at most that many per frame
 * (`compactFaces`), the recognized ones first, and counts the rest.
 *
 * How the default fits: a face costs at most FACE_BYTES (148 B) of JSON, so a frame with 40 faces
 * costs at most about 6.1 KB; the 160 KB budget then holds 26 such frames per video (the
 * default profile takes 10: 61 KB at worst; a batch of 5 frames is at most 31 KB). Fewer faces a
 * frame leave room for more frames (8 faces: about 115), up to FACEREC_MAX_FRAMES.
 */
import type { FaceResult } from './contracts.js';
import { UNKNOWN, type FrameAnalysis } from './faces/types.js';

/** What the pipeline allows itself: well under the limit, with room for the execution input. */
export const PAYLOAD_BUDGET = 160 * 1024;
/** Faces reported per frame in the state payload by default (FACEREC_FACES_PER_FRAME): a class of
 * 30-40 people in view. The recognized faces come first, then the highest-scored; the count of
 * all faces (and of the Unknown ones) is reported too. */
export const DEFAULT_FACES_PER_FRAME = 40;
/** The most the setting allows: with it, a video still gets a frame. */
export const MAX_FACES_PER_FRAME = 1000;
/** Names are counted at this many bytes in the worst case. */
const NAME_BYTES = 48;
/** `{"box":{"x":1920,"y":1080,"width":1080,"height":1080},"score":0.999,"name":"…","distance":0.599}` */
const FACE_BYTES = 100 + NAME_BYTES;
/** `{"key":"…","width":1920,"height":1080,"faces":[…],"facesTotal":12,"ms":1234}` + error room */
const FRAME_OVERHEAD_BYTES = 120;
/** Per batch: `{"batch":12,"frames":[…],"modelId":"…","galleryId":"…","timings":{…}}` */
const BATCH_OVERHEAD_BYTES = 400;

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Worst-case bytes one frame adds to the Map output. */
function frameResultBytes(keyBytes: number, facesPerFrame = DEFAULT_FACES_PER_FRAME): number {
  return keyBytes + FRAME_OVERHEAD_BYTES + facesPerFrame * FACE_BYTES;
}

/** How many frames of a video fit the payload budget, given the byte length of its longest
 * frame key, the batch size and the faces reported per frame. */
export function framesWithinBudget(
  keyBytes: number,
  batchSize: number,
  facesPerFrame = DEFAULT_FACES_PER_FRAME,
  budget = PAYLOAD_BUDGET,
): number {
  const perFrame = frameResultBytes(keyBytes, facesPerFrame) + BATCH_OVERHEAD_BYTES / Math.max(1, batchSize);
  return Math.max(1, Math.floor(budget / perFrame));
}

export function toBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`batch size must be a positive integer: ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Round for compact JSON: boxes to whole pixels, scores and distances to 4 decimals. */
export function round(value: number, decimals = 4): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** Compact faces for the state payload: at most `max` (the faces-per-frame setting), the
 * recognized ones first (nobody recognized goes missing in a crowd), then by detector score; boxes
 * in whole pixels, scores and distances rounded. `facesTotal` counts every face found and, when
 * some were left out, `unknownTotal` the Unknown ones among them all. */
export function compactFaces(
  analysis: FrameAnalysis,
  max = DEFAULT_FACES_PER_FRAME,
): { faces: FaceResult[]; facesTotal: number; unknownTotal?: number } {
  const named = (f: { name: string }) => (f.name === UNKNOWN ? 1 : 0);
  const kept = [...analysis.faces]
    .sort((a, b) => named(a) - named(b) || b.score - a.score)
    .slice(0, Math.max(1, max));
  const faces = kept.map((f) => ({
    box: {
      x: Math.round(f.box.x),
      y: Math.round(f.box.y),
      width: Math.round(f.box.width),
      height: Math.round(f.box.height),
    },
    score: round(f.score),
    name: f.name,
    distance: f.distance === null ? null : round(f.distance),
  }));
  const total = analysis.faces.length;
  if (faces.length === total) return { faces, facesTotal: total };
  return { faces, facesTotal: total, unknownTotal: analysis.faces.filter((f) => f.name === UNKNOWN).length };
}
