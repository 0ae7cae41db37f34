/**
 * `facerec teardown --aws`: remove a deployment for good. First a plan (read-only): the stack, if
 * any; the buckets it created and keeps (its retained input, output and meta buckets, tagged by
 * CloudFormation with the stack's name, whether the stack still exists or was deleted or rolled
 * back); buckets and functions the user named; and the buckets of the prefix it will NOT touch
 * (made outside the stack, adopted). Then, once the user has agreed, the deletion: the stack
 * (CloudFormation deletes what it does not retain), then each bucket emptied of every version,
 * delete marker and unfinished upload, then deleted; then the named functions.
 */
import { DeleteStackCommand, waitUntilStackDeleteComplete } from '@aws-sdk/client-cloudformation';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { listAll } from '../../../functions/aws/s3.js';
import { errorCode, httpStatus, type AwsClients } from './access.js';
import {
  bucketOwner,
  describeStack,
  functionOwner,
  myBuckets,
  physicalIds,
  type PlannedDeployment,
  type StackState,
} from './deployment.js';

interface BucketToDelete {
  name: string;
  /** Why it goes: made by the stack (and kept by it), or named by the user. */
  reason: string;
  /** Objects, versions and delete markers in it, counted up to COUNT_LIMIT. */
  entries: number;
  more: boolean;
}

export interface TeardownPlan {
  stackName: string;
  region: string;
  /** The stack to delete (any state but an operation in progress). */
  stack?: StackState;
  buckets: BucketToDelete[];
  /** Buckets of the prefix that exist and stay: not made by this stack, not named. */
  kept: Array<{ name: string; reason: string }>;
  functions: Array<{ name: string; reason: string }>;
  /** Names the user gave that do not exist (nothing to do). */
  notFound: string[];
}

export class TeardownError extends Error {
  override name = 'TeardownError';
}

/** Counting stops here (the plan says "N+"); emptying deletes everything regardless. */
const COUNT_LIMIT = 10_000;

export interface TeardownRequest {
  aws: AwsClients;
  plan: PlannedDeployment;
  /** Buckets the user named (`--bucket`): deleted even when the stack did not create them. */
  buckets?: string[];
  /** Functions the user named (`--function`). */
  functions?: string[];
}

export async function planTeardown(req: TeardownRequest): Promise<TeardownPlan> {
  const { aws, plan } = req;
  const stack = await describeStack(aws.cfn, plan.stackName);
  if (stack && stack.status.endsWith('_IN_PROGRESS') && stack.status !== 'DELETE_IN_PROGRESS') {
    throw new TeardownError(
      `stack ${plan.stackName} is ${stack.status}: wait for that operation to end, then run teardown again (nothing was deleted)`,
    );
  }
  const named = new Set(req.buckets ?? []);
  const candidates = new Set<string>([
    ...plan.buckets.map((b) => b.name),
    // An earlier deploy may have had server access logs on.
    `${plan.prefix}-access-logs`,
    ...physicalIds(stack, 'AWS::S3::Bucket'),
    ...named,
  ]);
  const mine = await myBuckets(aws.s3, '');
  const out: TeardownPlan = {
    stackName: plan.stackName,
    region: plan.region,
    stack,
    buckets: [],
    kept: [],
    functions: [],
    notFound: [],
  };
  for (const name of candidates) {
    const owner = await bucketOwner(aws.s3, name, mine);
    if (owner.kind === 'free') {
      if (named.has(name)) out.notFound.push(name);
      continue;
    }
    if (owner.kind === 'elsewhere') {
      if (named.has(name))
        throw new TeardownError(
          `bucket ${name} is not in this account (S3 answered ${owner.status}): nothing was deleted`,
        );
      continue;
    }
    let reason: string | undefined;
    if (owner.stack === plan.stackName) {
      reason = stack
        ? `created by stack ${plan.stackName}`
        : `left by an earlier ${plan.stackName} stack (retained)`;
    } else if (named.has(name)) {
      reason = owner.stack ? `named by you (made by stack ${owner.stack})` : 'named by you';
    }
    if (!reason) {
      const adopted = plan.buckets.find((b) => b.name === name)?.adopted;
      out.kept.push({
        name,
        reason:
          (owner.stack
            ? `made by stack ${owner.stack}`
            : adopted
              ? 'adopted, not made by the stack'
              : 'not made by this stack') + ` (add --bucket ${name} to delete it too)`,
      });
      continue;
    }
    const { entries, more } = await countEntries(aws.s3, name);
    out.buckets.push({ name, reason, entries, more });
  }
  for (const name of req.functions ?? []) {
    const owner = await functionOwner(aws.lambda, name);
    if (owner.kind === 'free') out.notFound.push(name);
    else
      out.functions.push({
        name,
        reason: owner.stack ? `named by you (made by stack ${owner.stack})` : 'named by you',
      });
  }
  return out;
}

export function isEmptyPlan(p: TeardownPlan): boolean {
  return !p.stack && p.buckets.length === 0 && p.functions.length === 0;
}

