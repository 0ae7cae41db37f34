/**
 * The workload generator behind `facerec workload` and the burst benchmark: uploads videos to
 * the input bucket, paced (one a second by default, like the original) or as fast as asked, and
 * follows the output bucket until each video has its `<stem>.txt` (or its error record under
 * `errors/`), measuring each video's latency.
 *
 * Latency is measured on this machine's clock: the upload's completion (PutObject answered) to
 * the first output-bucket listing that shows the output. The output bucket is listed every
 * 250 ms, backing off to 1 s while nothing new appears (ListObjectsV2, every page, narrowed to the
 * common prefix of the outputs still awaited: see `listingPrefixes`), so a latency is late by at
 * most one poll interval (reported).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { mapLimit, Semaphore } from '../../functions/core/concurrency.js';
import { ERRORS_PREFIX, outputKeys, videoStem, type BucketNames } from '../../functions/core/layout.js';
import { errorRecordReason } from './grade.js';
import { latencyStats, type LatencyStats } from './latency.js';
import { parseRate } from './options.js';
import { contentTypeOf, type VideoFile } from './pipeline-run.js';
import { listAll, uploadFile } from '../../functions/aws/s3.js';
import { readText } from './s3-objects.js';

export type Pacing = { kind: 'rate'; perSecond: number } | { kind: 'concurrency'; inFlight: number };

export type VideoStatus =
  'pending' | 'uploading' | 'waiting' | 'done' | 'failed' | 'timeout' | 'upload-failed';

interface WorkloadVideo {
  file: string;
  key: string;
  stem: string;
  outputKey: string;
  errorKey: string;
  status: VideoStatus;
  /** Content of `<stem>.txt`. */
  name?: string;
  uploadStartedAt?: number;
  uploadedAt?: number;
  /** When a listing first showed the output (or the error record). */
  seenAt?: number;
  /** seenAt - uploadedAt. */
  latencyMs?: number;
  /** Time between the listing before and the one that showed it: the latency's resolution. */
  resolutionMs?: number;
  reason?: string;
}

export interface WorkloadReport {
  videos: WorkloadVideo[];
  pacing: Pacing;
  timeoutSec: number;
  firstUploadAt: number;
  lastUploadAt: number;
  lastSeenAt?: number;
  /** First upload started -> last output seen. */
  totalMs?: number;
  latency?: LatencyStats;
  polls: number;
  pollIntervalMs: { min: number; max: number };
  /** Outputs of these videos that existed before the uploads (only new or changed ones count). */
  preexisting: number;
}

export interface WorkloadOptions {
  s3: S3Client;
  buckets: BucketNames;
  videos: VideoFile[];
  pacing: Pacing;
  timeoutSec: number;
  /** The output bucket was emptied: no snapshot needed. */
  cleared?: boolean;
  /** Where failure records appear (layout.failureRecordBucket); default the output bucket. */
  failureRecordBucket?: string;
  onProgress?: (videos: readonly WorkloadVideo[], elapsedMs: number) => void;
  log?: (line: string) => void;
  pollMs?: { min: number; max: number };
}

