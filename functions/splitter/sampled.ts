/**
 * The default profile's splitter: frames by count or by rate (core/sampling.ts), each timed by
 * ffmpeg (core/ffmpeg/timed-frames.ts). Three kinds of invocation, by what the state machine
 * passes:
 *
 * - the video (`{ video }`): probe it, plan its frames; extract them here, unless it is long
 *   enough to be split into time segments, then return the segments for the state machine to fan
 *   out. Up to the inline Map's frame count the frame keys come back in batches, as before; above
 *   it they go to S3 as a list the Distributed Map reads (`frameList`).
 * - a segment (`{ video, segment }`): extract one time range; its frames' keys and times go to a
 *   list of their own in S3.
 * - the segments' outcomes (`{ video, segments, split }`): merge their lists into the video's frame
 *   list and index, for the Distributed Map.
 *
 * A large video is not downloaded: ffmpeg reads it through a presigned URL (range requests, only
 * what it decodes), which the default profile's seeking makes cheap and which keeps /tmp free
 * whatever the video's size. The cse546 profiles keep the original commands (handler.ts).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { framesWithinBudget, toBatches } from '../core/batches.js';
import {
  SegmentOutputSchema,
  type SamplingInfo,
  type SegmentOutcome,
  type SegmentOutput,
  type SegmentSpec,
  type SplitInput,
  type SplitOutput,
  type VideoObject,
} from '../core/contracts.js';
import { reasonFromCause } from '../core/failure.js';
import { ffmpegTimeLeftMs } from '../core/ffmpeg/deadline.js';
import { DECODE_PIXELS_PER_SECOND, ffmpegBudgetMs } from '../core/ffmpeg/plan.js';
import { probeVideo, PROBE_TIMEOUT_MS, refuseHugeFrames, refuseNonVideo } from '../core/ffmpeg/probe.js';
import { FfmpegError, type MemoryCap } from '../core/ffmpeg/run.js';
import {
  decodesReferenceFramesOnly,
  extractAtTimes,
  extractByRate,
  measureDuration,
  parseStartTime,
  scrubUrls,
} from '../core/ffmpeg/timed-frames.js';
import { extensionOf, frameFileName, frameKey, frameListKeys, videoStem } from '../core/layout.js';
import {
  describeSampling,
  planSamples,
  samplingText,
  segmentSeconds,
  segmentsOf,
  TooLongError,
  type SamplePlan,
} from '../core/sampling.js';
import type { PipelineConfig } from '../config.js';
import { BadInputError } from '../aws/errors.js';
import type { FacerecContext } from '../aws/middleware.js';
import { presignedGetUrl } from '../aws/presign.js';
import { downloadToFile, getBytes, head, putJson } from '../aws/s3.js';
import { normalizeEtag } from '../core/upload-version.js';

/** What the handler lends: its S3 client and settings, its ffmpeg, its checks and uploads. */
export interface SampledSplitDeps {
  s3: S3Client;
  config: PipelineConfig;
  ffmpeg: { path: string; description: string };
  context: FacerecContext;
  /** Refuses a video that cannot fit the function's temporary storage. */
  refuseIfTooBig(video: VideoObject): Promise<void>;
  /** ffmpeg's memory cap (core/ffmpeg/run.ts), as the cse546 path uses it. */
  memoryCap: MemoryCap;
  /** Frames larger than this are refused before any decoding (core/ffmpeg/probe.ts refuseHugeFrames). */
  maxFramePixels: number;
  /** A new work folder (splitter/work-folder.ts: a killed invocation's is swept by the next). */
  makeWorkFolder(): Promise<string>;
  /** Frames to stage-1 under `<stem>/<fileName>`; their keys, in order. */
  uploadFrames(stem: string, frames: ReadonlyArray<{ fileName: string; file: string }>): Promise<string[]>;
}

/** Seconds a presigned URL stays valid: well past the splitter's 300 s. */
const URL_LIFETIME_SEC = 3600;
/** Starting ffmpeg, opening the input, writing JPEGs: a floor for any run's budget. */
const RUN_BASE_MS = 10_000;

export async function splitSampled(
  event: SplitInput,
  d: SampledSplitDeps,
): Promise<SplitOutput | SegmentOutput> {
  if (event.segment) return extractSegment(event.video, event.segment, d);
  if (event.segments) return indexSegments(event.video, event.segments, event.split ?? {}, d);
  return splitVideo(event.video, d);
}

// ------------------------------------------------------------------ the video's input

