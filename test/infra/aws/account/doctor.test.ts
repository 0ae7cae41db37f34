/**
 * `facerec doctor --aws`: each finding, from mocked SDK clients answering as AWS does (a fresh
 * account, last month's leftovers, another account's bucket, a failed first create, a new
 * account's concurrency quota of 10, ...).
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetAccountSettingsCommand,
  GetFunctionCommand,
  LambdaClient,
  ListLayersCommand,
} from '@aws-sdk/client-lambda';
import {
  PutObjectCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PassThrough } from 'node:stream';
import { commandSession, doctorCommand } from '#cli/commands/doctor.js';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientsFor, openAccess, type AwsAccess } from '#infra/aws/account/access.js';
import { plannedDeployment } from '#infra/aws/account/deployment.js';
import { exitCodeOf, runDoctor, type Finding } from '#infra/aws/account/doctor.js';
import { readSettings } from '#infra/aws/settings.js';
import { LAMBDA_RUNTIME_NAME } from '#infra/aws/bundling/lambda-runtime.js';
import { awsError } from '#test/support/lambda.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);
let aws: AwsAccess;

const notFound = (what: string) => awsError('ValidationError', 400, `Stack with id ${what} does not exist`);

/** A fresh account: bootstrapped, nothing of ours, a roomy quota. */
function freshAccount() {
  cfn.reset();
  s3.reset();
  lambda.reset();
  sts.reset();
  cfn.on(DescribeStacksCommand).rejects(notFound('FaceRec'));
  cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
    Stacks: [
      {
        StackName: 'CDKToolkit',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: 'BootstrapVersion', OutputValue: '29' },
          { OutputKey: 'BucketName', OutputValue: 'cdk-hnb659fds-assets-123456789012-us-east-1' },
        ],
      },
    ],
  });
  s3.on(ListBucketsCommand).resolves({ Buckets: [] });
  s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
  s3.on(HeadBucketCommand, { Bucket: 'cdk-hnb659fds-assets-123456789012-us-east-1' }).resolves({});
  lambda.on(ListLayersCommand).resolves({ Layers: [] });
  lambda.on(GetAccountSettingsCommand).resolves({
    AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 },
  });
  lambda.on(GetFunctionCommand).rejects(awsError('ResourceNotFoundException', 404));
}

