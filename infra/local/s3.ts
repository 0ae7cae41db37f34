/**
 * The local S3-compatible server (s3rver) with the pipeline's buckets (input, stage-1, output,
 * meta), data kept under
 * one folder. Its ObjectCreated events are handed on as AWS sends them: one record per event,
 * keys URL-encoded, a unique sequencer per upload.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import type { BucketNames } from '../../functions/core/layout.js';
import { encodeEventKey } from '../../functions/core/layout.js';

export interface LocalS3 {
  url: string;
  directory: string;
  close(): Promise<void>;
}

interface S3rverRecord {
  eventName: string;
  eventTime: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  [k: string]: unknown;
}

let sequence = 0;

/** s3rver knows one access key (S3RVER); local mode accepts any, like the other endpoint. */
function acceptAnyAccessKey() {
  const require = createRequire(import.meta.url);
  const accounts = require('s3rver/lib/models/account') as {
    registry: Map<string, unknown> & { anyKey?: boolean };
    DUMMY_ACCOUNT: unknown;
  };
  if (accounts.registry.anyKey) return;
  const get = accounts.registry.get.bind(accounts.registry);
  accounts.registry.get = (id: string) => get(id) ?? accounts.DUMMY_ACCOUNT;
  accounts.registry.anyKey = true;
}

/** s3rver's record -> the record S3 would send (encoded key, unique sequencer). */
export function toAwsRecord(r: S3rverRecord): S3rverRecord {
  const o = r.s3.object;
  const seq = (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000))
    .toString(16)
    .toUpperCase()
    .padStart(16, '0');
  return {
    ...r,
    eventSource: 'aws:s3',
    s3: {
      ...r.s3,
      object: { ...o, key: encodeEventKey(o.key), sequencer: seq },
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
}): Promise<LocalS3> {
  mkdirSync(opts.directory, { recursive: true });
  acceptAnyAccessKey();
  const server = new S3rver({
    address: opts.host,
    port: opts.port,
    silent: true,
    directory: opts.directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: [opts.buckets.input, opts.buckets.stage1, opts.buckets.output, opts.buckets.meta].map(
      (name) => ({
        name,
      }),
    ),
  });
  server.on('event', (event: { Records: S3rverRecord[] }) => {
    for (const record of event.Records) {
      if (record.s3.bucket.name !== opts.buckets.input) continue;
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      opts.onInputEvent({ Records: [toAwsRecord(record)] });
    }
  });
  const addr: AddressInfo = await server.run();
  return {
    url: `http://${opts.host}:${addr.port}`,
    directory: opts.directory,
    close: async () => {
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    },
  };
}
