/**
 * The one place that decides which pipeline a command talks to, and through which clients:
 *
 * - `--aws`: a deployed pipeline, through the SDK's standard credential and region chain
 *   (`--region` overrides; us-east-1 when the chain has none);
 * - `--endpoint <url>`: any S3-compatible endpoint (Step Functions: AWS_ENDPOINT_URL_SFN);
 * - neither: the local stack: a running `facerec up` (found through `.facerec/stack.json`), else,
 *   as the command asks, one started in this process (`start`), the data a stopped one left
 *   served for the time of the command (`read`), or an error (`running`).
 *
 * Bucket names always come from the configuration's prefix rule (`--prefix`, else
 * FACEREC_BUCKET_PREFIX); the state machine from `--state-machine-arn`, else STATE_MACHINE_ARN,
 * else the local stack's. The commands then only ever talk to S3 and Step Functions through the
 * AWS SDK, so each works the same against every target.
 */
import { existsSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV, loadConfig, type Config } from '../../functions/config.js';
import type { Profile } from '../../functions/core/facts.js';
import { s3ClientConfig, sfnClientConfig } from '../../functions/aws/clients.js';
import { bucketNames, type BucketNames } from '../../functions/core/layout.js';
import { startLocalS3 } from '../../infra/local/s3/service.js';
import { serveExecutionHistory, type LocalStack, type StackInfo } from '../../infra/local/stack.js';
import { checkRunningStack, ensureStack, findRunningStack, type StackRequest } from './local-stack.js';
import { DEFAULT_REGION } from '../../functions/core/facts.js';

/** The target options (options.ts withTargetOptions), as commander hands them over. */
export interface TargetFlags {
  aws?: boolean;
  endpoint?: string;
  prefix?: string;
  region?: string;
  stateMachineArn?: string;
}

type TargetKind = 'local' | 'aws' | 'endpoint';

export interface Target {
  kind: TargetKind;
  s3: S3Client;
  buckets: BucketNames;
  /** Step Functions, when the command asked for them and the target has them. */
  sfn?: SFNClient;
  stateMachineArn?: string;
  /** One line: where the pipeline is (no credentials). */
  description: string;
  /** The local stack's settings, when the target is one. */
  local?: StackInfo;
  /** Set when this command started the local stack (close() stops it). */
  stack?: LocalStack;
  /** `read` of a stopped local stack: buckets that had no folder in its data. */
  missing?: string[];
  /** The executions a stopped local stack journaled (no stack runs). */
  journaled?: boolean;
  close(): Promise<void>;
}

/** A target with Step Functions: what uploads and follows executions. */
export interface PipelineTarget extends Target {
  sfn: SFNClient;
  stateMachineArn: string;
}

/**
 * What a command needs of its target.
 * - `local`: with neither `--aws` nor `--endpoint`, what to do when no local stack runs: start one
 *   here (`start`, with `stack`'s settings), read what a stopped one left (`read`: its buckets, or
 *   with `stateMachine: 'required'` its journaled executions), or fail (`running`).
 * - `stateMachine`: `required` (the command fails without one), `optional` (used when known), or
 *   absent (S3 only).
 */
export interface TargetNeeds {
  local: 'running' | 'start' | 'read';
  stateMachine?: 'required' | 'optional';
  stack?: StackRequest;
  /** The message when `local: 'running'` finds no stack. */
  noStack?: string;
}

/** Settings with `--prefix` (and a profile) applied, validated by the configuration's rules. */
export function configWith(flags: { prefix?: string; profile?: Profile }): Config {
  return loadConfig({
    ...process.env,
    ...(flags.prefix ? { [ENV.FACEREC_BUCKET_PREFIX]: flags.prefix } : {}),
    ...(flags.profile ? { [ENV.FACEREC_PROFILE]: flags.profile } : {}),
  } as NodeJS.ProcessEnv);
}

