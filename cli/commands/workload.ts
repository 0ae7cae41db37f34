/**
 * `facerec workload <folder> [--rate N/s | --concurrency N] [--clear] [--timeout s] [--json]`:
 * the original project's workload generator. Uploads every video of the folder to the input
 * bucket, paced (one a second by default, like the original) or as fast as asked, waits for each
 * video's `<stem>.txt` in the output bucket (or its error record under `errors/`), and prints the
 * latency of each video (upload completed -> output seen) with min / median / p95 / max and the
 * total time.
 *
 * Latency is measured on this machine's clock: the upload's completion (PutObject answered) to
 * the first output-bucket listing that shows the output. The output bucket is listed every
 * 250 ms, backing off to 1 s while nothing new appears (ListObjectsV2, every page, narrowed to the
 * common prefix of the outputs still awaited: see `listingPrefixes`), so a latency is late by at
 * most one poll interval (reported).
 *
 * Targets: the local stack by default (a running `facerec up`, else one started in this process
 * and stopped at the end), AWS with `--aws`, any S3-compatible server with `--endpoint`.
 */
import { createReadStream } from 'node:fs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Option, type Command } from 'commander';
import { loadConfig, type Profile } from '../../functions/config.js';
import { mapLimit, Semaphore } from '../../functions/core/concurrency.js';
import { errorRecordReason } from '../lib/grade.js';
import { latencyStats, parseDuration, parseRate, type LatencyStats } from '../lib/latency.js';
import {
  ERRORS_PREFIX,
  failureRecordBucket,
  outputKeys,
  videoStem,
  type BucketNames,
} from '../../functions/core/layout.js';
import { table } from '../lib/history.js';
import { collectVideos, contentTypeOf, type VideoFile } from '../lib/pipeline-run.js';
import { progressPrinter } from '../lib/progress.js';
import {
  bucketListing,
  bucketVersioning,
  emptyBucket,
  listAll,
  localWorkloadTarget,
  readText,
  remoteTarget,
  type S3Target,
  withS3TargetOptions,
} from '../lib/target.js';
import { profileOption } from './up.js';

export type Pacing = { kind: 'rate'; perSecond: number } | { kind: 'concurrency'; inFlight: number };

export type VideoStatus =
  'pending' | 'uploading' | 'waiting' | 'done' | 'failed' | 'timeout' | 'upload-failed';

export interface WorkloadVideo {
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

/** Upload, then follow the output bucket until every video has an output, failed or timed out. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadReport> {
  const { s3, buckets } = o;
  const pollMs = o.pollMs ?? { min: 250, max: 1000 };
  const videos: WorkloadVideo[] = o.videos.map((v) => {
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

  // Outputs already there (an earlier run) only count once they change.
  const recordsBucket = o.failureRecordBucket ?? buckets.output;
  const before = new Map<string, string>();
  if (!o.cleared) {
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
  }
  const preexisting = videos.filter((v) => before.has(v.outputKey)).length;

  const t0 = Date.now();
  let uploadsDone = false;
  const reads = new Semaphore(4);
  const pendingReads: Array<Promise<void>> = [];

  const upload = async (v: WorkloadVideo, file: VideoFile) => {
    v.status = 'uploading';
    v.uploadStartedAt = Date.now();
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: buckets.input,
          Key: v.key,
          Body: createReadStream(file.file),
          ContentLength: file.bytes,
          ContentType: contentTypeOf(v.key),
        }),
      );
      v.uploadedAt = Date.now();
      v.status = 'waiting';
    } catch (err) {
      v.status = 'upload-failed';
      v.reason = `upload failed: ${(err as Error).name}: ${(err as Error).message}`;
    }
    o.onProgress?.(videos, Date.now() - t0);
  };

  const uploading = (async () => {
    if (o.pacing.kind === 'concurrency') {
      await mapLimit(o.videos, o.pacing.inFlight, (file, i) => upload(videos[i], file));
    } else {
      // Starts spaced 1/rate apart (the original slept 1 s after each upload); at most 16 in flight.
      const slots = new Semaphore(16);
      const started: Array<Promise<void>> = [];
      for (const [i, file] of o.videos.entries()) {
        await sleep(t0 + (i * 1000) / o.pacing.perSecond - Date.now());
        started.push(slots.run(() => upload(videos[i], file)));
      }
      await Promise.all(started);
    }
  })().finally(() => (uploadsDone = true));

  let interval = pollMs.min;
  let polls = 0;
  let lastListingAt = t0;
  let listingErrors = 0;
  for (;;) {
    await sleep(interval);
    const startedAt = Date.now();
    const awaited = videos.filter((v) => v.status === 'waiting');
    const listing = new Map<string, string>();
    try {
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
          for (const obj of await listAll(s3, bucket, prefix || undefined))
            listing.set(obj.Key!, signature(obj));
        }
      }
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
    preexisting,
  };
}

/** `--clear`: say what will be emptied, then empty it. */
export async function clearBuckets(t: S3Target, log: (line: string) => void): Promise<void> {
  const all = [t.buckets.input, t.buckets.stage1, t.buckets.output];
  const versioned: string[] = [];
  for (const bucket of all) {
    const v = await bucketVersioning(t.s3, bucket);
    if (v === 'Enabled' || v === 'Suspended') versioned.push(bucket);
  }
  log(`--clear: deleting every object in ${all.map((b) => `s3://${b}`).join(', ')} (${t.description})`);
  if (versioned.length) {
    log(
      `  ${versioned.map((b) => `s3://${b}`).join(', ')} ${versioned.length === 1 ? 'is' : 'are'} versioned: ` +
        'deleting adds delete markers and does not remove earlier versions; those are not listed and start ' +
        'nothing, and stay until a lifecycle rule expires them (the deployed input bucket expires noncurrent ' +
        'versions) or a versioned delete removes them',
    );
  }
  for (const bucket of all) {
    const n = await emptyBucket(t.s3, bucket);
    log(`  s3://${bucket}: ${n} objects deleted`);
  }
}

const secs = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));

