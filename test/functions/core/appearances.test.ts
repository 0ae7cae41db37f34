import {
  appearances,
  byScreenTime,
  frameTimes,
  GAP_SAMPLING_INTERVALS,
  intervalsOf,
  samplingIntervalSec,
} from '#functions/core/appearances.js';

const face = (name: string, distance: number | null = 0.4) => ({ name, distance });
/** Frames a second apart where `who(i)` names the people in frame i. */
const everySecond = (n: number, who: (i: number) => string[], step = 1) =>
  Array.from({ length: n }, (_, i) => ({
    key: `f${i}`,
    timeSec: i * step,
    faces: who(i).map((w) => face(w)),
  }));

test('first/last seen, frames, best distance and intervals per person; Unknown and failed frames left out', () => {
  const out = appearances([
    { key: 'f0', timeSec: 0, faces: [face('Ann', 0.5), face('Unknown', 0.7)] },
    { key: 'f1', timeSec: 2.5, faces: [face('Ann', 0.31), face('Ann', 0.45), face('Bob', 0.52)] },
    { key: 'f2', timeSec: 5, faces: [] },
    { key: 'f3', timeSec: 7.5, faces: [face('Ann', 0.4)], error: { type: 'x' } },
    { key: 'f4', timeSec: 10, faces: [face('Bob', 0.33)] },
  ]);
  expect(out).toEqual([
    {
      name: 'Ann',
      firstSeenSec: 0,
      lastSeenSec: 2.5,
      frames: 2,
      frameKeys: ['f0', 'f1'],
      bestDistance: 0.31,
      intervals: [{ startSec: 0, endSec: 2.5, firstFrame: 0, lastFrame: 1, frames: 2 }],
      screenTimeSec: 5,
    },
    {
      name: 'Bob',
      firstSeenSec: 2.5,
      lastSeenSec: 10,
      frames: 2,
      frameKeys: ['f1', 'f4'],
      bestDistance: 0.33,
      // 7.5 s apart = 3 sampling intervals (2.5 s): two intervals (the failed frame is no evidence).
      intervals: [
        { startSec: 2.5, endSec: 2.5, firstFrame: 1, lastFrame: 1, frames: 1 },
        { startSec: 10, endSec: 10, firstFrame: 4, lastFrame: 4, frames: 1 },
      ],
      screenTimeSec: 5,
    },
  ]);
});

test('the gap rule: one missed sampled frame keeps the interval, two start a new one', () => {
  expect(GAP_SAMPLING_INTERVALS).toBe(2.5);
  //            0    1    2    3    4    5    6    7    8    9
  const seen = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
  const [ann] = appearances(everySecond(10, (i) => (seen[i] ? ['Ann'] : [])));
  expect(ann.intervals).toEqual([
    { startSec: 0, endSec: 3, firstFrame: 0, lastFrame: 3, frames: 3 },
    { startSec: 6, endSec: 8, firstFrame: 6, lastFrame: 8, frames: 3 },
  ]);
  // Each interval one sampling interval longer than its span: 4 s + 3 s.
  expect(ann.screenTimeSec).toBe(7);
});

test('the rule is counted in sampling intervals: the same pattern at 10 frames over 60 s', () => {
  const seen = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
  const [ann] = appearances(
    everySecond(10, (i) => (seen[i] ? ['Ann'] : [])).map((f, i) => ({ ...f, timeSec: i * 6 })),
  );
  expect(ann.intervals.map((i) => [i.startSec, i.endSec])).toEqual([
    [0, 18],
    [36, 48],
  ]);
  expect(ann.screenTimeSec).toBe(42);
});

test('most screen time first, whatever the order of first appearance', () => {
  const out = appearances(everySecond(6, (i) => (i === 0 ? ['Zed', 'Ann'] : ['Ann'])));
  expect(out.map((a) => [a.name, a.screenTimeSec])).toEqual([
    ['Ann', 6],
    ['Zed', 1],
  ]);
  // Ties: more frames, heavier vote, closer match, earlier, then the name.
  const base = { frames: 2, screenTimeSec: 2, bestDistance: 0.3, firstSeenSec: 0 };
  expect(byScreenTime({ ...base, name: 'b', weight: 2 }, { ...base, name: 'a', weight: 1 })).toBeLessThan(0);
  expect(byScreenTime({ ...base, name: 'b' }, { ...base, name: 'a' })).toBeGreaterThan(0);
});

test('times unknown: intervals in sampled frames, screen time null, counts still right', () => {
  const out = appearances([
    { key: 'a', faces: [face('Ann')] },
    { key: 'b', faces: [] },
    { key: 'c', faces: [face('Ann')] },
    { key: 'd', faces: [] },
    { key: 'e', faces: [] },
    { key: 'f', faces: [face('Ann')] },
  ]);
  expect(out).toEqual([
    {
      name: 'Ann',
      firstSeenSec: null,
      lastSeenSec: null,
      frames: 3,
      frameKeys: ['a', 'c', 'f'],
      bestDistance: 0.4,
      intervals: [
        { startSec: null, endSec: null, firstFrame: 0, lastFrame: 2, frames: 2 },
        { startSec: null, endSec: null, firstFrame: 5, lastFrame: 5, frames: 1 },
      ],
      screenTimeSec: null,
    },
  ]);
});

test('samplingIntervalSec: the median spacing of the sampled frames', () => {
  expect(samplingIntervalSec([0, 1, 2, 3, 10])).toBe(1);
  expect(samplingIntervalSec([3, 0, 1.5])).toBe(1.5);
  expect(samplingIntervalSec([0, 2, 4, 5])).toBe(2);
  expect(samplingIntervalSec([0, 1, 3, 6])).toBe(2);
  expect(samplingIntervalSec([5])).toBeUndefined();
  expect(samplingIntervalSec([undefined, null, 2])).toBeUndefined();
  // A single sighting is an interval of its own frame.
  expect(intervalsOf([{ index: 4, timeSec: 8 }], undefined)).toEqual([
    { startSec: 8, endSec: 8, firstFrame: 4, lastFrame: 4, frames: 1 },
  ]);
});

test('frameTimes pairs keys with times only when the lists match', () => {
  expect([...frameTimes(['a', 'b'], [0, 1.5])]).toEqual([
    ['a', 0],
    ['b', 1.5],
  ]);
  expect(frameTimes(['a', 'b'], [0]).size).toBe(0);
  expect(frameTimes(['a'], undefined).size).toBe(0);
});
