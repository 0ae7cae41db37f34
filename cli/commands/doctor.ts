/**
 * `facerec doctor --aws [--profile <aws profile>] [--prefix p] [--region r] [-c key=value]...`:
 * before a deploy, what will fail and how to fix it (infra/aws/account/doctor.ts), read-only.
 * `--smoke`: after a deploy, one small clip through the deployed pipeline, with each state's
 * time, then every trace of it removed (cli/lib/smoke.ts).
 *
 * `--profile` here is the AWS named profile (as for `aws` and `cdk`); the pipeline's profile
 * comes from `-c profile=cse546-p2`, exactly as `cdk deploy` takes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { resolveFfmpeg } from '../../functions/core/ffmpeg/binary.js';
import { bucketNames } from '../../functions/core/layout.js';
import { AccessError } from '../../infra/aws/account/access.js';
import { describeStack, UPDATABLE_STATES } from '../../infra/aws/account/deployment.js';
import { exitCodeOf, runDoctor, type Finding } from '../../infra/aws/account/doctor.js';
import {
  openSession,
  parseContextPair,
  type Session,
  type SessionRequest,
} from '../../infra/aws/account/session.js';
import { demoPhotos } from '../lib/demo-data.js';
import { durationOption } from '../lib/options.js';
import { describeSmoke, smokeRun } from '../lib/smoke.js';
import { stillToVideo } from '../lib/still-video.js';
import type { PipelineTarget } from '../lib/target.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface AccountFlags {
  aws?: boolean;
  profile?: string;
  prefix?: string;
  region?: string;
  context: string[];
}

interface DoctorFlags extends AccountFlags {
  smoke?: boolean;
  /** Seconds. */
  timeout: number;
  json?: boolean;
}

/** The account options doctor and teardown share. */
export function withAccountOptions(command: Command): Command {
  return command
    .option('--aws', 'the AWS account of your credentials (required: this command is about AWS)')
    .option(
      '--profile <name>',
      'AWS named profile (~/.aws/config), as for aws and cdk; default: the SDK chain',
    )
    .option(
      '--prefix <prefix>',
      'bucket prefix, as -c prefix=... for cdk (default: cdk.json, else facerec-<account>-<region>)',
    )
    .option('--region <region>', "AWS region (default: the deployment setting, else your profile's)")
    .addOption(
      new Option(
        '-c, --context <key=value>',
        'a deployment setting, as given to cdk (repeatable), e.g. -c profile=cse546-p2',
      )
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    );
}

function sessionRequest(flags: AccountFlags, command: string): SessionRequest {
  if (!flags.aws) {
    throw new AccessError(
      `${command} looks at an AWS account: pass --aws (and --profile <name> for a named profile)`,
    );
  }
  return {
    projectRoot,
    profile: flags.profile,
    region: flags.region,
    prefix: flags.prefix,
    context: Object.fromEntries(flags.context.map(parseContextPair)),
  };
}

const MARK: Record<Finding['level'], string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };

function printFindings(s: Pick<Session, 'plan'>, findings: Finding[], out: NodeJS.WritableStream): void {
  const { plan } = s;
  out.write(
    `facerec doctor: stack ${plan.stackName}, profile ${plan.settings.profile}, buckets ${plan.prefix}-*, ` +
      `account ${plan.account}, ${plan.region}\n\n`,
  );
  const width = Math.max(...findings.map((f) => f.check.length));
  for (const f of findings) {
    out.write(`  ${MARK[f.level]}  ${f.check.padEnd(width)}  ${f.summary}\n`);
    if (f.fix) out.write(`  ${' '.repeat(4)}  ${' '.repeat(width)}  fix: ${f.fix}\n`);
  }
  const fails = findings.filter((f) => f.level === 'fail').length;
  const warns = findings.filter((f) => f.level === 'warn').length;
  out.write(
    `\n${fails ? `${fails} problem${fails > 1 ? 's' : ''} would stop the deploy` : 'nothing found that would stop the deploy'}` +
      `${warns ? `; ${warns} warning${warns > 1 ? 's' : ''}` : ''}.\n`,
  );
}

