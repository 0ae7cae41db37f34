/**
 * When each recognized person is seen in a video: from the frames' results and their times,
 * per person the first and last time seen, the number of frames, and the best (smallest)
 * distance. `Unknown` faces are not a person and are counted apart. Pure.
 */
import { UNKNOWN } from './faces/types.js';
import { appearanceGapSec } from './sampling.js';

export interface TimedFrame {
  key: string;
  /** Seconds into the video (undefined when the splitter could not tell). */
  timeSec?: number;
  faces: ReadonlyArray<{ name: string; distance: number | null }>;
  error?: unknown;
}

export interface Appearance {
  name: string;
  firstSeenSec: number | null;
  lastSeenSec: number | null;
  /** Frames where the person was recognized at least once. */
  frames: number;
  /** Keys of those frames, in video order. */
  frameKeys: string[];
  bestDistance: number | null;
}

export function appearances(frames: readonly TimedFrame[]): Appearance[] {
  const byName = new Map<string, Appearance>();
  for (const f of frames) {
    if (f.error) continue;
    const seen = new Set<string>();
    for (const face of f.faces) {
      if (face.name === UNKNOWN) continue;
      let a = byName.get(face.name);
      if (!a) {
        a = {
          name: face.name,
          firstSeenSec: null,
          lastSeenSec: null,
          frames: 0,
          frameKeys: [],
          bestDistance: null,
        };
        byName.set(face.name, a);
      }
      if (face.distance !== null && (a.bestDistance === null || face.distance < a.bestDistance)) {
        a.bestDistance = face.distance;
      }
      if (seen.has(face.name)) continue;
      seen.add(face.name);
      a.frames++;
      a.frameKeys.push(f.key);
      if (f.timeSec !== undefined) {
        a.firstSeenSec = a.firstSeenSec === null ? f.timeSec : Math.min(a.firstSeenSec, f.timeSec);
        a.lastSeenSec = a.lastSeenSec === null ? f.timeSec : Math.max(a.lastSeenSec, f.timeSec);
      }
    }
  }
  return [...byName.values()].sort(
    (a, b) =>
      b.frames - a.frames ||
      (a.firstSeenSec ?? Infinity) - (b.firstSeenSec ?? Infinity) ||
      a.name.localeCompare(b.name),
  );
}

/** A stretch of the video where a person is seen: sightings no further apart than the gap. */
export interface Interval {
  startSec: number;
  endSec: number;
  /** Frames of the stretch where the person was recognized. */
  frames: number;
}

/**
 * Per recognized person, the intervals they appear in: their sightings (frames where they were
 * recognized, with a time) merged while consecutive ones are at most `gapSec` apart
 * (core/sampling.ts appearanceGapSec: two and a half sampling periods). An interval runs from its
 * first to its last sighting; a single sighting is an interval of no length.
 */
export function appearanceIntervals(frames: readonly TimedFrame[], gapSec: number): Map<string, Interval[]> {
  const seen = new Map<string, number[]>();
  for (const f of frames) {
    if (f.error || f.timeSec === undefined) continue;
    for (const name of new Set(f.faces.filter((x) => x.name !== UNKNOWN).map((x) => x.name))) {
      seen.set(name, [...(seen.get(name) ?? []), f.timeSec]);
    }
  }
  const out = new Map<string, Interval[]>();
  for (const [name, times] of seen) {
    const sorted = [...times].sort((a, b) => a - b);
    const intervals: Interval[] = [];
    for (const t of sorted) {
      const last = intervals.at(-1);
      if (last && t - last.endSec <= gapSec + 1e-6) {
        last.endSec = t;
        last.frames++;
      } else intervals.push({ startSec: t, endSec: t, frames: 1 });
    }
    out.set(name, intervals);
  }
  return out;
}

/** Frame keys in the order the splitter listed them (the batches, flattened) -> their times. */
export function frameTimes(keys: readonly string[], timesSec: ReadonlyArray<number | null> | undefined) {
  const out = new Map<string, number>();
  if (!timesSec || timesSec.length !== keys.length) return out;
  keys.forEach((k, i) => {
    const t = timesSec[i];
    if (typeof t === 'number' && Number.isFinite(t)) out.set(k, t);
  });
  return out;
}

/** The frames of a result with their times (`split.frameTimesSec`, in the batches' key order),
 * and everyone's appearances: what `<stem>.json` adds. */
export function timeline<F extends { key: string; faces: TimedFrame['faces']; error?: unknown }>(
  batches: ReadonlyArray<{ keys: string[] } | { frames: ReadonlyArray<{ key: string }> }>,
  frames: readonly F[],
  frameTimesSec: ReadonlyArray<number | null> | undefined,
): {
  frames: Array<F & { timeSec?: number }>;
  appearances: Array<Appearance & { intervals: Interval[] }>;
  /** How far apart sightings may be within one interval. */
  gapSec: number;
} {
  const keys = batches.flatMap((b) => ('keys' in b ? b.keys : b.frames.map((f) => f.key)));
  const times = frameTimes(keys, frameTimesSec);
  const timed = frames.map((f) => (times.has(f.key) ? { ...f, timeSec: times.get(f.key)! } : { ...f }));
  const gapSec = appearanceGapSec([...times.values()]);
  const intervals = appearanceIntervals(timed, gapSec);
  return {
    frames: timed,
    appearances: appearances(timed).map((a) => ({ ...a, intervals: intervals.get(a.name) ?? [] })),
    gapSec,
  };
}
