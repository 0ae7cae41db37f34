/**
 * IAM enforced on the local stack (issue 19 point 3): the real starter, splitter and result
 * functions run in their execution environments with their own credentials, and the local S3 and
 * Step Functions endpoints enforce the policies the CDK app synthesizes. Recognition is a stand-in
 * (the face engine is not the point).
 *
 * - One grant removed (the splitter's WriteFrames) fails the pipeline, with the AccessDenied in
 *   the video's failure record.
 * - A deleted upload: on AWS, HeadObject/GetObject of a missing key answers 403 to a role without
 *   s3:ListBucket. The starter, splitter and result roles list the input bucket, so a deleted
 *   upload is told apart from a denied one: the starter skips it, the splitter reports it as bad
 *   input, the result function drops its late result (failed before those grants: 403s).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { s3ClientConfig } from '#functions/aws/clients.js';
import { withoutStatement } from '#infra/local/iam/policy-set.js';
import { LambdaFunctionError } from '#infra/local/lambda/service.js';
import { toSqsRecord } from '#infra/local/queue.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import type { ExecutionRecord } from '#infra/local/sfn/service.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { standInRecognition } from '#test/support/stand-in-functions.js';
import { patternVideo, tempDir } from '#test/support/videos.js';

let work: string;
let video: Buffer;

beforeAll(async () => {
  work = tempDir('facerec-iam-pipeline-');
  video = readFileSync(await patternVideo(path.join(work, 'clip.mp4'), 1));
}, 60_000);

async function withStack<T>(
  name: string,
  opts: Parameters<typeof startLocalStack>[0],
  fn: (stack: LocalStack, s3: S3Client) => Promise<T>,
): Promise<T> {
  const stack = await startLocalStack({
    ...opts,
    env: { ...quietLocalStackEnv(path.join(work, name)), FACEREC_PROFILE: 'default', ...opts?.env },
    handlers: { recognition: standInRecognition, ...opts?.handlers },
  });
  const s3 = new S3Client(
    s3ClientConfig({ region: stack.info.region, s3Endpoint: stack.info.s3Endpoint, s3ForcePathStyle: true }),
  );
  try {
    return await fn(stack, s3);
  } finally {
    s3.destroy();
    await stack.stop();
  }
}

const finished = (stack: LocalStack, n: number) =>
  new Promise<ExecutionRecord[]>((resolve) => {
    const done: ExecutionRecord[] = [];
    stack.sfn.on('finished', (r: ExecutionRecord) => {
      done.push(r);
      if (done.length === n) resolve(done);
    });
  });

test('the pipeline runs with the synthesized grants, and fails when one is removed', async () => {
  const outcome = async (name: string, edit?: Parameters<typeof startLocalStack>[0]) =>
    withStack(name, edit ?? {}, async (stack, s3) => {
      const ended = finished(stack, 1);
      await s3.send(
        new PutObjectCommand({ Bucket: stack.config.pipeline.buckets.input, Key: 'clip.mp4', Body: video }),
      );
      const [record] = await ended;
      return {
        status: record.status,
        output: record.output ?? '',
        error: record.error,
        cause: record.cause ?? '',
      };
    });
  const granted = await outcome('granted');
  expect(granted).toMatchObject({ status: 'SUCCEEDED', output: expect.stringContaining('Person-clip') });

  const without = await outcome('without-write-frames', {
    iamPolicies: (set) => withoutStatement(set, 'splitter', 'WriteFrames'),
  });
  expect(without.status).toBe('FAILED');
  expect(`${without.error} ${without.cause}`).toMatch(/AccessDenied/);
  expect(`${without.cause}`).toContain('assumed-role/facerec-splitter-role/facerec-splitter');
}, 240_000);

describe('a deleted upload (the roles list the input bucket: 404, not 403)', () => {
  let stack: LocalStack;
  let input: string;
  const upload = () => ({ bucket: input, key: 'gone.mp4', etag: 'abc' });
  beforeAll(async () => {
    stack = await startLocalStack({
      env: { ...quietLocalStackEnv(path.join(work, 'deleted')), FACEREC_PROFILE: 'default' },
      handlers: { recognition: standInRecognition },
    });
    input = stack.config.pipeline.buckets.input;
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  test('the starter skips it (its event is not retried into the dead-letter queue)', async () => {
    const notification = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          awsRegion: 'us-east-1',
          s3: { bucket: { name: input }, object: { key: 'gone.mp4', size: 5, eTag: 'abc' } },
        },
      ],
    };
    const started = await stack.functions.starter.invoke({
      // The whole record Lambda's SQS event source sends (the starter validates it).
      Records: [toSqsRecord({ messageId: 'm1', body: JSON.stringify(notification) })],
    });
    expect(started).toMatchObject({
      skipped: [{ key: 'gone.mp4', reason: 'the object no longer exists' }],
      batchItemFailures: [],
    });
  }, 60_000);

  test('the splitter reports it as a missing object (bad input), not as access denied', async () => {
    const split = stack.functions.splitter.invoke({ video: upload(), execution: 'x' });
    await expect(split).rejects.toBeInstanceOf(LambdaFunctionError);
    await expect(split).rejects.toMatchObject({
      errorType: 'Facerec.BadInput',
      errorMessage: expect.stringMatching(/not found/),
    });
  }, 60_000);

  test('the result function drops its result and its failure record (superseded), instead of failing', async () => {
    const result = await stack.functions.result.invoke({
      video: { bucket: input, key: 'gone.mp4', stem: 'gone' },
      upload: upload(),
      batches: [await standInRecognition({ keys: ['gone.jpg'], batch: 0 })],
      execution: 'x',
    });
    expect(result).toMatchObject({ superseded: expect.stringMatching(/no longer exists/) });
    const failure = await stack.functions.result.invoke({
      failure: { stage: 'split', error: 'Facerec.BadInput', cause: 'object not found' },
      video: upload(),
      execution: 'x',
    });
    expect(failure).toMatchObject({ superseded: expect.stringMatching(/no longer exists/) });
  }, 60_000);
});
