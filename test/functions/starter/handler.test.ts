import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '#functions/starter/handler.js';
import { encodeEventKey, executionName } from '#functions/core/layout.js';
import { toSqsRecord } from '#infra/local/queue.js';
import { awsError, lambdaContext, testConfig } from '#test/support/lambda.js';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const config = testConfig();
const handler = createHandler({
  config,
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
});

const record = (key: string, o: Record<string, unknown> = {}, eventName = 'ObjectCreated:Put') => ({
  eventName,
  eventTime: '2024-05-01T10:00:00.000Z',
  s3: {
    bucket: { name: 'facerec-input' },
    object: { key: encodeEventKey(key), size: 1234, eTag: 'etag1', sequencer: '0062E99A88DC407460', ...o },
  },
});
const event = (...records: unknown[]) => ({ Records: records });

beforeEach(() => {
  s3.reset();
  sfn.reset();
  s3.on(HeadObjectCommand).resolves({ ContentType: 'video/mp4' });
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:${input.name}`,
    startDate: new Date(),
  }));
});

describe('starter handler', () => {
  test('one execution per video, named from the object version, with a decoded key', async () => {
    const out = await handler(
      event(record('my clips/Ünï (1).mp4'), record('test_00.mp4', { eTag: 'e2' })),
      lambdaContext(),
    );
    expect(out.started.map((s) => s.key).sort()).toEqual(['my clips/Ünï (1).mp4', 'test_00.mp4']);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(2);
    const first = calls.map((c) => c.args[0].input).find((i) => i.input?.includes('Ünï'))!;
    expect(first.stateMachineArn).toBe(config.pipeline.stateMachineArn);
    expect(JSON.parse(first.input!)).toEqual({
      bucket: 'facerec-input',
      key: 'my clips/Ünï (1).mp4',
      size: 1234,
      etag: 'etag1',
      sequencer: '0062E99A88DC407460',
      eventTime: '2024-05-01T10:00:00.000Z',
    });
    expect(first.name).toBe(
      executionName({
        bucket: 'facerec-input',
        key: 'my clips/Ünï (1).mp4',
        etag: 'etag1',
        sequencer: '0062E99A88DC407460',
      }),
    );
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'facerec-input' });
  });

  test('a redelivered event starts nothing new', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(awsError('ExecutionAlreadyExists', 400));
    const out = await handler(event(record('test_01.mp4')), lambdaContext());
    expect(out).toMatchObject({ started: [], duplicates: [{ key: 'test_01.mp4' }], skipped: [] });
  });

  test('non-videos are skipped and logged, not failed', async () => {
    s3.on(HeadObjectCommand, { Key: 'fake.mp4' }).resolves({ ContentType: 'text/plain' });
    s3.on(HeadObjectCommand, { Key: 'gone.mp4' }).rejects(awsError('NotFound', 404));
    const out = await handler(
      event(
        record('notes.txt'),
        record('folder/', { size: 0 }),
        record('fake.mp4'),
        record('gone.mp4'),
        record('deleted.mp4', {}, 'ObjectRemoved:Delete'),
      ),
      lambdaContext(),
    );
    expect(out.started).toEqual([]);
    expect(out.skipped.map((s) => s.key).sort()).toEqual([
      'deleted.mp4',
      'fake.mp4',
      'folder/',
      'gone.mp4',
      'notes.txt',
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('the S3 test event is accepted', async () => {
    const out = await handler(
      { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'facerec-input' },
      lambdaContext(),
    );
    expect(out.started).toEqual([]);
  });

  test('an invalid event is bad input', async () => {
    await expect(handler({ Records: [{ nope: 1 }] }, lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.BadInput',
    });
  });

  test('throttling is a transient error (the event is retried; names keep it idempotent)', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    await expect(handler(event(record('test_02.mp4')), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
  });

  test('without STATE_MACHINE_ARN: a configuration error', async () => {
    const h = createHandler({
      config: testConfig({ STATE_MACHINE_ARN: '' }),
      s3: new S3Client({}),
      sfn: new SFNClient({}),
    });
    await expect(h(event(record('a.mp4')), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Config',
    });
  });
});

describe('starter handler behind the upload queue (SQS event source, ReportBatchItemFailures)', () => {
  const message = (id: string, body: unknown) =>
    toSqsRecord({ messageId: id, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const sqsEvent = (...messages: unknown[]) => ({ Records: messages });

  test('each message holds an S3 notification: executions start, no failures reported', async () => {
    const out = await handler(
      sqsEvent(message('m1', event(record('a.mp4'))), message('m2', event(record('b.mp4')))),
      lambdaContext(),
    );
    expect(out.started.map((s) => s.key).sort()).toEqual(['a.mp4', 'b.mp4']);
    expect(out.batchItemFailures).toEqual([]);
  });

  test('a throttled StartExecution fails only its message (delivered again, then dead-lettered)', async () => {
    sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
      if (input.input.includes('"key":"b.mp4"')) throw awsError('ThrottlingException', 400);
      return {
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:${input.name}`,
      };
    });
    const out = await handler(
      sqsEvent(message('m1', event(record('a.mp4'))), message('m2', event(record('b.mp4')))),
      lambdaContext(),
    );
    expect(out.started.map((s) => s.key)).toEqual(['a.mp4']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
  });

  test('the S3 test event is consumed; a malformed body is reported, never silently dropped', async () => {
    const out = await handler(
      sqsEvent(
        message('t', { Event: 's3:TestEvent', Bucket: 'facerec-input' }),
        message('bad', '{not json'),
        message('odd', { hello: 1 }),
      ),
      lambdaContext(),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }, { itemIdentifier: 'odd' }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('odd keys, the version and the ETag come through the queue; a re-upload is a new execution', async () => {
    const key = 'clips/line\nbreak ünï 😀 100%+a&b.mp4';
    const first = record(key, { versionId: 'v1', eTag: 'e1', sequencer: '0001' });
    const again = record(key, { versionId: 'v2', eTag: 'e2', sequencer: '0002' });
    // As S3 sends it: every field, and a client that uploaded over IPv6.
    const aws = (r: ReturnType<typeof record>) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
      requestParameters: { sourceIPAddress: '2001:db8::1' },
      responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'I' },
      ...r,
      s3: { s3SchemaVersion: '1.0', configurationId: 'c', ...r.s3 },
    });
    const out = await handler(
      sqsEvent(message('m1', event(aws(first))), message('m2', event(aws(again)))),
      lambdaContext(),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(out.started.map((s) => s.key)).toEqual([key, key]);
    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => JSON.parse(i.input!) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ key, versionId: 'v1', etag: 'e1', sequencer: '0001' }),
      expect.objectContaining({ key, versionId: 'v2', etag: 'e2', sequencer: '0002' }),
    ]);
    expect(new Set(inputs.map((i) => i.name)).size).toBe(2);
    expect(s3.commandCalls(HeadObjectCommand)[1].args[0].input).toMatchObject({ Key: key, VersionId: 'v2' });
  });

  test('when every message fails, the batch answers with all of them (no invocation error)', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    const out = await handler(
      sqsEvent(message('m1', event(record('a.mp4'))), message('m2', '')),
      lambdaContext(),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
  });

  test('without STATE_MACHINE_ARN a queued batch fails as a whole: a configuration error', async () => {
    const h = createHandler({
      config: testConfig({ STATE_MACHINE_ARN: '' }),
      s3: new S3Client({}),
      sfn: new SFNClient({}),
    });
    await expect(h(sqsEvent(message('m1', event(record('a.mp4')))), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Config',
    });
  });

  test('a direct S3 invocation still fails as a whole (Lambda retries it)', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    await expect(handler(event(record('a.mp4')), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
  });
});
