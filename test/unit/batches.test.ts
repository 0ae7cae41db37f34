import {
  framesWithinBudget,
  jsonBytes,
  MAX_FACES_PER_FRAME,
  PAYLOAD_BUDGET,
  round,
  STATE_PAYLOAD_LIMIT,
  toBatches,
} from '../../functions/core/batches.js';

describe('batches', () => {
  test('toBatches splits in order and refuses bad sizes', () => {
    expect(toBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(toBatches([], 3)).toEqual([]);
    expect(() => toBatches([1], 0)).toThrow(RangeError);
  });

  test('the frame budget shrinks with long keys and keeps the worst case under the budget', () => {
    const short = framesWithinBudget(40, 5);
    const long = framesWithinBudget(1040, 5);
    expect(short).toBeGreaterThanOrEqual(100);
    expect(long).toBeLessThan(short);
    // A worst-case Map output: every frame with MAX_FACES_PER_FRAME long-named faces.
    for (const keyBytes of [40, 300, 1040]) {
      const n = framesWithinBudget(keyBytes, 5);
      const key = 'k'.repeat(keyBytes);
      const frame = {
        key,
        width: 1920,
        height: 1080,
        faces: Array.from({ length: MAX_FACES_PER_FRAME }, () => ({
          box: { x: 1920, y: 1080, width: 1080, height: 1080 },
          score: 0.9999,
          name: 'N'.repeat(48),
          distance: 0.5999,
        })),
        facesTotal: 40,
        ms: 12345,
      };
      const batches = toBatches(
        Array.from({ length: n }, () => frame),
        5,
      ).map((frames, batch) => ({
        batch,
        frames,
        modelId: 'face-api/faceRecognitionNet@1.7.15/dlib-chip+mirror',
        galleryId: '0123456789abcdef',
        timings: { totalMs: 12345, engineLoadMs: 1234 },
      }));
      expect(jsonBytes(batches)).toBeLessThan(PAYLOAD_BUDGET);
      expect(PAYLOAD_BUDGET).toBeLessThan(STATE_PAYLOAD_LIMIT * 0.7);
    }
  });

  test('round', () => {
    expect(round(0.123456)).toBe(0.1235);
    expect(round(12.5, 0)).toBe(13);
  });
});
