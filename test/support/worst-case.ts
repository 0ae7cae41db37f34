/** The largest recognition results the state payloads must hold: what the size tests feed. */
import { DEFAULT_FACES_PER_FRAME } from '../../functions/core/batches.js';

/** A frame result with `faces` faces (the faces-per-frame setting), every field at its longest.
 * (An options object: `keys.map(worstCaseFrame)` passes an index second.) */
export function worstCaseFrame(key: string, opts: { faces?: number } | number = {}) {
  const faces = (typeof opts === 'object' ? opts.faces : undefined) ?? DEFAULT_FACES_PER_FRAME;
  return {
    key,
    width: 1920,
    height: 1080,
    faces: Array.from({ length: faces }, () => ({
      box: { x: 1920, y: 1080, width: 1080, height: 1080 },
      score: 0.9999,
      name: 'N'.repeat(48),
      distance: 0.5999,
    })),
    facesTotal: faces + 9999,
    unknownTotal: 9999,
    ms: 12345,
  };
}

/** One recognition task's output around `frames`. */
export function worstCaseBatch<T>(batch: number, frames: T[]) {
  return {
    batch,
    frames,
    modelId: 'face-api/faceRecognitionNet@1.7.15/dlib-chip+mirror',
    galleryId: '0123456789abcdef',
    timings: { totalMs: 12345, engineLoadMs: 1234 },
  };
}
