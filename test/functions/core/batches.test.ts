import {
  compactFaces,
  framesWithinBudget,
  MAX_FACES_PER_FRAME,
  jsonBytes,
  PAYLOAD_BUDGET,
  round,
  STATE_PAYLOAD_LIMIT,
  toBatches,
} from '#functions/core/batches.js';
import { worstCaseBatch, worstCaseFrame } from '#test/support/worst-case.js';

describe('batches', () => {
  test('compactFaces: best-scored first, at most MAX_FACES_PER_FRAME, whole-pixel boxes, the total kept', () => {
    const faces = Array.from({ length: MAX_FACES_PER_FRAME + 3 }, (_, i) => ({
      box: { x: i + 0.4, y: 1.6, width: 50.5, height: 60.49 },
      score: i / 20 + 0.123456,
      name: `p${i}`,
      distance: i % 2 ? null : 0.1234567,
    }));
    const out = compactFaces({ width: 640, height: 480, faces } as never);
    expect(out.facesTotal).toBe(MAX_FACES_PER_FRAME + 3);
    expect(out.faces).toHaveLength(MAX_FACES_PER_FRAME);
    expect(out.faces[0]).toEqual({
      box: { x: 10, y: 2, width: 51, height: 60 },
      score: round(10 / 20 + 0.123456),
      name: 'p10',
      distance: 0.1235,
    });
    expect(out.faces.map((f) => f.name)).not.toContain('p0');
    expect(out.faces.find((f) => f.name === 'p9')?.distance).toBeNull();
  });

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
      const frame = worstCaseFrame(key);
      const batches = toBatches(
        Array.from({ length: n }, () => frame),
        5,
      ).map((frames, batch) => worstCaseBatch(batch, frames));
      expect(jsonBytes(batches)).toBeLessThan(PAYLOAD_BUDGET);
      expect(PAYLOAD_BUDGET).toBeLessThan(STATE_PAYLOAD_LIMIT * 0.7);
    }
  });

  test('round', () => {
    expect(round(0.123456)).toBe(0.1235);
    expect(round(12.5, 0)).toBe(13);
  });
});
