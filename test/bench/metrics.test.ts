import { accuracyAt, bestThreshold, crossValidatedThreshold, rocAuc } from '#bench/metrics.js';

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

describe('crossValidatedThreshold', () => {
  it('judges each fold on the pairs of the held-out person only', () => {
    // a, b, c: same-person pairs at 0.4, different-person pairs at 0.8, except one outlier.
    const pairs = [
      { distance: 0.4, same: true, people: ['a', 'a'] as [string, string] },
      { distance: 0.4, same: true, people: ['b', 'b'] as [string, string] },
      { distance: 0.4, same: true, people: ['c', 'c'] as [string, string] },
      { distance: 0.8, same: false, people: ['a', 'b'] as [string, string] },
      { distance: 0.8, same: false, people: ['b', 'c'] as [string, string] },
      { distance: 0.5, same: false, people: ['a', 'c'] as [string, string] },
    ];
    const cv = crossValidatedThreshold(pairs, 0.6);
    expect(cv.folds).toBe(3);
    // every pair is judged twice (once per person in it), except same-person pairs (once)
    expect(cv.fixedAccuracy).toBeCloseTo(7 / 9, 9); // 0.5 different pair wrong twice at 0.6
    expect(cv.calibratedAccuracy).toBeGreaterThanOrEqual(cv.fixedAccuracy);
  });
});
