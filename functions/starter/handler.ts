/**
 * starter: S3 ObjectCreated events of the input bucket, through an SQS queue (partial-batch
 * responses, Powertools' BatchProcessor: a message whose executions could not be started, or whose
 * body is not an S3 notification, is delivered again, then goes to the dead-letter queue) or
 * directly -> one Step Functions execution per video.
 * The execution name comes from the object's identity (layout.executionName), so a redelivered
 * event starts nothing new. Keys that are not videos are skipped and logged, not failed.
 */
import {
  BatchProcessor,
  EventType,
  ParsingError,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { parser as recordParser } from '@aws-lambda-powertools/batch/parser';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../core/concurrency.js';
import {
  StarterEventSchema,
  UploadMessageSchema,
  type S3EventRecord,
  type S3Notification,
  type SqsEvent,
  type StarterEvent,
  type UploadMessage,
} from '../core/contracts.js';
import { checkContentType, planRecord } from '../core/starter.js';
import { classifyError, ConfigError, isNotFound } from '../aws/errors.js';
import {
  classifyErrors,
  logContext,
  lambdaEntry,
  logKeys,
  type FacerecContext,
  type LambdaEntry,
} from '../aws/middleware.js';
import { observability } from '../aws/observability.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { head } from '../aws/s3.js';

export interface StarterResult {
  started: Array<{ key: string; name: string; executionArn: string }>;
  duplicates: Array<{ key: string; name: string }>;
  skipped: Array<{ key: string; reason: string }>;
  /** SQS partial-batch response (ReportBatchItemFailures): these messages are delivered again,
   * and after the queue's maxReceiveCount they land in the dead-letter queue. */
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

type Resolved = ReturnType<ReturnType<typeof lazyDeps>>;

/** One S3 record -> an execution, a duplicate or a skip (throws what should be retried). */
async function startRecord(
  record: S3EventRecord,
  { config, s3, sfn }: Resolved,
  stateMachineArn: string,
  result: StarterResult,
  log: FacerecContext['log'],
): Promise<void> {
  const p = config.pipeline;
  const plan = planRecord(record, { inputBucket: p.buckets.input, extensions: p.video.extensions });
  if (plan.action === 'skip') {
    log.info('skipped', { key: plan.key, reason: plan.reason });
    result.skipped.push({ key: plan.key, reason: plan.reason });
    return;
  }
  const { video, name } = plan;
  let contentType: string | undefined;
  try {
    const h = await head(s3, { bucket: video.bucket, key: video.key, versionId: video.versionId });
    contentType = h.ContentType;
  } catch (err) {
    if (isNotFound(err)) {
      const reason = 'the object no longer exists';
      log.warn('skipped', { key: video.key, reason });
      result.skipped.push({ key: video.key, reason });
      return;
    }
    throw err;
  }
  const ct = checkContentType(contentType, p.video.contentTypes);
  if (!ct.ok) {
    log.info('skipped', { key: video.key, reason: ct.reason });
    result.skipped.push({ key: video.key, reason: ct.reason });
    return;
  }
  try {
    const out = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(video) }),
    );
    log.info('execution started', { key: video.key, name, executionArn: out.executionArn });
    result.started.push({ key: video.key, name, executionArn: out.executionArn ?? '' });
  } catch (err) {
    if ((err as Error).name === 'ExecutionAlreadyExists') {
      log.info('duplicate event: execution exists', { key: video.key, name });
      result.duplicates.push({ key: video.key, name });
      return;
    }
    throw err;
  }
}

/** One S3 notification -> its records' executions; throws the first failure (to be retried)
 * after every record was tried. */
async function startNotification(
  n: S3Notification,
  deps: Resolved,
  result: StarterResult,
  log: FacerecContext['log'],
): Promise<void> {
  if (!('Records' in n)) {
    log.info('S3 test event: nothing to do');
    return;
  }
  const stateMachineArn = deps.config.pipeline.stateMachineArn;
  if (!stateMachineArn) throw new ConfigError('STATE_MACHINE_ARN is not set');
  const outcomes = await mapLimit(n.Records, AWS_REQUESTS_AT_ONCE, (record) =>
    startRecord(record, deps, stateMachineArn, result, log).then(
      () => undefined,
      (err: unknown) => err,
    ),
  );
  const failure = outcomes.find((o) => o !== undefined);
  if (failure !== undefined) throw failure;
}

/** A batch of the upload queue's messages (the SQS event source), not an S3 notification. */
function isQueueBatch(event: StarterEvent): event is SqsEvent {
  return 'Records' in event && event.Records.length > 0 && 'messageId' in event.Records[0];
}

/**
 * The queue's messages, one at a time, through Powertools' BatchProcessor: each body is parsed on
 * its own (a malformed one fails alone: kept, retried, then dead-lettered rather than dropped, so
 * someone looks at it), and the messages whose executions could not all be started are named in
 * `batchItemFailures`. Even when every message failed the invocation succeeds with that list (no
 * FullBatchFailureError), as the queue treats both alike and the starter's Errors alarm stays for
 * a starter that cannot work: without a state machine it fails as a whole.
 */
async function startMessages(
  event: SqsEvent,
  deps: Resolved,
  result: StarterResult,
  context: FacerecContext,
): Promise<void> {
  const { log } = context;
  // One processor per invocation: it holds the batch's state.
  const processor = new BatchProcessor(EventType.SQS, {
    parser: recordParser,
    schema: UploadMessageSchema,
    logger: log,
  });
  const { batchItemFailures } = await processPartialResponse(
    event,
    (message: UploadMessage) => startNotification(message.body, deps, result, log),
    processor,
    { context, throwOnFullBatchFailure: false, processInParallel: false },
  );
  processor.errors.forEach((err, i) => {
    const messageId = (processor.failureMessages[i] as { messageId: string }).messageId;
    if (err instanceof ParsingError) log.error('malformed message', { messageId, reason: err.message });
    else log.warn('message will be retried', { messageId, error: classifyError(err).message });
  });
  const unconfigured = processor.errors.find((err) => err instanceof ConfigError);
  if (unconfigured) throw unconfigured;
  result.batchItemFailures.push(...batchItemFailures);
}

export function createHandler(deps: Deps = {}): LambdaEntry<StarterResult> {
  const resolve = lazyDeps(deps);
  const handle = async (event: StarterEvent, context: FacerecContext): Promise<StarterResult> => {
    const result: StarterResult = { started: [], duplicates: [], skipped: [], batchItemFailures: [] };
    // S3 invoked us directly: a failure fails the invocation, so Lambda's asynchronous retries apply.
    if (!isQueueBatch(event)) await startNotification(event, resolve(), result, context.log);
    else await startMessages(event, resolve(), result, context);
    return result;
  };
  return lambdaEntry(
    middy(handle)
      .use(logContext('starter', () => resolve().config.pipeline.logLevel))
      .use(classifyErrors())
      .use(parser({ schema: StarterEventSchema }))
      .use(
        logKeys((e: StarterEvent) =>
          'Records' in e && e.Records.length === 1 && 's3' in e.Records[0]
            ? { video: e.Records[0].s3.object.key }
            : {},
        ),
      )
      .use(observability('starter', () => resolve().config)),
  );
}

export const handler = createHandler();
