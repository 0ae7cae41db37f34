/**
 * Runs a synthesized function bundle the way Lambda would, on this machine: the asset folder the
 * template names, its handler, its environment, in a fresh process of the Lambda runtime's Node
 * (lambda-runtime.ts) with the heap capped at the function's memory. What the deploy-readiness
 * test and the cold-start benchmark (bench/cold-start.ts) share.
 *
 * The process imports the bundle (Lambda's init phase: top-level code, awaited), then invokes
 * the handler once, and reports when each ended, measured from the process's own start
 * (`performance.timeOrigin`), so the figures include Node's start-up as a cold start does.
 */
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toSqsRecord } from '../../local/queue.js';
import { toAwsRecord } from '../../local/s3/service.js';
import { LAMBDA_RUNTIME_NAME } from './lambda-runtime.js';
import { DEFAULT_REGION } from '../../../functions/core/facts.js';

/** One function of a cloud assembly, as the template deploys it. */
export interface AssemblyFunction {
  /** `starter`, `splitter`, ... (the construct id, lower-cased). */
  name: string;
  /** The bundle's folder in the cloud assembly. */
  assetDir: string;
  /** `index.handler` */
  handler: string;
  memoryMB: number;
  timeoutSec: number;
  /** The template's environment (string values only: tokens are left for the caller to fill). */
  environment: Record<string, string>;
  /** The template's own value of each token-valued variable, for the caller to replace. */
  unresolved: string[];
}

interface TemplateFunction {
  Type: string;
  Metadata?: { 'aws:cdk:path'?: string };
  Properties: {
    Handler?: string;
    MemorySize?: number;
    Timeout?: number;
    Code?: { S3Key?: unknown };
    Environment?: { Variables?: Record<string, unknown> };
  };
}

/**
 * The zip-packaged functions of stack `stackName` in the cloud assembly at `outdir`, keyed by
 * name: each one's construct path is `<stack>/<Name>/Function/Resource`.
 */
