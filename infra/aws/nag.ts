/**
 * cdk-nag AwsSolutions findings we accept, each on the one construct it concerns, for the one
 * finding id (for IAM5: the exact wildcard), with the reason.
 * Anything not acknowledged here stops `cdk synth` and fails `npm test`
 * (test/infra/nag.test.ts).
 */
import { Validations, type Stack } from 'aws-cdk-lib';
// The renderer cdk-nag uses for a finding's resource (not re-exported by its index).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import type { FunctionName } from '../../functions/core/facts.js';

/** cdk-nag v3 reports findings as `<pack>::<rule>[<finding>]`. */
const id = (rule: string) => `AwsSolutions::${rule}`;

const XRAY_REASON =
  'Resource "*" is for X-Ray tracing only (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets): ' +
  'these actions support no resource-level permissions. Every other statement of this role names its resources ' +
  '(asserted by test/infra/iam.test.ts).';

const STATE_MACHINE_STAR_REASON =
  'Resource "*" is for the CloudWatch Logs delivery actions Step Functions logging needs (logs:CreateLogDelivery, ' +
  'GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, ' +
  'DescribeLogGroups) and for X-Ray tracing; none of these supports resource-level permissions. ' +
  'lambda:InvokeFunction names the three functions (asserted by test/infra/iam.test.ts).';

const OBJECTS_REASON: Record<string, string> = {
  'starter:input':
    'The starter reads the metadata (HeadObject: content type) of whichever video was uploaded: keys are user-chosen, ' +
    'so s3:GetObject/GetObjectVersion must cover every object of <prefix>-input. Read only, only that bucket.',
  'splitter:input':
    'The splitter reads whichever video was uploaded: object keys are user-chosen, so s3:GetObject/GetObjectVersion ' +
    'must cover every object of <prefix>-input. Read only, only that bucket.',
  'splitter:stage1':
    'The splitter writes frames under keys derived from the video name (not known in advance) in <prefix>-stage-1. ' +
    'Only PutObject, only that bucket, which holds nothing else and expires its objects.',
  'recognition:stage1':
    'The recognition function reads the frames of any video from <prefix>-stage-1. Only GetObject, only that bucket.',
  'result:output':
    'The result function writes <video-stem>.txt (and .json) or errors/<video-stem>.json for any video name into ' +
    '<prefix>-output. Only PutObject, only that bucket.',
  'result:meta-errors':
    'In the cse546 profiles failure records go to <prefix>-meta under errors/ (the graders read every object of the ' +
    'output bucket): the result function writes errors/<video-stem>.json for any video name and deletes it after a ' +
    'later success. Only PutObject and DeleteObject, only under errors/ of <prefix>-meta.',
  'result:input':
    'Newest upload wins: before writing, the result function reads the metadata (HeadObject) of the current version ' +
    'of whichever video the execution is for (keys are user-chosen). Only GetObject, only <prefix>-input.',
  'splitter:segment-lists':
    'A long video is extracted in time segments, each listing its frames in <prefix>-stage-1 under ' +
    '<video-stem>/segments/ (stems not known in advance); the splitter merges those lists. Only GetObject, only ' +
    '*/segments/* of that bucket.',
  'result:map-run':
    "After the Distributed Map the result function reads its child executions' results, which the ResultWriter " +
    'puts under <video-stem>/map-run/ in <prefix>-stage-1. Only GetObject, only */map-run/* of that bucket.',
  'result:frame-lists':
    "After the Distributed Map the result function reads the frames' times from the frame list " +
    '<video-stem>/frames.json in <prefix>-stage-1. Only GetObject, only */frames.json of that bucket.',
  'state-machine:frame-lists':
    "The Distributed Map's ItemReader reads a long video's frame list, <video-stem>/frames.json in " +
    '<prefix>-stage-1 (stems not known in advance). Only GetObject, only */frames.json of that bucket.',
  'state-machine:map-run':
    "The Distributed Map's ResultWriter writes its child executions' results under <video-stem>/map-run/ in " +
    '<prefix>-stage-1 (PutObject, with the GetObject, ListMultipartUploadParts and AbortMultipartUpload its ' +
    'multipart writes need). Only */map-run/* of that bucket.',
  'state-machine:executions':
    'A Distributed Map starts child executions of this state machine whose ids are made at run time: ' +
    'DescribeExecution and StopExecution on execution:<this state machine>:* and RedriveExecution on its Map ' +
    "Run's children (execution:<this state machine>/<Label>:*), as CDK's DistributedMap grants them. No other " +
    'state machine.',
  'result:errors':
    'After a success the result function deletes the failure record of an earlier attempt, errors/<video-stem>.json, ' +
    'for any video name. Only DeleteObject, only under errors/ of <prefix>-output.',
};

