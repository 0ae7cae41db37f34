/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Deploy readiness without AWS: each function of the synthesized cloud assembly, as it would be
 * deployed. Its asset folder alone is copied to a temporary directory outside the repository,
 * made read-only (and, when the tests run as root, the handler runs as `nobody`, so read-only
 * is enforced), and the handler the template names is invoked in a fresh Node process (cwd the
 * copy, no NODE_PATH, no node_modules above it) with a real event, against the local S3 and
 * Step Functions endpoints. It proves the bundles are complete: onnxruntime, sharp, the models,
 * ffmpeg, the AWS SDK, the handlers' own code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#functions/aws/clients.js';
import { encodeEventKey } from '#functions/core/layout.js';
import { FUNCTION_NAMES, type FunctionName } from '#functions/core/facts.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { SAMPLE_IMAGES, videoFromImage } from '#test/support/videos.js';
import { resources, synthesize, type Synthesized } from './support.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

const PREFIX = 'ready-test';
const NOBODY = 65534;

let s: Synthesized;
let stack: LocalStack;
let s3: S3Client;
let work: string;
const timings: string[] = [];

beforeAll(async () => {
  s = synthesize({ prefix: PREFIX });
  work = mkdtempSync(path.join(os.tmpdir(), 'facerec-ready-'));
  chmodSync(work, 0o755);
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
}, 240_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  s?.cleanup();
  if (work) {
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
  if (timings.length) console.log(`deploy readiness: ${timings.join(', ')}`);
});

interface Deployed {
  dir: string;
  handler: string;
  env: Record<string, string>;
}

/** The function's asset folder copied alone, read-only, with its template environment. */
function deploy(name: FunctionName): Deployed {
  const fnId = s.stack.resolve(
    s.stack.getLogicalId(s.stack.functions[name].function.node.defaultChild as never),
  );
  const props = resources(s.template)[fnId as string].Properties as {
    Handler: string;
    Code: { S3Key: string };
    Environment: { Variables: Record<string, unknown> };
  };
  const hash = props.Code.S3Key.replace(/\.zip$/, '');
  const assets = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  const source = path.join(s.outdir, assets.files[hash].source.path);
  const root = mkdtempSync(path.join(work, `${name}-`));
  chmodSync(root, 0o755);
  const dir = path.join(root, 'task');
  cpSync(source, dir, { recursive: true });
  expect(spawnSync('chmod', ['-R', 'a-w', dir]).status).toBe(0);
  // Outside the repository, and no node_modules on the way up.
  expect(dir.startsWith(path.resolve('/work'))).toBe(false);
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    expect(existsSync(path.join(d, 'node_modules'))).toBe(false);
  }
  // The template's environment, with what CloudFormation and Lambda would fill in.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(props.Environment.Variables)) {
    if (typeof v === 'string')
      env[k] = v.startsWith('/var/task/') ? path.join(dir, v.slice('/var/task/'.length)) : v;
  }
  if (name === 'starter') env.STATE_MACHINE_ARN = stack.sfn.stateMachineArn;
  if (name === 'recognition') env.FACEREC_GALLERY = `s3://${PREFIX}-meta/gallery/gallery.json`;
  return { dir, handler: props.Handler, env };
}

/** `index.handler` of the copy in a fresh Node process; its JSON result. */
async function invoke(d: Deployed, event: unknown): Promise<any> {
  const [file, exported] = d.handler.split('.');
  const runner = path.join(path.dirname(d.dir), 'invoke.mjs');
  chmodSync(path.dirname(d.dir), 0o755);
  writeFileSync(
    runner,
    `const m = await import(${JSON.stringify(`file://${path.join(d.dir, `${file}.mjs`)}`)});
const deadline = Date.now() + 120000;
const context = { awsRequestId: 'ready', functionName: 'ready', getRemainingTimeInMillis: () => deadline - Date.now() };
const out = await m[${JSON.stringify(exported)}](JSON.parse(process.argv[2]), context);
process.stdout.write('\\n@@RESULT@@' + JSON.stringify(out ?? null));`,
  );
  chmodSync(runner, 0o444);
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: os.tmpdir(),
    TMPDIR: os.tmpdir(),
    LAMBDA_TASK_ROOT: d.dir,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_S3: stack.info.s3Endpoint,
    AWS_ENDPOINT_URL_SFN: stack.info.sfnEndpoint,
    ...d.env,
  };
  expect(env.NODE_PATH).toBeUndefined();
  const asRoot = process.getuid?.() === 0;
  const started = Date.now();
  const child = spawn(process.execPath, [runner, JSON.stringify(event)], {
    cwd: d.dir,
    env,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  timings.push(
    `${path.basename(path.dirname(d.dir)).split('-')[0]} ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const at = out.lastIndexOf('@@RESULT@@');
  if (code !== 0 || at < 0)
    throw new Error(`handler exited ${code}:\n${err.slice(-4000)}\n${out.slice(-2000)}`);
  return JSON.parse(out.slice(at + '@@RESULT@@'.length));
}

test('the template names the four functions with their handlers; the copies are read-only', () => {
  for (const name of FUNCTION_NAMES) {
    const d = deploy(name);
    expect(d.handler).toBe('index.handler');
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

  // starter: the SQS-wrapped S3 event, as the event source mapping delivers it.
  const s3Event = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        eventTime: new Date().toISOString(),
        s3: {
          bucket: { name: `${PREFIX}-input` },
          object: { key: encodeEventKey(key), size: body.length, eTag: put.ETag, sequencer: '00READY' },
        },
      },
    ],
  };
  const started = await invoke(deploy('starter'), {
    Records: [{ messageId: 'm1', body: JSON.stringify(s3Event), eventSource: 'aws:sqs', attributes: {} }],
  });
  expect(started).toMatchObject({ batchItemFailures: [], started: [{ key }] });
  expect(stack.sfn.listExecutions().map((e) => e.name)).toContain(started.started[0].name);

  // splitter: ffmpeg from the bundle, frames into stage-1.
  const execution = started.started[0].executionArn;
  const split = await invoke(deploy('splitter'), {
    video: { bucket: `${PREFIX}-input`, key, size: body.length },
    execution,
  });
  expect(split.frameCount).toBeGreaterThan(0);
  expect(split.frameBucket).toBe(`${PREFIX}-stage-1`);

  // recognition: onnxruntime, sharp and the models from the bundle; no gallery pushed yet.
  const recognized = await invoke(deploy('recognition'), {
    bucket: split.frameBucket,
    keys: split.batches[0],
    batch: 0,
    video: key,
    execution,
  });
  expect(recognized.frames.every((f: any) => !f.error)).toBe(true);
  expect(recognized.frames.some((f: any) => f.facesTotal > 0)).toBe(true);
  expect(recognized.frames.flatMap((f: any) => f.faces.map((x: any) => x.name))).toContain('Unknown');

  // result: the name file in the output bucket.
  const result = await invoke(deploy('result'), {
    video: split.video,
    split: split.split,
    batches: [recognized],
    execution,
    startedAt: new Date().toISOString(),
  });
  expect(result).toMatchObject({ name: 'Unknown', outputKey: 'ready clip.txt' });
  const text = await s3.send(new GetObjectCommand({ Bucket: `${PREFIX}-output`, Key: 'ready clip.txt' }));
  expect(await text.Body!.transformToString()).toBe('Unknown');
}, 240_000);