/** Local servers take any credentials; the SDK still wants some to sign with. */
function localCredentials() {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

const isLoopback = (url: string) => {
  try {
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Destroy a target's clients (synchronous; a stack started here is stopped by close()). */
export function closeTarget(t: { s3: S3Client; sfn?: SFNClient }): void {
  t.s3.destroy();
  t.sfn?.destroy();
}

/** Clients for a local stack's endpoints. */
export function localTarget(info: StackInfo, description?: string): PipelineTarget {
  localCredentials();
  const aws = {
    region: info.region,
    s3Endpoint: info.s3Endpoint,
    sfnEndpoint: info.sfnEndpoint,
    s3ForcePathStyle: true,
  };
  const t: PipelineTarget = {
    kind: 'local',
    s3: new S3Client(s3ClientConfig(aws)),
    sfn: new SFNClient(sfnClientConfig(aws)),
    buckets: info.buckets,
    stateMachineArn: info.stateMachineArn,
    description:
      description ??
      `local stack of \`facerec up\` (pid ${info.pid}, S3 ${info.s3Endpoint}, profile ${info.profile})`,
    local: info,
    close: async () => closeTarget(t),
  };
  return t;
}

function checkPrefix(info: StackInfo, flags: TargetFlags) {
  if (flags.prefix && bucketNames(flags.prefix).input !== info.buckets.input) {
    throw new Error(
      `the local stack (pid ${info.pid}) serves ${info.buckets.input}, not ${bucketNames(flags.prefix).input}: ` +
        'stop it or drop --prefix',
    );
  }
}

function stateMachineOf(flags: TargetFlags, config: Config, needs: TargetNeeds): string | undefined {
  const arn = flags.stateMachineArn ?? config.pipeline.stateMachineArn;
  if (!arn && needs.stateMachine === 'required') {
    throw new Error(
      `${flags.aws ? '--aws' : '--endpoint'} needs the state machine: --state-machine-arn <arn> or STATE_MACHINE_ARN (a stack output)`,
    );
  }
  return needs.stateMachine ? arn : undefined;
}

/** `--aws`: the SDK's chain for credentials and region (env, profile, SSO, instance role…). */
async function awsTarget(flags: TargetFlags, config: Config, needs: TargetNeeds): Promise<Target> {
  const stateMachineArn = stateMachineOf(flags, config, needs);
  let region = flags.region;
  if (!region) {
    const probe = new S3Client({ maxAttempts: 4 });
    try {
      region = await probe.config.region();
    } catch {
      region = DEFAULT_REGION;
    } finally {
      probe.destroy();
    }
  }
  const s3 = new S3Client({ region, maxAttempts: 4 });
  const sfn = stateMachineArn ? new SFNClient({ region, maxAttempts: 4 }) : undefined;
  const t: Target = {
    kind: 'aws',
    s3,
    sfn,
    stateMachineArn,
    buckets: config.pipeline.buckets,
    description: `AWS ${region}${stateMachineArn ? `, ${stateMachineArn.split(':').at(-1)}` : ''}`,
    close: async () => closeTarget(t),
  };
  return t;
}

/** `--endpoint <url>`: any S3-compatible server; Step Functions at AWS_ENDPOINT_URL_SFN. */
function endpointTarget(flags: TargetFlags, config: Config, needs: TargetNeeds): Target {
  const endpoint = flags.endpoint!;
  if (!/^https?:\/\//.test(endpoint)) throw new Error(`--endpoint ${endpoint}: not an http(s) URL`);
  const stateMachineArn = stateMachineOf(flags, config, needs);
  if (isLoopback(endpoint)) localCredentials();
  const aws = {
    ...config.pipeline.aws,
    region: flags.region ?? config.pipeline.aws.region,
    s3Endpoint: endpoint,
    s3ForcePathStyle: true,
  };
  const s3 = new S3Client(s3ClientConfig(aws));
  const sfn = stateMachineArn ? new SFNClient(sfnClientConfig(aws)) : undefined;
  const t: Target = {
    kind: 'endpoint',
    s3,
    sfn,
    stateMachineArn,
    buckets: config.pipeline.buckets,
    description: `S3 endpoint ${endpoint}`,
    close: async () => closeTarget(t),
  };
  return t;
}

/** The data a stopped local stack left in `<FACEREC_LOCAL_DIR>/s3`, served by an S3 server of this
 * process for the time of the command. */
async function stoppedStackTarget(config: Config): Promise<Target> {
  const dataDir = path.join(config.pipeline.local.dir, 's3');
  if (!existsSync(dataDir)) {
    throw new Error(
      `no local stack runs and there is no local data in ${dataDir}: run \`facerec workload\` first, ` +
        'or pass --aws or --endpoint <url>',
    );
  }
  const buckets = config.pipeline.buckets;
  const missing = Object.values(buckets).filter((b) => !existsSync(path.join(dataDir, b)));
  const server = await startLocalS3({
    host: config.pipeline.local.host,
    port: 0,
    directory: dataDir,
    buckets,
    onInputEvent: () => undefined, // reading only: nothing is uploaded
  });
  localCredentials();
  const s3 = new S3Client(
    s3ClientConfig({ region: config.pipeline.aws.region, s3Endpoint: server.url, s3ForcePathStyle: true }),
  );
  return {
    kind: 'local',
    s3,
    buckets,
    description: `local data of a stopped stack (${dataDir})`,
    missing,
    close: async () => {
      s3.destroy();
      await server.close();
      // The server made the missing buckets (empty folders): leave the data as it was.
      for (const b of missing) {
        try {
          rmdirSync(path.join(dataDir, b));
        } catch {
          /* not empty: something was written meanwhile */
        }
      }
    },
  };
}

/** The executions a stopped local stack journaled, served for the time of the command. */
async function journalTarget(config: Config): Promise<PipelineTarget> {
  const journal = await serveExecutionHistory();
  if (!journal) {
    throw new Error(
      `no local stack runs (start one with \`facerec up\`), no executions are journaled in ${config.pipeline.local.dir}, ` +
        'and STATE_MACHINE_ARN is not set (or pass --aws or --endpoint <url>)',
    );
  }
  const t = localTarget(journal.info, `executions journaled in ${config.pipeline.local.dir}`);
  return {
    ...t,
    journaled: true,
    close: async () => {
      closeTarget(t);
      await journal.close();
    },
  };
}

/** The local stack: a running one, else what `needs.local` says. */
async function localStackTarget(flags: TargetFlags, config: Config, needs: TargetNeeds): Promise<Target> {
  const running = await findRunningStack(config.pipeline.local.dir);
  if (running) {
    checkPrefix(running, flags);
    if (needs.stack) checkRunningStack(running, needs.stack);
    return localTarget(running);
  }
  if (needs.local === 'running')
    throw new Error(
      needs.noStack ??
        `no local stack runs on ${config.pipeline.local.dir}: start one with \`facerec up\`, or pass --aws or --endpoint <url>`,
    );
  if (needs.local === 'read') {
    // Executions: a configured state machine (STATE_MACHINE_ARN, endpoints of AWS_ENDPOINT_URL_*)
    // before the journal of a stopped stack.
    if (needs.stateMachine === 'required') {
      const arn = flags.stateMachineArn ?? config.pipeline.stateMachineArn;
      if (!arn) return journalTarget(config);
      const s3 = new S3Client(s3ClientConfig(config.pipeline.aws));
      const sfn = new SFNClient(sfnClientConfig(config.pipeline.aws));
      const t: Target = {
        kind: config.pipeline.aws.sfnEndpoint ? 'endpoint' : 'aws',
        s3,
        sfn,
        stateMachineArn: arn,
        buckets: config.pipeline.buckets,
        description: `state machine ${arn.split(':').at(-1)} (STATE_MACHINE_ARN)`,
        close: async () => closeTarget(t),
      };
      return t;
    }
    return stoppedStackTarget(config);
  }
  const { info, stack } = await ensureStack({
    ...needs.stack,
    env: { ...needs.stack?.env, ...(flags.prefix ? { [ENV.FACEREC_BUCKET_PREFIX]: flags.prefix } : {}) },
  });
  const t = localTarget(
    info,
    stack
      ? `local stack started here (S3 ${info.s3Endpoint}, profile ${info.profile})`
      : `local stack of \`facerec up\` (pid ${info.pid}, S3 ${info.s3Endpoint}, profile ${info.profile})`,
  );
  try {
    checkPrefix(info, flags);
  } catch (err) {
    closeTarget(t);
    await stack?.stop();
    throw err;
  }
  return {
    ...t,
    stack,
    close: async () => {
      closeTarget(t);
      await stack?.stop(1000);
    },
  };
}

/** The pipeline a command talks to (see the top of this file). Close it at the end. */
export async function resolveTarget(
  flags: TargetFlags,
  needs: TargetNeeds & { stateMachine: 'required' },
): Promise<PipelineTarget>;
export async function resolveTarget(flags: TargetFlags, needs: TargetNeeds): Promise<Target>;
export async function resolveTarget(flags: TargetFlags, needs: TargetNeeds): Promise<Target> {
  if (flags.aws && flags.endpoint) throw new Error('--aws and --endpoint exclude each other');
  const config = configWith(flags);
  if (flags.aws) return awsTarget(flags, config, needs);
  if (flags.endpoint) return endpointTarget(flags, config, needs);
  return localStackTarget(flags, config, needs);
}

/** The profile that decides the target's layout (failure records, stage-1 keys): the local
 * stack's, else the one given, else the configuration's. */
export function profileOf(target: Target, given?: Profile): Profile {
  return (target.local?.profile as Profile | undefined) ?? given ?? loadConfig().pipeline.profile;
}
