import { appearances, frameTimes } from '#functions/core/appearances.js';

const face = (name: string, distance: number | null = 0.4) => ({ name, distance });

test('first/last seen, frames and best distance per recognized person; Unknown and failed frames left out', () => {
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
    },
    {
      name: 'Bob',
      firstSeenSec: 2.5,
      lastSeenSec: 10,
      frames: 2,
      frameKeys: ['f1', 'f4'],
      bestDistance: 0.33,
    },
  ]);
});

test('times unknown: null, counts still right', () => {
  expect(appearances([{ key: 'a', faces: [face('Ann')] }])).toEqual([
    { name: 'Ann', firstSeenSec: null, lastSeenSec: null, frames: 1, frameKeys: ['a'], bestDistance: 0.4 },
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
