/**
 * The local stack of test/support/crash-stack.ts in a child process, for the kill -9 tests: start
 * it on a data folder, get SDK clients for its endpoints, kill it, read its buckets and executions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { repoRoot } from './videos.js';

interface Ready {
  s3: string;
  sfn: string;
  stateMachineArn: string;
  resumed: string[];
  reconciled: string[];
  reconcileError?: string;
}

export interface StackChild {
  child: ChildProcess;
  ready: Ready;
  s3: S3Client;
  sfn: SFNClient;
  /** SIGKILL, wait for the exit, drop the clients. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), wait for the exit, drop the clients. */
  stop(): Promise<void>;
}

const children: ChildProcess[] = [];

/** Kill every child still running (afterAll). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function startChild(dir: string, env: Record<string, string>): Promise<StackChild> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'test/support/crash-stack.ts')],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        FACEREC_LOCAL_DIR: dir,
        FACEREC_LOCAL_S3_PORT: '0',
        FACEREC_LOCAL_SFN_PORT: '0',
        FACEREC_LOCAL_CONCURRENCY: '1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise<StackChild>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const ready = JSON.parse(line) as Ready;
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: ready.s3,
        forcePathStyle: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const sfn = new SFNClient({
        region: 'us-east-1',
        endpoint: ready.sfn,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const end = async (signal: NodeJS.Signals) => {
        child.kill(signal);
        await exited;
        s3.destroy();
        sfn.destroy();
      };
      resolve({ child, ready, s3, sfn, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`stack child exited (${code}): ${stderr.slice(-2000)}`)));
  });
}

export async function keys(s3: S3Client, bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((c) => c.Key!).sort();
}

/** An object's text, or undefined when there is none. */
export async function text(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await o.Body!.transformToString();
  } catch {
    return undefined;
  }
}

export async function executions(sfn: SFNClient, stateMachineArn: string): Promise<ExecutionListItem[]> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
  return out.executions ?? [];
}
