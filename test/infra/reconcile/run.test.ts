/** `facerec reconcile --aws`: the SDK calls, with mocked S3 and Step Functions clients. */
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { reconcileUploads } from '#infra/reconcile/run.js';
import { bucketNames, executionName } from '#functions/core/layout.js';
import { awsError } from '#test/support/lambda.js';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:facerec-pipeline';
const at = (s: number) => new Date(1_000_000 + s * 1000);

const options = (over: object = {}) => ({
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
  buckets: bucketNames('facerec'),
  profile: 'default' as const,
  stateMachineArn: ARN,
  extensions: ['mp4'],
  contentTypes: ['video/*', 'application/octet-stream'],
  uploadedBefore: at(100).getTime(),
  ...over,
});

beforeEach(() => {
  s3.reset();
  sfn.reset();
  // Two pages of inputs (continuation token), one of outputs.
  s3.on(ListObjectsV2Command, { Bucket: 'facerec-input', ContinuationToken: undefined }).resolves({
    Contents: [
      { Key: 'done.mp4', LastModified: at(1) },
      { Key: 'lost.mp4', LastModified: at(2) },
    ],
    IsTruncated: true,
    NextContinuationToken: 'page-2',
  });
  s3.on(ListObjectsV2Command, { Bucket: 'facerec-input', ContinuationToken: 'page-2' }).resolves({
    Contents: [
      { Key: 'busy.mp4', LastModified: at(3) },
      { Key: 'failed-before.mp4', LastModified: at(4) },
      { Key: 'fresh.mp4', LastModified: at(200) },
    ],
    IsTruncated: false,
  });
  s3.on(ListObjectsV2Command, { Bucket: 'facerec-output' }).resolves({
    Contents: [{ Key: 'done.txt', LastModified: at(5) }],
  });
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({
    ContentLength: 42,
    ETag: `"etag-${input.Key}"`,
    VersionId: 'v9',
    ContentType: 'video/mp4',
  }));
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: `${ARN}:busy`,
        stateMachineArn: ARN,
        name: 'busy',
        status: 'RUNNING',
        startDate: at(3),
      },
    ],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    input: JSON.stringify({ bucket: 'facerec-input', key: 'busy.mp4' }),
  });
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    if (input.name.startsWith('failed-before')) throw awsError('ExecutionAlreadyExists', 400);
    return { executionArn: `${ARN}:${input.name}`, startDate: new Date() };
  });
});

test('starts exactly the uploads with no output, error record or running execution, named as the starter names them', async () => {
  const r = await reconcileUploads(options());
  const video = {
    bucket: 'facerec-input',
    key: 'lost.mp4',
    size: 42,
    etag: 'etag-lost.mp4',
    versionId: 'v9',
  };
  expect(r.started).toEqual([
    { key: 'lost.mp4', name: executionName(video), executionArn: `${ARN}:${executionName(video)}` },
  ]);
  expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual(
    expect.arrayContaining([
      { stateMachineArn: ARN, name: executionName(video), input: JSON.stringify(video) },
    ]),
  );
  expect(r).toMatchObject({ inputs: 5, answered: 1, running: 1, recent: 1 });
  expect(r.skipped).toEqual([
    { key: 'failed-before.mp4', reason: expect.stringMatching(/already ended without an output/) },
  ]);
  expect(sfn.commandCalls(ListExecutionsCommand)[0].args[0].input).toMatchObject({ statusFilter: 'RUNNING' });
});

test('--dry-run starts nothing', async () => {
  const r = await reconcileUploads(options({ dryRun: true }));
  expect(r.started.map((s) => s.key)).toEqual(['failed-before.mp4', 'lost.mp4']);
  expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
});

test('cse546 profiles: a failure record in the meta bucket answers its upload', async () => {
  s3.on(ListObjectsV2Command, { Bucket: 'facerec-meta', Prefix: 'errors/' }).resolves({
    Contents: [{ Key: 'errors/lost.json', LastModified: at(6) }],
  });
  const r = await reconcileUploads(options({ profile: 'cse546-p2', dryRun: true }));
  expect(r.started.map((s) => s.key)).toEqual(['failed-before.mp4']);
  expect(r).toMatchObject({ answered: 2 });
  // The default profile keeps its records in the output bucket: the meta bucket is not read.
  s3.resetHistory();
  await reconcileUploads(options({ dryRun: true }));
  expect(
    s3.commandCalls(ListObjectsV2Command).filter((c) => c.args[0].input.Bucket === 'facerec-meta'),
  ).toHaveLength(0);
});
