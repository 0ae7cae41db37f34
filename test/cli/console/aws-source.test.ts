/**
 * The console against a deployed pipeline (`facerec console --aws`): only the SDK calls
 * ListExecutions, DescribeExecution, GetExecutionHistory and S3 GetObject, mocked here with
 * AWS-shaped answers (TaskScheduled/TaskFailed events that name no state), and what the pages
 * get from them.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type HistoryEvent,
  type HistoryEventType,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { ConsoleSource } from '#cli/console/source.js';
import { awsError, s3Body } from '#test/support/lambda.js';

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:FacerecStateMachine';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:FacerecStateMachine:clip-1';
const t = (s: number) => new Date(Date.UTC(2026, 11, 3, 8, 0, s));

function source() {
  return new ConsoleSource({
    s3: new S3Client({ region: 'eu-west-1' }),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    buckets: { input: 'p-input', stage1: 'p-stage-1', output: 'p-output', meta: 'p-meta' },
    stateMachineArn: SM,
    description: 'AWS eu-west-1, FacerecStateMachine',
  });
}

beforeEach(() => {
  sfn.reset();
  s3.reset();
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: ARN,
        stateMachineArn: SM,
        name: 'clip-1',
        status: 'SUCCEEDED',
        startDate: t(0),
        stopDate: t(9),
      },
    ],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    stateMachineArn: SM,
    name: 'clip-1',
    status: 'SUCCEEDED',
    startDate: t(0),
    stopDate: t(9),
    input: JSON.stringify({ bucket: 'p-input', key: 'clip.mp4' }),
    output: JSON.stringify({
      name: 'Ada',
      bucket: 'p-output',
      outputKey: 'clip.txt',
      detailKey: 'clip.json',
    }),
  });
  const ev = (id: number, type: string, extra: object = {}): HistoryEvent => ({
    id,
    previousEventId: id - 1,
    timestamp: t(id),
    type: type as HistoryEventType,
    ...extra,
  });
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [
      ev(1, 'ExecutionStarted', { executionStartedEventDetails: { input: '{}' } }),
      ev(2, 'TaskStateEntered', {
        stateEnteredEventDetails: { name: 'Split video into frames', input: '{}' },
      }),
      ev(3, 'TaskScheduled'),
      ev(4, 'TaskStarted'),
      ev(5, 'TaskFailed', { taskFailedEventDetails: { error: 'Facerec.Transient', cause: 'S3 slow down' } }),
      ev(6, 'TaskScheduled'),
      ev(7, 'TaskStarted'),
      ev(8, 'TaskSucceeded'),
      ev(9, 'TaskStateExited', {
        stateExitedEventDetails: { name: 'Split video into frames', output: '{}' },
      }),
      ev(10, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: '{}' } }),
    ],
  });
});

test('the executions list: status, video, recognized name, duration from the SDK answers', async () => {
  const rows = await source().executions(50);
  expect(rows).toEqual([
    expect.objectContaining({
      executionArn: ARN,
      status: 'SUCCEEDED',
      video: 'clip.mp4',
      recognized: 'Ada',
      durationMs: 9000,
    }),
  ]);
  expect(sfn.commandCalls(ListExecutionsCommand)[0].args[0].input).toMatchObject({
    stateMachineArn: SM,
    maxResults: 1000,
  });
});

/** 230 executions, newest first, listed by ListExecutions in pages that follow nextToken. */
function manyExecutions(n = 230) {
  const items = Array.from({ length: n }, (_, i) => ({
    executionArn: `${ARN.replace(/clip-1$/, '')}clip-${n - i}`,
    stateMachineArn: SM,
    name: `clip-${n - i}`,
    status: (n - i) % 10 === 0 ? ('FAILED' as const) : ('SUCCEEDED' as const),
    startDate: t(n - i),
    stopDate: t(n - i + 1),
  }));
  sfn
    .on(ListExecutionsCommand)
    .callsFake((input: { maxResults?: number; nextToken?: string; statusFilter?: string }) => {
      const all = items.filter((e) => !input.statusFilter || e.status === input.statusFilter);
      const start = Number(input.nextToken ?? 0);
      const size = Math.min(input.maxResults ?? 100, 100); // AWS pages are often smaller than asked
      return {
        executions: all.slice(start, start + size),
        ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
      };
    });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const e = items.find((x) => x.executionArn === input.executionArn)!;
    return {
      ...e,
      input: JSON.stringify({ key: `videos/${e.name}.mp4` }),
      ...(e.status === 'SUCCEEDED'
        ? {
            output: JSON.stringify({
              name: 'Ada',
              people: [{ name: 'Ada' }, { name: 'Grace' }],
              unknownFaces: 2,
            }),
          }
        : { error: 'Facerec.BadInput', cause: JSON.stringify({ errorMessage: 'not a video' }) }),
    };
  });
  return items;
}

