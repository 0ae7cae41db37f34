/**
 * Frame batches for the Map state, sized so that every state's payload stays far under the
 * Step Functions limit (256 KB per state input/output), whatever the key length.
 *
 * The biggest payload is the Map's output (every frame's faces, read by the result task), so the
 * splitter caps the frames of a video with `framesWithinBudget`, assuming every frame carries
 * MAX_FACES_PER_FRAME faces with long names; recognition reports at most that many per frame
 * (`compactFaces`).
 */
import type { FaceResult } from './contracts.js';
import type { FrameAnalysis } from './faces/types.js';

/** Step Functions' limit on a state's input or output (bytes of UTF-8 JSON). */
export const STATE_PAYLOAD_LIMIT = 256 * 1024;
/** What the pipeline allows itself: well under the limit, with room for the execution input. */
export const PAYLOAD_BUDGET = 160 * 1024;
/** Faces reported per frame in the state payload (the highest-scored ones; the count of all
 * faces is reported too). */
export const MAX_FACES_PER_FRAME = 8;
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
export function frameResultBytes(keyBytes: number): number {
  return keyBytes + FRAME_OVERHEAD_BYTES + MAX_FACES_PER_FRAME * FACE_BYTES;
}

/** How many frames of a video fit the payload budget, given the byte length of its longest
 * frame key and the batch size. */
export function framesWithinBudget(keyBytes: number, batchSize: number, budget = PAYLOAD_BUDGET): number {
  const perFrame = frameResultBytes(keyBytes) + BATCH_OVERHEAD_BYTES / Math.max(1, batchSize);
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

/** Compact faces for the state payload: best-scored first, at most MAX_FACES_PER_FRAME, boxes in
 * whole pixels, scores and distances rounded. */
export function compactFaces(analysis: FrameAnalysis): { faces: FaceResult[]; facesTotal: number } {
  const faces = [...analysis.faces]
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_FACES_PER_FRAME)
    .map((f) => ({
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
  return { faces, facesTotal: analysis.faces.length };
}
