/**
 * result: the frames of one video -> `<stem>.txt` in the output bucket, whose whole content is
 * the chosen name (no newline): what the original graders read. `<stem>.json` (detail) when
 * enabled. Invoked with `{ failure: … }` from the state machine's Catch path, it writes the error
 * record `errors/<stem>.json` instead (output bucket; meta bucket in the cse546 profiles:
 * layout.failureRecordRef), and the execution then fails.
 *
 * Newest upload wins: either write happens only while the upload the execution was started for
 * is still the object under its key (HeadObject of the input; core/upload-version.ts); an older
 * execution's late write is dropped and logged, and its output says `superseded`. Both carry the
 * upload's ETag as metadata (core/upload-version.ts), for reconcile.
 */
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import {
  ResultEventSchema,
  type FailureInput,
  type FailureOutput,
  type ResultEvent,
  type ResultInput,
  type ResultOutput,
} from '../core/contracts.js';
import { planFailure, planResult, type ResultRules } from '../core/result.js';
import { stage } from '../core/stages.js';
import { answerMetadata, uploadIsCurrent, type Currency } from '../core/upload-version.js';
import type { Config } from '../config.js';
import { BadInputError } from '../aws/errors.js';
import {
  classifyErrors,
  lambdaEntry,
  logContext,
  logKeys,
  type FacerecContext,
  type LambdaEntry,
} from '../aws/middleware.js';
import { observability } from '../aws/observability.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { currentVersion, deleteObject, putJson, putText } from '../aws/s3.js';
import { withMapRunResults } from '../aws/map-run-results.js';
import type { S3Client } from '@aws-sdk/client-s3';

function rulesOf(config: Config): ResultRules {
  return {
    profile: config.pipeline.profile,
    buckets: config.pipeline.buckets,
    threshold: config.engine.matchThreshold,
    writeDetail: config.pipeline.writeDetail,
  };
}

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
  const { output, record } = planFailure(event, rulesOf(config), new Date());
  const { reason, errorKey } = output;
  const currency = await checkCurrent(s3, event.video);
  if (!currency.current) {
    log.warn('failure record dropped: not the newest upload', {
      errorKey,
      reason,
      superseded: currency.reason,
    });
    return { ...output, superseded: currency.reason };
  }
  // The record names the upload it answers (reconcile tells a late answer of an older upload).
  await putJson(s3, record.bucket, record.key, record.body, answerMetadata(event.video));
  log.warn('failure recorded', { stage: output.stage, error: output.error, reason, errorKey });
  return output;
}

async function writeResult(
  event: ResultInput,
  config: Config,
  s3: S3Client,
  log: FacerecContext['log'],
): Promise<ResultOutput> {
  const plan = planResult(event, rulesOf(config), new Date());
  if (plan.action === 'refuse') throw new BadInputError(plan.reason);
  const { summary, text, detail } = plan;
  const currency = await checkCurrent(s3, event.upload);
  if (!currency.current) {
    log.warn('result dropped: not the newest upload', { name: summary.name, superseded: currency.reason });
    return { ...summary, superseded: currency.reason };
  }
  // The answer names the upload it answers (reconcile tells a late answer of an older upload).
  await putText(
    s3,
    text.bucket,
    text.key,
    text.body,
    'text/plain; charset=utf-8',
    answerMetadata(event.upload),
  );
  if (detail) await putJson(s3, detail.bucket, detail.key, detail.body);
  const record = plan.staleFailureRecord;
  try {
    await deleteObject(s3, record.bucket, record.key);
  } catch (err) {
    log.warn('could not delete an old error record', {
      bucket: record.bucket,
      key: record.key,
      error: err as Error,
    });
  }
  log.info('result written', {
    name: summary.name,
    faces: summary.faces,
    frames: summary.frames,
    failed: plan.framesFailed,
  });
  return { ...summary, ...(detail ? { detailKey: detail.key } : {}) };
}

export function createHandler(deps: Deps = {}): LambdaEntry<ResultOutput | FailureOutput> {
  const resolve = lazyDeps(deps);
  const handle = async (
    event: ResultEvent,
    context: FacerecContext,
  ): Promise<ResultOutput | FailureOutput> => {
    const { config, s3 } = resolve();
    return stage('result', async () =>
      'failure' in event
        ? writeFailure(event, config, s3, context.log)
        : writeResult(await withMapRunResults(s3, event), config, s3, context.log),
    );
  };
  return lambdaEntry(
    middy(handle)
      .use(logContext('result', () => resolve().config.pipeline.logLevel))
      .use(classifyErrors())
      .use(parser({ schema: ResultEventSchema }))
      .use(logKeys((e: ResultEvent) => ({ execution: e.execution, video: e.video.key })))
      .use(observability('result', () => resolve().config)),
  );
}

export const handler = createHandler();