test('paging past 100: every page of ListExecutions is followed; a page describes only its rows', async () => {
  manyExecutions();
  const src = source();
  const p3 = await src.executionsPage({ page: 2, pageSize: 50 });
  expect([p3.total, p3.page, p3.executions.length, p3.truncated]).toEqual([230, 2, 50, false]);
  expect(p3.executions[0]).toMatchObject({ name: 'clip-130', status: 'FAILED', error: 'Facerec.BadInput' });
  expect(p3.executions[1]).toMatchObject({ name: 'clip-129', people: ['Ada', 'Grace'], unknownFaces: 2 });
  expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
    undefined,
    '100',
    '200',
  ]);
  expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(50);
  const last = await src.executionsPage({ page: 99, pageSize: 50 });
  expect([last.page, last.executions.length, last.executions.at(-1)!.name]).toEqual([4, 30, 'clip-1']);
});

test('the status filter goes to ListExecutions; the search matches names and video keys', async () => {
  manyExecutions();
  const src = source();
  const failed = await src.executionsPage({ status: 'FAILED', pageSize: 100 });
  expect(failed.total).toBe(23);
  expect(failed.executions.every((e) => e.status === 'FAILED' && e.error === 'Facerec.BadInput')).toBe(true);
  expect(sfn.commandCalls(ListExecutionsCommand)[0].args[0].input.statusFilter).toBe('FAILED');
  const found = await src.executionsPage({ search: 'CLIP-17' });
  expect(found.executions.map((e) => e.name)).toEqual([
    'clip-179',
    'clip-178',
    'clip-177',
    'clip-176',
    'clip-175',
    'clip-174',
    'clip-173',
    'clip-172',
    'clip-171',
    'clip-170',
    'clip-17',
  ]);
  // Keys of described executions match too.
  expect((await src.executionsPage({ search: 'videos/clip-179.mp4' })).executions.map((e) => e.name)).toEqual(
    ['clip-179'],
  );
});

test('one event with its whole data, the function by name; an unknown event is a NotFound', async () => {
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [
      {
        id: 1,
        timestamp: t(0),
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: 'eu-west-1',
          parameters: 'x'.repeat(10_000),
        },
      },
      {
        id: 2,
        previousEventId: 1,
        timestamp: t(1),
        type: 'LambdaFunctionScheduled',
        lambdaFunctionScheduledEventDetails: {
          resource: 'arn:aws:lambda:eu-west-1:123456789012:function:facerec-recognition',
          input: '{}',
        },
      },
    ],
  });
  const src = source();
  expect((await src.event(ARN, 1)).details!.parameters).toHaveLength(10_000);
  expect((await src.event(ARN, 2)).details).toEqual({ resource: 'facerec-recognition', input: '{}' });
  await expect(src.event(ARN, 3)).rejects.toThrow(/no event 3/);
});

test('a failed execution carries its failure record, read from where the profile keeps it', async () => {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    status: 'FAILED',
    startDate: t(0),
    stopDate: t(3),
    input: JSON.stringify({ key: 'clip.mp4' }),
    error: 'Facerec.BadInput',
    cause: JSON.stringify({ errorMessage: 'cannot decode the video' }),
  });
  s3.on(GetObjectCommand, { Bucket: 'p-output', Key: 'errors/clip.json' }).resolves({
    Body: s3Body(
      JSON.stringify({ stage: 'split', error: 'Facerec.BadInput', reason: 'cannot decode', execution: ARN }),
    ),
  });
  const d = await source().execution(ARN);
  expect(d).toMatchObject({
    status: 'FAILED',
    errorRecordKey: 'errors/clip.json',
    errorRecord: { stage: 'split', reason: 'cannot decode' },
    transitions: 1,
  });
  // A record of a newer upload of the same key (another execution) is not shown as this one's.
  s3.on(GetObjectCommand, { Bucket: 'p-output', Key: 'errors/clip.json' }).resolves({
    Body: s3Body(JSON.stringify({ stage: 'split', execution: `${ARN}-newer` })),
  });
  expect((await source().execution(ARN)).errorRecord).toBeUndefined();
});