async function smoke(s: Session, flags: DoctorFlags, out: NodeJS.WritableStream): Promise<number> {
  const stack = await describeStack(s.access.cfn, s.plan.stackName);
  if (!stack || !UPDATABLE_STATES.has(stack.status) || !stack.outputs.StateMachineArn) {
    out.write(
      `smoke: stack ${s.plan.stackName} is ${stack ? stack.status : 'not deployed'} in ${s.plan.region}: ` +
        'deploy it first (`npx cdk deploy`), then run this again\n',
    );
    return 1;
  }
  const o = stack.outputs;
  const target: PipelineTarget = {
    kind: 'aws',
    s3: s.access.s3,
    sfn: s.access.sfn,
    stateMachineArn: o.StateMachineArn,
    buckets: {
      ...bucketNames(s.plan.prefix),
      ...(o.InputBucketName ? { input: o.InputBucketName } : {}),
      ...(o.Stage1BucketName ? { stage1: o.Stage1BucketName } : {}),
      ...(o.OutputBucketName ? { output: o.OutputBucketName } : {}),
      ...(o.MetaBucketName ? { meta: o.MetaBucketName } : {}),
    },
    description: `AWS ${s.plan.region}, ${o.StateMachineArn.split(':').at(-1)}`,
    close: async () => undefined,
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facerec-smoke-'));
  try {
    const p = loadConfig().pipeline;
    const ffmpeg = resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath });
    const clip = await stillToVideo(ffmpeg.path, demoPhotos()[0], path.join(dir, 'smoke.mp4'), {
      filter: 'scale=-2:480',
      seconds: 2,
    });
    const report = await smokeRun({
      target,
      clip,
      timeoutSec: flags.timeout,
      profile: s.settings.profile,
      log: (line) => out.write(`${line}\n`),
    });
    if (flags.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
    else out.write(`${describeSmoke(report)}\n`);
    return report.result.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The command's session, or (written to `err`) why there is none: exit code 2. */
export async function commandSession(
  flags: AccountFlags,
  command: string,
  err: NodeJS.WritableStream,
): Promise<Session | number> {
  try {
    return await openSession(sessionRequest(flags, command));
  } catch (e) {
    if (!(e instanceof AccessError)) throw e;
    err.write(`facerec ${command}: ${e.message}\n`);
    return 2;
  }
}

/** Runs the command; returns its exit code (2: could not even look: credentials, region, settings). */
export async function doctorCommand(
  flags: DoctorFlags,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const session = await commandSession(flags, 'doctor', process.stderr);
  if (typeof session === 'number') return session;
  try {
    if (flags.smoke) return await smoke(session, flags, out);
    const findings = await runDoctor({
      aws: session.access,
      identity: session.identity,
      plan: session.plan,
      regionSource: session.regionSource,
      configuredRegion: session.configuredRegion,
    });
    if (flags.json)
      out.write(
        `${JSON.stringify({ deployment: { ...session.plan, settings: undefined }, findings }, null, 2)}\n`,
      );
    else printFindings(session, findings, out);
    return exitCodeOf(findings);
  } finally {
    session.access.close();
  }
}

export function registerDoctor(program: Command): void {
  withAccountOptions(program.command('doctor'))
    .description(
      'before a deploy: what would fail in your AWS account and how to fix it; --smoke after a deploy',
    )
    .option(
      '--smoke',
      "after a deploy: run one small clip through the deployed pipeline, print each state's time, clean up",
    )
    .addOption(durationOption('--timeout <duration>', 'with --smoke: how long to wait for the clip', '5m'))
    .option('--json', 'print the findings (or the smoke report) as JSON')
    .action(async (flags: DoctorFlags) => {
      process.exitCode = await doctorCommand(flags);
    });
}
