/**
 * starter: S3 ObjectCreated events of the input bucket, through an SQS queue (partial-batch
 * responses: a message whose executions could not be started is delivered again, then goes to
 * the dead-letter queue) or directly -> one Step Functions execution per video.
 * The execution name comes from the object's identity (layout.executionName), so a redelivered
 * event starts nothing new. Keys that are not videos are skipped and logged, not failed.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mapLimit } from '../core/concurrency.js';
import { StarterEventSchema, type S3EventRecord, type StarterEvent } from '../core/contracts.js';
import { checkContentType, messagesOf, planRecord } from '../core/starter.js';
import { classifyError, ConfigError } from '../aws/errors.js';
import { wrapHandler, type FacerecContext } from '../aws/middleware.js';
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
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) {
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

export function createHandler(deps: Deps = {}) {
  const resolve = lazyDeps(deps);
  return wrapHandler<StarterEvent, StarterResult>(
    {
      fn: 'starter',
      schema: StarterEventSchema,
      logKeys: (e) =>
        'Records' in e && e.Records.length === 1 && 's3' in e.Records[0]
          ? { video: e.Records[0].s3.object.key }
          : {},
      logLevel: () => resolve().config.pipeline.logLevel,
    },
    async (event, context: FacerecContext) => {
      const deps = resolve();
      const result: StarterResult = { started: [], duplicates: [], skipped: [], batchItemFailures: [] };
      const messages = messagesOf(event);
      for (const message of messages) {
        if ('malformed' in message) {
          // Kept (retried, then dead-lettered) rather than dropped: someone should look at it.
          context.log.error('malformed message', { messageId: message.messageId, reason: message.malformed });
          result.batchItemFailures.push({ itemIdentifier: message.messageId });
          continue;
        }
        const n = message.notification;
        if (!('Records' in n)) {
          context.log.info('S3 test event: nothing to do');
          continue;
        }
        if (!deps.config.pipeline.stateMachineArn) throw new ConfigError('STATE_MACHINE_ARN is not set');
        const stateMachineArn = deps.config.pipeline.stateMachineArn;
        const outcomes = await mapLimit(n.Records, 8, (record) =>
          startRecord(record, deps, stateMachineArn, result, context.log).then(
            () => undefined,
            (err: unknown) => err,
          ),
        );
        const failure = outcomes.find((o) => o !== undefined);
        if (failure === undefined) continue;
        // S3 invoked us directly: fail the invocation, so Lambda's asynchronous retries apply.
        if (message.messageId === undefined) throw failure;
        context.log.warn('message will be retried', {
          messageId: message.messageId,
          error: classifyError(failure).message,
        });
        result.batchItemFailures.push({ itemIdentifier: message.messageId });
      }
      return result;
    },
  ).use(observability('starter', () => resolve().config));
}

export const handler = createHandler();
