/**
 * result: the frames of one video -> `<stem>.txt` in the output bucket, whose whole content is
 * the chosen name (no newline): what the original graders read. `<stem>.json` (detail) when
 * enabled. Invoked with `{ failure: … }` from the state machine's Catch path, it writes the error
 * record `errors/<stem>.json` instead (output bucket; meta bucket in the cse546 profiles:
 * layout.failureRecordRef), and the execution then fails.
 *
 * Newest upload wins: either write happens only while the upload the execution was started for
 * is still the object under its key (HeadObject of the input; core/upload-version.ts); an older
 * execution's late write is dropped and logged, and its output says `superseded`.
 */
import {
  ResultEventSchema,
  type FailureInput,
  type FailureOutput,
  type FrameResult,
  type ResultEvent,
  type ResultInput,
  type ResultOutput,
} from '../core/contracts.js';
import { failureKind, publicCause, reasonFromCause, scrubPaths } from '../core/failure.js';
import { failureRecordRef, outputKeys, videoStem } from '../core/layout.js';
import { uploadIsCurrent, type Currency } from '../core/upload-version.js';
import { vote } from '../core/vote.js';
import { timeline } from '../core/appearances.js';
import type { Config } from '../config.js';
import { BadInputError } from '../aws/errors.js';
import { wrapHandler, type FacerecContext } from '../aws/middleware.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { currentVersion, deleteObject, putJson, putText } from '../aws/s3.js';
import type { S3Client } from '@aws-sdk/client-s3';

export { reasonFromCause } from '../core/failure.js';

/** Is the execution's upload still the object under its key? (No upload given: cannot tell.) */
async function checkCurrent(s3: S3Client, upload: ResultInput['upload']): Promise<Currency> {
  if (!upload) return { current: true };
  return uploadIsCurrent(upload, await currentVersion(s3, upload));
}

async function writeFailure(
  event: FailureInput,
  config: Config,
  s3: S3Client,
  log: FacerecContext['log'],
): Promise<FailureOutput> {
  const { bucket, key: errorKey } = failureRecordRef(
    config.pipeline.profile,
    config.pipeline.buckets,
    videoStem(event.video.key),
  );
  // Records in buckets carry reasons, never stack traces or the machine's paths.
  const reason = scrubPaths(reasonFromCause(event.failure.error, event.failure.cause));
  const currency = await checkCurrent(s3, event.video);
  if (!currency.current) {
    log.warn('failure record dropped: not the newest upload', {
      errorKey,
      reason,
      superseded: currency.reason,
    });
    return {
      stage: event.failure.stage,
      error: event.failure.error,
      reason,
      bucket,
      errorKey,
      superseded: currency.reason,
    };
  }
  await putJson(s3, bucket, errorKey, {
    video: event.video,
    stage: event.failure.stage,
    error: event.failure.error,
    kind: failureKind(event.failure.error, reason),
    reason,
    cause: publicCause(event.failure.cause),
    execution: event.execution,
    profile: config.pipeline.profile,
    time: new Date().toISOString(),
  });
  log.warn('failure recorded', { stage: event.failure.stage, error: event.failure.error, reason, errorKey });
  return { stage: event.failure.stage, error: event.failure.error, reason, bucket, errorKey };
}

async function writeResult(
  event: ResultInput,
  config: Config,
  s3: S3Client,
  log: FacerecContext['log'],
): Promise<ResultOutput> {
  const bucket = config.pipeline.buckets.output;
  const keys = outputKeys(event.video.stem);
  const frames: FrameResult[] = [];
  const failedBatches: Array<{ batch?: number; keys: string[]; error: string; reason: string }> = [];
  const modelIds = new Set<string>();
  const galleryIds = new Set<string>();
  let recognitionMs = 0;
  let slowestBatchMs = 0;
  for (const b of event.batches) {
    if ('failed' in b) {
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
  const analysed = frames.filter((f) => !f.error);
  const failed = frames.length - analysed.length;
  if (frames.length > 0 && analysed.length === 0) {
    const first = failedBatches[0]?.reason ?? frames.find((f) => f.error)?.error?.message ?? 'unknown';
    throw new BadInputError(`none of the ${frames.length} frames could be analysed (first error: ${first})`);
  }
  const result = vote(analysed, { threshold: config.engine.matchThreshold });

  const summary = {
    name: result.name,
    people: result.people,
    faces: result.faces,
    frames: analysed.length,
    framesFailed: failed,
    bucket,
    outputKey: keys.text,
  };
  const currency = await checkCurrent(s3, event.upload);
  if (!currency.current) {
    log.warn('result dropped: not the newest upload', { name: result.name, superseded: currency.reason });
    return { ...summary, superseded: currency.reason };
  }
  await putText(s3, bucket, keys.text, result.name, 'text/plain; charset=utf-8');
  let detailKey: string | undefined;
  if (config.pipeline.writeDetail) {
    detailKey = keys.detail;
    const startedAt = event.startedAt ? Date.parse(event.startedAt) : NaN;
    const seen = timeline(event.batches, frames, event.split?.frameTimesSec);
    await putJson(s3, bucket, detailKey, {
      video: event.video,
      name: result.name,
      people: result.people,
      /** When each recognized person is seen (first/last, frames, best distance). */
      appearances: seen.appearances,
      faces: result.faces,
      unknownFaces: result.unknownFaces,
      frames: {
        analysed: analysed.length,
        failed,
        withFaces: result.framesWithFaces,
        results: seen.frames,
      },
      failedBatches,
      timings: {
        split: event.split?.timings,
        recognition: { batches: event.batches.length, totalMs: recognitionMs, slowestBatchMs },
        ...(Number.isFinite(startedAt) ? { executionMs: Date.now() - startedAt } : {}),
      },
      model: { id: [...modelIds].join(',') || undefined },
      gallery: { id: [...galleryIds].join(',') || undefined },
      ffmpeg: event.split?.ffmpeg,
      durationSec: event.split?.durationSec,
      profile: config.pipeline.profile,
      execution: event.execution,
      createdAt: new Date().toISOString(),
    });
  }
  // A successful run replaces the failure record of an earlier upload of the same video.
  const record = failureRecordRef(config.pipeline.profile, config.pipeline.buckets, event.video.stem);
  try {
    await deleteObject(s3, record.bucket, record.key);
  } catch (err) {
    log.warn('could not delete an old error record', {
      bucket: record.bucket,
      key: record.key,
      error: err as Error,
    });
  }
  log.info('result written', { name: result.name, faces: result.faces, frames: analysed.length, failed });
  return { ...summary, ...(detailKey ? { detailKey } : {}) };
}

export function createHandler(deps: Deps = {}) {
  const resolve = lazyDeps(deps);
  return wrapHandler<ResultEvent, ResultOutput | FailureOutput>(
    {
      fn: 'result',
      schema: ResultEventSchema,
      logKeys: (e) => ({ execution: e.execution, video: e.video.key }),
      logLevel: () => resolve().config.pipeline.logLevel,
    },
    async (event, context: FacerecContext) => {
      const { config, s3 } = resolve();
      return 'failure' in event
        ? writeFailure(event, config, s3, context.log)
        : writeResult(event, config, s3, context.log);
    },
  );
}

export const handler = createHandler();