test('the gallery the pipeline reads, from S3, with when it was written; none yet is said', async () => {
  const gallerySource = (alive?: () => boolean) =>
    new ConsoleSource({
      s3: new S3Client({ region: 'eu-west-1' }),
      buckets: { input: 'p-input', stage1: 'p-stage-1', output: 'p-output', meta: 'p-meta' },
      description: 'AWS',
      gallery: 's3://p-meta/gallery/gallery.json',
      ...(alive ? { alive } : {}),
    });
  s3.on(GetObjectCommand, { Bucket: 'p-meta', Key: 'gallery/gallery.json' }).resolves({
    Body: s3Body(
      JSON.stringify({ modelId: 'm1', people: [{ name: 'Ada', images: [{ file: 'ada/1.jpg' }] }] }),
    ),
    LastModified: t(5),
    ETag: '"abc"',
  });
  expect(await gallerySource().gallery()).toMatchObject({
    source: 's3://p-meta/gallery/gallery.json',
    updatedAt: t(5).getTime(),
    version: 'abc',
    modelId: 'm1',
    people: [{ name: 'Ada', images: [{ file: 'ada/1.jpg', photo: false }] }],
  });
  s3.on(GetObjectCommand, { Bucket: 'p-meta', Key: 'gallery/gallery.json' }).rejects(
    awsError('NoSuchKey', 404),
  );
  expect((await gallerySource().gallery()).error).toMatch(
    /no gallery in s3:\/\/p-meta\/gallery\/gallery\.json yet/,
  );
  expect(await gallerySource(() => false).status()).toEqual({ running: false });
  expect(await gallerySource().status()).toEqual({ running: true });
});

test('one execution: state status from an AWS history, the result from the output bucket, a frame drawn', async () => {
  const frame = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#335' } })
    .jpeg()
    .toBuffer();
  s3.on(GetObjectCommand, { Bucket: 'p-output', Key: 'clip.json' }).resolves({
    Body: s3Body(
      JSON.stringify({
        video: { bucket: 'p-input', key: 'clip.mp4' },
        name: 'Ada',
        people: [{ name: 'Ada', frames: 1, faces: 1, bestDistance: 0.3 }],
        frames: {
          analysed: 1,
          failed: 0,
          results: [
            {
              key: 'clip/frame-0000.jpg',
              faces: [
                { name: 'Ada', distance: 0.3, score: 0.9, box: { x: 10, y: 10, width: 80, height: 90 } },
              ],
            },
          ],
        },
      }),
    ),
  });
  s3.on(GetObjectCommand, { Bucket: 'p-stage-1', Key: 'clip/frame-0000.jpg' }).resolves({
    Body: s3Body(frame),
  });
  const src = source();
  const d = await src.execution(ARN);
  expect(d.states['Split video into frames']).toMatchObject({
    status: 'SUCCEEDED',
    failedAttempts: 1,
    errors: [{ error: 'Facerec.Transient' }],
  });
  expect(d.events.find((e) => e.type === 'TaskFailed')).toMatchObject({ state: 'Split video into frames' });
  expect(d.result).toMatchObject({ name: 'Ada', people: [{ name: 'Ada' }] });
  const jpeg = await src.executionFrame(ARN, 0);
  const meta = await sharp(jpeg!).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
  // Only the output bucket's detail and the stage-1 frame were read.
  expect(
    s3.commandCalls(GetObjectCommand).map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`),
  ).toEqual(['p-output/clip.json', 'p-stage-1/clip/frame-0000.jpg']);
  expect(await src.executionFrame(ARN, 5)).toBeUndefined();
});

test('a result in another bucket is not followed; a missing detail is said, not thrown', async () => {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    status: 'SUCCEEDED',
    startDate: t(0),
    input: JSON.stringify({ key: 'clip.mp4' }),
    output: JSON.stringify({ name: 'Ada', bucket: 'somebody-elses-bucket', detailKey: 'x.json' }),
  });
  const d = await source().execution(ARN);
  expect(d.result).toBeUndefined();
  expect(d.resultNote).toMatch(/not this pipeline's output bucket/);
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);

  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    status: 'SUCCEEDED',
    startDate: t(0),
    input: JSON.stringify({ key: 'clip.mp4' }),
    output: JSON.stringify({ name: 'Ada', bucket: 'p-output', detailKey: 'clip.json' }),
  });
  s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
  expect((await source().execution(ARN)).resultNote).toBe('p-output/clip.json is missing');
});
