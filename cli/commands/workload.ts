/**
 * `facerec workload <folder> [--rate N/s | --concurrency N] [--clear] [--timeout 300s] [--json]`:
 * the original project's workload generator (cli/lib/workload.ts): uploads every video of the
 * folder to the input bucket, paced or as fast as asked, waits for each video's output, and
 * prints the latency of each video (upload completed -> output seen) with min / median / p95 /
 * max and the total time.
 *
 * Targets (cli/lib/target.ts): the local stack by default (a running `facerec up`, else one
 * started in this process and stopped at the end), AWS with `--aws`, any S3-compatible server
 * with `--endpoint`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { DEFAULT_LOG_LEVEL, type Profile } from '../../functions/core/facts.js';
import { failureRecordBucket } from '../../functions/core/layout.js';
import { table } from '../lib/history.js';
import { printable } from '../../functions/core/printable.js';
import { EXIT } from '../lib/errors.js';
import { checkLocalGallery } from '../lib/gallery-check.js';
import { durationOption, parseCount, parseRate, profileOption, withTargetOptions } from '../lib/options.js';
import { collectVideos } from '../lib/pipeline-run.js';
import { progressPrinter } from '../lib/progress.js';
import { bucketListing, bucketVersioning, emptyBucket } from '../lib/s3-objects.js';
import { profileOf, resolveTarget, type Target, type TargetFlags } from '../lib/target.js';
import { pacingOf, runWorkload, type VideoStatus, type WorkloadReport } from '../lib/workload.js';

/** `--clear`: say what will be emptied, then empty it. */
async function clearBuckets(t: Target, log: (line: string) => void): Promise<void> {
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
    // The default profile's output holds one name a line (everyone, most screen time first).
    v.status === 'done' ? (v.name ?? '?').split('\n').join(', ') : v.status.toUpperCase(),
    secs(v.latencyMs),
  ]);
  out.write(`${table(['video', 'name', 'latency (s)'], rows)}\n`);
  const bad = r.videos.filter((v) => v.status !== 'done');
  for (const v of bad)
    out.write(`${printable(`  ${v.key}: ${v.status}${v.reason ? `: ${v.reason}` : ''}`)}\n`);
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

function workloadJson(r: WorkloadReport, t: Target) {
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

interface WorkloadFlags extends TargetFlags {
  rate?: string;
  concurrency?: number;
  clear?: boolean;
  /** Seconds. */
  timeout: number;
  json?: boolean;
  gallery?: string;
  profile?: Profile;
  verbose?: boolean;
}

async function workloadCommand(folder: string, flags: WorkloadFlags): Promise<number> {
  const pacing = pacingOf(flags);
  const timeoutSec = flags.timeout;
  const config = loadConfig();
  const files = await collectVideos([folder], config.pipeline.video.extensions);
  if (files.length === 0) {
    console.error(
      printable(`no videos in ${folder} (extensions: ${config.pipeline.video.extensions.join(', ')})`),
    );
    return EXIT.usage;
  }
  if ((flags.aws || flags.endpoint) && (flags.gallery || flags.profile)) {
    console.error(
      'note: --gallery and --profile only apply to the local stack; the deployed pipeline has its own',
    );
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const target = await resolveTarget(flags, {
    local: 'start',
    stack: {
      profile: flags.profile,
      gallery: flags.gallery ?? config.galleryPath,
      logLevel: flags.verbose ? DEFAULT_LOG_LEVEL : 'ERROR',
    },
  });
  try {
    log(`workload: ${files.length} videos -> s3://${target.buckets.input} (${target.description})`);
    const gallery = await checkLocalGallery(target);
    if (gallery) log(gallery.line);
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
        failureRecordBucket: failureRecordBucket(profileOf(target, flags.profile), target.buckets),
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
    return report.videos.every((v) => v.status === 'done') ? EXIT.done : EXIT.failed;
  } finally {
    await target.close();
  }
}

export function registerWorkload(program: Command): void {
  withTargetOptions(program.command('workload'))
    .description(
      "upload a folder of videos like the original workload generator and measure each one's latency to its output",
    )
    .argument('<folder>', 'folder of videos (keys: their paths inside the folder)')
    .addOption(
      new Option('--rate <n>', 'uploads started per second, e.g. 1, 2/s, 30/min (default: 1/s)')
        .argParser((text: string) => {
          try {
            parseRate(text);
          } catch (err) {
            throw new InvalidArgumentError((err as Error).message);
          }
          return text;
        })
        .conflicts('concurrency'),
    )
    .addOption(
      new Option('--concurrency <n>', 'upload as fast as possible with n uploads in flight')
        .argParser(parseCount('--concurrency', 1))
        .conflicts('rate'),
    )
    .option('--clear', 'empty the input, stage-1 and output buckets first')
    .addOption(
      durationOption('--timeout <duration>', 'give up on a video this long after its upload', '300s'),
    )
    .option('--json', 'print the report as JSON')
    .option('--gallery <file>', 'local stack started here: gallery (default: FACEREC_GALLERY)')
    .addOption(profileOption())
    .option('--verbose', "local stack started here: show the functions' logs")
    .action(async (folder: string, flags: WorkloadFlags) => {
      process.exitCode = await workloadCommand(folder, flags);
    });
}
