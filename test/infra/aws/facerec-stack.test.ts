/**
 * The synthesized template with cdk.json's defaults (and a literal prefix): every resource, its
 * security settings, the IAM each role gets (and nothing more), the state machine definition
 * after substitution, the notification wiring, and the cdk-nag result.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkModelFiles, MODEL_NAMES, readModelManifest } from '#functions/core/faces/model-manifest.js';
import {
  directorySize,
  formatBreakdown,
  formatMB,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
} from '#infra/aws/bundling/bundle.js';
import { ASL_FACTS, FUNCTION_NAMES, type FunctionName } from '#functions/core/facts.js';
import {
  AUTO_DELETE_ACTIONS,
  FUNCTION_SIZING,
  UPLOAD_MAX_RECEIVE_COUNT,
  videoSuffixes,
} from '#infra/aws/facerec-stack.js';
import { VIDEO_EXTENSIONS } from '#functions/core/facts.js';
import { FRAME_LIST_PATTERNS, frameListKeys } from '#functions/core/layout.js';
import { LAMBDA_RUNTIME_NAME } from '#infra/aws/bundling/lambda-runtime.js';
import {
  MB,
  logicalId,
  resolved,
  resources,
  statementsOfRole,
  synthesize,
  type Synthesized,
} from './support.js';

const PREFIX = 'test-facerec';
const MAP_CONCURRENCY = 7;

let s: Synthesized;
beforeAll(() => {
  s = synthesize({ prefix: PREFIX, mapMaxConcurrency: MAP_CONCURRENCY });
});
afterAll(() => s?.cleanup());

const id = (c: { node: { defaultChild?: unknown } }) => logicalId(s.stack, c);
const fnId = (name: FunctionName) => id(s.stack.functions[name].function);
const fnArn = (name: FunctionName) => ({ 'Fn::GetAtt': [fnId(name), 'Arn'] });
const objectsOf = (bucket: 'input' | 'stage1' | 'output' | 'meta') =>
  resolved(s.stack, s.stack.buckets[bucket].arnForObjects('*'));

describe('buckets', () => {
  const names = {
    input: `${PREFIX}-input`,
    stage1: `${PREFIX}-stage-1`,
    output: `${PREFIX}-output`,
    meta: `${PREFIX}-meta`,
  };

  test('exactly four, named <prefix>-input, <prefix>-stage-1, <prefix>-output, <prefix>-meta', () => {
    s.template.resourceCountIs('AWS::S3::Bucket', 4);
    for (const name of Object.values(names)) {
      s.template.hasResourceProperties('AWS::S3::Bucket', { BucketName: name });
    }
  });

  test.each(Object.keys(names) as Array<keyof typeof names>)(
    '%s: public access blocked, encrypted, ACLs off',
    (b) => {
      const props = resources(s.template)[id(s.stack.buckets[b])].Properties!;
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(props.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    },
  );

  test.each(Object.keys(names) as Array<keyof typeof names>)(
    '%s: the bucket policy denies plain HTTP and TLS < 1.2',
    (b) => {
      const bucketRef = { Ref: id(s.stack.buckets[b]) };
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: bucketRef,
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    },
  );

  test('versioning on the input bucket only; old versions expire', () => {
    const all = resources(s.template);
    const input = all[id(s.stack.buckets.input)].Properties!;
    expect(input.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(input.LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
      ]),
    });
    expect(all[id(s.stack.buckets.stage1)].Properties!.VersioningConfiguration).toBeUndefined();
    expect(all[id(s.stack.buckets.output)].Properties!.VersioningConfiguration).toBeUndefined();
  });

  test('stage-1 frames expire after stage1ExpirationDays (default 1)', () => {
    const stage1 = resources(s.template)[id(s.stack.buckets.stage1)].Properties!;
    expect(stage1.LifecycleConfiguration).toEqual({
      Rules: [
        expect.objectContaining({
          ExpirationInDays: s.settings.stage1ExpirationDays,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ],
    });
    expect(s.settings.stage1ExpirationDays).toBe(1);
  });

  test('input and output are retained on stack deletion; stage-1 is emptied and deleted', () => {
    const all = resources(s.template) as Record<
      string,
      { DeletionPolicy?: string; UpdateReplacePolicy?: string }
    >;
    for (const b of ['input', 'output'] as const) {
      expect(all[id(s.stack.buckets[b])]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    expect(all[id(s.stack.buckets.stage1)]).toMatchObject({ DeletionPolicy: 'Delete' });
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    s.template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
      BucketName: { Ref: id(s.stack.buckets.stage1) },
    });
  });

  test('no server access logs bucket unless asked for', () => {
    for (const b of ['input', 'stage1', 'output'] as const) {
      expect(resources(s.template)[id(s.stack.buckets[b])].Properties!.LoggingConfiguration).toBeUndefined();
    }
  });
});

describe('uploads reach the starter through SQS, with a dead-letter queue; alarms', () => {
  const queueId = () => id(s.stack.uploads);
  const dlqId = () => id(s.stack.uploadsDeadLetters);

  test('ObjectCreated on the input bucket, one suffix filter per video type (both cases), to the upload queue', () => {
    const suffixes = videoSuffixes([...VIDEO_EXTENSIONS]);
    expect(suffixes).toEqual(expect.arrayContaining(['.mp4', '.MP4', '.mov', '.MOV']));
    const notifications = Object.values(resources(s.template, 'Custom::S3BucketNotifications'));
    expect(notifications).toHaveLength(1);
    const props = notifications[0].Properties!;
    expect(props.BucketName).toEqual({ Ref: id(s.stack.buckets.input) });
    const config = props.NotificationConfiguration as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(['QueueConfigurations']);
    expect(config.QueueConfigurations).toEqual(
      suffixes.map((suffix) => ({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
        QueueArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      })),
    );
  });

  test('the queue: encrypted, TLS only, 5 deliveries then the dead-letter queue (14 days), visibility 6x the starter timeout', () => {
    const q = resources(s.template)[queueId()].Properties!;
    expect(q).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: FUNCTION_SIZING.starter.timeout.toSeconds() * 6,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId(), 'Arn'] },
        maxReceiveCount: UPLOAD_MAX_RECEIVE_COUNT,
      },
    });
    expect(resources(s.template)[dlqId()].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    for (const qid of [queueId(), dlqId()]) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: qid }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  test('only S3, for the input bucket (a globally unique ARN), may send to the queue', () => {
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [id(s.stack.buckets.input), 'Arn'] } } },
          }),
        ]),
      },
    });
    // Nothing may invoke the starter directly any more.
    expect(Object.values(resources(s.template, 'AWS::Lambda::Permission'))).toHaveLength(0);
  });

  test('the starter consumes the queue in batches with partial-batch responses', () => {
    const mappings = Object.values(resources(s.template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      FunctionName: { Ref: fnId('starter') },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('alarms: dead letters, starter errors, failed and timed-out executions (threshold 1)', () => {
    const alarms = Object.values(resources(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    const by = (metric: string) => alarms.find((a) => a.MetricName === metric)!;
    expect(alarms).toHaveLength(4);
    expect(by('ApproximateNumberOfMessagesVisible')).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(by('Errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('starter') } }],
      Threshold: 1,
    });
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(by(m)).toMatchObject({
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id(s.stack.stateMachine) } }],
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('functions', () => {
  test('four pipeline functions (plus CDK helpers), on the Lambda runtime (LAMBDA_RUNTIME_NAME), x86_64, ESM handler index.handler', () => {
    for (const name of FUNCTION_NAMES) {
      const props = resources(s.template)[fnId(name)].Properties!;
      expect(props).toMatchObject({
        Runtime: LAMBDA_RUNTIME_NAME,
        Architectures: ['x86_64'],
        Handler: 'index.handler',
        MemorySize: FUNCTION_SIZING[name].memorySize,
        Timeout: FUNCTION_SIZING[name].timeout.toSeconds(),
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(s.stack.functions[name].logGroup) } },
        Role: { 'Fn::GetAtt': [id(s.stack.functions[name].role), 'Arn'] },
      });
    }
  });

  test('sizes: 256 MB for starter/result, 2048 MB for the splitter, 1769 MB (one vCPU) for recognition; 2 GiB of /tmp for the splitter', () => {
    const mem = (n: FunctionName) => resources(s.template)[fnId(n)].Properties!.MemorySize;
    expect([mem('starter'), mem('splitter'), mem('recognition'), mem('result')]).toEqual([
      256, 2048, 1769, 256,
    ]);
    expect(resources(s.template)[fnId('splitter')].Properties!.EphemeralStorage).toEqual({ Size: 2048 });
  });

  test('each function logs to its own log group with the configured retention', () => {
    for (const name of FUNCTION_NAMES) {
      expect(resources(s.template)[id(s.stack.functions[name].logGroup)].Properties).toEqual({
        RetentionInDays: s.settings.logRetentionDays,
      });
    }
  });

  const env = (name: FunctionName) =>
    (resources(s.template)[fnId(name)].Properties!.Environment as { Variables: Record<string, unknown> })
      .Variables;
  const common = {
    FACEREC_BUCKET_PREFIX: PREFIX,
    FACEREC_PROFILE: 'default',
    FACEREC_LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'facerec',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // The dashboard's namespace (functions/core/stages.ts metricsNamespace).
    POWERTOOLS_METRICS_NAMESPACE: `Facerec/${PREFIX}`,
    FACEREC_MAP_MAX_CONCURRENCY: String(MAP_CONCURRENCY),
    NODE_OPTIONS: '--enable-source-maps',
  };

  test('starter environment: the state machine and the video types', () => {
    expect(env('starter')).toEqual({
      ...common,
      STATE_MACHINE_ARN: { Ref: id(s.stack.stateMachine) },
      FACEREC_VIDEO_EXTENSIONS: VIDEO_EXTENSIONS.join(','),
    });
  });

  test("splitter environment: the bundled ffmpeg; no ffmpeg timeout (the handler's rule from the remaining time, as locally)", () => {
    expect(env('splitter')).toEqual({
      ...common,
      FFMPEG_PATH: '/var/task/node_modules/@ffmpeg-installer/linux-x64/ffmpeg',
    });
    expect(env('splitter').FACEREC_FFMPEG_TIMEOUT_MS).toBeUndefined();
  });

  test('recognition environment: models inside the bundle, loaded at init, the gallery in the meta bucket', () => {
    expect(env('recognition')).toEqual({
      ...common,
      FACEREC_MODELS_DIR: '/var/task/models',
      FACEREC_LOAD_AT_INIT: 'true',
      FACEREC_GALLERY: {
        'Fn::Join': ['', ['s3://', { Ref: id(s.stack.buckets.meta) }, '/gallery/gallery.json']],
      },
    });
  });

  test('result environment: nothing beyond the common settings', () => {
    expect(env('result')).toEqual(common);
  });

  test('the Lambda timeouts fit inside the state machine task timeouts', () => {
    const asl = JSON.parse(substitutedDefinition()) as Asl;
    const tasks = taskStates(asl);
    for (const t of tasks) {
      const fn = FUNCTION_NAMES.find((n) => JSON.stringify(t.state).includes(`"${fakeArn(n)}"`));
      if (fn && t.state.TimeoutSeconds !== undefined) {
        expect(FUNCTION_SIZING[fn].timeout.toSeconds()).toBeLessThanOrEqual(t.state.TimeoutSeconds as number);
      }
    }
  });
});

// ------------------------------------------------------------------ state machine
interface Asl {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
}

/** Function ARNs as CloudFormation would substitute them. */
const fakeArn = (name: FunctionName) => `arn:aws:lambda:us-east-1:123456789012:function:${fnId(name)}`;

