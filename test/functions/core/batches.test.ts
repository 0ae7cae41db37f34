import {
  compactFaces,
  DEFAULT_FACES_PER_FRAME,
  framesWithinBudget,
  jsonBytes,
  PAYLOAD_BUDGET,
  round,
  toBatches,
} from '#functions/core/batches.js';
import { STATE_PAYLOAD_LIMIT } from '#functions/core/facts.js';
import { worstCaseBatch, worstCaseFrame } from '#test/support/worst-case.js';

const crowd = (n: number, name = (i: number) => `p${i}`) =>
  Array.from({ length: n }, (_, i) => ({
    box: { x: i + 0.4, y: 1.6, width: 50.5, height: 60.49 },
    score: i / (2 * n) + 0.123456,
    name: name(i),
    distance: i % 2 ? null : 0.1234567,
  }));

describe('batches', () => {
  test('compactFaces: at most the setting, best-scored first, whole-pixel boxes, the total kept', () => {
    const faces = crowd(11);
    const out = compactFaces({ width: 640, height: 480, faces } as never, 8);
    expect(out.facesTotal).toBe(11);
    expect(out.unknownTotal).toBe(0);
    expect(out.faces).toHaveLength(8);
    expect(out.faces[0]).toEqual({
      box: { x: 10, y: 2, width: 51, height: 60 },
      score: round(10 / 22 + 0.123456),
      name: 'p10',
      distance: 0.1235,
    });
    expect(out.faces.map((f) => f.name)).not.toContain('p0');
    expect(out.faces.find((f) => f.name === 'p9')?.distance).toBeNull();
  });

  test('compactFaces: the default keeps a class of 40; nobody recognized is dropped for a stranger', () => {
    expect(DEFAULT_FACES_PER_FRAME).toBe(40);
    const all = compactFaces({ width: 1920, height: 1080, faces: crowd(40) } as never);
    expect(all.faces).toHaveLength(40);
    expect(all.unknownTotal).toBeUndefined();
    // 50 faces, the 5 recognized ones scored lowest: they are kept, 10 strangers are left out
    // and counted.
    const faces = crowd(50, (i) => (i < 5 ? `known${i}` : 'Unknown'));
    const out = compactFaces({ width: 1920, height: 1080, faces } as never);
    expect(out.faces).toHaveLength(40);
    expect(out.faces.slice(0, 5).map((f) => f.name)).toEqual([
      'known4',
      'known3',
      'known2',
      'known1',
      'known0',
    ]);
    expect(out).toMatchObject({ facesTotal: 50, unknownTotal: 45 });
  });

  test('toBatches splits in order and refuses bad sizes', () => {
    expect(toBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(toBatches([], 3)).toEqual([]);
    expect(() => toBatches([1], 0)).toThrow(RangeError);
  });

  test('the frame budget: 26 frames of 40 faces (the default 10 fit), more with fewer faces, less with long keys', () => {
    expect(framesWithinBudget(40, 5)).toBe(26);
    expect(framesWithinBudget(40, 5, 8)).toBeGreaterThanOrEqual(100);
    expect(framesWithinBudget(40, 5, 1000)).toBe(1);
    expect(framesWithinBudget(1040, 5)).toBeLessThan(framesWithinBudget(40, 5));
  });

  test.each([8, DEFAULT_FACES_PER_FRAME, 200])(
    'the worst case of %i faces a frame stays under the budget at any key length',
    (faces) => {
      for (const keyBytes of [40, 300, 1040]) {
        const n = framesWithinBudget(keyBytes, 5, faces);
        const frame = worstCaseFrame('k'.repeat(keyBytes), { faces });
        const batches = toBatches(
          Array.from({ length: n }, () => frame),
          5,
        ).map((frames, batch) => worstCaseBatch(batch, frames));
        expect(jsonBytes(batches)).toBeLessThan(PAYLOAD_BUDGET);
        expect(PAYLOAD_BUDGET).toBeLessThan(STATE_PAYLOAD_LIMIT * 0.7);
      }
    },
  );

  test('round', () => {
    expect(round(0.123456)).toBe(0.1235);
    expect(round(12.5, 0)).toBe(13);
  });
});
