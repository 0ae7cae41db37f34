/**
 * Which frames of a video the default profile takes, decided before any frame is decoded: by
 * count (N frames spread evenly over the video, one seek per frame: the cost does not grow with
 * the video's length) or by rate (one frame every P seconds over the whole video, so that every
 * person is seen with the time ranges they appear in). Long videos are split into time segments
 * that several splitter invocations extract in parallel; a video that would yield more frames than
 * allowed is spread thinner, capped or refused, as a setting says. Pure: no ffmpeg, no AWS.
 */

/** N frames spread over the video, or one frame every `periodSec` seconds. */
export type Sampling = { kind: 'count'; frames: number } | { kind: 'rate'; periodSec: number };

/** What to do with a video whose sampling would take more than the most frames allowed. */
export const TOO_LONG_RULES = ['spread', 'cap', 'refuse'] as const;
export type TooLongRule = (typeof TOO_LONG_RULES)[number];

/** Rates faster than this are refused as a setting: more samples than a video has frames. */
const MAX_RATE_PER_SECOND = 30;

const UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, min: 60, minute: 60, h: 3600, hour: 3600 };

/**
 * `10` (or `10 frames`): ten frames spread over the video. `1/s`, `2/s`, `30/min`, `1/10s`,
 * `120/h`: a rate. Throws a RangeError saying what is accepted.
 */
export function parseSampling(text: string): Sampling {
  const s = text.trim().toLowerCase();
  const count = /^(\d+)(?:\s*frames?)?$/.exec(s);
  if (count) {
    const frames = Number(count[1]);
    if (frames >= 1) return { kind: 'count', frames };
  }
  const rate = /^(\d+(?:\.\d+)?)\s*(?:\/|per\s+|a\s+)(\d+(?:\.\d+)?)?\s*([a-z]+)$/.exec(s);
  if (rate && UNITS[rate[3]] !== undefined) {
    const n = Number(rate[1]);
    const per = Number(rate[2] ?? 1) * UNITS[rate[3]];
    if (n > 0 && per > 0 && n / per <= MAX_RATE_PER_SECOND) return { kind: 'rate', periodSec: per / n };
  }
  throw new RangeError(
    `sampling "${text}": give a number of frames spread over the video (e.g. 10) or a rate ` +
      `up to ${MAX_RATE_PER_SECOND}/s (e.g. 1/s, 2/s, 30/min, 1/10s)`,
  );
}

/** `10 frames spread over the video`, `1 frame a second`, `30 frames a minute`, `1 frame every 2.5 s`. */
export function describeSampling(s: Sampling): string {
  if (s.kind === 'count') return `${s.frames} frame${s.frames === 1 ? '' : 's'} spread over the video`;
  const perSecond = 1 / s.periodSec;
  if (Number.isInteger(round6(perSecond))) {
    const n = round6(perSecond);
    return `${n} frame${n === 1 ? '' : 's'} a second`;
  }
  const perMinute = round6(60 / s.periodSec);
  if (Number.isInteger(perMinute)) return `${perMinute} frame${perMinute === 1 ? '' : 's'} a minute`;
  return `1 frame every ${round6(s.periodSec)} s`;
}

