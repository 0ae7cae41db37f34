/**
 * The result function's decisions, pure: from the Map's batch results to the video's name, the
 * objects to write and where; from a caught failure to its failure record. The handler
 * (functions/result/handler.ts) checks the upload is still current, writes, and logs.
 */
import type {
  FailureInput,
  FailureOutput,
  FrameResult,
  Person,
  ResultInput,
  ResultOutput,
} from './contracts.js';
import { byScreenTime, timeline, type Appearance } from './appearances.js';
import { jsonBytes } from './batches.js';
import { isCourseProfile, type Profile } from './facts.js';
import { failureKind, publicCause, reasonFromCause, scrubPaths } from './failure.js';
import { failureRecordRef, outputKeys, videoStem, type BucketNames } from './layout.js';
import { printable } from './printable.js';
import { vote, type VoteResult } from './vote.js';

export interface ResultRules {
  profile: Profile;
  buckets: BucketNames;
  /** The distance a face must be within to vote (engine.matchThreshold). */
  threshold: number;
  /** Write `<stem>.json` next to `<stem>.txt`. */
  writeDetail: boolean;
}

interface FailedBatch {
  batch?: number;
  keys: string[];
  error: string;
  reason: string;
}

/** The Map's batch results, flattened: every frame (a failed batch's frames carry its error),
 * the failed batches with their reasons, and what the recognition invocations reported. */
export interface BatchTally {
  frames: FrameResult[];
  failedBatches: FailedBatch[];
  modelIds: string[];
  galleryIds: string[];
  recognitionMs: number;
  slowestBatchMs: number;
}

export function tallyBatches(batches: ResultInput['batches']): BatchTally {
  const frames: FrameResult[] = [];
  const failedBatches: FailedBatch[] = [];
  const modelIds = new Set<string>();
  const galleryIds = new Set<string>();
  let recognitionMs = 0;
  let slowestBatchMs = 0;
  for (const b of batches) {
    if ('failed' in b) {
      // Records in buckets carry reasons, never stack traces or the machine's paths.
      failedBatches.push({
        batch: b.batch,
        keys: b.keys,
        error: b.error,
        reason: scrubPaths(reasonFromCause(b.error, b.cause)),
      });
      for (const key of b.keys)
        frames.push({ key, faces: [], error: { type: b.error, message: 'batch failed' } });
      continue;
    }
    frames.push(...b.frames);
    modelIds.add(b.modelId);
    galleryIds.add(b.galleryId);
    recognitionMs += b.timings.totalMs;
    slowestBatchMs = Math.max(slowestBatchMs, b.timings.totalMs);
  }
  return {
    frames,
    failedBatches,
    modelIds: [...modelIds],
    galleryIds: [...galleryIds],
    recognitionMs,
    slowestBatchMs,
  };
}

/** Everyone the vote counted, with when they are seen, most screen time first. */
function everyone(result: VoteResult, seen: readonly Appearance[]): Person[] {
  const when = new Map(seen.map((a) => [a.name, a]));
  return result.people
    .map((t) => {
      const a = when.get(t.name);
      return {
        ...t,
        screenTimeSec: a?.screenTimeSec ?? null,
        firstSeenSec: a?.firstSeenSec ?? null,
        lastSeenSec: a?.lastSeenSec ?? null,
        intervals: a?.intervals ?? [],
      };
    })
    .sort(byScreenTime);
}

/** `<stem>.txt`. The cse546 profiles: the vote's one name, as the course's graders read it. The
 * default profile: everyone recognized, one name a line, most screen time first (a name's line
 * breaks and control characters written as visible escapes: core/printable.ts); `Unknown` or
 * `No face` when nobody was recognized. No newline at the end, so a video of one person reads
 * exactly as before. */
function outputText(profile: Profile, result: VoteResult, people: readonly Person[]): string {
  if (isCourseProfile(profile) || people.length === 0) return result.name;
  return people.map((p) => printable(p.name)).join('\n');
}

/** The execution output's share for people: Step Functions carries it (256 KB per state, and
 * EventBridge's 256 KB per event): at most SUMMARY_INTERVALS intervals a person, and people
 * while they fit SUMMARY_PEOPLE_BYTES. `<stem>.json` has everything. */
export const SUMMARY_PEOPLE_BYTES = 32 * 1024;
export const SUMMARY_INTERVALS = 5;

export function summaryPeople(
  people: readonly Person[],
  budget = SUMMARY_PEOPLE_BYTES,
): { people: Person[]; peopleTotal?: number } {
  const out: Person[] = [];
  let bytes = 2;
  for (const p of people) {
    const intervals = p.intervals ?? [];
    const short =
      intervals.length > SUMMARY_INTERVALS
        ? { ...p, intervals: intervals.slice(0, SUMMARY_INTERVALS), intervalsTotal: intervals.length }
        : p;
    bytes += jsonBytes(short) + 1;
    if (bytes > budget) return { people: out, peopleTotal: people.length };
    out.push(short);
  }
  return { people: out };
}

