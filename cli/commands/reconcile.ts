/**
 * `facerec reconcile [--aws | --endpoint url] [--min-age 60s] [--dry-run] [--json]`: start an
 * execution for every upload that has neither an output nor an error record and no execution
 * working on it (a lost event, a crash), with the starter's naming and input, and print what was
 * started. Against the running local stack (which also does this when it starts), or a deployed
 * pipeline (the buckets of --prefix / FACEREC_BUCKET_PREFIX, the state machine of
 * --state-machine-arn / STATE_MACHINE_ARN).
 */
import type { Command } from 'commander';
import { reconcileUploads, type ReconcileReport } from '../../infra/reconcile/run.js';
import { printable } from '../../functions/core/printable.js';
import { table } from '../lib/history.js';
import { durationOption, withTargetOptions } from '../lib/options.js';
import { configWith, profileOf, resolveTarget, type TargetFlags } from '../lib/target.js';

interface ReconcileFlags extends TargetFlags {
  /** Seconds (0: every upload, however recent). */
  minAge: number;
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
  for (const s of r.skipped) out.write(`${printable(`not started: ${s.key}: ${s.reason}`)}\n`);
}

async function reconcileCommand(flags: ReconcileFlags): Promise<number> {
  const p = configWith(flags).pipeline;
  const target = await resolveTarget(flags, {
    local: 'running',
    stateMachine: 'required',
    noStack: `no local stack runs on ${p.local.dir}: \`facerec up\` reconciles when it starts (or use --aws)`,
  });
  let report: ReconcileReport;
  try {
    report = await reconcileUploads({
      s3: target.s3,
      sfn: target.sfn,
      buckets: target.buckets,
      stateMachineArn: target.stateMachineArn,
      profile: profileOf(target),
      extensions: p.video.extensions,
      contentTypes: p.video.contentTypes,
      uploadedBefore: Date.now() - flags.minAge * 1000,
      dryRun: flags.dryRun,
    });
  } finally {
    await target.close();
  }
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else printReconcile(report, Boolean(flags.dryRun));
  return 0;
}

export function registerReconcile(program: Command): void {
  withTargetOptions(program.command('reconcile'), { stateMachine: true })
    .description(
      'start an execution for every upload with neither an output nor an error record nor a running execution',
    )
    .addOption(
      durationOption(
        '--min-age <duration>',
        'leave uploads younger than this to the starter (less risks a second execution of an upload whose event is still on its way; 0: none)',
        '60s',
        { allowZero: true },
      ),
    )
    .option('--dry-run', 'print what would start, start nothing')
    .option('--json', 'print the report as JSON')
    .action(async (flags: ReconcileFlags) => {
      process.exitCode = await reconcileCommand(flags);
    });
}