const TERMINAL: ReadonlySet<VideoStatus> = new Set(['done', 'failed', 'timeout', 'upload-failed']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const signature = (o: { LastModified?: Date; ETag?: string }) =>
  `${o.LastModified?.getTime() ?? 0}|${o.ETag ?? ''}`;

/** The longest common prefix of some keys. */
export function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  let p = keys[0];
  for (const k of keys) while (!k.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/**
 * What to list to see these keys: the common prefix of the keys awaited outside `errors/` and of
 * those inside it (error records), or the whole bucket ('') when they share nothing more. Narrow
 * listings keep polling cheap (on the local S3 server a listing costs ~0.4 ms of CPU per object
 * listed). No keys: nothing to list.
 */
export function listingPrefixes(keys: readonly string[]): string[] {
  if (keys.length === 0) return [];
  const groups = [
    keys.filter((k) => !k.startsWith(ERRORS_PREFIX)),
    keys.filter((k) => k.startsWith(ERRORS_PREFIX)),
  ]
    .filter((g) => g.length > 0)
    .map(commonPrefix);
  if (groups.some((p) => p === '')) return [''];
  return groups;
}

export function pacingOf(flags: { rate?: string; concurrency?: number }): Pacing {
  if (flags.rate !== undefined && flags.concurrency !== undefined)
    throw new Error('--rate and --concurrency exclude each other');
  if (flags.concurrency !== undefined) {
    if (!Number.isInteger(flags.concurrency) || flags.concurrency < 1)
      throw new Error(`--concurrency ${flags.concurrency}: a whole number >= 1`);
    return { kind: 'concurrency', inFlight: flags.concurrency };
  }
  return { kind: 'rate', perSecond: parseRate(flags.rate ?? '1') };
}

function workloadVideos(files: readonly VideoFile[]): WorkloadVideo[] {
  const videos: WorkloadVideo[] = files.map((v) => {
    const stem = videoStem(v.key);
    const keys = outputKeys(stem);
    return { file: v.file, key: v.key, stem, outputKey: keys.text, errorKey: keys.error, status: 'pending' };
  });
  const byOutput = new Map<string, WorkloadVideo>();
  for (const v of videos) {
    const other = byOutput.get(v.outputKey);
    if (other) throw new Error(`${v.key} and ${other.key} would both write ${v.outputKey}`);
    byOutput.set(v.outputKey, v);
  }
  return videos;
}

/** Outputs and error records already there (an earlier run), by key: they only count once they change. */
async function snapshotOutputs(
  o: WorkloadOptions,
  videos: readonly WorkloadVideo[],
  recordsBucket: string,
): Promise<Map<string, string>> {
  const { s3, buckets } = o;
  const before = new Map<string, string>();
  if (o.cleared) return before;
  for (const obj of await listAll(s3, buckets.output)) before.set(obj.Key!, signature(obj));
  if (recordsBucket !== buckets.output) {
    for (const obj of await listAll(s3, recordsBucket, ERRORS_PREFIX)) before.set(obj.Key!, signature(obj));
  }
  const stale = videos.filter((v) => before.has(v.outputKey) || before.has(v.errorKey)).length;
  if (stale) {
    o.log?.(
      `note: ${stale} of these videos already have an output or error record in s3://${buckets.output} ` +
        '(an earlier run); only new ones count. --clear empties the buckets first.',
    );
  }
  return before;
}

/** Upload every video as the pacing says; each upload's outcome is recorded on its video. */
async function uploadAll(o: WorkloadOptions, videos: WorkloadVideo[], t0: number): Promise<void> {
  const upload = async (v: WorkloadVideo, file: VideoFile) => {
    v.status = 'uploading';
    v.uploadStartedAt = Date.now();
    try {
      await uploadFile(o.s3, {
        bucket: o.buckets.input,
        key: v.key,
        file: file.file,
        bytes: file.bytes,
        contentType: contentTypeOf(v.key),
      });
      v.uploadedAt = Date.now();
      v.status = 'waiting';
    } catch (err) {
      v.status = 'upload-failed';
      v.reason = `upload failed: ${(err as Error).name}: ${(err as Error).message}`;
    }
    o.onProgress?.(videos, Date.now() - t0);
  };
  if (o.pacing.kind === 'concurrency') {
    await mapLimit(o.videos, o.pacing.inFlight, (file, i) => upload(videos[i], file));
    return;
  }
  // Starts spaced 1/rate apart (the original slept 1 s after each upload); at most 16 in flight.
  const slots = new Semaphore(16);
  const started: Array<Promise<void>> = [];
  for (const [i, file] of o.videos.entries()) {
    await sleep(t0 + (i * 1000) / o.pacing.perSecond - Date.now());
    started.push(slots.run(() => upload(videos[i], file)));
  }
  await Promise.all(started);
}

/** One listing of what the awaited videos may have written: key -> signature. */
async function listAwaited(
  o: WorkloadOptions,
  awaited: readonly WorkloadVideo[],
  recordsBucket: string,
): Promise<Map<string, string>> {
  const { buckets } = o;
  const listing = new Map<string, string>();
  // Output and error keys never coincide (errors/ prefix, .json), so one map holds both.
  const lists: Array<[string, string[]]> =
    recordsBucket === buckets.output
      ? [[buckets.output, awaited.flatMap((v) => [v.outputKey, v.errorKey])]]
      : [
          [buckets.output, awaited.map((v) => v.outputKey)],
          [recordsBucket, awaited.map((v) => v.errorKey)],
        ];
  for (const [bucket, keys] of lists) {
    for (const prefix of listingPrefixes(keys)) {
      for (const obj of await listAll(o.s3, bucket, prefix || undefined))
        listing.set(obj.Key!, signature(obj));
    }
  }
  return listing;
}

function summarize(
  o: WorkloadOptions,
  videos: WorkloadVideo[],
  before: ReadonlyMap<string, string>,
  t0: number,
  polls: number,
  pollMs: { min: number; max: number },
): WorkloadReport {
  const uploaded = videos.filter((v) => v.uploadedAt !== undefined);
  const seen = videos.filter((v) => v.status === 'done');
  const lastSeenAt = seen.length ? Math.max(...seen.map((v) => v.seenAt!)) : undefined;
  return {
    videos,
    pacing: o.pacing,
    timeoutSec: o.timeoutSec,
    firstUploadAt: t0,
    lastUploadAt: uploaded.length ? Math.max(...uploaded.map((v) => v.uploadedAt!)) : t0,
    lastSeenAt,
    totalMs: lastSeenAt === undefined ? undefined : lastSeenAt - t0,
    latency: latencyStats(seen.map((v) => v.latencyMs!)),
    polls,
    pollIntervalMs: pollMs,
    preexisting: videos.filter((v) => before.has(v.outputKey)).length,
  };
}

/** Upload, then follow the output bucket until every video has an output, failed or timed out. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadReport> {
  const { s3, buckets } = o;
  const pollMs = o.pollMs ?? { min: 250, max: 1000 };
  const videos = workloadVideos(o.videos);
  const recordsBucket = o.failureRecordBucket ?? buckets.output;
  const before = await snapshotOutputs(o, videos, recordsBucket);

  const t0 = Date.now();
  let uploadsDone = false;
  const reads = new Semaphore(4);
  const pendingReads: Array<Promise<void>> = [];
  const uploading = uploadAll(o, videos, t0).finally(() => (uploadsDone = true));
  /** Read what a seen output says (the name), or why the video failed (its error record). */
  const readOutcome = (v: WorkloadVideo, done: boolean) => {
    const key = done ? v.outputKey : v.errorKey;
    pendingReads.push(
      reads.run(async () => {
        try {
          const text = await readText(s3, done ? buckets.output : recordsBucket, key);
          if (done) v.name = text;
          else v.reason = errorRecordReason(text) ?? 'failed (error record)';
        } catch (err) {
          if (!done) v.reason = `failed (error record ${key} unreadable: ${(err as Error).message})`;
        }
      }),
    );
  };

  let interval = pollMs.min;
  let polls = 0;
  let lastListingAt = t0;
  let listingErrors = 0;
  for (;;) {
    await sleep(interval);
    const startedAt = Date.now();
    const awaited = videos.filter((v) => v.status === 'waiting');
    let listing: Map<string, string>;
    try {
      listing = await listAwaited(o, awaited, recordsBucket);
      listingErrors = 0;
    } catch (err) {
      if (++listingErrors >= 10) throw err;
      o.log?.(`listing s3://${buckets.output} failed (${(err as Error).message}); retrying`);
      continue;
    }
    polls++;
    const seenAt = Date.now();
    const isNew = (key: string) => listing.has(key) && listing.get(key) !== before.get(key);
    let changed = false;
    for (const v of videos) {
      if (v.status !== 'waiting') continue;
      const done = isNew(v.outputKey);
      if (done || isNew(v.errorKey)) {
        v.status = done ? 'done' : 'failed';
        v.seenAt = seenAt;
        v.latencyMs = seenAt - v.uploadedAt!;
        v.resolutionMs = seenAt - Math.max(lastListingAt, v.uploadedAt!);
        changed = true;
        readOutcome(v, done);
      } else if (seenAt - v.uploadedAt! > o.timeoutSec * 1000) {
        v.status = 'timeout';
        v.reason = `no output ${o.timeoutSec} s after the upload`;
        changed = true;
      }
    }
    lastListingAt = startedAt;
    o.onProgress?.(videos, Date.now() - t0);
    if (uploadsDone && videos.every((v) => TERMINAL.has(v.status))) break;
    // Nothing awaited yet: stay at the short interval for the next upload's output.
    interval =
      changed || awaited.length === 0 ? pollMs.min : Math.min(pollMs.max, Math.round(interval * 1.5));
  }
  await uploading;
  await Promise.all(pendingReads);
  return summarize(o, videos, before, t0, polls, pollMs);
}
