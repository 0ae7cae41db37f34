/**
 * The local S3 server of local mode (infra/local/s3/server.ts over a fenced file store) with the
 * pipeline's buckets (input, stage-1, output, meta), data kept under one folder. ObjectCreated events of the input bucket
 * are handed on as S3 sends them: one record per event, keys URL-encoded, a unique sequencer per
 * change.
 */
import { mkdirSync } from 'node:fs';
import type { BucketNames } from '../../../functions/core/layout.js';
import { encodeEventKey } from '../../../functions/core/layout.js';
import type { Authorize } from './api/context.js';
import type { S3Event } from './api/events.js';
import { startS3Server } from './server.js';
import { FileObjectStore } from './store.js';
import { DEFAULT_REGION } from '../../../functions/core/facts.js';

export interface LocalS3 {
  url: string;
  directory: string;
  close(): Promise<void>;
}

let sequence = 0;

/** The notification record S3 sends for a change (event message structure 2.1). */
export function toAwsRecord(e: S3Event, region = DEFAULT_REGION): Record<string, unknown> {
  const seq = (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000))
    .toString(16)
    .toUpperCase()
    .padStart(16, '0');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date().toISOString(),
    eventName: e.eventName,
    userIdentity: { principalId: 'local' },
    requestParameters: { sourceIPAddress: e.sourceIp ?? '127.0.0.1' },
    responseElements: { 'x-amz-request-id': seq, 'x-amz-id-2': seq },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'facerec-local',
      bucket: { name: e.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${e.bucket}` },
      object: {
        key: encodeEventKey(e.key),
        ...(e.size !== undefined ? { size: e.size } : {}),
        ...(e.eTag !== undefined ? { eTag: e.eTag } : {}),
        sequencer: seq,
      },
    },
  };
}

export async function startLocalS3(opts: {
  host: string;
  port: number;
  directory: string;
  buckets: BucketNames;
  /** Called with each ObjectCreated event of the input bucket. */
  onInputEvent: (event: { Records: unknown[] }) => void;
  /** A fault inside the server (never a client's bad request); default: printed to stderr. */
  onInternalError?: (err: unknown) => void;
  /** IAM: throws AccessDenied for a request its caller may not make. */
  authorize?: Authorize;
}): Promise<LocalS3> {
  mkdirSync(opts.directory, { recursive: true });
  const store = new FileObjectStore(opts.directory);
  const buckets = [opts.buckets.input, opts.buckets.stage1, opts.buckets.output, opts.buckets.meta];
  for (const name of buckets) store.createBucket(name);
  const server = await startS3Server({
    host: opts.host,
    port: opts.port,
    store,
    authorize: opts.authorize,
    protectedBuckets: buckets,
    onEvent: (e) => {
      if (e.bucket !== opts.buckets.input || !e.eventName.startsWith('ObjectCreated:')) return;
      opts.onInputEvent({ Records: [toAwsRecord(e)] });
    },
    onInternalError:
      opts.onInternalError ??
      ((err) =>
        console.error(`local S3 server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)),
  });
  return {
    url: server.url,
    directory: opts.directory,
    close: async () => {
      await server.close();
      store.release();
    },
  };
}