interface VideoInput {
  /** A file in the work folder, or a presigned URL. */
  input: string;
  streamed: boolean;
  downloadMs: number;
  /** Removes the machine's paths and any URL from ffmpeg's messages. */
  scrub: (text: string) => string;
}

/**
 * How ffmpeg reads the video: downloaded to the work folder when it is small (most uploads: one
 * GetObject, as the cse546 profiles do), through a presigned URL when it is large or when only a
 * time range of it is needed (a segment).
 */
async function openVideo(
  video: VideoObject,
  work: string,
  d: SampledSplitDeps,
  mode: 'any' | 'stream',
): Promise<VideoInput> {
  const t0 = performance.now();
  const scrubbing = (file?: string) => (text: string) => {
    let out = scrubUrls(text);
    if (file) out = out.split(`${file}: `).join('').split(file).join(path.basename(file));
    return out.split(work + path.sep).join('');
  };
  const minStream = d.config.ffmpeg.streamMinBytes;
  if (mode === 'stream' || (video.size !== undefined && video.size >= minStream)) {
    const h = await head(d.s3, video);
    const etag = video.versionId ? undefined : normalizeEtag(video.etag);
    const now = normalizeEtag(h.ETag);
    if (etag && now && now !== etag) {
      throw new BadInputError(
        `${video.key}: superseded: the object under the key is no longer this upload (ETag ${etag}, now ${now})`,
      );
    }
    if (h.ContentLength === 0) throw new BadInputError(`${video.key}: the video file is empty (0 bytes)`);
    const input = await presignedGetUrl(d.s3, video, URL_LIFETIME_SEC);
    return { input, streamed: true, downloadMs: performance.now() - t0, scrub: scrubbing() };
  }
  await d.refuseIfTooBig(video);
  const ext = extensionOf(video.key)
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 16);
  const file = path.join(work, `video${ext ? `.${ext}` : ''}`);
  const bytes = await downloadToFile(d.s3, video, file, d.context.abortSignal);
  if (bytes === 0) throw new BadInputError(`${video.key}: the video file is empty (0 bytes)`);
  return { input: file, streamed: false, downloadMs: performance.now() - t0, scrub: scrubbing(file) };
}

/** The time ffmpeg may still take in this invocation (core/ffmpeg/deadline.ts). */
function ffmpegTimeLeft(d: SampledSplitDeps): number {
  return ffmpegTimeLeftMs(d.context, d.config.ffmpeg.timeoutMs);
}

/** ffmpeg's budget for decoding `seconds` of a video (every frame, or reference frames only). */
function decodeBudgetMs(
  v: { width?: number; height?: number; fps?: number },
  seconds: number,
  refOnly: boolean,
) {
  const pixels = (v.width ?? 1920) * (v.height ?? 1080);
  const frames = seconds * Math.min(v.fps ?? 30, 240) * (refOnly ? 0.6 : 1);
  return Math.round(RUN_BASE_MS + (frames * pixels * 1000) / DECODE_PIXELS_PER_SECOND);
}

/** With a budget below the time left: a timeout names the budget; else the time left. */
function timeoutFor(d: SampledSplitDeps, budgetMs: number): number {
  return Math.min(ffmpegTimeLeft(d), budgetMs);
}

