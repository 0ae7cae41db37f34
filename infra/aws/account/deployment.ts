/**
 * What a deployment of the stack will name in an account and region (buckets, functions, the
 * stack), and what the account holds of it now: the stack's state and resources, and whether a
 * bucket or function was made by this stack (CloudFormation tags what it creates with
 * `aws:cloudformation:stack-name`), so leftovers of an earlier deploy can be told from
 * resources someone else made.
 */
import {
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { GetFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketNames } from '../../../functions/core/layout.js';
import { functionNameFor, type AdoptableBucket, type DeploySettings } from '../settings.js';
import { errorCode, httpStatus, resolvePrefix } from './access.js';

const STACK_NAME_TAG = 'aws:cloudformation:stack-name';

type BucketRole = AdoptableBucket | 'access-logs';

export interface PlannedBucket {
  role: BucketRole;
  name: string;
  /** `-c adoptBuckets`: used as it is, never created (nor deleted) by the stack. */
  adopted: boolean;
}

export interface PlannedDeployment {
  stackName: string;
  account: string;
  region: string;
  prefix: string;
  buckets: PlannedBucket[];
  /** Functions the stack names explicitly (the cse546 profiles': video-splitting, ...). */
  functions: Array<{ role: 'splitter' | 'recognition'; name: string }>;
  settings: DeploySettings;
}

export function plannedDeployment(
  settings: DeploySettings,
  at: { stackName: string; account: string; region: string },
): PlannedDeployment {
  const prefix = resolvePrefix(settings.prefix, at);
  const names = bucketNames(prefix);
  const adopted = new Set<string>(settings.adoptBuckets);
  const buckets: PlannedBucket[] = (
    [
      ['input', names.input],
      ['stage-1', names.stage1],
      ['output', names.output],
      ['meta', names.meta],
    ] as const
  ).map(([role, name]) => ({ role, name, adopted: adopted.has(role) }));
  if (settings.accessLogs)
    buckets.push({ role: 'access-logs', name: `${prefix}-access-logs`, adopted: false });
  const functions = (['splitter', 'recognition'] as const).flatMap((role) => {
    const name = functionNameFor(settings, role);
    return name ? [{ role, name }] : [];
  });
  return { ...at, prefix, buckets, functions, settings };
}

// ---------------------------------------------------------------- the stack

export interface StackState {
  name: string;
  id: string;
  status: string;
  statusReason?: string;
  outputs: Record<string, string>;
  /** Physical ids of its resources, by CloudFormation type. */
  resources: StackResourceSummary[];
}

/** The stack, or undefined when there is none of that name in the region. */
export async function describeStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<StackState | undefined> {
  let stack;
  try {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (err) {
    if (/does not exist/i.test((err as Error).message ?? '')) return undefined;
    throw err;
  }
  if (!stack) return undefined;
  const resources: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(
      new ListStackResourcesCommand({ StackName: stack.StackId ?? stackName, NextToken }),
    );
    resources.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return {
    name: stackName,
    id: stack.StackId ?? stackName,
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!])),
    resources,
  };
}

/** Stack states in which CloudFormation can update the stack (a deploy works). */
export const UPDATABLE_STATES = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
]);

export function physicalIds(stack: StackState | undefined, type: string): Set<string> {
  return new Set(
    (stack?.resources ?? [])
      .filter((r) => r.ResourceType === type && r.ResourceStatus !== 'DELETE_COMPLETE')
      .map((r) => r.PhysicalResourceId!)
      .filter(Boolean),
  );
}

// ---------------------------------------------------------------- buckets

export type BucketOwner =
  /** No such bucket anywhere: the name is free. */
  | { kind: 'free' }
  /** Another account's (bucket names are global). */
  | { kind: 'elsewhere'; status: string }
  /** In this account: made by stack `stack` (tag), or by no stack. */
  | { kind: 'mine'; region?: string; stack?: string };

/**
 * Who has bucket `name`: this account (ListBuckets, which names its buckets in every region),
 * another one (HeadBucket answers 403 or a redirect), or nobody (404).
 */
export async function bucketOwner(
  s3: S3Client,
  name: string,
  mine: Map<string, string | undefined>,
): Promise<BucketOwner> {
  if (mine.has(name)) return { kind: 'mine', region: mine.get(name), stack: await stackTagOf(s3, name) };
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    // Readable but not listed as ours: another account's bucket with an open policy.
    return { kind: 'elsewhere', status: '200' };
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404 || errorCode(err) === 'NotFound' || errorCode(err) === 'NoSuchBucket')
      return { kind: 'free' };
    return { kind: 'elsewhere', status: String(status ?? errorCode(err)) };
  }
}

/** This account's buckets whose names start with `prefix`, with their regions. */
export async function myBuckets(s3: S3Client, prefix: string): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ Prefix: prefix || undefined, MaxBuckets: 1000, ContinuationToken }),
    );
    for (const b of page.Buckets ?? []) if (b.Name) out.set(b.Name, b.BucketRegion);
    ContinuationToken = page.ContinuationToken;
  } while (ContinuationToken);
  return out;
}

/** The CloudFormation stack that created the bucket (its tag), or undefined (none, or no tags). */
async function stackTagOf(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return tags.TagSet?.find((t) => t.Key === STACK_NAME_TAG)?.Value;
  } catch (err) {
    if (errorCode(err) === 'NoSuchTagSet' || httpStatus(err) === 404) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------- functions

export type FunctionOwner = { kind: 'free' } | { kind: 'mine'; stack?: string; runtime?: string };

export async function functionOwner(lambda: LambdaClient, name: string): Promise<FunctionOwner> {
  try {
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    return { kind: 'mine', stack: fn.Tags?.[STACK_NAME_TAG], runtime: fn.Configuration?.Runtime };
  } catch (err) {
    if (errorCode(err) === 'ResourceNotFoundException' || httpStatus(err) === 404) return { kind: 'free' };
    throw err;
  }
}
