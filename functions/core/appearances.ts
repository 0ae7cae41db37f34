/**
 * When each recognized person is seen in a video, the one home of that logic: from the frames'
 * results and their times, per person the intervals they appear in, their screen time, the first
 * and last time seen, the number of frames and the best (smallest) distance. `Unknown` faces are
 * not a person and are counted apart. Pure.
 *
 * Intervals (the gap rule): a person's sightings, in video order, belong to one interval while
 * consecutive sightings are at most GAP_SAMPLING_INTERVALS sampling intervals apart, i.e. a person
 * missed in one sampled frame (turned away, blurred, a detection miss) stays in the same
 * interval, and missed in two or more consecutive sampled frames starts a new one. The sampling
 * interval is the median spacing of the video's sampled frames (10 frames over 60 s: 6 s; a
 * frame a second: 1 s), so the rule means the same at any sampling. Without frame times the same
 * rule counts sampled frames instead of seconds. Failed frames are no evidence either way: they
 * are skipped, and the time they span counts as a gap like any other.
 *
 * An interval runs from the first to the last frame it holds (`startSec`, `endSec`: when the
 * person was seen, not guessed edges). Screen time adds up the intervals, each counted one
 * sampling interval longer than its span (a person seen in one frame of a frame-a-second sample
 * was on screen for about a second); people are listed most screen time first.
 */
import type { Interval } from './contracts.js';
import { UNKNOWN } from './faces/types.js';

export type { Interval };

/** Sightings at most this many sampling intervals apart are one interval (see above). */
export const GAP_SAMPLING_INTERVALS = 2.5;

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
  /** When the person is seen, in video order (the gap rule above). */
  intervals: Interval[];
  /** Seconds on screen (the intervals, each one sampling interval longer than its span); null when
   * frame times are unknown. */
  screenTimeSec: number | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The video's sampling interval: the median spacing of its sampled frames' times (undefined with
 * fewer than two distinct times). */
export function samplingIntervalSec(times: ReadonlyArray<number | undefined | null>): number | undefined {
  const known = times
    .filter((t): t is number => typeof t === 'number' && Number.isFinite(t))
    .sort((a, b) => a - b);
  const steps: number[] = [];
  for (let i = 1; i < known.length; i++) if (known[i] > known[i - 1]) steps.push(known[i] - known[i - 1]);
  if (steps.length === 0) return undefined;
  steps.sort((a, b) => a - b);
  const mid = Math.floor(steps.length / 2);
  return steps.length % 2 ? steps[mid] : (steps[mid - 1] + steps[mid]) / 2;
}

interface Sighting {
  index: number;
  timeSec?: number;
}

/** A person's sightings (video order) -> intervals, by the gap rule. */
export function intervalsOf(sightings: readonly Sighting[], stepSec: number | undefined): Interval[] {
  const out: Interval[] = [];
  let current: Interval | undefined;
  let last: Sighting | undefined;
  for (const s of sightings) {
    const near =
      last !== undefined &&
      (stepSec !== undefined && s.timeSec !== undefined && last.timeSec !== undefined
        ? s.timeSec - last.timeSec <= GAP_SAMPLING_INTERVALS * stepSec + 1e-6
        : s.index - last.index <= GAP_SAMPLING_INTERVALS);
    if (current && near) {
      current.lastFrame = s.index;
      current.endSec = s.timeSec ?? null;
      current.frames++;
    } else {
      current = {
        startSec: s.timeSec ?? null,
        endSec: s.timeSec ?? null,
        firstFrame: s.index,
        lastFrame: s.index,
        frames: 1,
      };
      out.push(current);
    }
    last = s;
  }
  return out;
}

/** Seconds on screen over intervals (null when a time is unknown). */
function screenTimeOf(intervals: readonly Interval[], stepSec: number | undefined): number | null {
  let total = 0;
  for (const i of intervals) {
    if (i.startSec === null || i.endSec === null) return null;
    total += i.endSec - i.startSec + (stepSec ?? 0);
  }
  return round3(total);
}

