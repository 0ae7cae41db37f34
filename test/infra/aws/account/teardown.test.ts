/**
 * `facerec teardown --aws`, with mocked SDK clients: what it plans after a failed first create
 * (the stack in ROLLBACK_COMPLETE, its retained buckets, a bucket it did not make), that it
 * empties every version before deleting, and that nothing at all is deleted without the user's
 * word (no terminal and no --yes, an answer other than yes, --dry-run) or outside the plan.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { DeleteFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { PassThrough } from 'node:stream';
import { teardownCommand, type Io } from '#cli/commands/teardown.js';
import { clientsFor, type AwsAccess } from '#infra/aws/account/access.js';
import { plannedDeployment } from '#infra/aws/account/deployment.js';
import { describePlan, executeTeardown, planTeardown } from '#infra/aws/account/teardown.js';
import { readSettings } from '#infra/aws/settings.js';
import { awsError } from '#test/support/lambda.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/FaceRec/abc`;
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);
let aws: AwsAccess;
let stackDeleted: boolean;

const tagged = (stack: string) => ({ TagSet: [{ Key: 'aws:cloudformation:stack-name', Value: stack }] });

/** After a failed first create: FaceRec in ROLLBACK_COMPLETE, its retained input and meta buckets
 * (input versioned, two pages of versions), the course part 1's stage-1 bucket (no stack's). */
