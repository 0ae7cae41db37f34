/**
 * Issue 21: an older execution's answer that lands just after a re-upload (its currency check
 * passed a moment before) is newer than the re-upload but not its answer. If the stack is killed
 * before the re-upload's own execution starts, restart recovery (reconcile) must still start it.
 * The real result handler and the real local S3 server; the race is made certain by re-uploading
 * from inside the handler's S3 client, right after its currency check. Step Functions is mocked.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import path from 'node:path';
import { createHandler } from '#functions/result/handler.js';
import { bucketNames } from '#functions/core/layout.js';
import { normalizeEtag } from '#functions/core/upload-version.js';
import { reconcileUploads } from '#infra/reconcile/run.js';
import { startLocalS3, type LocalS3 } from '#infra/local/s3/service.js';
import { lambdaContext, testConfig } from '#test/support/lambda.js';
import { face, frame } from '#test/support/frame-results.js';
import { tempDir } from '#test/support/videos.js';

const buckets = bucketNames('facerec');
const sfn = mockClient(SFNClient);
let s3: LocalS3;
const clients: S3Client[] = [];

function client(): S3Client {
  const c = new S3Client({
    region: 'us-east-1',
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: path.join(tempDir('facerec-late-answer-'), 's3'),
    buckets,
    onInputEvent: () => undefined,
  });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await s3.close();
});

beforeEach(() => {
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(StartExecutionCommand).callsFake((i: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:${i.name}`,
    startDate: new Date(),
  }));
});

async function put(c: S3Client, key: string, body: string): Promise<string> {
  const out = await c.send(
    new PutObjectCommand({ Bucket: buckets.input, Key: key, Body: body, ContentType: 'video/mp4' }),
  );
  return normalizeEtag(out.ETag)!;
}

/** The result handler of `upload` (key, ETag), with `between` run right after its currency check. */
async function lateResult(key: string, etag: string, between: () => Promise<unknown>, failure = false) {
  const c = client();
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = args.input as { Bucket?: string };
      if (context.commandName === 'HeadObjectCommand' && input.Bucket === buckets.input) await between();
      return out;
    },
    { step: 'initialize', name: 'reUploadAfterCurrencyCheck' },
  );
  const handler = createHandler({ config: testConfig(), s3: c, sfn: new SFNClient({}) });
  const stem = key.replace(/\.mp4$/, '');
  const video = { bucket: buckets.input, key, etag, stem };
  const execution = `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:${stem}-old`;
  return handler(
    failure
      ? { failure: { stage: 'split', error: 'Facerec.BadInput', cause: 'bad' }, video, execution }
      : {
          video,
          upload: video,
          batches: [
            {
              batch: 0,
              frames: [frame('f0', face('Alice', 0.3))],
              modelId: 'm1',
              galleryId: 'g1',
              timings: { totalMs: 10 },
            },
          ],
          execution,
        },
    lambdaContext(),
  );
}

const reconcile = (c: S3Client) =>
  reconcileUploads({
    s3: c,
    sfn: new SFNClient({ region: 'us-east-1' }),
    buckets,
    profile: 'default',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:facerec-pipeline',
    extensions: ['mp4'],
    contentTypes: ['video/*'],
    uploadedBefore: Date.now() + 60_000,
  });

const startedEtags = () =>
  sfn
    .commandCalls(StartExecutionCommand)
    .map((call) => JSON.parse(call.args[0].input.input!) as { key: string; etag?: string })
    .map((i) => `${i.key} ${i.etag}`);

test("an older upload's answer written just after a re-upload does not answer the re-upload: reconcile starts it", async () => {
  const c = client();
  const first = await put(c, 'late.mp4', 'first video');
  let second = '';
  const out = await lateResult('late.mp4', first, async () => (second = await put(c, 'late.mp4', 'second')));
  // The older execution wrote (its check passed before the re-upload): an answer newer than it.
  expect(out).toMatchObject({ name: 'Alice', outputKey: 'late.txt' });
  expect(out).not.toHaveProperty('superseded');
  const report = await reconcile(c);
  expect(report.started.map((s) => s.key)).toEqual(['late.mp4']);
  expect(startedEtags()).toEqual([`late.mp4 ${second}`]);
});

test("the same for an older upload's late error record", async () => {
  const c = client();
  const first = await put(c, 'late-error.mp4', 'first video');
  let second = '';
  await lateResult(
    'late-error.mp4',
    first,
    async () => (second = await put(c, 'late-error.mp4', 'second')),
    true,
  );
  const report = await reconcile(c);
  expect(report.started.map((s) => s.key)).toContain('late-error.mp4');
  expect(startedEtags()).toContain(`late-error.mp4 ${second}`);
});

test("the upload's own answer, just as new, answers it: nothing started", async () => {
  const c = client();
  const only = await put(c, 'own.mp4', 'the only video');
  await lateResult('own.mp4', only, async () => undefined);
  const report = await reconcile(c);
  expect(report.started.map((s) => s.key)).not.toContain('own.mp4');
  expect(report.answered).toBeGreaterThanOrEqual(1);
});