/** The plan in plain words, one line per thing. */
export function describePlan(p: TeardownPlan): string[] {
  const lines: string[] = [];
  if (p.stack) {
    lines.push(
      `delete stack ${p.stackName} (${p.stack.status}) in ${p.region}: its functions, state machine, queues, roles, log groups and alarms`,
    );
  }
  for (const b of p.buckets) {
    const n = `${b.entries}${b.more ? '+' : ''}`;
    lines.push(
      `empty and delete bucket ${b.name}: ${b.reason}; ${b.entries === 0 && !b.more ? 'empty' : `${n} objects and versions`}`,
    );
  }
  for (const f of p.functions) lines.push(`delete function ${f.name}: ${f.reason}`);
  return lines;
}

async function countEntries(s3: S3Client, bucket: string): Promise<{ entries: number; more: boolean }> {
  let entries = 0;
  for await (const page of versionPages(s3, bucket)) {
    entries += page.length;
    if (entries >= COUNT_LIMIT) return { entries: COUNT_LIMIT, more: true };
  }
  return { entries, more: false };
}

/** Every version and delete marker of the bucket (under `prefix`), a page at a time. A store
 * without versions (an S3-compatible server that does not implement ListObjectVersions, such as
 * the local one) lists its objects instead. */
async function* versionPages(
  s3: S3Client,
  bucket: string,
  prefix?: string,
): AsyncGenerator<Array<{ Key: string; VersionId?: string }>> {
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
      );
    } catch (err) {
      if (KeyMarker === undefined && (errorCode(err) === 'NotImplemented' || httpStatus(err) === 501)) {
        yield (await listAll(s3, bucket, prefix)).map((o) => ({ Key: o.Key! }));
        return;
      }
      throw err;
    }
    yield [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    if (!page.IsTruncated) return;
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
}

/**
 * Deletes every version and delete marker of the objects under `prefix` for which `only` holds
 * (default: all), so that nothing of them is recoverable; returns how many.
 */
export async function deleteEveryVersion(
  s3: S3Client,
  bucket: string,
  select: { prefix?: string; only?: (key: string) => boolean } = {},
): Promise<number> {
  let deleted = 0;
  for await (const all of versionPages(s3, bucket, select.prefix)) {
    const page = select.only ? all.filter((v) => select.only!(v.Key)) : all;
    for (let i = 0; i < page.length; i += 1000) {
      const chunk = page.slice(i, i + 1000);
      const res = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk, Quiet: true } }),
      );
      if (res.Errors?.length) {
        const e = res.Errors[0];
        throw new TeardownError(
          `could not delete ${res.Errors.length} objects of ${bucket} (first: ${e.Key} ${e.VersionId ?? ''}: ${e.Code} ${e.Message ?? ''})`,
        );
      }
      deleted += chunk.length;
    }
  }
  return deleted;
}

/** Deletes every version, delete marker and unfinished multipart upload; returns how many. */
async function emptyEveryVersion(s3: S3Client, bucket: string): Promise<number> {
  const deleted = await deleteEveryVersion(s3, bucket);
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker, UploadIdMarker }),
    );
    for (const u of page.Uploads ?? []) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    if (!page.IsTruncated) break;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
  return deleted;
}

export interface TeardownOptions {
  log: (line: string) => void;
  /** Longest wait for the stack's deletion (s). */
  stackTimeoutSec?: number;
}

/** Carries out an agreed plan. Stops at the first failure, saying what is left. */
export async function executeTeardown(aws: AwsClients, p: TeardownPlan, o: TeardownOptions): Promise<void> {
  if (p.stack && p.stack.status !== 'DELETE_COMPLETE') {
    o.log(`deleting stack ${p.stackName} ...`);
    await aws.cfn.send(new DeleteStackCommand({ StackName: p.stack.id }));
    const waited = await waitUntilStackDeleteComplete(
      { client: aws.cfn, maxWaitTime: o.stackTimeoutSec ?? 1800, minDelay: 5, maxDelay: 20 },
      { StackName: p.stack.id },
    ).catch((err: unknown) => ({ state: 'FAILURE', reason: err }));
    if (waited.state !== 'SUCCESS') {
      const now = await describeStack(aws.cfn, p.stack.id).catch(() => undefined);
      throw new TeardownError(
        `stack ${p.stackName} was not deleted (${now?.status ?? waited.state}${now?.statusReason ? `: ${now.statusReason}` : ''}); ` +
          'see its events in the CloudFormation console; no bucket was touched',
      );
    }
    o.log(`deleted stack ${p.stackName}`);
  }
  for (const b of p.buckets) {
    for (let attempt = 1; ; attempt++) {
      let n: number;
      try {
        n = await emptyEveryVersion(aws.s3, b.name);
      } catch (err) {
        // Deleted with the stack (its own, non-retained buckets: stage-1).
        if (errorCode(err) === 'NoSuchBucket') {
          o.log(`bucket ${b.name}: already gone (deleted with the stack)`);
          break;
        }
        throw err;
      }
      try {
        await aws.s3.send(new DeleteBucketCommand({ Bucket: b.name }));
        o.log(`deleted bucket ${b.name} (${n} objects and versions)`);
        break;
      } catch (err) {
        // Something wrote to it meanwhile: empty it again.
        if (errorCode(err) === 'BucketNotEmpty' && attempt < 3) continue;
        throw err;
      }
    }
  }
  for (const f of p.functions) {
    await aws.lambda.send(new DeleteFunctionCommand({ FunctionName: f.name }));
    o.log(`deleted function ${f.name}`);
  }
}