/** The definition with DefinitionSubstitutions applied, as CloudFormation does at deploy time. */
function substitutedDefinition(): string {
  const sm = resources(s.template)[id(s.stack.stateMachine)].Properties!;
  const subs = sm.DefinitionSubstitutions as Record<string, unknown>;
  let text = sm.DefinitionString as string;
  for (const [key, value] of Object.entries(subs)) {
    const name = FUNCTION_NAMES.find((n) => JSON.stringify(value) === JSON.stringify(fnArn(n)));
    const replacement = name ? fakeArn(name) : String(value);
    text = text.split('${' + key + '}').join(replacement);
  }
  return text;
}

function taskStates(asl: {
  States: Record<string, Record<string, unknown>>;
}): Array<{ name: string; state: Record<string, unknown> }> {
  const out: Array<{ name: string; state: Record<string, unknown> }> = [];
  for (const [name, state] of Object.entries(asl.States)) {
    if (state.Type === 'Task') out.push({ name, state });
    const inner = (state.ItemProcessor ?? state.Iterator) as
      { States: Record<string, Record<string, unknown>> } | undefined;
    if (inner) out.push(...taskStates(inner));
    for (const branch of (state.Branches as
      Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []) {
      out.push(...taskStates(branch));
    }
  }
  return out;
}

function mapStates(asl: { States: Record<string, Record<string, unknown>> }): Array<Record<string, unknown>> {
  return Object.values(asl.States).flatMap((st) => {
    const inner = (st.ItemProcessor ?? st.Iterator) as
      { States: Record<string, Record<string, unknown>> } | undefined;
    return [...(st.Type === 'Map' ? [st] : []), ...(inner ? mapStates(inner) : [])];
  });
}

/** The Lambda function a task invokes: `Resource` is the ARN, or lambda:invoke with FunctionName. */
function invokedArn(state: Record<string, unknown>): string | undefined {
  const resource = state.Resource as string;
  if (resource.startsWith('arn:aws:lambda:')) return resource;
  if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
    const params = (state.Parameters ?? state.Arguments) as Record<string, string>;
    return params.FunctionName;
  }
  return undefined;
}

