/**
 * One name for a video from the faces of its frames: a vote weighted by match quality.
 *
 * - Every face named from the gallery votes for its person with weight
 *   detector score x (0.1 + 0.9 x (1 - distance / threshold)): a close match counts up to ten
 *   times more than one at the edge of the threshold.
 * - In each frame a person votes once (their best face), so a duplicated detection does not
 *   count twice; votes add up over frames.
 * - `Unknown` faces do not vote: a stranger beside a known person does not turn the answer into
 *   `Unknown`. The answer is `Unknown` only when faces were found and none matched, and
 *   `No face` when no frame had a face.
 * - Ties go to the person seen in more frames, then to the closer best match, then by name.
 */
import { UNKNOWN } from './faces/types.js';

export { UNKNOWN };
export const NO_FACE = 'No face';

export interface VoteFace {
  name: string;
  distance: number | null;
  score: number;
}

export interface VoteFrame {
  faces: VoteFace[];
  /** All faces found in the frame, when more were found than listed (`compactFaces`). */
  facesTotal?: number;
  /** Of those, the `Unknown` ones (set when faces were left out of the list). */
  unknownTotal?: number;
}

interface PersonTally {
  name: string;
  /** Sum over frames of the person's best face weight. */
  weight: number;
  /** Frames in which the person was recognized. */
  frames: number;
  /** Faces named as the person (all frames). */
  faces: number;
  bestDistance: number | null;
}

export interface VoteResult {
  /** The chosen name, `Unknown` or `No face`. */
  name: string;
  /** Everyone recognized, best first. */
  people: PersonTally[];
  /** Faces found in all frames (those left out of a frame's list too). */
  faces: number;
  /** Faces that matched nobody in the gallery (those left out of a frame's list too). */
  unknownFaces: number;
  framesWithFaces: number;
}

export function matchWeight(face: VoteFace, threshold: number): number {
  if (face.name === UNKNOWN || face.distance === null) return 0;
  const closeness = Math.min(1, Math.max(0, 1 - face.distance / threshold));
  const score = Math.min(1, Math.max(0, face.score));
  return score * (0.1 + 0.9 * closeness);
}

export function vote(frames: readonly VoteFrame[], opts: { threshold: number }): VoteResult {
  const tallies = new Map<string, PersonTally>();
  let faces = 0;
  let unknownFaces = 0;
  let framesWithFaces = 0;
  for (const frame of frames) {
    const listed = frame.faces.length;
    const found = Math.max(listed, frame.facesTotal ?? listed);
    if (found > 0) framesWithFaces++;
    faces += found;
    const listedUnknown = frame.faces.filter((f) => f.name === UNKNOWN).length;
    // Faces left out of the list (more than the faces-per-frame setting) are counted, not named.
    unknownFaces += Math.max(listedUnknown, Math.min(found, frame.unknownTotal ?? listedUnknown));
    const bestInFrame = new Map<string, number>();
    for (const face of frame.faces) {
      if (face.name === UNKNOWN) continue;
      const t = tallies.get(face.name) ?? {
        name: face.name,
        weight: 0,
        frames: 0,
        faces: 0,
        bestDistance: null,
      };
      t.faces++;
      if (face.distance !== null && (t.bestDistance === null || face.distance < t.bestDistance)) {
        t.bestDistance = face.distance;
      }
      tallies.set(face.name, t);
      const w = matchWeight(face, opts.threshold);
      bestInFrame.set(face.name, Math.max(bestInFrame.get(face.name) ?? 0, w));
    }
    for (const [name, w] of bestInFrame) {
      const t = tallies.get(name)!;
      t.weight += w;
      t.frames++;
    }
  }
  const people = [...tallies.values()]
    .map((t) => ({ ...t, weight: Number(t.weight.toFixed(4)) }))
    .sort(
      (a, b) =>
        b.weight - a.weight ||
        b.frames - a.frames ||
        (a.bestDistance ?? Infinity) - (b.bestDistance ?? Infinity) ||
        a.name.localeCompare(b.name),
    );
  const name = people[0]?.name ?? (faces > 0 ? UNKNOWN : NO_FACE);
  return { name, people, faces, unknownFaces, framesWithFaces };
}
