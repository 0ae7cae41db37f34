/**
 * The functions' observability: which settings turn metrics and tracing on (metrics in Lambda
 * execution environments, AWS's or local mode's; X-Ray only on Lambda), and the result function's
 * metric line (EMF) for an answered video and for a failure record, with its stage's duration.
 */
import { HeadObjectCommand, PutObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '#functions/config.js';
import { videoCounts } from '#functions/aws/observability.js';
import { createHandler } from '#functions/result/handler.js';
import type { ResultInput } from '#functions/core/contracts.js';
import { lambdaContext, testConfig } from '#test/support/lambda.js';
import { face, frame } from '#test/support/frame-results.js';

test('settings: metrics in Lambda environments, tracing on Lambda only, a namespace per prefix', () => {
  const o = (env: Record<string, string>) => loadConfig(env).pipeline.observability;
  expect(o({})).toEqual({ namespace: 'Facerec/facerec', service: 'facerec', metrics: false, tracing: false });
  // Local mode's execution environments: metrics, no X-Ray daemon so no tracing.
  expect(
    o({ AWS_LAMBDA_FUNCTION_NAME: 'facerec-result', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }),
  ).toMatchObject({
    metrics: true,
    tracing: false,
  });
  const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'f', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
  expect(o(lambda)).toMatchObject({ metrics: true, tracing: true });
  expect(o({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'false' })).toMatchObject({ tracing: false });
  expect(o({ FACEREC_BUCKET_PREFIX: 'team7', POWERTOOLS_METRICS_NAMESPACE: '' }).namespace).toBe(
    'Facerec/team7',
  );
  expect(o({ POWERTOOLS_METRICS_NAMESPACE: 'Mine' }).namespace).toBe('Mine');
});

test('video counts: answered, failed, superseded (not counted)', () => {
  expect(videoCounts({ outputKey: 'a.txt', frames: 4, faces: 3, unknownFaces: 1 })).toEqual([
    ['Videos', 1],
    ['Frames', 4],
    ['Faces', 3],
    ['UnknownFaces', 1],
  ]);
  expect(videoCounts({ errorKey: 'errors/a.json' })).toEqual([['VideosFailed', 1]]);
  expect(videoCounts({ outputKey: 'a.txt', superseded: 'newer upload' })).toEqual([]);
  expect(videoCounts(null)).toEqual([]);
});

describe('the result function writes one metric line per invocation', () => {
  const s3 = mockClient(S3Client);
  let lines: string[];
  let restore: () => void;
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ETag: '"e"' });
    lines = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === 'string' && chunk.startsWith('{"_aws":')) {
        lines.push(chunk);
        return true;
      }
      return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    }) as typeof process.stdout.write;
    restore = () => (process.stdout.write = write);
  });
  afterEach(() => restore());

  const handler = createHandler({
    config: testConfig({ AWS_LAMBDA_FUNCTION_NAME: 'facerec-result', FACEREC_BUCKET_PREFIX: 'facerec' }),
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({}),
  });
  const base = {
    video: { bucket: 'facerec-input', key: 'clip.mp4', stem: 'clip' },
    execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:clip-abc',
  };
  const metricsOf = () =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => 'ResultDuration' in l)!;

  test('an answered video: Videos 1, its frames, faces and Unknown faces, the stage time', async () => {
    const event: ResultInput = {
      ...base,
      batches: [
        {
          batch: 0,
          frames: [frame('f0', face('Sheldon', 0.3), face('Unknown', 0.9)), frame('f1')],
          modelId: 'm1',
          galleryId: 'g1',
          timings: { totalMs: 10 },
        },
      ],
    };
    await handler(event, lambdaContext());
    const m = metricsOf();
    expect(m).toMatchObject({ service: 'facerec', Videos: 1, Frames: 2, Faces: 2, UnknownFaces: 1 });
    expect(typeof m.ResultDuration).toBe('number');
    const aws = m._aws as {
      CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }>;
    };
    expect(aws.CloudWatchMetrics[0].Namespace).toBe('Facerec/facerec');
    expect(aws.CloudWatchMetrics[0].Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'Videos', Unit: 'Count' },
        { Name: 'ResultDuration', Unit: 'Milliseconds' },
      ]),
    );
  });

  test('a failure record: VideosFailed 1, no Videos', async () => {
    await handler(
      {
        ...base,
        failure: { stage: 'split' as const, error: 'Facerec.BadInput', cause: 'not a video' },
      },
      lambdaContext(),
    );
    const m = metricsOf();
    expect(m).toMatchObject({ VideosFailed: 1 });
    expect(m.Videos).toBeUndefined();
  });
});
