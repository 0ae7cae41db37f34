/**
 * `-c adoptBuckets=input,stage-1,output`: buckets that already exist (last month's, the course's
 * first part) are used by name instead of created; their settings and contents are not the
 * stack's, and the input bucket's upload notifications are added next to any it already has.
 * (Image packaging: the template is what matters here, not the bundles.)
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  logicalId,
  projectRoot,
  resources,
  statementsOfRole,
  synthesize,
  type Synthesized,
} from './support.js';

const PREFIX = 'adopt-test';
let s: Synthesized;

beforeAll(() => {
  s = synthesize({ prefix: PREFIX, packaging: 'image', adoptBuckets: 'input,stage-1,output' });
});
afterAll(() => s?.cleanup());

test('only the meta bucket is created; the adopted three are not resources of the stack', () => {
  const buckets = Object.values(resources(s.template, 'AWS::S3::Bucket')).map(
    (r) => r.Properties!.BucketName,
  );
  expect(buckets).toEqual([`${PREFIX}-meta`]);
  expect(Object.keys(s.stack.createdBuckets)).toEqual(['meta']);
  // Nothing can delete an adopted bucket or its objects on `cdk destroy`.
  s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
});

test("the upload notifications are merged into the adopted input bucket's own (Managed: false)", () => {
  const notifications = Object.values(resources(s.template, 'Custom::S3BucketNotifications'));
  expect(notifications).toHaveLength(1);
  expect(notifications[0].Properties).toMatchObject({
    BucketName: `${PREFIX}-input`,
    Managed: false,
    NotificationConfiguration: {
      QueueConfigurations: expect.arrayContaining([
        expect.objectContaining({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.mp4' }] } },
        }),
      ]),
    },
  });
});

test('the roles name the adopted buckets by their ARNs, as they would the created ones', () => {
  const splitter = statementsOfRole(s.template, logicalId(s.stack, s.stack.functions.splitter.role));
  const text = JSON.stringify(splitter);
  expect(text).toContain(`:s3:::${PREFIX}-input/*`);
  expect(text).toContain(`:s3:::${PREFIX}-stage-1/*`);
  const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
  expect(outputs.InputBucketName.Value).toBe(`${PREFIX}-input`);
  expect(outputs.Stage1BucketName.Value).toBe(`${PREFIX}-stage-1`);
});

test('cdk-nag passes: each adopted-bucket grant is acknowledged with its reason', () => {
  expect(s.nagViolations).toEqual([]);
});

test('an adopted stage-1 keeps its own lifecycle, and the synth says so', () => {
  Annotations.fromStack(s.stack).hasInfo(
    '*',
    Match.stringLikeRegexp(`${PREFIX}-stage-1 is adopted: its own lifecycle rules apply`),
  );
});

/** CDK's own notifications handler (the Python the custom resource runs), with a stand-in boto3
 * whose bucket already notifies the course's part-1 Lambda: what it writes back. */
function runNotificationsHandler(
  requestType: 'Create' | 'Delete',
  existing: object,
  props: { Managed?: unknown; NotificationConfiguration: object },
) {
  const handler = path.join(
    projectRoot,
    'node_modules/aws-cdk-lib/custom-resource-handlers/dist/aws-s3/notifications-resource-handler',
  );
  const script = `
import sys, json, types
existing, props, request_type = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
written = []
class S3:
    def get_bucket_notification_configuration(self, Bucket): return json.loads(json.dumps(existing))
    def put_bucket_notification_configuration(self, Bucket, NotificationConfiguration, SkipDestinationValidation): written.append(NotificationConfiguration)
sys.modules['boto3'] = types.SimpleNamespace(client=lambda name: S3())
sys.path.insert(0, ${JSON.stringify(handler)})
import index
event = {'RequestType': request_type, 'StackId': 'arn:aws:cloudformation:us-east-1:123456789012:stack/FaceRec/1',
  'ResponseURL': 'http://127.0.0.1:9/', 'RequestId': 'r', 'LogicalResourceId': 'n',
  'ResourceProperties': {'BucketName': 'b', **props}}
index.handler(event, types.SimpleNamespace(log_stream_name='-'))
print('@@' + json.dumps(written[-1]))
`;
  // CloudFormation hands a custom resource its properties as strings.
  const given = Object.fromEntries(
    Object.entries(props).map(([k, v]) => [k, typeof v === 'object' ? v : String(v)]),
  );
  const r = spawnSync(
    'python3',
    ['-c', script, JSON.stringify(existing), JSON.stringify(given), requestType],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('@@') + 2)) as Record<string, Array<{ Id?: string }>>;
}

const hasPython = spawnSync('python3', ['-c', 'import json, urllib.request']).status === 0;
(hasPython ? test : test.skip)(
  "CDK's handler keeps the bucket's other notifications when it adds ours, and removes only ours on delete",
  () => {
    const partOne = {
      Id: 'course-part-1',
      LambdaFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:video-splitting',
      Events: ['s3:ObjectCreated:*'],
    };
    const props = Object.values(resources(s.template, 'Custom::S3BucketNotifications'))[0].Properties!;
    const ours = props.NotificationConfiguration as { QueueConfigurations: unknown[] };
    // Tokens (the queue ARN) as CloudFormation would resolve them.
    const resolved = JSON.parse(
      JSON.stringify(props).replace(
        /\{"Fn::GetAtt":\["UploadEvents[^"]*","Arn"\]\}/g,
        '"arn:aws:sqs:us-east-1:1:q"',
      ),
    );
    const created = runNotificationsHandler('Create', { LambdaFunctionConfigurations: [partOne] }, resolved);
    expect(created.LambdaFunctionConfigurations).toEqual([partOne]);
    expect(created.QueueConfigurations).toHaveLength(ours.QueueConfigurations.length);

    const deleted = runNotificationsHandler('Delete', created, {
      ...resolved,
      NotificationConfiguration: {},
    });
    expect(deleted.LambdaFunctionConfigurations).toEqual([partOne]);
    expect(deleted.QueueConfigurations ?? []).toEqual([]);
  },
);