export function printWorkload(r: WorkloadReport, out: NodeJS.WritableStream = process.stdout) {
  const rows = r.videos.map((v) => [
    v.key,
    v.status === 'done' ? (v.name ?? '?') : v.status.toUpperCase(),
    secs(v.latencyMs),
  ]);
  out.write(`${table(['video', 'name', 'latency (s)'], rows)}\n`);
  const bad = r.videos.filter((v) => v.status !== 'done');
  for (const v of bad) out.write(`  ${v.key}: ${v.status}${v.reason ? `: ${v.reason}` : ''}\n`);
  const l = r.latency;
  const resolution = Math.max(0, ...r.videos.map((v) => v.resolutionMs ?? 0));
  out.write('\n');
  if (l) {
    out.write(
      `latency, upload done -> output seen (${l.count} videos): min ${secs(l.min)} s · median ${secs(l.median)} s · ` +
        `p95 ${secs(l.p95)} s · max ${secs(l.max)} s\n`,
    );
    out.write(
      `  (output bucket listed every ${r.pollIntervalMs.min}-${r.pollIntervalMs.max} ms: each figure is late by at most ` +
        `${secs(resolution)} s here)\n`,
    );
  }
  const pacing =
    r.pacing.kind === 'rate'
      ? `${r.pacing.perSecond}/s`
      : `${r.pacing.inFlight} in flight, as fast as possible`;
  out.write(
    `total: ${secs(r.totalMs)} s from the first upload to the last output; uploads ${secs(r.lastUploadAt - r.firstUploadAt)} s (${pacing})\n`,
  );
  const count = (s: VideoStatus) => r.videos.filter((v) => v.status === s).length;
  out.write(
    `${count('done')}/${r.videos.length} outputs, ${count('failed')} failed, ${count('timeout')} timed out` +
      (count('upload-failed') ? `, ${count('upload-failed')} uploads failed` : '') +
      '\n',
  );
}

export function workloadJson(r: WorkloadReport, t: S3Target) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const count = (s: VideoStatus) => r.videos.filter((v) => v.status === s).length;
  return {
    target: { kind: t.kind, description: t.description, buckets: t.buckets },
    pacing: r.pacing,
    timeoutSeconds: r.timeoutSec,
    summary: {
      videos: r.videos.length,
      done: count('done'),
      failed: count('failed'),
      timedOut: count('timeout'),
      uploadFailed: count('upload-failed'),
      firstUploadAt: iso(r.firstUploadAt),
      lastUploadAt: iso(r.lastUploadAt),
      lastOutputAt: iso(r.lastSeenAt),
      totalSeconds: r.totalMs === undefined ? undefined : r.totalMs / 1000,
      uploadSeconds: (r.lastUploadAt - r.firstUploadAt) / 1000,
      preexistingOutputs: r.preexisting,
    },
    latencySeconds: r.latency && {
      count: r.latency.count,
      min: r.latency.min / 1000,
      median: r.latency.median / 1000,
      p95: r.latency.p95 / 1000,
      max: r.latency.max / 1000,
      mean: r.latency.mean / 1000,
    },
    poll: {
      intervalMs: r.pollIntervalMs,
      polls: r.polls,
      maxResolutionMs: Math.max(0, ...r.videos.map((v) => v.resolutionMs ?? 0)),
    },
    videos: r.videos.map((v) => ({
      video: v.file,
      key: v.key,
      status: v.status,
      name: v.name,
      latencySeconds: v.latencyMs === undefined ? undefined : v.latencyMs / 1000,
      resolutionMs: v.resolutionMs,
      uploadStartedAt: iso(v.uploadStartedAt),
      uploadedAt: iso(v.uploadedAt),
      seenAt: iso(v.seenAt),
      outputKey: v.outputKey,
      errorKey: v.status === 'failed' ? v.errorKey : undefined,
      reason: v.reason,
    })),
  };
}

