/**
 * Burst benchmark (`npx tsx bench/burst.ts [--videos 300] [--concurrency 16]`), issue 12: N
 * videos uploaded as fast as `facerec workload --concurrency 16` uploads them (its own
 * runWorkload, against a fresh local stack started here, profile cse546-p2), every upload must end
 * with exactly one execution and a right `<stem>.txt`: no `States.Timeout` from waiting for a
 * local slot, no duplicate, no frame left in stage-1 by abandoned work.
 *
 * `runBurst` is also what test/infra/local/burst.test.ts runs with a small N and stand-in functions.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { listAll } from '../functions/aws/s3.js';
import { loadConfig } from '../functions/config.js';
import { VideoObjectSchema } from '../functions/core/contracts.js';
import { videoStem } from '../functions/core/layout.js';
import { runWorkload, type WorkloadReport } from '../cli/lib/workload.js';
import { closeTarget, localTarget } from '../cli/lib/target.js';
import { startLocalStack, type LocalStackOptions } from '../infra/local/stack.js';
import { option } from './args.js';
import { freshLocalStackEnv } from './run-facerec.js';

export interface BurstOptions {
  /** Video files, uploaded under their base names. */
  videos: string[];
  /** key -> expected name */
  expected: Map<string, string>;
  concurrency: number;
  /** Local stack data folder (emptied first). */
  dir: string;
  env?: Record<string, string>;
  handlers?: LocalStackOptions['handlers'];
  timeoutSec?: number;
}

export interface BurstResult {
  videos: number;
  outputs: number;
  correct: number;
  wrong: string[];
  failed: number;
  timedOut: number;
  /** Executions by final status. */
  executions: Record<string, number>;
  /** Errors of the executions that did not succeed, counted. */
  errors: Record<string, number>;
  /** Uploads with more than one execution. */
  duplicated: number;
  /** stage-1 objects of videos whose execution did not succeed (orphan frames). */
  orphanFrames: number;
  /** Longest wait for a local slot, per function. */
  maxQueuedMs: Record<string, number>;
  /** Invocations refused with TooManyRequestsException (an account concurrency limit is set),
   * per function; retried by the state machine and the upload queue. */
  throttled: Record<string, number>;
  report: WorkloadReport;
}

export async function runBurst(o: BurstOptions): Promise<BurstResult> {
  const env = await freshLocalStackEnv(o.dir);
  const stack = await startLocalStack({
    env: {
      FACEREC_LOCAL_DIR: env.FACEREC_LOCAL_DIR!,
      FACEREC_LOCAL_S3_PORT: '0',
      FACEREC_LOCAL_SFN_PORT: '0',
      FACEREC_PROFILE: 'cse546-p2',
      FACEREC_LOG_LEVEL: 'SILENT',
      ...o.env,
    },
    handlers: o.handlers,
  });
  const t = localTarget(stack.info);
  try {
    const files = await Promise.all(
      o.videos.map(async (file) => ({ file, key: path.basename(file), bytes: (await stat(file)).size })),
    );
    const report = await runWorkload({
      s3: t.s3,
      buckets: t.buckets,
      videos: files,
      pacing: { kind: 'concurrency', inFlight: o.concurrency },
      timeoutSec: o.timeoutSec ?? 3600,
      cleared: true,
    });
    await stack.idle();
    const records = stack.sfn.listExecutions();
    const perKey = new Map<string, number>();
    const executions: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const succeededStems = new Set<string>();
    for (const r of records) {
      const input = VideoObjectSchema.parse(JSON.parse(r.input));
      perKey.set(input.key, (perKey.get(input.key) ?? 0) + 1);
      executions[r.status] = (executions[r.status] ?? 0) + 1;
      if (r.status === 'SUCCEEDED') succeededStems.add(videoStem(input.key));
      else errors[r.error ?? r.status] = (errors[r.error ?? r.status] ?? 0) + 1;
    }
    const stage1 = (await listAll(t.s3, t.buckets.stage1)).map((o) => o.Key!);
    const wrong: string[] = [];
    let correct = 0;
    for (const v of report.videos) {
      const want = o.expected.get(v.key);
      if (v.status === 'done' && v.name === want) correct++;
      else wrong.push(`${v.key}: ${v.status === 'done' ? v.name : v.status} (expected ${want})`);
    }
    const maxQueuedMs = Object.fromEntries(
      Object.entries(stack.functions).map(([name, fn]) => [
        name,
        Math.round(Math.max(0, ...fn.invocations.map((i) => i.queuedMs))),
      ]),
    );
    const throttled = Object.fromEntries(Object.entries(stack.functions).map(([n, fn]) => [n, fn.throttled]));
    return {
      videos: o.videos.length,
      outputs: report.videos.filter((v) => v.status === 'done').length,
      correct,
      wrong,
      failed: report.videos.filter((v) => v.status === 'failed').length,
      timedOut: report.videos.filter((v) => v.status === 'timeout').length,
      executions,
      errors,
      duplicated: [...perKey.values()].filter((n) => n > 1).length,
      orphanFrames: stage1.filter(
        (k) => ![...succeededStems].some((stem) => k === `${stem}.jpg` || k.startsWith(`${stem}/`)),
      ).length,
      maxQueuedMs,
      throttled,
      report,
    };
  } finally {
    closeTarget(t);
    await stack.stop();
  }
}

