/** Recognition results to feed the result function and its core: one frame with the faces given. */
import type { FrameResult } from '../../functions/core/contracts.js';

export const face = (name: string, distance: number | null, score = 0.95) => ({
  box: { x: 1, y: 2, width: 50, height: 60 },
  score,
  name,
  distance,
});

export const frame = (key: string, ...faces: ReturnType<typeof face>[]): FrameResult => ({
  key,
  width: 640,
  height: 480,
  faces,
  facesTotal: faces.length,
});
