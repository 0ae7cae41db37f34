import {
  framesWithinBudget,
  jsonBytes,
  PAYLOAD_BUDGET,
  round,
  STATE_PAYLOAD_LIMIT,
  toBatches,
} from '../../functions/core/batches.js';
import { worstCaseBatch, worstCaseFrame } from '../support/worst-case.js';

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
