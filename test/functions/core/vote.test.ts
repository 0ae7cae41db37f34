import { matchWeight, NO_FACE, UNKNOWN, vote } from '#functions/core/vote.js';

const face = (name: string, distance: number | null, score = 0.9) => ({ name, distance, score });
const T = { threshold: 0.6 };

describe('vote', () => {
  test('no frames or no faces: No face', () => {
    expect(vote([], T).name).toBe(NO_FACE);
    expect(vote([{ faces: [] }, { faces: [] }], T)).toMatchObject({ name: NO_FACE, faces: 0 });
  });

  test('faces but none matched: Unknown', () => {
    const r = vote([{ faces: [face(UNKNOWN, 0.8)] }, { faces: [face(UNKNOWN, 0.9)] }], T);
    expect(r).toMatchObject({ name: UNKNOWN, faces: 2, unknownFaces: 2, people: [] });
  });

  test('a stranger beside a known person does not make the answer Unknown', () => {
    const frames = [1, 2, 3].map(() => ({
      faces: [face(UNKNOWN, 0.7), face(UNKNOWN, 0.75), face('Penny', 0.5)],
    }));
    const r = vote(frames, T);
    expect(r.name).toBe('Penny');
    expect(r.unknownFaces).toBe(6);
  });

  test('faces left out of a crowded frame are counted: found, and Unknown', () => {
    const r = vote(
      [
        { faces: [face('Penny', 0.4), face(UNKNOWN, 0.8)], facesTotal: 50, unknownTotal: 49 },
        // Older results without the totals: the listed faces.
        { faces: [face(UNKNOWN, 0.8)] },
        { faces: [], facesTotal: 0 },
      ],
      T,
    );
    expect(r).toMatchObject({ name: 'Penny', faces: 51, unknownFaces: 50, framesWithFaces: 2 });
  });

  test('closer matches weigh more than more distant ones', () => {
    expect(matchWeight(face('A', 0.1), 0.6)).toBeGreaterThan(matchWeight(face('A', 0.55), 0.6));
    const r = vote(
      [
        { faces: [face('Close', 0.2), face('Far', 0.58)] },
        { faces: [face('Close', 0.25), face('Far', 0.57)] },
      ],
      T,
    );
    expect(r.name).toBe('Close');
    expect(r.people.map((p) => p.name)).toEqual(['Close', 'Far']);
  });

  test('several people are all reported, best first, with their frames', () => {
    const r = vote(
      [
        { faces: [face('Amy', 0.3), face('Raj', 0.4)] },
        { faces: [face('Amy', 0.35)] },
        { faces: [face('Raj', 0.45)] },
      ],
      T,
    );
    expect(r.people.map((p) => [p.name, p.frames])).toEqual([
      ['Amy', 2],
      ['Raj', 2],
    ]);
    expect(r.people[0].bestDistance).toBe(0.3);
  });

  test('a duplicate detection in one frame counts once', () => {
    const r = vote(
      [
        { faces: [face('A', 0.3), face('A', 0.3), face('A', 0.3)] },
        { faces: [face('B', 0.3)] },
        { faces: [face('B', 0.3)] },
      ],
      T,
    );
    expect(r.name).toBe('B');
    expect(r.people.find((p) => p.name === 'A')).toMatchObject({ frames: 1, faces: 3 });
  });

  test('ties: more frames, then closer match, then name', () => {
    const tie = vote([{ faces: [face('Zed', 0.3)] }, { faces: [face('Abe', 0.3)] }], T);
    expect(tie.name).toBe('Abe');
  });
});