describe('state machine', () => {
  test('is loaded from statemachine/pipeline.asl.json as a string, with exactly the deployment substitutions and the facts', () => {
    const sm = resources(s.template)[id(s.stack.stateMachine)].Properties!;
    expect(typeof sm.DefinitionString).toBe('string');
    expect(sm.DefinitionS3Location).toBeUndefined();
    expect(sm.DefinitionSubstitutions).toEqual({
      SplitterFunctionArn: fnArn('splitter'),
      RecognitionFunctionArn: fnArn('recognition'),
      ResultFunctionArn: fnArn('result'),
      MapMaxConcurrency: String(MAP_CONCURRENCY),
      EventBusName: 'default',
      ...ASL_FACTS,
    });
    expect(sm.StateMachineType).toBe('STANDARD');
  });

  test('after substitution: valid JSON whose tasks invoke exactly the three pipeline functions, and announce each video on the default bus', () => {
    const asl = JSON.parse(substitutedDefinition()) as Asl;
    expect(asl.States[asl.StartAt]).toBeDefined();
    const tasks = taskStates(asl);
    const lambdaTasks = tasks.filter(
      (t) => (t.state.Resource as string) !== 'arn:aws:states:::events:putEvents',
    );
    const invoked = new Set(lambdaTasks.map((t) => invokedArn(t.state)));
    expect(invoked).toEqual(new Set([fakeArn('splitter'), fakeArn('recognition'), fakeArn('result')]));
    const announce = tasks.filter(
      (t) => (t.state.Resource as string) === 'arn:aws:states:::events:putEvents',
    );
    expect(announce).toHaveLength(2);
    for (const t of announce) {
      const entries = (t.state.Parameters as { Entries: Array<Record<string, unknown>> }).Entries;
      expect(entries).toEqual([
        expect.objectContaining({
          EventBusName: 'default',
          Source: 'facerec',
          DetailType: expect.stringMatching(/^Video (processed|failed)$/),
        }),
      ]);
    }
    expect(substitutedDefinition()).not.toMatch(/\$\{[A-Za-z]+\}/);
  });

  test('the first task splits, the Map runs recognition with the configured concurrency', () => {
    const asl = JSON.parse(substitutedDefinition()) as Asl;
    expect(invokedArn(asl.States[asl.StartAt])).toBe(fakeArn('splitter'));
    const maps = mapStates(asl);
    expect(maps.length).toBeGreaterThanOrEqual(1);
    for (const m of maps) expect(m.MaxConcurrency).toBe(MAP_CONCURRENCY);
    const insideMap = maps.flatMap((m) => taskStates(m.ItemProcessor as Asl).map((t) => invokedArn(t.state)));
    expect(insideMap).toContain(fakeArn('recognition'));
  });

  test('logs everything, with execution data, to its own log group; X-Ray tracing on', () => {
    const sm = resources(s.template)[id(s.stack.stateMachine)].Properties!;
    expect(sm.LoggingConfiguration).toMatchObject({ IncludeExecutionData: true, Level: 'ALL' });
    const dest = (
      sm.LoggingConfiguration as { Destinations: Array<{ CloudWatchLogsLogGroup: { LogGroupArn: unknown } }> }
    ).Destinations;
    expect(dest).toHaveLength(1);
    const logGroupId = (dest[0].CloudWatchLogsLogGroup.LogGroupArn as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    expect(resources(s.template)[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources(s.template)[logGroupId].Properties).toMatchObject({
      LogGroupName: { 'Fn::Join': ['', ['/aws/vendedlogs/states/', { Ref: 'AWS::StackName' }, '-pipeline']] },
      RetentionInDays: s.settings.logRetentionDays,
    });
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
  });

  test('long videos: segments fanned out to the splitter, then a Distributed Map that reads the frame list from S3, batches it, runs a child execution per batch and writes the results to S3', () => {
    const asl = JSON.parse(substitutedDefinition()) as Asl;
    const choice = asl.States['Choose how to recognize'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(choice.Choices.map((c: { Next: string }) => c.Next)).toEqual([
      'Extract segments',
      'Recognize faces at scale',
    ]);
    expect(choice.Default).toBe('Recognize faces in frame batches');

    const segments = asl.States['Extract segments'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(segments.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(invokedArn(segments.ItemProcessor.States['Extract segment'])).toBe(fakeArn('splitter'));
    expect(invokedArn(asl.States['Index frames'])).toBe(fakeArn('splitter'));

    const dmap = asl.States['Recognize faces at scale'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(dmap.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(dmap.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.frameList.bucket', 'Key.$': '$.frameList.key' },
    });
    expect(dmap.ItemBatcher).toMatchObject({ MaxItemsPerBatchPath: '$.frameList.batchSize' });
    expect(dmap.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { 'Bucket.$': '$.frameList.bucket', 'Prefix.$': '$.frameList.resultsPrefix' },
    });
    expect(dmap.ResultPath).toBe('$.batches');
    expect(dmap.MaxConcurrency).toBe(MAP_CONCURRENCY);
    expect(dmap.ToleratedFailurePercentage).toBe(100);
    // The Label names the children in the RedriveExecution grant.
    expect(dmap.Label).toBe('FrameBatches');
    expect(invokedArn(dmap.ItemProcessor.States['Recognize faces in batch'])).toBe(fakeArn('recognition'));
    // An EXPRESS child runs at most 5 minutes: its task, with retries, must end sooner.
    expect(dmap.ItemProcessor.States['Recognize faces in batch'].TimeoutSeconds).toBeLessThan(300);
    // The keys the splitter writes are the ones the state machine may read and write.
    const list = frameListKeys('any/video').list;
    expect(list).toMatch(
      new RegExp(`^${FRAME_LIST_PATTERNS.list.replace('*', '.+').replace('.json', '\\.json')}$`),
    );
    expect(`${frameListKeys('any/video').results}/x/manifest.json`).toMatch(
      new RegExp(`^${FRAME_LIST_PATTERNS.results.replace(/\*/g, '.+')}$`),
    );
  });

  test('the definition bounds an execution (TimeoutSeconds)', () => {
    const asl = JSON.parse(substitutedDefinition()) as Asl;
    expect(asl.TimeoutSeconds).toBeGreaterThan(0);
  });
});

// ------------------------------------------------------------------ IAM
describe('IAM: each role may do exactly this', () => {
  const XRAY = {
    effect: 'Allow',
    actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    resources: ['*'],
  };
  const ownLogs = (name: FunctionName) => ({
    effect: 'Allow',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [{ 'Fn::GetAtt': [id(s.stack.functions[name].logGroup), 'Arn'] }],
  });
  const roleOf = (name: FunctionName) => id(s.stack.functions[name].role);
  const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const readVideos = () => ({
    effect: 'Allow',
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resources: [objectsOf('input')],
  });
  // A deleted upload answers 404, not 403 (issue 19).
  const listInput = () => ({
    effect: 'Allow',
    actions: ['s3:ListBucket'],
    resources: [{ 'Fn::GetAtt': [id(s.stack.buckets.input), 'Arn'] }],
  });

  test("starter: read the uploaded video's metadata (HeadObject), start executions of this state machine, consume the upload queue", () => {
    expect(statementsOfRole(s.template, roleOf('starter'))).toEqual(
      sorted([
        ownLogs('starter'),
        XRAY,
        readVideos(),
        listInput(),
        {
          effect: 'Allow',
          actions: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          resources: [{ 'Fn::GetAtt': [id(s.stack.uploads), 'Arn'] }],
        },
        {
          effect: 'Allow',
          actions: ['states:StartExecution'],
          resources: [{ Ref: id(s.stack.stateMachine) }],
        },
      ]),
    );
  });

  const stage1Objects = (pattern: string) => resolved(s.stack, s.stack.buckets.stage1.arnForObjects(pattern));

  test("splitter: read <prefix>-input objects (any version) and list them, write <prefix>-stage-1 objects, read a long video's segment lists", () => {
    expect(statementsOfRole(s.template, roleOf('splitter'))).toEqual(
      sorted([
        ownLogs('splitter'),
        XRAY,
        readVideos(),
        listInput(),
        { effect: 'Allow', actions: ['s3:PutObject'], resources: [objectsOf('stage1')] },
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [stage1Objects('*/segments/*')] },
      ]),
    );
  });

  test('recognition: read <prefix>-stage-1 objects and the one gallery object (ListBucket of the meta bucket: a missing gallery is a 404)', () => {
    const meta = { Ref: id(s.stack.buckets.meta) };
    const partition = { Ref: 'AWS::Partition' };
    expect(statementsOfRole(s.template, roleOf('recognition'))).toEqual(
      sorted([
        ownLogs('recognition'),
        XRAY,
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [objectsOf('stage1')] },
        {
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resources: [{ 'Fn::Join': ['', ['arn:', partition, ':s3:::', meta, '/gallery/gallery.json']] }],
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resources: [{ 'Fn::Join': ['', ['arn:', partition, ':s3:::', meta]] }],
        },
      ]),
    );
  });

  test('result: write <prefix>-output objects, delete only old errors/ records, HeadObject of inputs (newest upload wins), nothing else', () => {
    expect(statementsOfRole(s.template, roleOf('result'))).toEqual(
      sorted([
        ownLogs('result'),
        XRAY,
        { effect: 'Allow', actions: ['s3:PutObject'], resources: [objectsOf('output')] },
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [objectsOf('input')] },
        listInput(),
        {
          effect: 'Allow',
          actions: ['s3:DeleteObject'],
          resources: [resolved(s.stack, s.stack.buckets.output.arnForObjects('errors/*'))],
        },
        // After a Distributed Map: its results and the frame list (times) in stage-1.
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [stage1Objects('*/map-run/*')] },
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [stage1Objects('*/frames.json')] },
      ]),
    );
  });

  test('state machine: invoke the three pipeline functions, put events on the default bus, run its Distributed Map (frame list, results, its own child executions); log delivery and X-Ray (which need "*")', () => {
    const roleId = logicalId(s.stack, s.stack.stateMachine.role as never);
    const executions = (suffix: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: id(s.stack.stateMachine) }] }] },
          suffix,
        ],
      ],
    });
    expect(statementsOfRole(s.template, roleId)).toEqual(
      sorted([
        { effect: 'Allow', actions: ['s3:GetObject'], resources: [stage1Objects('*/frames.json')] },
        {
          effect: 'Allow',
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
          resources: [stage1Objects('*/map-run/*')],
        },
        {
          effect: 'Allow',
          actions: ['states:StartExecution'],
          resources: [{ Ref: id(s.stack.stateMachine) }],
        },
        {
          effect: 'Allow',
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [executions(':*')],
        },
        { effect: 'Allow', actions: ['states:RedriveExecution'], resources: [executions('/FrameBatches:*')] },
        {
          effect: 'Allow',
          actions: ['events:PutEvents'],
          resources: [
            {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':events:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':event-bus/default',
                ],
              ],
            },
          ],
        },
        {
          effect: 'Allow',
          actions: ['lambda:InvokeFunction'],
          resources: sorted([fnArn('splitter'), fnArn('recognition'), fnArn('result')]),
        },
        {
          effect: 'Allow',
          actions: [
            'logs:CreateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:DescribeLogGroups',
            'logs:DescribeResourcePolicies',
            'logs:GetLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:UpdateLogDelivery',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
            'xray:PutTelemetryRecords',
            'xray:PutTraceSegments',
          ],
          resources: ['*'],
        },
      ]),
    );
  });

  test('roles trust only their service, and carry no managed policies', () => {
    const trust = (service: string) => ({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: service } }],
      Version: '2012-10-17',
    });
    for (const name of FUNCTION_NAMES) {
      const role = resources(s.template)[roleOf(name)].Properties!;
      expect(role.AssumeRolePolicyDocument).toEqual(trust('lambda.amazonaws.com'));
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.Policies).toBeUndefined();
    }
    const smRole = resources(s.template)[logicalId(s.stack, s.stack.stateMachine.role as never)].Properties!;
    // Step Functions' trust also pins the calling account and state machines (confused deputy).
    expect(smRole.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(smRole.ManagedPolicyArns).toBeUndefined();
  });

  test('no Allow anywhere has a wildcard action; "*" resources only for actions without resource-level permissions', () => {
    const NO_RESOURCE_LEVEL =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    const docs: Array<{ Statement: Array<Record<string, unknown>> }> = [];
    for (const r of Object.values(resources(s.template))) {
      if (r.Type === 'AWS::IAM::Policy') docs.push(r.Properties!.PolicyDocument as never);
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of (r.Properties!.Policies as Array<{ PolicyDocument: never }> | undefined) ?? [])
          docs.push(p.PolicyDocument);
      }
      // Bucket policies too (their TLS Deny statements use s3:* on purpose: a Deny only restricts).
      if (r.Type === 'AWS::S3::BucketPolicy') docs.push(r.Properties!.PolicyDocument as never);
    }
    expect(docs.length).toBeGreaterThan(0);
    for (const st of docs.flatMap((d) => d.Statement).filter((x) => x.Effect === 'Allow')) {
      const actions = ([] as string[]).concat(st.Action as string | string[]);
      for (const a of actions) expect(a).not.toContain('*');
      const res = ([] as unknown[]).concat(st.Resource);
      if (res.includes('*')) for (const a of actions) expect(a).toMatch(NO_RESOURCE_LEVEL);
    }
  });

  test("bucket policies deny non-TLS access; the only Allow is for CDK's teardown helper on stage-1, without wildcards", () => {
    const allows: Array<{ bucket: unknown; statement: Record<string, unknown> }> = [];
    for (const r of Object.values(resources(s.template, 'AWS::S3::BucketPolicy'))) {
      const statements = (r.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> })
        .Statement;
      for (const st of statements)
        if (st.Effect === 'Allow') allows.push({ bucket: r.Properties!.Bucket, statement: st });
    }
    expect(allows).toEqual([
      {
        bucket: { Ref: id(s.stack.buckets.stage1) },
        statement: expect.objectContaining({
          Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^CustomS3AutoDeleteObjects/), 'Arn'] } },
          Action: AUTO_DELETE_ACTIONS,
        }),
      },
    ]);
    for (const a of AUTO_DELETE_ACTIONS) expect(a).not.toContain('*');
  });
});