/** The setting's short form, as parseSampling reads it back (`10`, `1/s`, `30/min`, `1/2.5s`). */
export function samplingText(s: Sampling): string {
  if (s.kind === 'count') return String(s.frames);
  const perSecond = round6(1 / s.periodSec);
  if (Number.isInteger(perSecond)) return `${perSecond}/s`;
  const perMinute = round6(60 / s.periodSec);
  if (Number.isInteger(perMinute)) return `${perMinute}/min`;
  return `1/${round6(s.periodSec)}s`;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

export interface SamplingLimits {
  /** The most frames one video may yield. */
  maxFrames: number;
  tooLong: TooLongRule;
}

/** What a video's sampling comes to, once its duration is known. */
export type SamplePlan =
  | {
      kind: 'count';
      /** Seconds into the video (from its start) of each frame to seek to. */
      times: number[];
      /** Frames asked for (before the cap). */
      requested: number;
      capped?: Capped;
    }
  | {
      kind: 'rate';
      /** Seconds between frames (after spreading). */
      periodSec: number;
      /** Frames are taken from [0, endSec). */
      endSec: number;
      /** About how many frames that gives (the video's own frame timing decides the exact count). */
      expectedFrames: number;
      /** The most frames kept. */
      maxFrames: number;
      capped?: Capped;
    };

/** How a video too long for its sampling was handled (recorded in `<stem>.json`). */
interface Capped {
  rule: Exclude<TooLongRule, 'refuse'>;
  /** The sampling asked for. */
  asked: string;
  /** Frames that sampling would have taken. */
  wouldTake: number;
  maxFrames: number;
  /** What was done, in words. */
  note: string;
}

/** A video refused under FACEREC_TOO_LONG=refuse (bad input: an error record says why). */
export class TooLongError extends Error {
  override name = 'TooLongError';
}

function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`
    : `${m}:${String(r).padStart(2, '0')}`;
}

/**
 * The frames of a video of `durationSec` seconds. Count sampling takes min(N, maxFrames) evenly
 * spread times (0, d/n, 2d/n … as ffmpeg's fps filter would pick them). Rate sampling takes one
 * frame every P seconds; when that is more than `maxFrames`, the rule decides: `spread` lowers the
 * rate so that the whole video fits, `cap` keeps the rate over the first part of the video,
 * `refuse` throws TooLongError.
 */
export function planSamples(sampling: Sampling, durationSec: number, limits: SamplingLimits): SamplePlan {
  const d = Math.max(0, durationSec);
  if (sampling.kind === 'count') {
    const n = Math.max(1, Math.min(sampling.frames, limits.maxFrames));
    const capped: Capped | undefined =
      sampling.frames > limits.maxFrames
        ? {
            rule: 'cap',
            asked: samplingText(sampling),
            wouldTake: sampling.frames,
            maxFrames: limits.maxFrames,
            note: `${limits.maxFrames} frames taken (the most allowed), not ${sampling.frames}`,
          }
        : undefined;
    return {
      kind: 'count',
      times: Array.from({ length: n }, (_, i) => round3((i * d) / n)),
      requested: sampling.frames,
      ...(capped ? { capped } : {}),
    };
  }
  const wouldTake = Math.max(1, Math.ceil(round6(d / sampling.periodSec)));
  if (wouldTake <= limits.maxFrames) {
    return {
      kind: 'rate',
      periodSec: sampling.periodSec,
      endSec: d,
      expectedFrames: wouldTake,
      maxFrames: limits.maxFrames,
    };
  }
  const asked = describeSampling(sampling);
  const what = `${formatDuration(d)} at ${asked} is ${wouldTake} frames; at most ${limits.maxFrames} are allowed (FACEREC_MAX_FRAMES)`;
  if (limits.tooLong === 'refuse') {
    throw new TooLongError(
      `the video is too long for its sampling: ${what}. FACEREC_TOO_LONG=spread samples the whole video ` +
        `at a lower rate, FACEREC_TOO_LONG=cap samples its first ${formatDuration(limits.maxFrames * sampling.periodSec)}`,
    );
  }
  if (limits.tooLong === 'cap') {
    const endSec = limits.maxFrames * sampling.periodSec;
    return {
      kind: 'rate',
      periodSec: sampling.periodSec,
      endSec,
      expectedFrames: limits.maxFrames,
      maxFrames: limits.maxFrames,
      capped: {
        rule: 'cap',
        asked: samplingText(sampling),
        wouldTake,
        maxFrames: limits.maxFrames,
        note: `${what}: only the first ${formatDuration(endSec)} was sampled`,
      },
    };
  }
  const periodSec = d / limits.maxFrames;
  return {
    kind: 'rate',
    periodSec,
    endSec: d,
    expectedFrames: limits.maxFrames,
    maxFrames: limits.maxFrames,
    capped: {
      rule: 'spread',
      asked: samplingText(sampling),
      wouldTake,
      maxFrames: limits.maxFrames,
      note: `${what}: the whole video was sampled at ${describeSampling({ kind: 'rate', periodSec })} instead`,
    },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** One time range of a rate-sampled video, extracted by one splitter invocation. */
export interface Segment {
  /** 0-based position among the video's segments. */
  index: number;
  /** Segments of this video. */
  of: number;
  /** Frames are taken from [startSec, endSec) of the video (seconds from its start). */
  startSec: number;
  endSec: number;
  periodSec: number;
}

/**
 * Time segments for parallel extraction: boundaries on the sampling grid (multiples of the
 * period), each about `targetSec` long, at least `minSegments` of them when the video is longer
 * than `minSec`.
 */
export function segmentsOf(
  plan: { periodSec: number; endSec: number },
  o: { targetSec: number; minSegments?: number; minSec?: number },
): Segment[] {
  const ticks = Math.max(1, Math.ceil(round6(plan.endSec / plan.periodSec)));
  let count = Math.max(1, Math.round(plan.endSec / Math.max(1, o.targetSec)));
  if (o.minSegments && plan.endSec > (o.minSec ?? 0)) count = Math.max(count, o.minSegments);
  count = Math.min(count, ticks);
  const out: Segment[] = [];
  for (let i = 0; i < count; i++) {
    const first = Math.round((i * ticks) / count);
    const next = Math.round(((i + 1) * ticks) / count);
    out.push({
      index: i,
      of: count,
      startSec: round6(first * plan.periodSec),
      endSec: i === count - 1 ? plan.endSec : round6(next * plan.periodSec),
      periodSec: plan.periodSec,
    });
  }
  return out;
}

/**
 * Decoding speed assumed when sizing segments, in pixels per second: a quarter of what one core of
 * the project's machine decodes (720p H.264: about 575 Mpx/s, docs/benchmarks.md "Long videos"),
 * so that a slower vCPU or a heavier codec still finishes a segment well within the splitter's time.
 */
const SEGMENT_DECODE_PIXELS_PER_SECOND = 150e6;
/** One segment's decoding should take about this long at that speed (the splitter has 300 s). */
const SEGMENT_DECODE_TARGET_SEC = 90;
/** Reference-only decoding (sparse rate sampling) does about this share of the work. */
const REFERENCE_ONLY_WORK = 0.6;

/**
 * How long a segment of this video is: what one splitter invocation decodes in about
 * SEGMENT_DECODE_TARGET_SEC, between 1 and 30 minutes. Unknown size or rate count as 1080p30.
 */
export function segmentSeconds(v: {
  width?: number;
  height?: number;
  fps?: number;
  referenceFramesOnly?: boolean;
}): number {
  const pixels = (v.width ?? 1920) * (v.height ?? 1080);
  const fps = Math.min(Math.max(v.fps ?? 30, 1), 240);
  const work = v.referenceFramesOnly ? REFERENCE_ONLY_WORK : 1;
  const sec = (SEGMENT_DECODE_TARGET_SEC * SEGMENT_DECODE_PIXELS_PER_SECOND) / (pixels * fps * work);
  return Math.round(Math.min(1800, Math.max(60, sec)));
}

/** The sampling grid: which tick (0-based) a frame at `timeSec` belongs to. */
export function tickOf(timeSec: number, periodSec: number): number {
  return Math.max(0, Math.floor(round6(timeSec / periodSec)));
}