async function main() {
  const n = Number(option('--videos', '300'));
  const concurrency = Number(option('--concurrency', '16'));
  // The workload's give-up time per video: long, a burst on a shared machine takes its time.
  const timeoutSec = Number(option('--timeout', '3600'));
  // A new AWS account's Lambda concurrency (10): invocations beyond it are throttled.
  const accountConcurrency = option('--account-concurrency', '');
  const config = loadConfig();
  const { benchVideos } = await import('./pipeline-videos.js');
  const setup = await benchVideos(config, n);
  const load = os.loadavg()[0];
  console.error(`burst: ${n} videos, ${concurrency} uploads in flight (load average ${load.toFixed(2)})…`);
  const t0 = Date.now();
  const r = await runBurst({
    videos: setup.videos,
    expected: setup.expected,
    concurrency,
    dir: path.join(setup.benchDir, 'burst'),
    env: {
      FACEREC_GALLERY: setup.galleryPath,
      ...(accountConcurrency ? { FACEREC_LOCAL_ACCOUNT_CONCURRENCY: accountConcurrency } : {}),
    },
    timeoutSec,
  });
  const wallS = (Date.now() - t0) / 1000;
  const l = r.report.latency;
  const s = (ms?: number) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`nice -n 10 npx tsx bench/burst.ts --videos ${n} --concurrency ${concurrency}${accountConcurrency ? ` --account-concurrency ${accountConcurrency}` : ''}\``,
    `(${os.cpus().length} cores shared with other jobs, load average ${load.toFixed(2)} at the start; ${setup.ffmpegText.replace(/ \(.*/, '')}).`,
    '',
    '| figure | value |',
    '|---|---|',
    `| outputs | **${r.outputs}/${r.videos}** (target: all) |`,
    `| right names | **${r.correct}/${r.videos}** |`,
    `| failed / timed out | **${r.failed} / ${r.timedOut}** (target: 0) |`,
    `| executions | ${Object.entries(r.executions)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')} |`,
    `| errors | ${
      Object.entries(r.errors)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none'
    } |`,
    `| uploads with more than one execution | **${r.duplicated}** (target: 0) |`,
    `| orphan frames in stage-1 | ${r.orphanFrames} |`,
    `| throttled invocations (retried) | ${
      accountConcurrency
        ? Object.entries(r.throttled)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'no account limit'
    } |`,
    `| longest wait for a local slot | splitter ${s(r.maxQueuedMs.splitter)} s, recognition ${s(r.maxQueuedMs.recognition)} s, result ${s(r.maxQueuedMs.result)} s |`,
    `| first upload -> last output | ${s(r.report.totalMs)} s (uploads ${s(r.report.lastUploadAt - r.report.firstUploadAt)} s) |`,
    `| latency min / median / p95 / max | ${s(l?.min)} / ${s(l?.median)} / ${s(l?.p95)} / ${s(l?.max)} s |`,
    `| whole run (stack start, uploads, executions, checks, stop) | ${wallS.toFixed(1)} s |`,
  ];
  if (r.wrong.length) lines.push('', `Wrong or missing: ${r.wrong.slice(0, 10).join('; ')}`);
  console.log(lines.join('\n'));
  process.exitCode =
    r.correct === r.videos && r.failed === 0 && r.timedOut === 0 && r.duplicated === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
