/**
 * Cold start: the recognition function loads its face engine (and gallery) in Lambda's init
 * phase, when its module is imported, not at the first invocation. With engine.loadAtInit (the
 * stack sets FACEREC_LOAD_AT_INIT on the function), warmUp loads both; the first invocation then
 * reports no engine load. Without it nothing loads early, and a failed init-phase load is retried
 * by the first invocation instead of breaking the container.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, type Engine } from '#functions/recognition/handler.js';
import { emptyGallery } from '#functions/core/gallery/read.js';
import { lambdaContext, s3Body, testConfig } from '#test/support/lambda.js';
import { repoRoot } from '#test/support/videos.js';

const s3 = mockClient(S3Client);
const analysis = {
  width: 1,
  height: 1,
  faces: [],
  timings: { decodeMs: 0, detectMs: 0, landmarksMs: 0, descriptorMs: 0 },
};
/** A stand-in that answers the whole-frame engine interface and the batched one (decode, detect,
 * identifyDetected: issue 22), so that this test holds on either side of that change. */
const engine = {
  modelId: 'test-model',
  identifyFaces: async () => analysis,
  decode: async (bytes: Uint8Array) => bytes,
  detect: async (frame: unknown) => frame,
  identifyDetected: async (frames: unknown[]) => frames.map(() => analysis),
} as unknown as Engine;

function counted(loadAtInit: boolean, failFirst = false) {
  const counts = { engine: 0, gallery: 0 };
  const handler = createHandler({
    config: testConfig({ FACEREC_LOAD_AT_INIT: loadAtInit ? 'true' : 'false' }),
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({}),
    engine: async () => {
      counts.engine++;
      if (failFirst && counts.engine === 1) throw new Error('models not readable yet');
      return engine;
    },
    gallery: async () => {
      counts.gallery++;
      return emptyGallery('test-model', 128);
    },
  });
  return { handler, counts };
}

const invoke = (handler: ReturnType<typeof counted>['handler']) =>
  handler(
    { bucket: 'facerec-stage-1', keys: ['v/frame-0000.jpg'], batch: 0, execution: 'arn:x', video: 'v.mp4' },
    lambdaContext(),
  );

beforeEach(() => {
  s3.reset();
  s3.on(GetObjectCommand).resolves({ Body: s3Body('x') });
});

test('loadAtInit: warmUp loads the engine and the gallery; the first invocation finds them loaded', async () => {
  const { handler, counts } = counted(true);
  await handler.warmUp();
  expect(counts).toEqual({ engine: 1, gallery: 1 });
  expect(handler.isWarm()).toBe(true);
  const out = await invoke(handler);
  expect(counts.engine).toBe(1);
  expect(out.timings.engineLoadMs).toBeUndefined();
});

test('without loadAtInit (local mode, tests): nothing loads before the first invocation, which reports its load', async () => {
  const { handler, counts } = counted(false);
  await handler.warmUp();
  expect(counts).toEqual({ engine: 0, gallery: 0 });
  expect(handler.isWarm()).toBe(false);
  const out = await invoke(handler);
  expect(counts.engine).toBe(1);
  expect(out.timings.engineLoadMs).toBeGreaterThanOrEqual(0);
});

test('a failed init-phase load does not throw; the first invocation loads again and works', async () => {
  const { handler, counts } = counted(true, true);
  await expect(handler.warmUp()).resolves.toBeUndefined();
  const out = await invoke(handler);
  expect(counts.engine).toBe(2);
  expect(out.frames).toHaveLength(1);
});

test("the module's top level loads the real models when imported with FACEREC_LOAD_AT_INIT", async () => {
  // A fresh process imports the handler module (as Lambda's init does) and reports whether the
  // engine was ready before any invocation: its first invocation then carries no engineLoadMs.
  const script = `
    const m = await import(${JSON.stringify(path.join(repoRoot, 'functions/recognition/handler.ts'))});
    process.stdout.write(JSON.stringify({ warmAfterImport: m.handler.isWarm() }));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      FACEREC_LOAD_AT_INIT: 'true',
      FACEREC_GALLERY: path.join(repoRoot, 'no-such-gallery.json'),
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
  // The engine loaded by the time the import (Lambda's init) ended. (No gallery here: its
  // failed load is logged and left to the first invocation.)
  expect(JSON.parse(out)).toEqual({ warmAfterImport: true });
}, 120_000);
