/**
 * IAM on the local endpoints (issue 19 point 3), with the policies the CDK app synthesizes
 * (infra/aws/facerec-stack.ts through infra/local/iam/synth.ts): the real local S3 server answers
 * a request signed with a function's credentials as AWS would for that function's role, including
 * the 403 for a missing key when the role may not list the bucket; any other caller is the admin.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#functions/aws/clients.js';
import { bucketNames } from '#functions/core/layout.js';
import { IamEvaluator } from '#infra/local/iam/evaluate.js';
import { accessKeyOf, LocalIdentities, type RoleCredentials } from '#infra/local/iam/identities.js';
import { loadPolicySet } from '#infra/local/iam/policy-cache.js';
import {
  LOCAL_ACCOUNT,
  localPolicySource,
  withoutStatement,
  type PolicySet,
  type RoleName,
} from '#infra/local/iam/policy-set.js';
import { s3Authorizer } from '#infra/local/iam/s3-auth.js';
import { sfnAuthorizer } from '#infra/local/iam/sfn-auth.js';
import { startLocalS3, type LocalS3 } from '#infra/local/s3/service.js';
import { tempDir } from '#test/support/videos.js';

const buckets = bucketNames('iamtest');
const region = 'us-east-1';
const fnArn = (n: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:iamtest-${n}`;
const stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:iamtest-pipeline`;

let set: PolicySet;
let s3: LocalS3;
const identities = new LocalIdentities();
let evaluator: IamEvaluator;

const clientOf = (c?: RoleCredentials) =>
  new S3Client({
    ...s3ClientConfig({ region, s3Endpoint: s3.url, s3ForcePathStyle: true }),
    maxAttempts: 1,
    credentials: c
      ? {
          accessKeyId: c.AWS_ACCESS_KEY_ID,
          secretAccessKey: c.AWS_SECRET_ACCESS_KEY,
          sessionToken: c.AWS_SESSION_TOKEN,
        }
      : { accessKeyId: 'anyone', secretAccessKey: 'anything' },
  });
const as = (role: RoleName) => clientOf(identities.credentials(role));
const admin = () => clientOf();

/** The HTTP status and error code of a request. */
async function status(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '200';
  } catch (err) {
    const e = err as S3ServiceException;
    return `${e.$metadata?.httpStatusCode} ${e.name}`;
  }
}

beforeAll(async () => {
  ({ set } = await loadPolicySet(localPolicySource('iamtest', 'default', region)));
  evaluator = new IamEvaluator(set);
  s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: tempDir('facerec-iam-s3-'),
    buckets,
    onInputEvent: () => undefined,
    authorize: s3Authorizer(identities, evaluator),
  });
  await admin().send(new PutObjectCommand({ Bucket: buckets.input, Key: 'clip.mp4', Body: 'video' }));
  await admin().send(
    new PutObjectCommand({ Bucket: buckets.stage1, Key: 'clip/frame-0000.jpg', Body: 'jpeg' }),
  );
}, 120_000);

afterAll(async () => {
  await s3?.close();
});