const ACCESS_LOGS_REASON =
  'Server access logging is opt-in (-c accessLogs=true adds <prefix>-access-logs and logs all three buckets there). ' +
  'Off by default: it needs a fourth globally named bucket, and the pipeline itself writes and reads every frame, ' +
  'so the logs would mostly record its own traffic (a log record per frame). Object-level auditing is available ' +
  'account-wide with CloudTrail data events.';

export interface NagTargets {
  stack: Stack;
  buckets: { input: s3.IBucket; stage1: s3.IBucket; output: s3.IBucket; meta: s3.IBucket };
  /** The buckets the stack creates (adopted ones are not the stack's to configure). */
  createdBuckets: Partial<Record<'input' | 'stage1' | 'output' | 'meta', s3.Bucket>>;
  accessLogsBucket?: s3.Bucket;
  roles: Record<FunctionName, iam.Role>;
  stateMachine: sfn.StateMachine;
  /** The state machine's grants on its own executions (its Distributed Maps' children), and the
   * execution ARNs they name. */
  distributedMaps?: { policy: iam.Policy; executionArns: string[] };
}

function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: id(rule), reason });
}

/** The IAM5 finding of `bucket.arnForObjects(pattern)`, as cdk-nag renders it:
 * `Resource::<LogicalId.Arn>/<pattern>` for a bucket of the stack, the name's ARN for an adopted one. */
function objectsOf(stack: Stack, bucket: s3.IBucket, pattern = '*'): string {
  return resourceOf(stack, bucket.arnForObjects(pattern));
}

/** The IAM5 finding of an ARN as cdk-nag renders it (with the region written out when the stack
 * fixes it: `-c region=...`, the cse546 profiles). */
function resourceOf(stack: Stack, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`;
}

export function acknowledgeFindings(t: NagTargets): void {
  const { stack, buckets, roles } = t;

  for (const role of Object.values(roles)) acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', XRAY_REASON);
  acknowledge(roles.starter, objectsOf(stack, buckets.input), OBJECTS_REASON['starter:input']);
  acknowledge(roles.splitter, objectsOf(stack, buckets.input), OBJECTS_REASON['splitter:input']);
  acknowledge(roles.splitter, objectsOf(stack, buckets.stage1), OBJECTS_REASON['splitter:stage1']);
  acknowledge(roles.recognition, objectsOf(stack, buckets.stage1), OBJECTS_REASON['recognition:stage1']);
  acknowledge(roles.result, objectsOf(stack, buckets.output), OBJECTS_REASON['result:output']);
  acknowledge(roles.result, objectsOf(stack, buckets.output, 'errors/*'), OBJECTS_REASON['result:errors']);
  acknowledge(roles.result, objectsOf(stack, buckets.meta, 'errors/*'), OBJECTS_REASON['result:meta-errors']);
  acknowledge(roles.result, objectsOf(stack, buckets.input), OBJECTS_REASON['result:input']);

  acknowledge(t.stateMachine.role, 'AwsSolutions-IAM5[Resource::*]', STATE_MACHINE_STAR_REASON);
  if (t.distributedMaps) {
    const { policy, executionArns } = t.distributedMaps;
    acknowledge(
      roles.splitter,
      objectsOf(stack, buckets.stage1, '*/segments/*'),
      OBJECTS_REASON['splitter:segment-lists'],
    );
    acknowledge(
      roles.result,
      objectsOf(stack, buckets.stage1, '*/map-run/*'),
      OBJECTS_REASON['result:map-run'],
    );
    acknowledge(
      roles.result,
      objectsOf(stack, buckets.stage1, '*/frames.json'),
      OBJECTS_REASON['result:frame-lists'],
    );
    const smRole = t.stateMachine.role;
    acknowledge(
      smRole,
      objectsOf(stack, buckets.stage1, '*/frames.json'),
      OBJECTS_REASON['state-machine:frame-lists'],
    );
    acknowledge(
      smRole,
      objectsOf(stack, buckets.stage1, '*/map-run/*'),
      OBJECTS_REASON['state-machine:map-run'],
    );
    for (const arn of executionArns)
      acknowledge(policy, resourceOf(stack, arn), OBJECTS_REASON['state-machine:executions']);
  }

  if (t.accessLogsBucket) {
    acknowledge(
      t.accessLogsBucket,
      'AwsSolutions-S1',
      'This is the server access log destination; logging it into itself would loop.',
    );
  } else {
    for (const bucket of Object.values(t.createdBuckets))
      acknowledge(bucket, 'AwsSolutions-S1', ACCESS_LOGS_REASON);
  }

  // CDK's own singleton that applies the bucket's notification configuration at deploy time.
  const notificationsHandler = stack.node.children.find((c) =>
    c.node.id.startsWith('BucketNotificationsHandler'),
  );
  if (notificationsHandler) {
    acknowledge(
      notificationsHandler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-internal deploy-time helper (BucketNotificationsHandler) that applies the input bucket notification ' +
        'configuration; its role and managed policy are fixed by aws-cdk-lib, and it only runs during deployments.',
    );
  }
}