async function doctor(context: Record<string, string> = {}, over: { configuredRegion?: string } = {}) {
  const settings = readSettings((k) => ({ prefix: 'team7', ...context })[k]);
  const plan = plannedDeployment(settings, { stackName: 'FaceRec', account: ACCOUNT, region: REGION });
  return runDoctor({
    aws,
    identity: { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/student` },
    plan,
    regionSource: '--region',
    ...over,
  });
}

const about = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);
const one = (findings: Finding[], check: string) => {
  const found = about(findings, check);
  expect(found).toHaveLength(1);
  return found[0];
};

beforeAll(() => {
  aws = clientsFor(REGION);
});
afterAll(() => aws.close());
beforeEach(freshAccount);

test('a fresh, bootstrapped account: every check passes and the exit code is 0', async () => {
  const f = await doctor();
  expect(f.filter((x) => x.level !== 'ok')).toEqual([]);
  expect(one(f, 'credentials').summary).toContain(`account ${ACCOUNT}`);
  expect(one(f, 'runtime').summary).toBe(`Lambda offers ${LAMBDA_RUNTIME_NAME} in us-east-1`);
  expect(one(f, 'bootstrap').summary).toBe('bootstrapped (CDKToolkit version 29)');
  expect(one(f, 'stack FaceRec').summary).toMatch(/not deployed yet/);
  for (const b of ['team7-input', 'team7-stage-1', 'team7-output', 'team7-meta']) {
    expect(one(f, `bucket ${b}`).summary).toBe('free: the stack creates it');
  }
  expect(exitCodeOf(f)).toBe(0);
  expect(lambda.commandCalls(ListLayersCommand)[0].args[0].input).toMatchObject({
    CompatibleRuntime: LAMBDA_RUNTIME_NAME,
  });
});

describe('CDK bootstrap', () => {
  test('no CDKToolkit stack: fail, with the bootstrap command for this account and region', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).rejects(notFound('CDKToolkit'));
    const f = one(await doctor(), 'bootstrap');
    expect(f).toMatchObject({
      level: 'fail',
      fix: `\`npx cdk bootstrap aws://${ACCOUNT}/${REGION}\` (once per account and region)`,
    });
  });

  test('an old bootstrap version: fail, bootstrap again upgrades it', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '4' }],
        },
      ],
    });
    expect(one(await doctor(), 'bootstrap')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/version 4: this app needs 6 or later/),
    });
  });

  test('a staging bucket deleted by hand: fail, with how to rebuild the bootstrap', async () => {
    s3.on(HeadBucketCommand, { Bucket: 'cdk-hnb659fds-assets-123456789012-us-east-1' }).rejects(
      awsError('NotFound', 404),
    );
    expect(one(await doctor(), 'bootstrap')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(
        /staging bucket cdk-hnb659fds-assets-123456789012-us-east-1 was deleted/,
      ),
      fix: expect.stringMatching(/delete the CDKToolkit stack, then `npx cdk bootstrap/),
    });
  });
});

describe('the stack and names already taken', () => {
  test('a failed first create (ROLLBACK_COMPLETE) with its retained buckets: each said plainly, teardown as the fix', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'FaceRec' }).resolves({
      Stacks: [
        {
          StackName: 'FaceRec',
          StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/FaceRec/1',
          StackStatus: 'ROLLBACK_COMPLETE',
          CreationTime: new Date(),
        },
      ],
    });
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'team7-input', BucketRegion: REGION },
        { Name: 'team7-meta', BucketRegion: REGION },
      ],
    });
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'aws:cloudformation:stack-name', Value: 'FaceRec' }],
    });
    const f = await doctor();
    expect(one(f, 'stack FaceRec')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/^ROLLBACK_COMPLETE: its first create failed/),
      fix: expect.stringMatching(/^`facerec teardown --aws`/),
    });
    expect(one(f, 'bucket team7-input')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/a leftover of an earlier FaceRec stack/),
      fix: expect.stringMatching(/facerec teardown --aws.*-c adoptBuckets=input/),
    });
    expect(one(f, 'bucket team7-meta').fix).toMatch(/-c adoptBuckets=meta/);
    expect(one(f, 'bucket team7-output').level).toBe('ok');
    expect(exitCodeOf(f)).toBe(1);
  });

  test('a deployed stack: its own buckets are fine, an update keeps them', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'FaceRec' }).resolves({
      Stacks: [
        { StackName: 'FaceRec', StackId: 'id', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() },
      ],
    });
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: ['input', 'stage-1', 'output', 'meta'].map((r) => ({
        LogicalResourceId: r,
        ResourceType: 'AWS::S3::Bucket',
        PhysicalResourceId: `team7-${r}`,
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      })),
    });
    s3.on(ListBucketsCommand).resolves({
      Buckets: ['input', 'stage-1', 'output', 'meta'].map((r) => ({
        Name: `team7-${r}`,
        BucketRegion: REGION,
      })),
    });
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'aws:cloudformation:stack-name', Value: 'FaceRec' }],
    });
    const f = await doctor();
    expect(one(f, 'stack FaceRec')).toMatchObject({
      level: 'ok',
      summary: 'UPDATE_COMPLETE: cdk deploy updates it',
    });
    expect(one(f, 'bucket team7-input')).toMatchObject({
      level: 'ok',
      summary: 'part of stack FaceRec: an update keeps it',
    });
    expect(exitCodeOf(f)).toBe(0);
  });

  test("another account's bucket, one of yours made by hand, one made by another stack", async () => {
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'team7-stage-1', BucketRegion: REGION },
        { Name: 'team7-meta', BucketRegion: REGION },
      ],
    });
    s3.on(GetBucketTaggingCommand, { Bucket: 'team7-stage-1' }).rejects(awsError('NoSuchTagSet', 404));
    s3.on(GetBucketTaggingCommand, { Bucket: 'team7-meta' }).resolves({
      TagSet: [{ Key: 'aws:cloudformation:stack-name', Value: 'Other' }],
    });
    s3.on(HeadBucketCommand, { Bucket: 'team7-output' }).rejects(awsError('Forbidden', 403));
    const f = await doctor();
    expect(one(f, 'bucket team7-output')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/taken by another AWS account .*answered 403/),
      fix: expect.stringMatching(/choose another prefix/),
    });
    expect(one(f, 'bucket team7-stage-1')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/yours, made outside this stack/),
      fix: expect.stringMatching(/-c adoptBuckets=stage-1.*facerec teardown --aws --bucket team7-stage-1/),
    });
    expect(one(f, 'bucket team7-meta').summary).toMatch(/made by another stack \(Other\)/);
    expect(one(f, 'bucket team7-input').level).toBe('ok');
  });

  test("the course profile's fixed function names: a leftover video-splitting from part 1 is named, with two ways out", async () => {
    lambda.on(GetFunctionCommand, { FunctionName: 'video-splitting' }).resolves({
      Configuration: { FunctionName: 'video-splitting', Runtime: 'python3.12' },
      Tags: {},
    });
    const f = await doctor({ profile: 'cse546-p2' });
    expect(one(f, 'function video-splitting')).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/exists already \(made outside this stack.*python3\.12\)/),
      fix: expect.stringMatching(
        /facerec teardown --aws --function video-splitting.*-c splitterFunctionName=auto/,
      ),
    });
    expect(one(f, 'function face-recognition').level).toBe('ok');
    // The default profile names no function: nothing to check.
    expect(about(await doctor(), 'function video-splitting')).toEqual([]);
  });
});

describe('adopted buckets (-c adoptBuckets)', () => {
  beforeEach(() => {
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'team7-input', BucketRegion: REGION }] });
    s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));
  });

  test('present, in the region, its own notifications kept: ok', async () => {
    s3.on(GetBucketNotificationConfigurationCommand).resolves({
      LambdaFunctionConfigurations: [
        {
          Id: 'thumbnails',
          LambdaFunctionArn: 'arn:aws:lambda:us-east-1:1:function:thumbs',
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.png' }] } },
        },
      ],
    });
    const f = about(await doctor({ adoptBuckets: 'input' }), 'bucket team7-input');
    expect(f.map((x) => x.level)).toEqual(['ok', 'ok']);
    expect(f[1].summary).toMatch(/its 1 notification\(s\) stay; ours are added beside them/);
  });

  test('an existing rule on every upload (the course part 1 trigger) would clash: fail, naming it', async () => {
    s3.on(GetBucketNotificationConfigurationCommand).resolves({
      LambdaFunctionConfigurations: [
        {
          Id: 'part1-trigger',
          LambdaFunctionArn: 'arn:aws:lambda:us-east-1:1:function:video-splitting',
          Events: ['s3:ObjectCreated:Put'],
        },
      ],
    });
    const f = about(await doctor({ adoptBuckets: 'input' }), 'bucket team7-input');
    expect(f[1]).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/"part1-trigger" \(to .*video-splitting\) overlaps/),
    });
  });

  test('missing, or in another region: fail', async () => {
    const missing = one(await doctor({ adoptBuckets: 'output' }), 'bucket team7-output');
    expect(missing).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/to be adopted .* but it does not exist/),
    });
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'team7-input', BucketRegion: 'eu-west-1' }] });
    const far = one(await doctor({ adoptBuckets: 'input' }), 'bucket team7-input');
    expect(far).toMatchObject({
      level: 'fail',
      summary: expect.stringMatching(/it is in eu-west-1 and the stack goes to us-east-1/),
    });
  });
});

test('credentials but no region anywhere: a message that says how to give one', async () => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: 'arn:aws:iam::123456789012:user/x' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facerec-noregion-'));
  const saved = { ...process.env };
  try {
    for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    await expect(openAccess({})).rejects.toThrow(
      /No AWS region: AWS_REGION is unset and the default profile names none\.\n {2}Fix: pass --region us-east-1/,
    );
  } finally {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('concurrency, runtime, region', () => {
  test("a new account's quota of 10: a warning that says what throttles and how to ask for more", async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const f = one(await doctor(), 'concurrency');
    expect(f.level).toBe('warn');
    expect(f.summary).toMatch(
      /^10 concurrent Lambda executions for the whole account in us-east-1: one video's Map runs up to 10 recognitions at once, so a single video fills it/,
    );
    expect(f.summary).toMatch(/throttled \(TooManyRequestsException\) and retried/);
    expect(f.fix).toMatch(/--quota-code L-B99A9384 --desired-value 1000 --region us-east-1/);
    expect(f.fix).toMatch(/lower -c mapMaxConcurrency \(e\.g\. 3\)/);
  });

  test('a region whose Lambda does not offer the runtime: fail', async () => {
    lambda
      .on(ListLayersCommand)
      .rejects(awsError('InvalidParameterValueException', 400, `Unsupported runtime ${LAMBDA_RUNTIME_NAME}`));
    expect(one(await doctor(), 'runtime')).toMatchObject({
      level: 'fail',
      fix: expect.stringMatching(/-c region=us-east-1/),
    });
  });

  test("the CLI's default region differs from where the stack goes: said, as information", async () => {
    const f = about(await doctor({}, { configuredRegion: 'eu-central-1' }), 'region');
    expect(f[1]).toMatchObject({
      level: 'info',
      summary: "your AWS CLI's default region is eu-central-1; this stack goes to us-east-1",
    });
  });

  test('the stack cannot be read: one warning, no claim that it is not deployed', async () => {
    cfn
      .on(DescribeStacksCommand, { StackName: 'FaceRec' })
      .rejects(awsError('AccessDenied', 403, 'not authorized to perform cloudformation:DescribeStacks'));
    const f = await doctor();
    expect(one(f, 'stack FaceRec')).toMatchObject({
      level: 'warn',
      summary: expect.stringMatching(/^could not check: AccessDenied/),
      fix: expect.stringMatching(/AdministratorAccess/),
    });
    expect(one(f, 'bootstrap').level).toBe('ok');
  });

  test('a check the identity may not make is a warning, and the others still run', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .rejects(
        awsError('AccessDeniedException', 403, 'User is not authorized to perform lambda:GetAccountSettings'),
      );
    const f = await doctor();
    expect(one(f, 'concurrency')).toMatchObject({
      level: 'warn',
      summary: expect.stringMatching(/^could not check: AccessDeniedException/),
    });
    expect(one(f, 'bootstrap').level).toBe('ok');
    expect(exitCodeOf(f)).toBe(0);
  });
});

describe('the command', () => {
  beforeEach(() => {
    sts.reset();
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/student` });
  });
  const flags = (over: object = {}) => ({
    aws: true,
    region: REGION,
    prefix: 'team7',
    context: [],
    timeout: 60,
    ...over,
  });
  function sink() {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    return { out, text: () => text };
  }

  test('prints each finding with its fix and exits 1 when something would stop the deploy', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).rejects(notFound('CDKToolkit'));
    const s = sink();
    expect(await doctorCommand(flags(), s.out)).toBe(1);
    expect(s.text()).toMatch(
      /^facerec doctor: stack FaceRec, profile default, buckets team7-\*, account 123456789012, us-east-1/,
    );
    expect(s.text()).toMatch(
      /FAIL {2}bootstrap .*\n\s+fix: `npx cdk bootstrap aws:\/\/123456789012\/us-east-1`/,
    );
    expect(s.text()).toMatch(/1 problem would stop the deploy\.\n$/);
  });

  test('--smoke before any deploy: says to deploy first, uploads nothing, exit 1', async () => {
    const s = sink();
    expect(await doctorCommand(flags({ smoke: true }), s.out)).toBe(1);
    expect(s.text()).toMatch(
      /smoke: stack FaceRec is not deployed in us-east-1: deploy it first \(`npx cdk deploy`\)/,
    );
    expect(s3.commandCalls(PutObjectCommand)).toEqual([]);
  });

  test("--region that contradicts the deployment's region: refused before anything is asked of AWS", async () => {
    const err = await commandSession(
      { aws: true, region: 'eu-west-1', context: ['profile=cse546-p2'] },
      'doctor',
      new PassThrough(),
    );
    expect(err).toBe(2);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toEqual([]);
  });
});