function failedFirstCreate() {
  for (const m of [cfn, s3, lambda, sts]) m.reset();
  stackDeleted = false;
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/student` });
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (stackDeleted || !['FaceRec', STACK_ID].includes(input.StackName)) {
      throw awsError('ValidationError', 400, `Stack with id ${input.StackName} does not exist`);
    }
    return {
      Stacks: [
        {
          StackName: 'FaceRec',
          StackId: STACK_ID,
          StackStatus: 'ROLLBACK_COMPLETE',
          CreationTime: new Date(),
        },
      ],
    };
  });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  cfn.on(DeleteStackCommand).callsFake(() => {
    stackDeleted = true;
    return {};
  });
  s3.on(ListBucketsCommand).resolves({
    Buckets: ['team7-input', 'team7-meta', 'team7-stage-1', 'elsewhere-bucket'].map((Name) => ({
      Name,
      BucketRegion: REGION,
    })),
  });
  s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
  s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));
  s3.on(GetBucketTaggingCommand, { Bucket: 'team7-input' }).resolves(tagged('FaceRec'));
  s3.on(GetBucketTaggingCommand, { Bucket: 'team7-meta' }).resolves(tagged('FaceRec'));
  s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
  s3.on(ListObjectVersionsCommand, { Bucket: 'team7-input', KeyMarker: undefined }).resolves({
    Versions: [
      { Key: 'a.mp4', VersionId: 'v1' },
      { Key: 'a.mp4', VersionId: 'v2' },
    ],
    DeleteMarkers: [{ Key: 'b.mp4', VersionId: 'd1' }],
    IsTruncated: true,
    NextKeyMarker: 'b.mp4',
    NextVersionIdMarker: 'd1',
  });
  s3.on(ListObjectVersionsCommand, { Bucket: 'team7-input', KeyMarker: 'b.mp4' }).resolves({
    Versions: [{ Key: 'c.mp4', VersionId: 'null' }],
    IsTruncated: false,
  });
  s3.on(ListMultipartUploadsCommand).resolves({ IsTruncated: false });
  s3.on(ListMultipartUploadsCommand, { Bucket: 'team7-input' }).resolves({
    Uploads: [{ Key: 'big.mp4', UploadId: 'u1' }],
    IsTruncated: false,
  });
  s3.on(DeleteObjectsCommand).resolves({});
  s3.on(DeleteBucketCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
  lambda.on(GetFunctionCommand).rejects(awsError('ResourceNotFoundException', 404));
  lambda.on(DeleteFunctionCommand).resolves({});
}

const plan = () =>
  plannedDeployment(
    readSettings((k) => ({ prefix: 'team7' })[k as 'prefix']),
    { stackName: 'FaceRec', account: ACCOUNT, region: REGION },
  );

const deletions = () => ({
  stacks: cfn.commandCalls(DeleteStackCommand).length,
  buckets: s3.commandCalls(DeleteBucketCommand).map((c) => c.args[0].input.Bucket),
  objects: s3.commandCalls(DeleteObjectsCommand).length,
  functions: lambda.commandCalls(DeleteFunctionCommand).length,
});

beforeAll(() => {
  aws = clientsFor(REGION);
});
afterAll(() => aws.close());
beforeEach(failedFirstCreate);

test('after a failed first create: the stack and the two buckets it kept go; the bucket it did not make stays', async () => {
  const p = await planTeardown({ aws, plan: plan() });
  expect(p.stack?.status).toBe('ROLLBACK_COMPLETE');
  expect(p.buckets).toEqual([
    { name: 'team7-input', reason: 'created by stack FaceRec', entries: 4, more: false },
    { name: 'team7-meta', reason: 'created by stack FaceRec', entries: 0, more: false },
  ]);
  expect(p.kept).toEqual([
    { name: 'team7-stage-1', reason: 'not made by this stack (add --bucket team7-stage-1 to delete it too)' },
  ]);
  expect(describePlan(p)).toEqual([
    'delete stack FaceRec (ROLLBACK_COMPLETE) in us-east-1: its functions, state machine, queues, roles, log groups and alarms',
    'empty and delete bucket team7-input: created by stack FaceRec; 4 objects and versions',
    'empty and delete bucket team7-meta: created by stack FaceRec; empty',
  ]);
  // Planning deletes nothing.
  expect(deletions()).toEqual({ stacks: 0, buckets: [], objects: 0, functions: 0 });
});

test('carrying it out: the stack first, then every version and delete marker and unfinished upload, then the bucket', async () => {
  const lines: string[] = [];
  await executeTeardown(aws, await planTeardown({ aws, plan: plan() }), { log: (l) => lines.push(l) });
  expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).toEqual({ StackName: STACK_ID });
  const deleted = s3
    .commandCalls(DeleteObjectsCommand)
    .filter((c) => c.args[0].input.Bucket === 'team7-input')
    .flatMap((c) => c.args[0].input.Delete!.Objects!);
  expect(deleted).toEqual([
    { Key: 'a.mp4', VersionId: 'v1' },
    { Key: 'a.mp4', VersionId: 'v2' },
    { Key: 'b.mp4', VersionId: 'd1' },
    { Key: 'c.mp4', VersionId: 'null' },
  ]);
  expect(s3.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({
    Bucket: 'team7-input',
    Key: 'big.mp4',
    UploadId: 'u1',
  });
  expect(deletions().buckets).toEqual(['team7-input', 'team7-meta']);
  expect(lines).toEqual([
    'deleting stack FaceRec ...',
    'deleted stack FaceRec',
    'deleted bucket team7-input (4 objects and versions)',
    'deleted bucket team7-meta (0 objects and versions)',
  ]);
});

test('a bucket and a function the stack did not make go only when named', async () => {
  lambda
    .on(GetFunctionCommand, { FunctionName: 'video-splitting' })
    .resolves({ Configuration: {}, Tags: {} });
  const p = await planTeardown({
    aws,
    plan: plan(),
    buckets: ['team7-stage-1'],
    functions: ['video-splitting', 'gone'],
  });
  expect(p.buckets.map((b) => [b.name, b.reason])).toContainEqual(['team7-stage-1', 'named by you']);
  expect(p.kept).toEqual([]);
  expect(p.functions).toEqual([{ name: 'video-splitting', reason: 'named by you' }]);
  expect(p.notFound).toEqual(['gone']);
});

test("another account's bucket, even named, is refused before anything is deleted", async () => {
  s3.on(HeadBucketCommand, { Bucket: 'their-bucket' }).rejects(awsError('Forbidden', 403));
  await expect(planTeardown({ aws, plan: plan(), buckets: ['their-bucket'] })).rejects.toThrow(
    /bucket their-bucket is not in this account \(S3 answered 403\): nothing was deleted/,
  );
});

test('an operation in progress on the stack: refused, nothing deleted', async () => {
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'FaceRec',
        StackId: STACK_ID,
        StackStatus: 'UPDATE_IN_PROGRESS',
        CreationTime: new Date(),
      },
    ],
  });
  await expect(planTeardown({ aws, plan: plan() })).rejects.toThrow(/UPDATE_IN_PROGRESS: wait/);
});

describe("the command: nothing is deleted without the user's word", () => {
  const flags = (over: object = {}) => ({
    aws: true,
    region: REGION,
    prefix: 'team7',
    context: [],
    bucket: [],
    function: [],
    ...over,
  });
  function io(answer?: string): Io & { text: () => string } {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    err.on('data', (b: Buffer) => (text += b.toString()));
    return { out, err, ask: answer === undefined ? undefined : async () => answer, text: () => text };
  }

  test('no terminal and no --yes: the list, then "Nothing deleted", exit 1', async () => {
    const t = io();
    expect(await teardownCommand(flags(), t)).toBe(1);
    expect(t.text()).toMatch(/kept: bucket team7-stage-1: not made by this stack/);
    expect(t.text()).toMatch(
      /- empty and delete bucket team7-input: created by stack FaceRec; 4 objects and versions/,
    );
    expect(t.text()).toMatch(/Nothing deleted: no terminal to ask on\. Run again with --yes/);
    expect(deletions()).toEqual({ stacks: 0, buckets: [], objects: 0, functions: 0 });
  });

  test('asked, and the answer is not "yes": nothing deleted', async () => {
    for (const answer of ['', 'no', 'y', 'YES please']) {
      expect(await teardownCommand(flags(), io(answer))).toBe(1);
    }
    expect(deletions()).toEqual({ stacks: 0, buckets: [], objects: 0, functions: 0 });
  });

  test('--dry-run: the list only', async () => {
    const t = io('yes');
    expect(await teardownCommand(flags({ dryRun: true }), t)).toBe(0);
    expect(t.text()).toMatch(/--dry-run: nothing deleted/);
    expect(deletions()).toEqual({ stacks: 0, buckets: [], objects: 0, functions: 0 });
  });

  test('"yes" at the prompt, or --yes: deleted as listed, and no more', async () => {
    const t = io('yes');
    expect(await teardownCommand(flags(), t)).toBe(0);
    expect(deletions()).toEqual({
      stacks: 1,
      buckets: ['team7-input', 'team7-meta'],
      objects: 2,
      functions: 0,
    });
    expect(t.text()).toMatch(/Done\.\n$/);
    failedFirstCreate();
    expect(await teardownCommand(flags({ yes: true }), io())).toBe(0);
    expect(deletions().buckets).toEqual(['team7-input', 'team7-meta']);
  });

  test('nothing left: says so, deletes nothing', async () => {
    stackDeleted = true;
    s3.on(ListBucketsCommand).resolves({ Buckets: [] });
    const t = io('yes');
    expect(await teardownCommand(flags(), t)).toBe(0);
    expect(t.text()).toMatch(/Nothing to delete\./);
    expect(deletions()).toEqual({ stacks: 0, buckets: [], objects: 0, functions: 0 });
  });
});
