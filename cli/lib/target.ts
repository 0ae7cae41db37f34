/**
 * The S3 side of a pipeline, for the tools that only need its buckets (`facerec workload`,
 * `facerec grade`): the local stack (a running `facerec up`, one started here, or, to read what a
 * stopped stack left, its data folder served for the time of the command), AWS through the SDK's
 * standard credential and region chain (`--aws`), or any S3-compatible endpoint (`--endpoint`).
 * Bucket names always come from layout.ts (`<prefix>-input`, `-stage-1`, `-output`).
 */
import type { Command } from 'commander';
import { existsSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { loadConfig, type Config, type Profile } from '../../functions/config.js';
import { s3ClientConfig } from '../../functions/aws/clients.js';
import type { BucketListing, ListedObject } from './grade.js';
import { bucketNames, type BucketNames } from '../../functions/core/layout.js';
import { startLocalS3 } from '../../infra/local/s3.js';
import type { LocalStack, StackInfo } from '../../infra/local/stack.js';
import { ensureStack } from './pipeline-run.js';
import { closeTarget, findRunningStack, localTarget } from './stack-client.js';

export interface TargetFlags {
  aws?: boolean;
  endpoint?: string;
  prefix?: string;
  region?: string;
}

export interface S3Target {
  kind: 'local' | 'aws' | 'endpoint';
  s3: S3Client;
  buckets: BucketNames;
  /** One line: where the buckets are. */
  description: string;
  /** The local stack's settings, when the target is one. */
  local?: StackInfo;
  /** Set when this command started the local stack (it stops it on close). */
  stack?: LocalStack;
  close(): Promise<void>;
}

/** Settings with `--prefix` applied (validated by the configuration's rules). */
export function configWith(flags: { prefix?: string; profile?: Profile }): Config {
  return loadConfig({
    ...process.env,
    ...(flags.prefix ? { FACEREC_BUCKET_PREFIX: flags.prefix } : {}),
    ...(flags.profile ? { FACEREC_PROFILE: flags.profile } : {}),
  } as NodeJS.ProcessEnv);
}

const isLoopback = (url: string) => {
  try {
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** `--aws` or `--endpoint`: undefined when neither is given (the local stack then). */
export async function remoteTarget(flags: TargetFlags): Promise<S3Target | undefined> {
  if (flags.aws && flags.endpoint) throw new Error('--aws and --endpoint exclude each other');
  if (!flags.aws && !flags.endpoint) return undefined;
  const config = configWith(flags);
  const buckets = config.pipeline.buckets;
  if (flags.endpoint) {
    if (!/^https?:\/\//.test(flags.endpoint))
      throw new Error(`--endpoint ${flags.endpoint}: not an http(s) URL`);
    // Local servers take any credentials; the SDK still wants some to sign with.
    if (isLoopback(flags.endpoint)) {
      process.env.AWS_ACCESS_KEY_ID ??= 'local';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    }
    const s3 = new S3Client(
      s3ClientConfig({
        region: flags.region ?? config.pipeline.aws.region,
        s3Endpoint: flags.endpoint,
        s3ForcePathStyle: true,
      }),
    );
    return {
      kind: 'endpoint',
      s3,
      buckets,
      description: `S3 endpoint ${flags.endpoint}`,
      close: async () => s3.destroy(),
    };
  }
  // AWS: the SDK's own chain for credentials and region (env, profile, SSO, instance role…).
  let s3 = new S3Client({ ...(flags.region ? { region: flags.region } : {}), maxAttempts: 4 });
  let region: string;
  try {
    region = await s3.config.region();
  } catch {
    s3.destroy();
    region = 'us-east-1';
    s3 = new S3Client({ region, maxAttempts: 4 });
  }
  return {
    kind: 'aws',
    s3,
    buckets,
    description: `AWS S3 (${region})`,
    close: async () => s3.destroy(),
  };
}

function checkPrefix(info: StackInfo, flags: TargetFlags) {
  if (flags.prefix && bucketNames(flags.prefix).input !== info.buckets.input) {
    throw new Error(
      `the local stack (pid ${info.pid}) serves ${info.buckets.input}, not ${bucketNames(flags.prefix).input}: ` +
        'stop it or drop --prefix',
    );
  }
}

/** The local stack for a workload: a running one, else one started in this process. */
export async function localWorkloadTarget(
  flags: TargetFlags & { profile?: Profile; gallery?: string; verbose?: boolean },
): Promise<S3Target> {
  const { target, stack } = await ensureStack({
    profile: flags.profile,
    gallery: flags.gallery ?? loadConfig().galleryPath,
    logLevel: flags.verbose ? 'INFO' : 'ERROR',
    env: flags.prefix ? { FACEREC_BUCKET_PREFIX: flags.prefix } : undefined,
  });
  const info = target.local!;
  try {
    checkPrefix(info, flags);
  } catch (err) {
    closeTarget(target);
    await stack?.stop();
    throw err;
  }
  return {
    kind: 'local',
    s3: target.s3,
    buckets: target.buckets,
    description: stack
      ? `local stack started here (S3 ${info.s3Endpoint}, profile ${info.profile})`
      : `local stack of \`facerec up\` (pid ${info.pid}, S3 ${info.s3Endpoint}, profile ${info.profile})`,
    local: info,
    stack,
    close: async () => {
      closeTarget(target);
      await stack?.stop(1000);
    },
  };
}

/**
 * The local stack to read from: a running one, else the data a stopped one left in
 * `<FACEREC_LOCAL_DIR>/s3`, served by an S3 server of this process for the time of the command.
 * `missing` lists the buckets that had no folder there (the server creates them empty).
 */
export async function localReadTarget(flags: TargetFlags): Promise<S3Target & { missing: string[] }> {
  const config = configWith(flags);
  const running = await findRunningStack(config.pipeline.local.dir);
  if (running) {
    checkPrefix(running, flags);
    const t = localTarget(running);
    return {
      kind: 'local',
      s3: t.s3,
      buckets: t.buckets,
      description: `local stack (pid ${running.pid}, S3 ${running.s3Endpoint})`,
      local: running,
      missing: [],
      close: async () => closeTarget(t),
    };
  }
  const dataDir = path.join(config.pipeline.local.dir, 's3');
  if (!existsSync(dataDir)) {
    throw new Error(
      `no local stack runs and there is no local data in ${dataDir}: run \`facerec workload\` first, ` +
        'or pass --aws or --endpoint <url>',
    );
  }
  const buckets = config.pipeline.buckets;
  const missing = Object.values(buckets).filter((b) => !existsSync(path.join(dataDir, b)));
  const server = await startLocalS3({
    host: config.pipeline.local.host,
    port: 0,
    directory: dataDir,
    buckets,
    onInputEvent: () => undefined, // reading only: nothing is uploaded
  });
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const s3 = new S3Client(
    s3ClientConfig({ region: config.pipeline.aws.region, s3Endpoint: server.url, s3ForcePathStyle: true }),
  );
  return {
    kind: 'local',
    s3,
    buckets,
    description: `local data of a stopped stack (${dataDir})`,
    missing,
    close: async () => {
      s3.destroy();
      await server.close();
      // The server made the missing buckets (empty folders): leave the data as it was.
      for (const b of missing) {
        try {
          rmdirSync(path.join(dataDir, b));
        } catch {
          /* not empty: something was written meanwhile */
        }
      }
    },
  };
}

const errorName = (err: unknown) =>
  (err as { name?: string; Code?: string }).name ?? (err as { Code?: string }).Code ?? 'Error';

/** Every object of a bucket (ListObjectsV2, all pages). */
export async function listAll(s3: S3Client, bucket: string, prefix?: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, Prefix: prefix }),
    );
    out.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export const toListed = (o: _Object): ListedObject => ({
  key: o.Key!,
  size: o.Size ?? 0,
  lastModified: o.LastModified?.getTime() ?? 0,
});

/** A bucket's listing for the grader; a bucket that S3 refuses to list (no such bucket, access
 * denied) counts as missing. Not reaching S3 at all (network, credentials) throws. */
export async function bucketListing(s3: S3Client, bucket: string): Promise<BucketListing> {
  try {
    return { name: bucket, exists: true, objects: (await listAll(s3, bucket)).map(toListed) };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!status)
      throw new Error(`cannot reach S3 to list ${bucket}: ${errorName(err)}: ${(err as Error).message}`, {
        cause: err,
      });
    const name = errorName(err);
    return {
      name: bucket,
      exists: false,
      error: name === 'NoSuchBucket' ? undefined : `${name}: ${(err as Error).message}`,
      objects: [],
    };
  }
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body ? res.Body.transformToString('utf-8') : '';
}

/** Delete every object the listing shows (DeleteObjects, 1000 keys per request). On a versioned
 * bucket this adds delete markers: earlier versions stay. Returns the number deleted. */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  const keys = (await listAll(s3, bucket)).map((o) => o.Key!);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const errors = res.Errors ?? [];
    if (errors.length) {
      const e = errors[0];
      throw new Error(
        `could not delete ${errors.length} objects of ${bucket} (first: ${e.Key}: ${e.Code} ${e.Message ?? ''})`,
      );
    }
    deleted += chunk.length;
  }
  return deleted;
}

/** 'Enabled' | 'Suspended' | undefined (never enabled); 'unknown' when the server cannot say. */
export async function bucketVersioning(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return res.Status;
  } catch {
    return 'unknown';
  }
}

/** The options by which a command picks its buckets: local stack (default), AWS, any endpoint. */
export function withS3TargetOptions(command: Command): Command {
  return command
    .option('--aws', "AWS S3 (the SDK's credential chain and region)")
    .option('--endpoint <url>', 'any S3-compatible endpoint')
    .option(
      '--prefix <prefix>',
      'bucket prefix: <prefix>-input, -stage-1, -output (default: FACEREC_BUCKET_PREFIX)',
    )
    .option('--region <region>', 'region (with --aws: default from the SDK chain, else us-east-1)');
}