/** What the result function writes for a processed video, or why it cannot name one. */
export type ResultPlan =
  | {
      action: 'write';
      vote: VoteResult;
      /** The execution's output (before `superseded` or `detailKey` are known). */
      summary: Omit<ResultOutput, 'detailKey' | 'superseded'>;
      /** `<stem>.txt`: its whole content is the name. */
      text: { bucket: string; key: string; body: string };
      /** `<stem>.json` when detail is enabled. */
      detail?: { bucket: string; key: string; body: Record<string, unknown> };
      /** A success replaces the failure record of an earlier upload of the same video. */
      staleFailureRecord: { bucket: string; key: string };
      framesFailed: number;
    }
  /** Frames were sampled but none could be analysed: bad input, not `No face`. */
  | { action: 'refuse'; reason: string };

export function planResult(event: ResultInput, rules: ResultRules, now: Date): ResultPlan {
  const bucket = rules.buckets.output;
  const keys = outputKeys(event.video.stem);
  const tally = tallyBatches(event.batches);
  const { frames, failedBatches } = tally;
  const analysed = frames.filter((f) => !f.error);
  const failed = frames.length - analysed.length;
  if (frames.length > 0 && analysed.length === 0) {
    const first = failedBatches[0]?.reason ?? frames.find((f) => f.error)?.error?.message ?? 'unknown';
    return {
      action: 'refuse',
      reason: `none of the ${frames.length} frames could be analysed (first error: ${first})`,
    };
  }
  const result = vote(analysed, { threshold: rules.threshold });
  const seen = timeline(event.batches, frames, event.split?.frameTimesSec);
  const people = everyone(result, seen.appearances);
  const summary = {
    name: result.name,
    ...summaryPeople(people),
    faces: result.faces,
    unknownFaces: result.unknownFaces,
    frames: analysed.length,
    framesFailed: failed,
    bucket,
    outputKey: keys.text,
  };
  return {
    action: 'write',
    vote: result,
    summary,
    text: { bucket, key: keys.text, body: outputText(rules.profile, result, people) },
    detail: rules.writeDetail
      ? {
          bucket,
          key: keys.detail,
          body: detailRecord(event, rules, tally, { result, people, seen }, now),
        }
      : undefined,
    staleFailureRecord: failureRecordRef(rules.profile, rules.buckets, event.video.stem),
    framesFailed: failed,
  };
}

/** `<stem>.json`: who is seen when, every frame's faces, failures, timings, model and gallery. */
function detailRecord(
  event: ResultInput,
  rules: ResultRules,
  tally: BatchTally,
  who: { result: VoteResult; people: Person[]; seen: ReturnType<typeof timeline<FrameResult>> },
  now: Date,
): Record<string, unknown> {
  const { frames, failedBatches } = tally;
  const { result, people, seen } = who;
  const analysed = frames.filter((f) => !f.error).length;
  const startedAt = event.startedAt ? Date.parse(event.startedAt) : NaN;
  return {
    video: event.video,
    name: result.name,
    /** Everyone recognized, most screen time first, with their intervals (the lines of <stem>.txt). */
    people,
    /** First/last seen, frames, frame keys and best distance of each recognized person (the
     * field's shape before `people` had intervals; kept for readers of it). */
    appearances: seen.appearances.map(({ intervals: _i, screenTimeSec: _s, ...a }) => a),
    /** The spacing of the sampled frames that the intervals' gap rule is counted in. */
    samplingIntervalSec: seen.samplingIntervalSec,
    /** Sightings at most this far apart are one interval (GAP_SAMPLING_INTERVALS sampling intervals). */
    appearanceGapSec: seen.gapSec,
    /** How the frames were sampled (and how a video too long for it was handled). */
    ...(event.split?.sampling ? { sampling: event.split.sampling } : {}),
    faces: result.faces,
    unknownFaces: result.unknownFaces,
    frames: {
      analysed,
      failed: frames.length - analysed,
      withFaces: result.framesWithFaces,
      results: seen.frames,
    },
    failedBatches,
    timings: {
      split: event.split?.timings,
      recognition: {
        batches: event.batches.length,
        totalMs: tally.recognitionMs,
        slowestBatchMs: tally.slowestBatchMs,
      },
      ...(Number.isFinite(startedAt) ? { executionMs: now.getTime() - startedAt } : {}),
    },
    model: { id: tally.modelIds.join(',') || undefined },
    gallery: { id: tally.galleryIds.join(',') || undefined },
    ffmpeg: event.split?.ffmpeg,
    durationSec: event.split?.durationSec,
    profile: rules.profile,
    execution: event.execution,
    createdAt: now.toISOString(),
  };
}

/** The failure record of a video the state machine caught failing, and the execution's output. */
export interface FailurePlan {
  output: FailureOutput;
  record: { bucket: string; key: string; body: Record<string, unknown> };
}

export function planFailure(
  event: FailureInput,
  rules: Pick<ResultRules, 'profile' | 'buckets'>,
  now: Date,
): FailurePlan {
  const { bucket, key } = failureRecordRef(rules.profile, rules.buckets, videoStem(event.video.key));
  // Records in buckets carry reasons, never stack traces or the machine's paths.
  const reason = scrubPaths(reasonFromCause(event.failure.error, event.failure.cause));
  const { stage, error } = event.failure;
  return {
    output: { stage, error, reason, bucket, errorKey: key },
    record: {
      bucket,
      key,
      body: {
        video: event.video,
        stage,
        error,
        kind: failureKind(error, reason),
        reason,
        cause: publicCause(event.failure.cause),
        execution: event.execution,
        profile: rules.profile,
        time: now.toISOString(),
      },
    },
  };
}
