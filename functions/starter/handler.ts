/**
 * starter: S3 ObjectCreated event of the input bucket -> one Step Functions execution per video.
 * The execution name comes from the object's identity (layout.executionName), so a redelivered
 * event starts nothing new. Keys that are not videos are skipped and logged, not failed.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mapLimit } from '../core/concurrency.js';
import { S3NotificationSchema, type S3Notification } from '../core/contracts.js';
import { checkContentType, planRecord } from '../core/starter.js';
import { ConfigError } from '../aws/errors.js';
import { wrapHandler, type FacerecContext } from '../aws/middleware.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { head } from '../aws/s3.js';

export interface StarterResult {
  started: Array<{ key: string; name: string; executionArn: string }>;
  duplicates: Array<{ key: string; name: string }>;
  skipped: Array<{ key: string; reason: string }>;
}

export function createHandler(deps: Deps = {}) {
  const resolve = lazyDeps(deps);
  return wrapHandler<S3Notification, StarterResult>(
    {
      fn: 'starter',
      schema: S3NotificationSchema,
      logKeys: (e) => ('Records' in e && e.Records.length === 1 ? { video: e.Records[0].s3.object.key } : {}),
      logLevel: () => resolve().config.pipeline.logLevel,
    },
    async (event, context: FacerecContext) => {
      const { config, s3, sfn } = resolve();
      const p = config.pipeline;
      const result: StarterResult = { started: [], duplicates: [], skipped: [] };
      if (!('Records' in event)) {
        context.log.info('S3 test event: nothing to do');
        return result;
      }
      if (!p.stateMachineArn) throw new ConfigError('STATE_MACHINE_ARN is not set');
      const stateMachineArn = p.stateMachineArn;
      await mapLimit(event.Records, 8, async (record) => {
        const plan = planRecord(record, { inputBucket: p.buckets.input, extensions: p.video.extensions });
        if (plan.action === 'skip') {
          context.log.info('skipped', { key: plan.key, reason: plan.reason });
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
            context.log.warn('skipped', { key: video.key, reason });
            result.skipped.push({ key: video.key, reason });
            return;
          }
          throw err;
        }
        const ct = checkContentType(contentType, p.video.contentTypes);
        if (!ct.ok) {
          context.log.info('skipped', { key: video.key, reason: ct.reason });
          result.skipped.push({ key: video.key, reason: ct.reason });
          return;
        }
        try {
          const out = await sfn.send(
            new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(video) }),
          );
          context.log.info('execution started', { key: video.key, name, executionArn: out.executionArn });
          result.started.push({ key: video.key, name, executionArn: out.executionArn ?? '' });
        } catch (err) {
          if ((err as Error).name === 'ExecutionAlreadyExists') {
            context.log.info('duplicate event: execution exists', { key: video.key, name });
            result.duplicates.push({ key: video.key, name });
            return;
          }
          throw err;
        }
      });
      return result;
    },
  );
}

export const handler = createHandler();