describe('outputs', () => {
  test('bucket names, state machine ARN, console link to its executions, log groups', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.InputBucketName.Value).toEqual({ Ref: id(s.stack.buckets.input) });
    expect(outputs.Stage1BucketName.Value).toEqual({ Ref: id(s.stack.buckets.stage1) });
    expect(outputs.OutputBucketName.Value).toEqual({ Ref: id(s.stack.buckets.output) });
    expect(outputs.MetaBucketName.Value).toEqual({ Ref: id(s.stack.buckets.meta) });
    expect(outputs.StateMachineArn.Value).toEqual({ Ref: id(s.stack.stateMachine) });
    expect(outputs.ExecutionsConsoleUrl.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: 'AWS::Region' },
          '.console.aws.amazon.com/states/home?region=',
          { Ref: 'AWS::Region' },
          '#/statemachines/view/',
          { Ref: id(s.stack.stateMachine) },
        ],
      ],
    });
    for (const name of ['StateMachine', 'Starter', 'Splitter', 'Recognition', 'Result']) {
      expect(outputs[`${name}LogGroup`]).toBeDefined();
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('no unacknowledged findings', () => {
    expect(s.nagViolations).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const acks = s.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThan(0);
    for (const [rule, reason] of acks) {
      expect(rule).toMatch(/^AwsSolutions::AwsSolutions-/);
      expect(reason.length).toBeGreaterThan(60);
    }
  });
});

