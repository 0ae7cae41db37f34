/**
 * Reconcile through the SDK (AWS or the local stack alike): list the input and output buckets
 * and the RUNNING executions, and start an execution, with the starter's naming and input
 * (core/starter.ts), for every upload that has neither an output nor an error record nor an
 * execution working on it (plan.ts). Used by `facerec reconcile [--aws]` and by the
 * local stack when it starts.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../../functions/core/concurrency.js';
import { VideoObjectSchema } from '../../functions/core/contracts.js';
import type { Profile } from '../../functions/core/facts.js';
import { ERRORS_PREFIX, failureRecordBucket, type BucketNames } from '../../functions/core/layout.js';
import { listAll } from '../../functions/aws/s3.js';
import { isNotFound } from '../../functions/aws/errors.js';
import { answersToCheck, planReconcile, type Listed, type RunningUpload } from './plan.js';
import { ANSWERED_UPLOAD_META, normalizeEtag } from '../../functions/core/upload-version.js';
import { planStoredObject } from '../../functions/core/starter.js';

export interface ReconcileOptions {
  s3: S3Client;
  sfn: SFNClient;
  buckets: BucketNames;
  /** Decides where failure records are (the meta bucket in the cse546 profiles). */
  profile: Profile;
  stateMachineArn: string;
  extensions: readonly string[];
  contentTypes: readonly string[];
  /** Leave uploads modified after this (ms) to the starter. */
  uploadedBefore: number;
  /** List what would start, start nothing. */
  dryRun?: boolean;
}

export interface ReconcileReport {
  inputs: number;
  answered: number;
  running: number;
  recent: number;
  started: Array<{ key: string; name: string; executionArn?: string }>;
  /** Uploads that could not be started (and why): not a video by type, an execution of the same
   * upload already ended without writing anything, gone since the listing. */
  skipped: Array<{ key: string; reason: string }>;
}

/** Every object of a bucket, as the plan reads it (key, last modified). */
async function listed(s3: S3Client, bucket: string, prefix?: string): Promise<Listed[]> {
  return (await listAll(s3, bucket, prefix))
    .filter((o) => o.Key)
    .map((o) => ({ key: o.Key!, lastModified: o.LastModified?.getTime(), etag: o.ETag }));
}

/** The uploads (key and ETag) the RUNNING executions of the state machine work on. */
async function runningUploads(
  sfn: SFNClient,
  stateMachineArn: string,
  bucket: string,
): Promise<RunningUpload[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    for (const e of page.executions ?? []) if (e.executionArn) arns.push(e.executionArn);
    nextToken = page.nextToken;
  } while (nextToken);
  const uploads: RunningUpload[] = [];
  await mapLimit(arns, AWS_REQUESTS_AT_ONCE, async (executionArn) => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    let input: unknown;
    try {
      input = JSON.parse(d.input ?? 'null');
    } catch {
      return;
    }
    const video = VideoObjectSchema.safeParse(input);
    if (video.success && video.data.bucket === bucket)
      uploads.push({ key: video.data.key, etag: video.data.etag });
  });
  return uploads;
}

/** Which upload each answer says it answers (its metadata; HeadObject). Gone since: left out. */
async function uploadsAnswered(
  s3: S3Client,
  bucketOf: (key: string) => string,
  keys: readonly string[],
): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  await mapLimit(keys, AWS_REQUESTS_AT_ONCE, async (key) => {
    try {
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucketOf(key), Key: key }));
      out.set(key, normalizeEtag(h.Metadata?.[ANSWERED_UPLOAD_META]));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
  return out;
}

export async function reconcileUploads(o: ReconcileOptions): Promise<ReconcileReport> {
  const recordsBucket = failureRecordBucket(o.profile, o.buckets);
  // The running executions first, then the buckets: an execution that ends in between has
  // written its answer before the listing of outputs, so no upload is seen as neither answered nor
  // running (which would start a second execution of it).
  const running = await runningUploads(o.sfn, o.stateMachineArn, o.buckets.input);
  const [inputs, outputs, records] = await Promise.all([
    listed(o.s3, o.buckets.input),
    listed(o.s3, o.buckets.output),
    recordsBucket === o.buckets.output ? [] : listed(o.s3, recordsBucket, ERRORS_PREFIX),
  ]);
  const answers = [...outputs, ...records];
  // Where each answer was listed (an output key may start with errors/ too: a video in errors/).
  const bucketOf = new Map<string, string>([
    ...outputs.map((x): [string, string] => [x.key, o.buckets.output]),
    ...records.map((x): [string, string] => [x.key, recordsBucket]),
  ]);
  const answeredUploads = await uploadsAnswered(
    o.s3,
    (key) => bucketOf.get(key) ?? o.buckets.output,
    answersToCheck(inputs, answers, o.extensions),
  );
  const decisions = planReconcile({
    inputs,
    outputs: answers,
    running,
    extensions: o.extensions,
    uploadedBefore: o.uploadedBefore,
    answeredUploads,
  });
  const report: ReconcileReport = {
    inputs: decisions.filter((d) => !(d.action === 'skip' && d.reason === 'not a video')).length,
    answered: decisions.filter((d) => d.action === 'skip' && d.reason === 'answered').length,
    running: decisions.filter((d) => d.action === 'skip' && d.reason === 'running').length,
    recent: decisions.filter((d) => d.action === 'skip' && d.reason === 'recent').length,
    started: [],
    skipped: [],
  };
  const missing = decisions.filter((d) => d.action === 'start').map((d) => d.key);
  await mapLimit(missing, AWS_REQUESTS_AT_ONCE, async (key) => {
    let head;
    try {
      head = await o.s3.send(new HeadObjectCommand({ Bucket: o.buckets.input, Key: key }));
    } catch (err) {
      if (isNotFound(err)) {
        report.skipped.push({ key, reason: 'deleted since the listing' });
        return;
      }
      throw err;
    }
    const plan = planStoredObject(
      o.buckets.input,
      key,
      { size: head.ContentLength, etag: head.ETag, versionId: head.VersionId, contentType: head.ContentType },
      { inputBucket: o.buckets.input, extensions: o.extensions, contentTypes: o.contentTypes },
    );
    if (plan.action === 'skip') {
      report.skipped.push({ key, reason: plan.reason });
      return;
    }
    if (o.dryRun) {
      report.started.push({ key, name: plan.name });
      return;
    }
    try {
      const out = await o.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: o.stateMachineArn,
          name: plan.name,
          input: JSON.stringify(plan.video),
        }),
      );
      report.started.push({ key, name: plan.name, executionArn: out.executionArn });
    } catch (err) {
      if ((err as Error).name !== 'ExecutionAlreadyExists') throw err;
      report.skipped.push({
        key,
        reason: `an execution of this upload (${plan.name}) already ended without an output or error record`,
      });
    }
  });
  report.started.sort((a, b) => a.key.localeCompare(b.key));
  report.skipped.sort((a, b) => a.key.localeCompare(b.key));
  return report;
}
