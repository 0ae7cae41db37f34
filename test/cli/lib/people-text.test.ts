import type { Person } from '#functions/core/contracts.js';
import { formatInterval, formatTime, hasTimeline, peopleCell, peopleLines } from '#cli/lib/people-text.js';

const person = (name: string, intervals: Array<[number, number]>, extra: Partial<Person> = {}): Person => ({
  name,
  weight: 1,
  frames: intervals.length,
  faces: intervals.length,
  bestDistance: 0.31,
  screenTimeSec: intervals.reduce((s, [a, b]) => s + b - a + 1, 0),
  intervals: intervals.map(([a, b], i) => ({
    startSec: a,
    endSec: b,
    firstFrame: i,
    lastFrame: i + 1,
    frames: 2,
  })),
  ...extra,
});

test('times and intervals', () => {
  expect(formatTime(4.5)).toBe('4.5s');
  expect(formatTime(65)).toBe('1:05.0');
  expect(formatTime(3723)).toBe('1:02:03.0');
  expect(formatInterval({ startSec: 0, endSec: 4.5, firstFrame: 0, lastFrame: 9, frames: 10 })).toBe(
    '0.0s-4.5s',
  );
  expect(formatInterval({ startSec: 3, endSec: 3, firstFrame: 3, lastFrame: 3, frames: 1 })).toBe('3.0s');
  expect(formatInterval({ startSec: null, endSec: null, firstFrame: 0, lastFrame: 2, frames: 2 })).toBe(
    'frames 1-3',
  );
});

test('the people cell: everyone, cut with "+N more"; Unknown or No face when nobody was recognized', () => {
  const out = { name: 'Amy', people: [person('Amy', [[0, 4]]), person('Raj', [[5, 6]])] };
  expect(peopleCell(out)).toBe('Amy, Raj');
  const many = { name: 'P0', people: Array.from({ length: 30 }, (_, i) => person(`Person${i}`, [[0, 1]])) };
  expect(peopleCell(many, 40)).toMatch(/^Person0, Person1, .* \+\d+ more$/);
  expect(peopleCell(many, 40).length).toBeLessThanOrEqual(50);
  expect(peopleCell({ ...many, people: many.people.slice(0, 2), peopleTotal: 30 })).toBe(
    'Person0, Person1 +28 more',
  );
  expect(peopleCell({ name: 'Unknown', people: [] })).toBe('Unknown');
  expect(peopleCell({ name: 'No face', people: [] })).toBe('No face');
});

test('who appears when: one line a person, intervals, screen time, frames, best distance', () => {
  const lines = peopleLines({
    people: [
      person(
        'Amy',
        [
          [0, 4],
          [10, 12],
        ],
        { intervalsTotal: 4 },
      ),
      person('Raj', [[5, 5]]),
    ],
  });
  expect(lines).toEqual([
    '    Amy  0.0s-4.0s, 10.0s-12.0s +2 more  (8.0s on screen, 2 frames, best distance 0.31)',
    '    Raj  5.0s  (1.0s on screen, 1 frame, best distance 0.31)',
  ]);
  expect(hasTimeline([{ people: [person('Amy', [[0, 4]])] }])).toBe(true);
  // One frame a video (cse546-p2): nothing to say about when.
  expect(
    hasTimeline([
      {
        people: [
          {
            ...person('Amy', []),
            intervals: [{ startSec: 0, endSec: 0, firstFrame: 0, lastFrame: 0, frames: 1 }],
          },
        ],
      },
    ]),
  ).toBe(false);
});

test('names cannot forge lines or colour the terminal', () => {
  const evil = 'Eve\n\u001b[32mdone    x.mp4 -> Alice\u001b[0m\u202e';
  const cell = peopleCell({ name: evil, people: [person(evil, [[0, 1]])] });
  const lines = peopleLines({ people: [person(evil, [[0, 1]])] });
  for (const text of [cell, ...lines]) {
    // eslint-disable-next-line no-control-regex -- control characters are what must not be printed
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain('Eve\\n\\x1b[32mdone');
  }
});