function withWorkFolder<T>(d: SampledSplitDeps, fn: (work: string) => Promise<T>): Promise<T> {
  return (async () => {
    const work = await d.makeWorkFolder();
    try {
      return await fn(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  })();
}

const ms = (x: number) => Math.round(x);

// ------------------------------------------------------------------ the whole video

/** Frames an accurate seek decodes at least, on average, beyond its own: the way from the
 * keyframe before its time (half a GOP; GOPs of 1 s and more at 25 fps: phones 1-2 s, x264's
 * default 10 s) and the opening of its input, in frames' worth of decoding. */
const FRAMES_PER_SEEK = 12;

/**
 * Whether `frames` times of a count plan are cheaper taken in one decoding pass than by a seek
 * each: when the whole video holds fewer frames than the seeks would decode. A short clip (the
 * course's: 2 s, 1080p, one keyframe) costs 3.1x the CPU by seeks (0.61 s against 0.19 s a video,
 * docs/benchmarks.md); a long video keeps its seeks, whose cost does not grow with its length.
 */
export function onePassIsCheaper(durationSec: number, fps: number | undefined, frames: number): boolean {
  return durationSec * (fps ?? 30) <= frames * FRAMES_PER_SEEK;
}

async function splitVideo(video: VideoObject, d: SampledSplitDeps): Promise<SplitOutput> {
  const t0 = performance.now();
  const wallStart = Date.now();
  const p = d.config;
  const stem = videoStem(video.key);
  return withWorkFolder(d, async (work) => {
    const src = await openVideo(video, work, d, 'any');
    const tp = performance.now();
    const probe = await probeVideo(d.ffmpeg.path, src.input, {
      timeoutMs: Math.min(PROBE_TIMEOUT_MS, ffmpegTimeLeft(d)),
      signal: d.context.abortSignal,
    });
    refuseNonVideo(probe, src.scrub);
    refuseHugeFrames(probe, d.maxFramePixels);
    const originSec = parseStartTime(probe.stderr);
    // A container that does not say how long it is (a raw stream, a recording cut short) has no
    // index to seek in either: its length is read from its packets (no decoding), and its frames
    // are taken in one decoding pass.
    const seekable = probe.durationSec !== undefined;
    const durationSec =
      probe.durationSec ??
      (await measureDuration({
        ffmpeg: d.ffmpeg.path,
        input: src.input,
        timeoutMs: ffmpegTimeLeft(d),
        signal: d.context.abortSignal,
      }));
    let ffmpegMs = performance.now() - tp;
    const sampling = p.frames.sampling;
    let plan: SamplePlan;
    try {
      plan =
        durationSec === undefined
          ? // Still unknown: frames from the start, one a second (or at the rate asked), to the end.
            {
              kind: 'rate',
              periodSec: sampling.kind === 'rate' ? sampling.periodSec : 1,
              endSec: Infinity,
              expectedFrames: sampling.kind === 'rate' ? p.frames.max : sampling.frames,
              maxFrames: sampling.kind === 'rate' ? p.frames.max : Math.min(sampling.frames, p.frames.max),
            }
          : planSamples(sampling, durationSec, { maxFrames: p.frames.max, tooLong: p.frames.tooLong });
      if (
        plan.kind === 'count' &&
        durationSec !== undefined &&
        (!seekable || onePassIsCheaper(durationSec, probe.fps, plan.times.length))
      ) {
        // The same times, on a grid: 0, d/n, 2d/n … in one pass.
        const n = plan.times.length;
        plan = {
          kind: 'rate',
          periodSec: durationSec / n,
          endSec: Infinity,
          expectedFrames: n,
          maxFrames: n,
          capped: plan.capped,
        };
      }
    } catch (err) {
      if (err instanceof TooLongError)
        throw new BadInputError(`${video.key}: ${err.message}`, { cause: err });
      throw err;
    }
    const info: SamplingInfo = {
      asked: samplingText(sampling),
      used:
        plan.kind === 'count'
          ? describeSampling({ kind: 'count', frames: plan.times.length })
          : describeSampling({ kind: 'rate', periodSec: plan.periodSec }),
      ...(plan.kind === 'rate'
        ? {
            periodSec: round6(plan.periodSec),
            ...(Number.isFinite(plan.endSec) ? { endSec: round6(plan.endSec) } : {}),
          }
        : {}),
      ...(plan.capped ? { capped: plan.capped } : {}),
    };
    const base = {
      video: { bucket: video.bucket, key: video.key, stem },
      frameBucket: p.buckets.stage1,
    };
    const split = (
      extra: Partial<SplitOutput['split']>,
      timings: { ffmpegMs: number; uploadMs: number; startedAt?: number },
    ) => ({
      profile: p.profile,
      ffmpeg: d.ffmpeg.description,
      ...(durationSec !== undefined ? { durationSec } : {}),
      requestedFrames: plan.kind === 'count' ? plan.requested : undefined,
      sampling: info,
      ...extra,
      timings: {
        downloadMs: ms(src.downloadMs),
        ffmpegMs: ms(timings.ffmpegMs),
        uploadMs: ms(timings.uploadMs),
        totalMs: ms(performance.now() - t0),
        ...(timings.startedAt !== undefined ? { startedAt: timings.startedAt } : {}),
      },
    });

    const refOnly = plan.kind === 'rate' && decodesReferenceFramesOnly(probe.fps, plan.periodSec);
    if (plan.kind === 'rate' && Number.isFinite(plan.endSec) && seekable) {
      const segmentSec =
        p.frames.segmentSeconds ?? segmentSeconds({ ...probe, referenceFramesOnly: refOnly });
      if (plan.endSec > segmentSec * 1.25) {
        // Long: the state machine fans the segments out to splitter invocations.
        const segments = segmentsOf(plan, { targetSec: segmentSec }).map((s): SegmentSpec => ({
          ...s,
          periodSec: round6(s.periodSec),
          originSec,
          ...(probe.fps ? { fps: probe.fps } : {}),
          maxFrames: Math.ceil((s.endSec - s.startSec) / s.periodSec) + 2,
        }));
        d.context.log.info('video split into segments', {
          segments: segments.length,
          durationSec,
          segmentSec,
        });
        return {
          ...base,
          frameCount: 0,
          batches: [],
          segments,
          split: split({ segments: segments.length }, { ffmpegMs, uploadMs: 0, startedAt: wallStart }),
        };
      }
    }

    const outDir = path.join(work, 'frames');
    await mkdir(outDir);
    const common = {
      ffmpeg: d.ffmpeg.path,
      input: src.input,
      originSec,
      outDir,
      signal: d.context.abortSignal,
      memoryCap: d.memoryCap,
    };
    const extraction =
      plan.kind === 'count'
        ? await extractAtTimes({
            ...common,
            times: plan.times,
            width: probe.width,
            height: probe.height,
            timeoutMs: timeoutFor(
              d,
              ffmpegBudgetMs({ profile: 'default', frames: plan.times.length, durationSec, ...probe }),
            ),
          })
        : await extractByRate({
            ...common,
            periodSec: plan.periodSec,
            decodeThreads: p.ffmpeg.decodeThreads,
            startSec: 0,
            endSec: Number.isFinite(plan.endSec) ? plan.endSec : undefined,
            maxFrames: plan.maxFrames,
            fps: probe.fps,
            timeoutMs: timeoutFor(
              d,
              decodeBudgetMs(
                probe,
                Number.isFinite(plan.endSec) ? plan.endSec : (durationSec ?? 600),
                refOnly,
              ),
            ),
          });
    ffmpegMs += extraction.ffmpegMs;
    if (extraction.frames.length === 0) {
      throw new FfmpegError(
        'decode',
        'cannot decode the video: ffmpeg produced no frame (no decodable frame)',
      );
    }
    const tu = performance.now();
    const frames = extraction.frames.slice(0, p.frames.max);
    const keys = await d.uploadFrames(stem, frames);
    const listed = await listFrames(d, stem, keys, frames);
    d.context.log.info('frames uploaded', {
      frames: keys.length,
      bucket: p.buckets.stage1,
      durationSec,
      streamed: src.streamed,
      ffmpegMs: ms(ffmpegMs),
    });
    return {
      ...base,
      frameCount: keys.length,
      ...listed.output,
      split: split(listed.split, { ffmpegMs, uploadMs: performance.now() - tu }),
    };
  });
}

/**
 * The frames' keys for the Map: in batches in the state up to what the inline Map's payload
 * allows, else in S3 for the Distributed Map (the key list it reads, and the index of keys and
 * times the result function reads).
 */
async function listFrames(
  d: SampledSplitDeps,
  stem: string,
  keys: string[],
  frames: ReadonlyArray<{ timeSec: number | null }>,
): Promise<{
  output: Pick<SplitOutput, 'batches' | 'frameList'>;
  split: Partial<SplitOutput['split']>;
}> {
  const p = d.config;
  const times = frames.map((f) => (f.timeSec === null ? null : round6(f.timeSec)));
  const longestKey = Buffer.byteLength(frameKey('default', stem, frameFileName('default', stem, 99_999)));
  if (keys.length <= framesWithinBudget(longestKey, p.frames.batchSize, p.frames.facesPerFrame)) {
    return { output: { batches: toBatches(keys, p.frames.batchSize) }, split: { frameTimesSec: times } };
  }
  const where = frameListKeys(stem);
  const bucket = p.buckets.stage1;
  await putJson(
    d.s3,
    bucket,
    where.list,
    keys.map((key, i) => ({ key, timeSec: times[i] })),
  );
  return {
    output: {
      batches: [],
      frameList: {
        bucket,
        key: where.list,
        batchSize: p.frames.mapRunBatchSize,
        resultsPrefix: where.results,
      },
    },
    split: { frameIndex: { bucket, key: where.list } },
  };
}

// ------------------------------------------------------------------ one segment

async function extractSegment(
  video: VideoObject,
  segment: SegmentSpec,
  d: SampledSplitDeps,
): Promise<SegmentOutput> {
  const t0 = performance.now();
  const stem = videoStem(video.key);
  return withWorkFolder(d, async (work) => {
    const src = await openVideo(video, work, d, 'stream');
    const outDir = path.join(work, 'frames');
    await mkdir(outDir);
    const refOnly = decodesReferenceFramesOnly(segment.fps, segment.periodSec);
    const extraction = await extractByRate({
      ffmpeg: d.ffmpeg.path,
      input: src.input,
      originSec: segment.originSec,
      outDir,
      periodSec: segment.periodSec,
      startSec: segment.startSec,
      endSec: segment.endSec,
      maxFrames: segment.maxFrames,
      fps: segment.fps,
      decodeThreads: d.config.ffmpeg.decodeThreads,
      signal: d.context.abortSignal,
      memoryCap: d.memoryCap,
      timeoutMs: timeoutFor(
        d,
        decodeBudgetMs({ fps: segment.fps }, segment.endSec - segment.startSec, refOnly),
      ),
    });
    const tu = performance.now();
    const keys = await d.uploadFrames(stem, extraction.frames);
    const part = { bucket: d.config.buckets.stage1, key: frameListKeys(stem).segment(segment.index) };
    await putJson(d.s3, part.bucket, part.key, {
      segment: segment.index,
      frames: keys.map((key, i) => ({ key, timeSec: extraction.frames[i].timeSec })),
    });
    d.context.log.info('segment extracted', {
      segment: segment.index,
      of: segment.of,
      frames: keys.length,
      ffmpegMs: ms(extraction.ffmpegMs),
    });
    return SegmentOutputSchema.parse({
      segment: segment.index,
      frameCount: keys.length,
      part,
      referenceFramesOnly: extraction.referenceFramesOnly,
      timings: {
        ffmpegMs: ms(extraction.ffmpegMs),
        uploadMs: ms(performance.now() - tu),
        totalMs: ms(performance.now() - t0),
      },
    });
  });
}

// ------------------------------------------------------------------ the segments' index

async function indexSegments(
  video: VideoObject,
  outcomes: SegmentOutcome[],
  planSplit: Record<string, unknown>,
  d: SampledSplitDeps,
): Promise<SplitOutput> {
  const t0 = performance.now();
  const p = d.config;
  const stem = videoStem(video.key);
  const failed = outcomes.filter((o) => 'failed' in o);
  const done = outcomes.filter((o): o is SegmentOutput => !('failed' in o));
  const frames: Array<{ key: string; timeSec: number | null }> = [];
  for (const o of [...done].sort((a, b) => a.segment - b.segment)) {
    const bytes = await getBytes(d.s3, o.part);
    const part = JSON.parse(new TextDecoder().decode(bytes)) as {
      frames: Array<{ key: string; timeSec: number }>;
    };
    frames.push(...part.frames);
  }
  if (frames.length === 0) {
    const first = failed[0];
    throw new BadInputError(
      first
        ? `cannot decode the video: ${failed.length} of ${outcomes.length} segments failed (first: ${reasonFromCause(first.error, first.cause)})`
        : 'cannot decode the video: ffmpeg produced no frame in any segment (no decodable frame)',
    );
  }
  // Segments meet on the sampling grid: a frame at a boundary is kept once.
  const seen = new Set<string>();
  const unique = frames
    .sort((a, b) => (a.timeSec ?? 0) - (b.timeSec ?? 0))
    .filter((f) => !seen.has(f.key) && seen.add(f.key))
    .slice(0, p.frames.max);
  const listed = await listFrames(
    d,
    stem,
    unique.map((f) => f.key),
    unique,
  );
  const timings = (planSplit.timings ?? {}) as Record<string, number>;
  const segFfmpeg = done.reduce((s, o) => s + o.timings.ffmpegMs, 0);
  const segUpload = done.reduce((s, o) => s + o.timings.uploadMs, 0);
  return {
    video: { bucket: video.bucket, key: video.key, stem },
    frameBucket: p.buckets.stage1,
    frameCount: unique.length,
    ...listed.output,
    // Inline batches are never used after segments: the Distributed Map reads the list.
    split: {
      ...(planSplit as Partial<SplitOutput['split']>),
      profile: p.profile,
      ffmpeg: d.ffmpeg.description,
      segments: outcomes.length,
      ...(failed.length ? { failedSegments: failed } : {}),
      ...listed.split,
      timings: {
        downloadMs: timings.downloadMs ?? 0,
        // Summed over the segments' invocations (they ran in parallel).
        ffmpegMs: ms((timings.ffmpegMs ?? 0) + segFfmpeg),
        uploadMs: ms(segUpload + (performance.now() - t0)),
        // From the plan to this index: the segments' wall time, queueing included.
        totalMs: ms(
          timings.startedAt !== undefined
            ? Date.now() - timings.startedAt
            : (timings.totalMs ?? 0) + performance.now() - t0,
        ),
      },
    },
  } as SplitOutput;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
