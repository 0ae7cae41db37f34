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
    maxResults: 50,
  });
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