interface WorkloadFlags {
  rate?: string;
  concurrency?: number;
  clear?: boolean;
  timeout: string;
  json?: boolean;
  aws?: boolean;
  endpoint?: string;
  prefix?: string;
  region?: string;
  gallery?: string;
  profile?: Profile;
  verbose?: boolean;
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

export async function workloadCommand(folder: string, flags: WorkloadFlags): Promise<number> {
  const pacing = pacingOf(flags);
  const timeoutSec = parseDuration(flags.timeout);
  const config = loadConfig();
  const files = await collectVideos([folder], config.pipeline.video.extensions);
  if (files.length === 0) {
    console.error(`no videos in ${folder} (extensions: ${config.pipeline.video.extensions.join(', ')})`);
    return 2;
  }
  if ((flags.aws || flags.endpoint) && (flags.gallery || flags.profile)) {
    console.error(
      'note: --gallery and --profile only apply to the local stack; the deployed pipeline has its own',
    );
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const target = (await remoteTarget(flags)) ?? (await localWorkloadTarget(flags));
  try {
    log(`workload: ${files.length} videos -> s3://${target.buckets.input} (${target.description})`);
    for (const bucket of [target.buckets.input, target.buckets.output]) {
      const l = await bucketListing(target.s3, bucket);
      if (!l.exists)
        throw new Error(
          l.error
            ? `bucket ${bucket} cannot be listed (${l.error})`
            : `bucket ${bucket} does not exist: check --prefix (or FACEREC_BUCKET_PREFIX)`,
        );
    }
    if (flags.clear) await clearBuckets(target, log);
    const progress = progressPrinter(!flags.json || process.stderr.isTTY === true);
    let report: WorkloadReport;
    try {
      report = await runWorkload({
        s3: target.s3,
        buckets: target.buckets,
        videos: files,
        pacing,
        timeoutSec,
        cleared: flags.clear,
        failureRecordBucket: failureRecordBucket(
          (target.local?.profile as Profile | undefined) ?? flags.profile ?? config.pipeline.profile,
          target.buckets,
        ),
        log,
        onProgress: (vs, elapsedMs) => {
          const n = (s: VideoStatus) => vs.filter((v) => v.status === s).length;
          progress.update({
            total: vs.length,
            uploaded: vs.filter((v) => v.uploadedAt !== undefined).length,
            started: vs.filter((v) => v.uploadedAt !== undefined).length,
            running: n('waiting'),
            succeeded: n('done'),
            failed: n('failed') + n('timeout') + n('upload-failed'),
            elapsedMs,
          });
        },
      });
    } finally {
      progress.done();
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(workloadJson(report, target), null, 2)}\n`);
    else printWorkload(report);
    return report.videos.every((v) => v.status === 'done') ? 0 : 1;
  } finally {
    await target.close();
  }
}

export function registerWorkload(program: Command): void {
  withS3TargetOptions(program.command('workload'))
    .description(
      "upload a folder of videos like the original workload generator and measure each one's latency to its output",
    )
    .argument('<folder>', 'folder of videos (keys: their paths inside the folder)')
    .addOption(
      new Option('--rate <n>', 'uploads started per second, e.g. 1, 2/s, 30/min (default: 1/s)').conflicts(
        'concurrency',
      ),
    )
    .addOption(
      new Option('--concurrency <n>', 'upload as fast as possible with n uploads in flight')
        .argParser((v) => Number(v))
        .conflicts('rate'),
    )
    .option('--clear', 'empty the input, stage-1 and output buckets first')
    .option('--timeout <duration>', 'give up on a video this long after its upload (e.g. 300s, 5m)', '300s')
    .option('--json', 'print the report as JSON')
    .option('--gallery <file>', 'local stack started here: gallery (default: FACEREC_GALLERY)')
    .addOption(profileOption())
    .option('--verbose', "local stack started here: show the functions' logs")
    .action(async (folder: string, flags: WorkloadFlags) => {
      process.exitCode = await workloadCommand(folder, flags);
    });
}
