import { pickMainFace } from '#cli/lib/enroll.js';
import type { AnalyzedFace } from '#functions/core/faces/engine.js';

const face = (x: number, y: number, side: number): AnalyzedFace => ({
  box: { x, y, width: side, height: side },
  score: 0.99,
  landmarks: [],
  descriptor: new Float32Array(4),
});

describe('the main face of a single-face task', () => {
  it('refuses only when there is no face', () => {
    expect(pickMainFace([], 100, 100)).toEqual({ face: null, reason: 'no face found' });
  });

  it('takes a face twice as large as the others, wherever it is, without a note', () => {
    const big = face(0, 0, 50);
    const pick = pickMainFace([face(40, 40, 20), big], 200, 200);
    expect(pick.face).toBe(big);
    expect('note' in pick && pick.note).toBeFalsy();
  });

  it('among faces of similar size takes the one nearest the centre, and says so', () => {
    const centred = face(90, 90, 40); // centre (110,110) of a 220x220 image
    const pick = pickMainFace([face(0, 0, 50), centred, face(170, 170, 45)], 220, 220);
    expect(pick.face).toBe(centred);
    expect('note' in pick && pick.note).toMatch(/3 faces, none twice as large.*nearest the centre/);
  });

  it('weighs the distance by size: a larger face may sit further out', () => {
    // both 40 px off centre, the larger one wins
    const larger = face(100 - 40 - 30, 100 - 30, 60);
    const smaller = face(100 + 40 - 22, 100 - 22, 44);
    expect(pickMainFace([smaller, larger], 200, 200).face).toBe(larger);
  });
});