test('the policies are the synthesized stack roles, resolved to the local names', () => {
  const statements = (role: RoleName) => set.roles[role].policies.flatMap((p) => p.document.Statement);
  expect(statements('splitter')).toContainEqual(
    expect.objectContaining({
      Sid: 'WriteFrames',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${buckets.stage1}/*`,
    }),
  );
  expect(statements('starter')).toContainEqual(
    expect.objectContaining({
      Sid: 'StartPipeline',
      Action: 'states:StartExecution',
      Resource: stateMachineArn,
    }),
  );
  expect(statements('stateMachine')).toContainEqual(
    expect.objectContaining({
      Sid: 'InvokePipelineFunctions',
      Resource: [fnArn('recognition'), fnArn('result'), fnArn('splitter')],
    }),
  );
  // The buckets' own policies (deny plain HTTP) are evaluated too.
  expect(Object.keys(set.bucketPolicies).sort()).toEqual(Object.values(buckets).sort());
});

test('each role may do what its grants say on the local S3 server, and nothing else', async () => {
  const got = {
    splitterReadsVideo: await status(
      as('splitter').send(new GetObjectCommand({ Bucket: buckets.input, Key: 'clip.mp4' })),
    ),
    splitterWritesFrame: await status(
      as('splitter').send(
        new PutObjectCommand({ Bucket: buckets.stage1, Key: 'clip/frame-0001.jpg', Body: 'x' }),
      ),
    ),
    splitterWritesInput: await status(
      as('splitter').send(new PutObjectCommand({ Bucket: buckets.input, Key: 'other.mp4', Body: 'x' })),
    ),
    recognitionReadsFrame: await status(
      as('recognition').send(new GetObjectCommand({ Bucket: buckets.stage1, Key: 'clip/frame-0000.jpg' })),
    ),
    recognitionReadsVideo: await status(
      as('recognition').send(new GetObjectCommand({ Bucket: buckets.input, Key: 'clip.mp4' })),
    ),
    recognitionListsFrames: await status(
      as('recognition').send(new ListObjectsV2Command({ Bucket: buckets.stage1 })),
    ),
    resultWritesOutput: await status(
      as('result').send(new PutObjectCommand({ Bucket: buckets.output, Key: 'clip.txt', Body: 'x' })),
    ),
    adminWritesAnywhere: await status(
      admin().send(new PutObjectCommand({ Bucket: buckets.input, Key: 'seed.mp4', Body: 'x' })),
    ),
  };
  expect(got).toEqual({
    splitterReadsVideo: '200',
    splitterWritesFrame: '200',
    splitterWritesInput: '403 AccessDenied',
    recognitionReadsFrame: '200',
    recognitionReadsVideo: '403 AccessDenied',
    recognitionListsFrames: '403 AccessDenied',
    resultWritesOutput: '200',
    adminWritesAnywhere: '200',
  });
});

test('keys holding line breaks or escapes are allowed as any other key (IAM wildcards match every character)', async () => {
  const key = 'evil\n\u001b[32mdone    forged.mp4\r\u2028\n.mp4';
  await admin().send(new PutObjectCommand({ Bucket: buckets.input, Key: key, Body: 'x' }));
  expect(await status(as('splitter').send(new GetObjectCommand({ Bucket: buckets.input, Key: key })))).toBe(
    '200',
  );
  expect(await status(as('starter').send(new HeadObjectCommand({ Bucket: buckets.input, Key: key })))).toBe(
    '200',
  );
  // Still denied where the role has no grant, whatever the key.
  expect(
    await status(as('recognition').send(new GetObjectCommand({ Bucket: buckets.input, Key: key }))),
  ).toBe('403 AccessDenied');
});

test('a missing key answers 403 to a role that may not list the bucket, 404 to one that may', async () => {
  const missing = { Bucket: buckets.stage1, Key: 'clip/frame-9999.jpg' };
  expect(await status(as('recognition').send(new GetObjectCommand(missing)))).toBe('403 AccessDenied');
  // HeadObject's 403 has no body (as on AWS): only its status tells.
  expect(await status(as('recognition').send(new HeadObjectCommand(missing)))).toMatch(/^403 /);
  // The gallery: recognition may list the meta bucket (TellMissingGallery), so no gallery yet is a 404.
  expect(
    await status(
      as('recognition').send(new GetObjectCommand({ Bucket: buckets.meta, Key: 'gallery/gallery.json' })),
    ),
  ).toBe('404 NoSuchKey');
  expect(await status(admin().send(new GetObjectCommand(missing)))).toBe('404 NoSuchKey');
  // The same role, its ListBucket grant removed: the missing gallery becomes a 403.
  const without = new IamEvaluator(withoutStatement(set, 'recognition', 'TellMissingGallery'));
  const decide = await without.decide({
    role: 'recognition',
    action: 's3:ListBucket',
    resource: `arn:aws:s3:::${buckets.meta}`,
  });
  expect(decide.allowed).toBe(false);
});

test('the Step Functions endpoint: the starter may start executions of its state machine, not read them', async () => {
  const authorize = sfnAuthorizer(identities, evaluator);
  const headers = (role: RoleName) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=${identities.credentials(role).AWS_ACCESS_KEY_ID}/20260101/${region}/states/aws4_request, SignedHeaders=host, Signature=0`,
  });
  await expect(authorize(headers('starter'), 'StartExecution', { stateMachineArn })).resolves.toBeUndefined();
  await expect(
    authorize(headers('starter'), 'DescribeExecution', {
      executionArn: `${stateMachineArn.replace('stateMachine', 'execution')}:x`,
    }),
  ).rejects.toMatchObject({ type: 'AccessDeniedException', status: 400 });
  await expect(authorize(headers('result'), 'StartExecution', { stateMachineArn })).rejects.toMatchObject({
    type: 'AccessDeniedException',
    message: expect.stringContaining(
      'assumed-role/iamtest-result-role/iamtest-result is not authorized to perform: states:StartExecution',
    ),
  });
  // Unknown keys and unsigned requests are the administrator (the CLI user).
  await expect(authorize({}, 'ListExecutions', { stateMachineArn })).resolves.toBeUndefined();
  expect(accessKeyOf({ authorization: headers('starter').authorization })).toBe(
    identities.credentials('starter').AWS_ACCESS_KEY_ID,
  );
});

test('decisions are cached by which policy patterns a resource matches: every key decides as a fresh evaluation does, hostile keys included, and a frame key decides for every other', async () => {
  const keys = [
    'clip.mp4',
    'clip/frame-0000.jpg',
    'clip/segments/0.json',
    'clip/map-run/abc/manifest.json',
    'clip/frames.json',
    'errors/clip.json',
    'gallery/gallery.json',
    'gallery/gallery.json.bak',
    'a*b?c',
    'line\nbreak/segments/x',
    'colon:in/frames.json',
    'ünï/çødé/map-run/x',
    '../up/../frames.json',
    `${'x'.repeat(900)}/frames.json`,
  ];
  const actions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
  const roles = Object.keys(set.roles) as RoleName[];
  const shared = new IamEvaluator(set);
  const requests = roles.flatMap((role) =>
    Object.values(buckets).flatMap((bucket) =>
      actions.flatMap((action) =>
        keys.map((key) => ({
          role,
          action,
          resource: `arn:aws:s3:::${bucket}/${key}`,
          resourcePolicy: set.bucketPolicies[bucket],
        })),
      ),
    ),
  );
  let allowed = 0;
  for (const req of requests) {
    const cached = await shared.decide(req);
    // A new evaluator has nothing cached: the policy evaluator's own answer.
    expect({ req, ...cached }).toEqual({ req, ...(await new IamEvaluator(set).decide(req)) });
    if (cached.allowed) allowed++;
  }
  // Both answers occur (the comparison means something), and the cache holds far fewer outcomes
  // than there were requests.
  expect(allowed).toBeGreaterThan(20);
  expect(allowed).toBeLessThan(requests.length - 20);
  expect(shared.outcomesCached).toBeLessThan(requests.length / 3);

  const frames = new IamEvaluator(set);
  for (let i = 0; i < 200; i++) {
    const d = await frames.decide({
      role: 'recognition',
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${buckets.stage1}/clip-${i}/frame-${String(i).padStart(4, '0')}.jpg`,
      resourcePolicy: set.bucketPolicies[buckets.stage1],
    });
    expect(d.allowed).toBe(true);
  }
  expect(frames.outcomesCached).toBe(1);
}, 300_000);