// ------------------------------------------------------------------ bundles
describe('bundles (the synthesized zip assets)', () => {
  const assetDir = (name: FunctionName) => {
    const code = resources(s.template)[fnId(name)].Properties!.Code as { S3Key: string };
    return path.join(s.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
  };
  const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

  test('were bundled locally: no Docker image assets, every function has its own directory', () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
      dockerImages?: Record<string, unknown>;
    };
    expect(Object.keys(manifest.dockerImages ?? {})).toEqual([]);
    for (const name of FUNCTION_NAMES) expect(ls(assetDir(name))).toContain('index.mjs');
  });

  test("recognition: unzipped size under Lambda's 250 MB limit", () => {
    const bytes = directorySize(assetDir('recognition'));
    const report = s.bundles.get('recognition');
    console.log(
      `recognition bundle: ${formatMB(bytes)} unzipped (limit 250 MB)` +
        (report ? `\n${formatBreakdown(report)}` : ''),
    );
    expect(bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
    // And it is the real thing: models + onnxruntime + sharp, not an empty directory.
    expect(bytes).toBeGreaterThan(50 * MB);
  });

  test('splitter, starter, result: under the limit too', () => {
    const sizes = Object.fromEntries(
      (['splitter', 'starter', 'result'] as const).map((n) => [n, directorySize(assetDir(n))]),
    );
    console.log(
      Object.entries(sizes)
        .map(([n, b]) => `${n} bundle: ${formatMB(b)} unzipped`)
        .join('\n'),
    );
    for (const b of Object.values(sizes)) expect(b).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });

  test('recognition carries only the linux-x64 binaries of onnxruntime-node and sharp', () => {
    const nm = path.join(assetDir('recognition'), 'node_modules');
    expect(ls(path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6'))).toEqual(['linux']);
    expect(ls(path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
    expect(ls(path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'))).toEqual(
      expect.arrayContaining(['onnxruntime_binding.node']),
    );
    expect(ls(path.join(nm, '@img'))).toEqual(['colour', 'sharp-libvips-linux-x64', 'sharp-linux-x64']);
    // Only what runs: no install scripts' dependencies, no TypeScript sources.
    expect(ls(nm)).toEqual([
      '@img',
      'detect-libc',
      'onnxruntime-common',
      'onnxruntime-node',
      'semver',
      'sharp',
    ]);
    expect(ls(path.join(nm, 'onnxruntime-node'))).toEqual(['bin', 'dist', 'package.json']);
  });

  test('recognition carries the three ONNX models (as in the manifest) and no gallery (it is in S3)', () => {
    const dir = assetDir('recognition');
    const manifest = readModelManifest(path.join(dir, 'models'));
    expect(checkModelFiles(path.join(dir, 'models'), manifest)).toEqual([]);
    expect(ls(path.join(dir, 'models'))).toEqual(
      [...MODEL_NAMES.map((m) => manifest.models[m].file), 'manifest.json'].sort(),
    );
    expect(existsSync(path.join(dir, 'gallery.json'))).toBe(false);
  });

  test('the environment points at files that exist in the bundles', () => {
    const envOf = (name: FunctionName) =>
      (resources(s.template)[fnId(name)].Properties!.Environment as { Variables: Record<string, string> })
        .Variables;
    const inBundle = (name: FunctionName, p: string) =>
      path.join(assetDir(name), path.relative('/var/task', p));
    expect(
      existsSync(
        path.join(inBundle('recognition', envOf('recognition').FACEREC_MODELS_DIR), 'manifest.json'),
      ),
    ).toBe(true);
    const ffmpeg = inBundle('splitter', envOf('splitter').FFMPEG_PATH);
    expect(statSync(ffmpeg).mode & 0o111).toBe(0o111);
  });

  test('splitter: the static ffmpeg (linux-x64 only) runs', () => {
    const nm = path.join(assetDir('splitter'), 'node_modules');
    expect(ls(path.join(nm, '@ffmpeg-installer'))).toEqual(['ffmpeg', 'linux-x64']);
    const r = spawnSync(path.join(nm, '@ffmpeg-installer', 'linux-x64', 'ffmpeg'), ['-version'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ffmpeg version/);
  });

  test('starter and result are one ESM file each (AWS SDK bundled, nothing native)', () => {
    for (const name of ['starter', 'result'] as const) {
      expect(ls(assetDir(name))).toEqual(['index.mjs', 'index.mjs.map']);
    }
  });

  test('each bundle loads on its own (outside the repository), and exports handler', () => {
    for (const name of FUNCTION_NAMES) {
      const dir = assetDir(name);
      const script = `
        const m = await import(${JSON.stringify(path.join(dir, 'index.mjs'))});
        if (typeof m.handler !== 'function') throw new Error('no handler export');
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: os.tmpdir(),
        encoding: 'utf8',
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', FACEREC_BUCKET_PREFIX: PREFIX },
      });
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
  });

  test('recognition: the pruned onnxruntime-node runs the bundled detector, and sharp decodes', () => {
    const dir = assetDir('recognition');
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(path.join(dir, 'index.mjs'))});
      const ort = require('onnxruntime-node');
      const sharp = require('sharp');
      const session = await ort.InferenceSession.create(${JSON.stringify(path.join(dir, 'models', 'detector.onnx'))});
      const input = new ort.Tensor('uint8', new Uint8Array(240 * 320 * 3), [1, 240, 320, 3]);
      const out = await session.run({ [session.inputNames[0]]: input });
      const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
      const { info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      console.log(JSON.stringify({ outputs: Object.keys(out).length, width: info.width }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: os.tmpdir(),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ outputs: 2, width: 4 });
  });
});