export function assemblyFunctions(outdir: string, stackName = 'FaceRec'): Record<string, AssemblyFunction> {
  const template = JSON.parse(readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, TemplateFunction>;
  };
  const assets = JSON.parse(readFileSync(path.join(outdir, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const out: Record<string, AssemblyFunction> = {};
  for (const r of Object.values(template.Resources)) {
    const m = /^[^/]+\/([A-Za-z]+)\/Function\/Resource$/.exec(r.Metadata?.['aws:cdk:path'] ?? '');
    if (r.Type !== 'AWS::Lambda::Function' || !m || typeof r.Properties.Code?.S3Key !== 'string') continue;
    const hash = r.Properties.Code.S3Key.replace(/\.zip$/, '');
    const asset = assets.files[hash];
    if (!asset) throw new Error(`${m[1]}: no asset ${hash} in ${stackName}.assets.json`);
    const environment: Record<string, string> = {};
    const unresolved: string[] = [];
    for (const [k, v] of Object.entries(r.Properties.Environment?.Variables ?? {})) {
      if (typeof v === 'string') environment[k] = v;
      else unresolved.push(k);
    }
    out[m[1].toLowerCase()] = {
      name: m[1].toLowerCase(),
      assetDir: path.join(outdir, asset.source.path),
      handler: r.Properties.Handler ?? 'index.handler',
      memoryMB: r.Properties.MemorySize ?? 128,
      timeoutSec: r.Properties.Timeout ?? 3,
      environment,
      unresolved,
    };
  }
  return out;
}

/** The template's `/var/task/...` paths pointed at `taskRoot` (where the bundle is on this machine). */
export function environmentAt(environment: Record<string, string>, taskRoot: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([k, v]) => [
      k,
      v.startsWith('/var/task/') ? path.join(taskRoot, v.slice('/var/task/'.length)) : v,
    ]),
  );
}

export interface BundleRun {
  /** The handler's result (JSON). */
  result: unknown;
  /** `process.version` of the Node that ran it. */
  nodeVersion: string;
  /** Process start -> bundle imported (Lambda's init phase: top-level code done). */
  initMs: number;
  /** Process start -> the first invocation's result. */
  firstResultMs: number;
  /** The invocation alone. */
  invokeMs: number;
  /** CPU time (user + system, every thread) from process start to the result: what the wall
   * time would be on an idle core for single-threaded work, whatever the machine's load. */
  cpuMs: number;
  /** The same, up to the end of the init phase. */
  initCpuMs: number;
  /** Spawn -> result, measured by this process (includes exec and loading the Node binary). */
  wallMs: number;
  stderr: string;
}

export interface BundleInvocation {
  /** The bundle's folder (index.mjs ...). */
  taskRoot: string;
  handler: string;
  event: unknown;
  /** The Node binary (lambda-runtime.ts lambdaNode). */
  node: string;
  /** Heap cap, as the function's memory (MB). */
  memoryMB: number;
  timeoutSec: number;
  /** The function's environment (already pointed at taskRoot) plus the endpoints and credentials. */
  env: Record<string, string>;
  /** Where the runner script goes (readable by `uid`). */
  runnerDir: string;
  /** Run as this user and group (e.g. nobody when the tests run as root). */
  uid?: number;
  gid?: number;
  functionName?: string;
}

const RESULT_MARK = '@@RESULT@@';

/** What a bundle needs to talk to the local S3 and Step Functions endpoints instead of AWS's
 * (fake credentials: the local servers accept any), with a writable home and /tmp. */
export function localEndpointsEnv(endpoints: {
  s3Endpoint: string;
  sfnEndpoint: string;
}): Record<string, string> {
  return {
    HOME: os.tmpdir(),
    TMPDIR: os.tmpdir(),
    AWS_REGION: DEFAULT_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
    AWS_ENDPOINT_URL_SFN: endpoints.sfnEndpoint,
  };
}

/** Import the bundle and invoke its handler once, in a fresh process; throws with the process's
 * output when it fails. */
export async function invokeBundle(o: BundleInvocation): Promise<BundleRun> {
  const [file, exported] = o.handler.split('.');
  const runner = path.join(o.runnerDir, 'invoke.mjs');
  writeFileSync(
    runner,
    `const started = performance.now();
const m = await import(${JSON.stringify(`file://${path.join(o.taskRoot, `${file}.mjs`)}`)});
const imported = performance.now();
const cpuInit = process.cpuUsage();
const deadline = Date.now() + ${o.timeoutSec * 1000};
const context = { awsRequestId: 'local-run', functionName: ${JSON.stringify(o.functionName ?? 'local')}, getRemainingTimeInMillis: () => deadline - Date.now() };
const out = await m[${JSON.stringify(exported)}](JSON.parse(process.argv[2]), context);
const done = performance.now();
const cpu = process.cpuUsage();
process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify({ result: out ?? null, nodeVersion: process.version, initMs: imported, firstResultMs: done, invokeMs: done - imported, cpuMs: (cpu.user + cpu.system) / 1000, initCpuMs: (cpuInit.user + cpuInit.system) / 1000, beforeImportMs: started }));`,
  );
  chmodSync(runner, 0o444);
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LAMBDA_TASK_ROOT: o.taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: o.functionName ?? 'local',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMB),
    AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME_NAME}`,
    TZ: ':UTC',
    ...o.env,
  };
  const started = performance.now();
  const child = spawn(o.node, [`--max-old-space-size=${o.memoryMB}`, runner, JSON.stringify(o.event)], {
    cwd: o.taskRoot,
    env,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = performance.now() - started;
  const at = out.lastIndexOf(RESULT_MARK);
  if (code !== 0 || at < 0) {
    throw new Error(
      `${o.taskRoot}: the handler's process exited ${code}:\n${err.slice(-4000)}\n${out.slice(-2000)}`,
    );
  }
  const r = JSON.parse(out.slice(at + RESULT_MARK.length)) as Omit<BundleRun, 'wallMs' | 'stderr'>;
  return { ...r, wallMs, stderr: err };
}

// ---------------------------------------------------------------- one video through the bundles

/** An uploaded video, as the input bucket holds it. */
export interface UploadedVideo {
  bucket: string;
  key: string;
  size: number;
  /** The PutObject ETag (quotes or not). */
  etag?: string;
}

/** The events the four functions get for one video, each built from the previous one's result,
 * as the SQS event source and the state machine pass them. */
export const pipelineEvents = {
  /** The SQS message the event source delivers, wrapping S3's notification of the upload. */
  starter(v: UploadedVideo): unknown {
    const record = toAwsRecord({
      eventName: 'ObjectCreated:Put',
      bucket: v.bucket,
      key: v.key,
      size: v.size,
      eTag: v.etag?.replace(/"/g, ''),
    });
    return {
      Records: [toSqsRecord({ messageId: `local-${v.key}`, body: JSON.stringify({ Records: [record] }) })],
    };
  },
  splitter(v: UploadedVideo, started: StarterResult): unknown {
    return {
      video: { bucket: v.bucket, key: v.key, size: v.size },
      execution: started.started[0].executionArn,
    };
  },
  recognition(v: UploadedVideo, split: SplitResult, execution: string): unknown {
    return { bucket: split.frameBucket, keys: split.batches[0], batch: 0, video: v.key, execution };
  },
  result(split: SplitResult, recognized: unknown, execution: string): unknown {
    return {
      video: split.video,
      split: split.split,
      batches: [recognized],
      execution,
      startedAt: new Date().toISOString(),
    };
  },
};

export interface StarterResult {
  started: Array<{ key: string; name: string; executionArn: string }>;
  batchItemFailures: unknown[];
}

export interface SplitResult {
  video: unknown;
  split: unknown;
  frameBucket: string;
  frameCount: number;
  batches: string[][];
}
