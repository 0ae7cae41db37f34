/**
 * How the facerec commands reach a pipeline: a local stack started by `facerec up` (found through
 * `.facerec/stack.json`), one started in this process, or any endpoints given by the standard
 * AWS variables. The commands only ever talk to S3 and Step Functions through the AWS SDK.
 */
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../../functions/config.js';
import { s3ClientConfig, sfnClientConfig } from '../../functions/aws/clients.js';
import type { BucketNames } from '../../functions/core/layout.js';
import { readStackInfo, type StackInfo } from '../../infra/local/stack.js';

export interface Target {
  s3: S3Client;
  sfn: SFNClient;
  buckets: BucketNames;
  stateMachineArn: string;
  /** Set when the target is a local stack. */
  local?: StackInfo;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** GET on the local Step Functions endpoint answers with its state machine. */
export function ping(url: string, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The stack `facerec up` (or a running `facerec run`) advertises, if it is alive. */
export async function findRunningStack(dir: string): Promise<StackInfo | undefined> {
  const info = readStackInfo(dir);
  if (!info || !pidAlive(info.pid)) return undefined;
  return (await ping(info.sfnEndpoint)) ? info : undefined;
}

export function localTarget(info: StackInfo): Target {
  // Local servers take any credentials; the SDK still wants some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const aws = {
    region: info.region,
    s3Endpoint: info.s3Endpoint,
    sfnEndpoint: info.sfnEndpoint,
    s3ForcePathStyle: true,
  };
  return {
    s3: new S3Client(s3ClientConfig(aws)),
    sfn: new SFNClient(sfnClientConfig(aws)),
    buckets: info.buckets,
    stateMachineArn: info.stateMachineArn,
    local: info,
  };
}

/** Endpoints from the configuration (AWS, or AWS_ENDPOINT_URL_* for other emulators). */
export function configuredTarget(config: Config): Target | undefined {
  const p = config.pipeline;
  if (!p.stateMachineArn) return undefined;
  return {
    s3: new S3Client(s3ClientConfig(p.aws)),
    sfn: new SFNClient(sfnClientConfig(p.aws)),
    buckets: p.buckets,
    stateMachineArn: p.stateMachineArn,
  };
}

export function closeTarget(t: Target) {
  t.s3.destroy();
  t.sfn.destroy();
}
