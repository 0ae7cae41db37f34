import { accuracyAt, bestThreshold, rocAuc } from '../../bench/metrics.js';

const pairs = [
  { distance: 0.3, same: true },
  { distance: 0.5, same: true },
  { distance: 0.7, same: false },
  { distance: 0.9, same: false },
];

describe('verification metrics', () => {
  it('computes accuracy at a threshold', () => {
    expect(accuracyAt(pairs, 0.6)).toBe(1);
    expect(accuracyAt(pairs, 0.4)).toBe(0.75);
  });

  it('finds the best threshold between the classes', () => {
    expect(bestThreshold(pairs)).toEqual({ threshold: 0.6, accuracy: 1 });
  });

  it('computes AUC, counting ties half', () => {
    expect(rocAuc(pairs)).toBe(1);
    // same {0.3, 0.5, 0.8} vs different {0.7, 0.9}: 5 of 6 orderings right
    expect(rocAuc([...pairs, { distance: 0.8, same: true }])).toBeCloseTo(5 / 6, 9);
    expect(
      rocAuc([
        { distance: 0.5, same: true },
        { distance: 0.5, same: false },
      ]),
    ).toBe(0.5);
  });
});