/** Most screen time first; then more frames, then (when given) the heavier vote, the closer best
 * match, the earlier first sighting, and the name. The order of `<stem>.txt` and of `people`. */
export function byScreenTime(
  a: Pick<Appearance, 'name' | 'frames' | 'screenTimeSec' | 'bestDistance' | 'firstSeenSec'> & {
    weight?: number;
  },
  b: Pick<Appearance, 'name' | 'frames' | 'screenTimeSec' | 'bestDistance' | 'firstSeenSec'> & {
    weight?: number;
  },
): number {
  return (
    (b.screenTimeSec ?? -1) - (a.screenTimeSec ?? -1) ||
    b.frames - a.frames ||
    (b.weight ?? 0) - (a.weight ?? 0) ||
    (a.bestDistance ?? Infinity) - (b.bestDistance ?? Infinity) ||
    (a.firstSeenSec ?? Infinity) - (b.firstSeenSec ?? Infinity) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/** Everyone recognized in `frames` (all the sampled frames of a video, in video order: a frame's
 * position is its index), most screen time first. */
export function appearances(frames: readonly TimedFrame[]): Appearance[] {
  const step = samplingIntervalSec(frames.map((f) => f.timeSec));
  const byName = new Map<string, { a: Appearance; sightings: Sighting[] }>();
  frames.forEach((f, index) => {
    if (f.error) return;
    const seen = new Set<string>();
    for (const face of f.faces) {
      if (face.name === UNKNOWN) continue;
      let entry = byName.get(face.name);
      if (!entry) {
        entry = {
          a: {
            name: face.name,
            firstSeenSec: null,
            lastSeenSec: null,
            frames: 0,
            frameKeys: [],
            bestDistance: null,
            intervals: [],
            screenTimeSec: null,
          },
          sightings: [],
        };
        byName.set(face.name, entry);
      }
      const { a } = entry;
      if (face.distance !== null && (a.bestDistance === null || face.distance < a.bestDistance)) {
        a.bestDistance = face.distance;
      }
      if (seen.has(face.name)) continue;
      seen.add(face.name);
      a.frames++;
      a.frameKeys.push(f.key);
      entry.sightings.push({ index, timeSec: f.timeSec });
      if (f.timeSec !== undefined) {
        a.firstSeenSec = a.firstSeenSec === null ? f.timeSec : Math.min(a.firstSeenSec, f.timeSec);
        a.lastSeenSec = a.lastSeenSec === null ? f.timeSec : Math.max(a.lastSeenSec, f.timeSec);
      }
    }
  });
  for (const { a, sightings } of byName.values()) {
    a.intervals = intervalsOf(sightings, step);
    a.screenTimeSec = screenTimeOf(a.intervals, step);
  }
  return [...byName.values()].map((e) => e.a).sort(byScreenTime);
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
  appearances: Appearance[];
  /** The spacing of the sampled frames the gap rule counts in (null when their times are unknown). */
  samplingIntervalSec: number | null;
  /** How far apart sightings may be within one interval (GAP_SAMPLING_INTERVALS sampling
   * intervals; null when the frames' times are unknown). */
  gapSec: number | null;
} {
  const keys = batches.flatMap((b) => ('keys' in b ? b.keys : b.frames.map((f) => f.key)));
  const times = frameTimes(keys, frameTimesSec);
  const timed = frames.map((f) => (times.has(f.key) ? { ...f, timeSec: times.get(f.key)! } : { ...f }));
  const step = samplingIntervalSec([...times.values()]);
  return {
    frames: timed,
    appearances: appearances(timed),
    samplingIntervalSec: step ?? null,
    gapSec: step === undefined ? null : round3(GAP_SAMPLING_INTERVALS * step),
  };
}
