/**
 * `facerec reconcile [--aws] [--min-age 60s] [--dry-run] [--json]`: start an execution for every
 * upload that has neither an output nor an error record and no execution working on it (a lost
 * event, a crash), with the starter's naming and input, and print what was started. Against the
 * running local stack (which also does this when it starts), or AWS (`--aws`: the buckets of
 * FACEREC_BUCKET_PREFIX / --prefix, the state machine of STATE_MACHINE_ARN / --state-machine-arn).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { reconcileUploads, type ReconcileOptions, type ReconcileReport } from '../../functions/aws/reconcile.js';
import { parseDuration } from '../lib/latency.js';
import { table } from '../lib/history.js';
import { configWith, remoteTarget } from '../lib/target.js';
import { closeTarget, findRunningStack, localTarget } from '../lib/stack-client.js';

interface ReconcileFlags {
  aws?: boolean;
  prefix?: string;
  region?: string;
  stateMachineArn?: string;
  minAge: string;
  dryRun?: boolean;
  json?: boolean;
}

export function printReconcile(
  r: ReconcileReport,
  dryRun: boolean,
  out: NodeJS.WritableStream = process.stdout,
) {
  out.write(
    `${r.inputs} uploads: ${r.answered} answered (output or error record), ${r.running} with a running execution, ` +
      `${r.recent} too recent (left to the starter)\n`,
  );
  if (r.started.length) {
    out.write(`${dryRun ? 'would start' : 'started'} ${r.started.length}:\n`);
    out.write(
      `${table(
        ['upload', 'execution'],
        r.started.map((s) => [s.key, s.name]),
      )}\n`,
    );
  } else out.write('nothing to start\n');
  for (const s of r.skipped) out.write(`not started: ${s.key}: ${s.reason}\n`);
}

export async function reconcileCommand(flags: ReconcileFlags): Promise<number> {
  // 0 (any unit): every upload, however recent.
  const minAgeMs = /^0+(\.0*)?[a-z]*$/i.test(flags.minAge.trim()) ? 0 : parseDuration(flags.minAge) * 1000;
  const config = flags.aws ? configWith(flags) : loadConfig();
  const p = config.pipeline;
  const run = (o: Pick<ReconcileOptions, 's3' | 'sfn' | 'buckets' | 'stateMachineArn'>) =>
    reconcileUploads({
      ...o,
      profile: p.profile,
      extensions: p.video.extensions,
      contentTypes: p.video.contentTypes,
      uploadedBefore: Date.now() - minAgeMs,
      dryRun: flags.dryRun,
    });
  let report: ReconcileReport;
  if (flags.aws) {
    const stateMachineArn = flags.stateMachineArn ?? p.stateMachineArn;
    if (!stateMachineArn) {
      console.error(
        '--aws needs the state machine: --state-machine-arn or STATE_MACHINE_ARN (a stack output)',
      );
      return 2;
    }
    const target = (await remoteTarget({ aws: true, prefix: flags.prefix, region: flags.region }))!;
    const region = await target.s3.config.region();
    const sfn = new SFNClient({ region, maxAttempts: 4 });
    try {
      report = await run({ s3: target.s3, sfn, buckets: target.buckets, stateMachineArn });
    } finally {
      sfn.destroy();
      await target.close();
    }
  } else {
    const running = await findRunningStack(p.local.dir);
    if (!running) {
      console.error(
        `no local stack runs on ${p.local.dir}: \`facerec up\` reconciles when it starts (or use --aws)`,
      );
      return 1;
    }
    const t = localTarget(running);
    try {
      report = await run({ s3: t.s3, sfn: t.sfn, buckets: t.buckets, stateMachineArn: t.stateMachineArn });
    } finally {
      closeTarget(t);
    }
  }
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else printReconcile(report, Boolean(flags.dryRun));
  return 0;
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      'start an execution for every upload with neither an output nor an error record nor a running execution',
    )
    .option('--aws', 'on AWS (SDK credentials and region; buckets of --prefix, STATE_MACHINE_ARN)')
    .option('--prefix <prefix>', 'bucket prefix (default: FACEREC_BUCKET_PREFIX or facerec)')
    .option('--region <region>', 'AWS region (default: the SDK chain)')
    .option(
      '--state-machine-arn <arn>',
      'with --aws: the pipeline state machine (default: STATE_MACHINE_ARN)',
    )
    .option(
      '--min-age <duration>',
      'leave uploads younger than this to the starter (e.g. 60s, 5m; less risks a second execution of an upload whose event is still on its way)',
      '60s',
    )
    .option('--dry-run', 'print what would start, start nothing')
    .option('--json', 'print the report as JSON')
    .action(async (flags: ReconcileFlags) => {
      process.exitCode = await reconcileCommand(flags);
    });
}
