/**
 * The whole pipeline on AWS:
 *
 *   <prefix>-input --ObjectCreated(*.mp4, ...)--> starter --StartExecution--> state machine
 *   state machine: splitter (<prefix>-input -> frames in <prefix>-stage-1)
 *               -> Map(recognition over frame batches, reads <prefix>-stage-1)
 *               -> result (writes <prefix>-output/<video-stem>.txt, or errors/...)
 *
 * Every role gets named actions on named resources only; cdk-nag's AwsSolutions pack (applied
 * in infra/bin/facerec.ts) checks the rest, and each accepted finding carries its reason (nag.ts).
 */
import {
  Annotations,
  Arn,
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BundleReport } from './bundling/bundle.js';
import { ENV, type EnvName } from '../../functions/config.js';
import {
  bucketNames,
  ERRORS_PREFIX,
  failureRecordBucketRole,
  FRAME_LIST_PATTERNS,
  GALLERY_KEY,
  parseS3Uri,
  s3Uri,
} from '../../functions/core/layout.js';
import {
  ASL_FACTS,
  ASL_PLACEHOLDERS,
  EVENT_BUS_NAME,
  FUNCTION_MEMORY_MB,
  FUNCTION_TIMEOUT_SECONDS,
  LOG_SERVICE_NAME,
  type AslPlaceholder,
  type FunctionName,
  UPLOAD_BATCH_SIZE,
} from '../../functions/core/facts.js';
import { BUNDLE_PATHS, bundleSpecFor, checkGalleryFile, TASK_ROOT } from './functions.js';
import { acknowledgeFindings } from './nag.js';
import { alarmTopics, notifyTopics, pipelineDashboard } from './observability.js';
import { metricsNamespace } from '../../functions/core/stages.js';
import { ARCHITECTURE, PipelineFunction } from './pipeline-function.js';
import { functionNameFor, videoSuffixes, type AdoptableBucket, type DeploySettings } from './settings.js';

/**
 * Memory, from measurements (infra/aws/measure-sizing.ts, bench/speed.ts; see docs/cost.md);
 * timeouts are core/facts.ts FUNCTION_TIMEOUT_SECONDS (local mode uses the same). Lambda gives CPU in proportion to memory (1,769 MB = one vCPU). The splitter
 * and recognition are CPU-bound and need far less memory than they get: memory buys CPU.
 */
export const FUNCTION_SIZING: Record<
  FunctionName,
  { memorySize: number; timeout: Duration; ephemeralStorage?: Size }
> = {
  // One HeadObject and one StartExecution per upload: small, with a quick cold start.
  starter: {
    memorySize: FUNCTION_MEMORY_MB.starter,
    timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.starter),
  },
  // ffmpeg (peak RSS ~50 MB) decodes the video on ~1.2 vCPUs, multi-threaded; the video and its
  // frames are staged in /tmp (2 GiB: ~15 minutes of 720p frames at full rate).
  splitter: {
    memorySize: FUNCTION_MEMORY_MB.splitter,
    timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.splitter),
    ephemeralStorage: Size.gibibytes(2),
  },
  // Peak RSS ~340-365 MB (three ONNX sessions + a decoded 1280x720 frame). One full vCPU: the
  // engine measured 50-57 ms per frame on one core and 44-50 ms on two (docs/cost.md), so a
  // second vCPU would double the price per second for ~10% speed.
  recognition: {
    memorySize: FUNCTION_MEMORY_MB.recognition,
    timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.recognition),
  },
  // Votes over the Map's results and writes one or two small objects.
  result: {
    memorySize: FUNCTION_MEMORY_MB.result,
    timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.result),
  },
};

/** s3:ListBucket on the input bucket, for each role that reads uploads: without it AWS answers
 * GetObject/HeadObject of a deleted (or replaced-then-deleted) upload with 403 AccessDenied instead
 * of 404, so the starter retried it into the dead-letter queue and the result function failed the
 * video instead of dropping a superseded result (issue 19; test/infra/local/iam-pipeline.test.ts). */
const DELETED_UPLOADS_SID = 'TellDeletedUploads';

/** Deliveries of an upload event before it goes to the dead-letter queue. */
export const UPLOAD_MAX_RECEIVE_COUNT = 5;

export interface FaceRecStackProps extends StackProps {
  settings: DeploySettings;
  /** Repository root: package.json, node_modules, functions/, statemachine/. */
  projectRoot: string;
  /** Handler modules; default functions/<name>/handler.ts. */
  entries?: Partial<Record<FunctionName, string>>;
  /** ASL file; default statemachine/pipeline.asl.json. */
  aslPath?: string;
  /** ONNX models folder; default models/generated. */
  modelsDir?: string;
  /** Receives each bundle's size report after local bundling. */
  onBundled?: (report: BundleReport) => void;
}

/** The pipeline's buckets: created by the stack, or adopted (`-c adoptBuckets=...`: imported by name). */
type Buckets = { input: s3.IBucket; stage1: s3.IBucket; output: s3.IBucket; meta: s3.IBucket };
type BucketRole = keyof Buckets;
const ADOPTED_ROLE: Record<AdoptableBucket, BucketRole> = {
  input: 'input',
  'stage-1': 'stage1',
  output: 'output',
  meta: 'meta',
};
type GalleryPlace = { file?: string; s3?: { bucket: string; key: string } };

export class FaceRecStack extends Stack {
  readonly buckets: Buckets;
  /** The buckets this stack creates (the others are adopted). */
  readonly createdBuckets: Partial<Record<BucketRole, s3.Bucket>>;
  readonly functions: Record<FunctionName, PipelineFunction>;
  readonly stateMachine: sfn.StateMachine;
  /** The bucket prefix as deployed (a token when it depends on the account or region). */
  readonly prefix: string;
  /** Upload events from the input bucket to the starter, and their dead-letter queue. */
  readonly uploads: sqs.Queue;
  readonly uploadsDeadLetters: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];
  /** The pipeline's CloudWatch dashboard (infra/aws/observability.ts). */
  readonly dashboard: cloudwatch.Dashboard;
  /** The state machine's grants on its own (Distributed Map) executions, when the ASL has one,
   * and the execution ARNs they name. */
  distributedMapPolicy?: { policy: iam.Policy; executionArns: string[] };

  private readonly settings: DeploySettings;
  private readonly logRetention: logs.RetentionDays;
  private readonly aslPath: string;

  constructor(scope: Construct, id: string, props: FaceRecStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.settings = settings;
    this.prefix = settings.prefix.includes('${') ? Fn.sub(settings.prefix) : settings.prefix;
    this.logRetention = settings.logRetentionDays as logs.RetentionDays;
    this.aslPath = props.aslPath ?? path.join(props.projectRoot, 'statemachine', 'pipeline.asl.json');

    const accessLogs = settings.accessLogs ? this.createAccessLogsBucket() : undefined;
    ({ buckets: this.buckets, created: this.createdBuckets } = this.createBuckets(accessLogs));
    const gallery = resolveGallery(settings.gallery, props.projectRoot, this.buckets.meta.bucketName);
    checkGalleryPlace(gallery, settings, props.projectRoot);

    const make = this.functionFactory(props, gallery);
    const { splitter, recognition, result } = this.createPipelineFunctions(make, gallery);
    const pipeline = this.createStateMachine(props, { splitter, recognition, result });
    this.stateMachine = pipeline.stateMachine;
    const starter = make('starter', 'facerec: starts one pipeline execution per uploaded video', {
      [ENV.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn,
      [ENV.FACEREC_VIDEO_EXTENSIONS]: settings.videoExtensions.join(','),
    });
    // starter: HeadObject of the uploaded version (its content type decides whether it is a video).
    starter
      .readsFrom(this.buckets.input, { sid: 'InspectUploads', versions: true })
      .listsKeysOf(this.buckets.input, { sid: DELETED_UPLOADS_SID })
      .startsExecutionsOf(this.stateMachine, { sid: 'StartPipeline' });
    this.functions = { starter, splitter, recognition, result };

    ({ uploads: this.uploads, deadLetters: this.uploadsDeadLetters } = this.deliverUploadsTo(starter));
    this.alarms = this.createAlarms(starter);
    this.dashboard = pipelineDashboard(this, {
      namespace: metricsNamespace(this.prefix),
      functions: this.functions,
      stateMachine: this.stateMachine,
      alarms: this.alarms,
    });
    this.addOutputs(gallery, pipeline.logs);

    acknowledgeFindings({
      stack: this,
      buckets: this.buckets,
      createdBuckets: this.createdBuckets,
      accessLogsBucket: accessLogs,
      roles: {
        starter: starter.role,
        splitter: splitter.role,
        recognition: recognition.role,
        result: result.role,
      },
      stateMachine: this.stateMachine,
      distributedMaps: this.distributedMapPolicy,
    });
  }

  // ---------------------------------------------------------------- buckets

  private createAccessLogsBucket(): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogsBucket', {
      bucketName: `${this.prefix}-access-logs`,
      ...secureBucketDefaults,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
  }

  private createBuckets(accessLogs: s3.Bucket | undefined): {
    buckets: Buckets;
    created: Partial<Record<BucketRole, s3.Bucket>>;
  } {
    const { settings } = this;
    const adopted = new Set(settings.adoptBuckets.map((b) => ADOPTED_ROLE[b]));
    const names = bucketNames(this.prefix);
    const logsTo = (name: string) =>
      accessLogs ? { serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: `${name}/` } : {};
    const removal = (policy: 'retain' | 'destroy') =>
      policy === 'retain'
        ? { removalPolicy: RemovalPolicy.RETAIN }
        : // Deleting a non-empty bucket fails, so destroy also empties it first.
          { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };
    // Versioned buckets (uploads, galleries): earlier versions recoverable for a while, then gone.
    const versionedBucketLifecycle: s3.LifecycleRule[] = [
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      {
        id: 'expire-old-versions',
        noncurrentVersionExpiration: Duration.days(settings.inputNoncurrentVersionDays),
      },
    ];
    // An adopted bucket is imported by name: its settings, lifecycle and contents stay as they are.
    const bucket = (role: BucketRole, id: string, props: s3.BucketProps): s3.IBucket => {
      if (!adopted.has(role)) return (created[role] = new s3.Bucket(this, id, props));
      if (role === 'stage1') {
        // Info, not a warning: a warning is a validation finding, which stops the synth.
        Annotations.of(this).addInfo(
          `${names.stage1} is adopted: its own lifecycle rules apply (the stack's ${settings.stage1ExpirationDays}-day frame expiry is not set on it).`,
        );
      }
      return s3.Bucket.fromBucketName(this, id, props.bucketName!);
    };
    const created: Partial<Record<BucketRole, s3.Bucket>> = {};
    const buckets: Buckets = {
      input: bucket('input', 'InputBucket', {
        bucketName: names.input,
        ...secureBucketDefaults,
        // Re-uploading a video under the same name keeps the earlier one recoverable.
        versioned: true,
        lifecycleRules: versionedBucketLifecycle,
        ...removal(settings.removalPolicy),
        ...logsTo('input'),
      }),
      stage1: bucket('stage1', 'Stage1Bucket', {
        bucketName: names.stage1,
        ...secureBucketDefaults,
        lifecycleRules: [
          {
            id: 'expire-frames',
            expiration: Duration.days(settings.stage1ExpirationDays),
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
        ],
        ...removal(settings.stage1RemovalPolicy),
        ...logsTo('stage-1'),
      }),
      output: bucket('output', 'OutputBucket', {
        bucketName: names.output,
        ...secureBucketDefaults,
        lifecycleRules: [
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        ],
        ...removal(settings.removalPolicy),
        ...logsTo('output'),
      }),
      // The gallery (gallery/gallery.json) and, in the cse546 profiles, failure records: the
      // course's graders read every object of the output and stage-1 buckets, and its workload
      // generator (like `facerec workload --clear`) empties input, stage-1 and output.
      meta: bucket('meta', 'MetaBucket', {
        bucketName: names.meta,
        ...secureBucketDefaults,
        // Every pushed gallery stays recoverable for a while.
        versioned: true,
        lifecycleRules: versionedBucketLifecycle,
        ...removal(settings.removalPolicy),
        ...logsTo('meta'),
      }),
    };
    for (const b of Object.values(created)) narrowAutoDeleteGrant(this, b);
    return { buckets, created };
  }

  // ---------------------------------------------------------------- functions

  /** Makes one of the four functions with what they share (settings, bundling, sizing). */
  private functionFactory(props: FaceRecStackProps, gallery: GalleryPlace) {
    const { settings, projectRoot } = props;
    const arch = ARCHITECTURE === Architecture.ARM_64 ? 'arm64' : 'x64';
    const common = {
      [ENV.FACEREC_BUCKET_PREFIX]: this.prefix,
      [ENV.FACEREC_PROFILE]: settings.profile,
      [ENV.FACEREC_LOG_LEVEL]: settings.logLevel,
      // The functions log with Powertools as service `facerec` (a `function` key tells them apart).
      POWERTOOLS_SERVICE_NAME: LOG_SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
      // Their metrics' namespace (the dashboard's), one per prefix (functions/core/stages.ts).
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(this.prefix),
      // The same value the definition substitution gets, for code that reports it.
      [ENV.FACEREC_MAP_MAX_CONCURRENCY]: String(settings.mapMaxConcurrency),
      ...tuningEnv(settings),
    };
    const galleryInImage = gallery.file ? path.relative(projectRoot, gallery.file) : undefined;
    return (name: FunctionName, description: string, environment: Record<string, string>) =>
      new PipelineFunction(this, `${capitalize(name)}`, {
        name,
        functionName:
          name === 'splitter' || name === 'recognition' ? functionNameFor(settings, name) : undefined,
        description,
        packaging: settings.packaging,
        projectRoot,
        bundle: bundleSpecFor(name, {
          projectRoot,
          arch,
          entry: props.entries?.[name],
          modelsDir: props.modelsDir,
          galleryFile: gallery.file,
          packageCache: settings.packageCache,
        }),
        imageBuildArgs:
          name === 'recognition' && galleryInImage
            ? { GALLERY: galleryInImage.split(path.sep).join('/') }
            : undefined,
        imageContextPaths: name === 'recognition' && galleryInImage ? [galleryInImage] : undefined,
        ...FUNCTION_SIZING[name],
        environment: { ...common, ...environment },
        logRetention: this.logRetention,
        onBundled: props.onBundled,
      });
  }

  /** The three functions the state machine invokes, each with exactly the access it needs. */
  private createPipelineFunctions(
    make: ReturnType<FaceRecStack['functionFactory']>,
    gallery: GalleryPlace,
  ): Record<'splitter' | 'recognition' | 'result', PipelineFunction> {
    const { input, stage1, output } = this.buckets;
    const arch = ARCHITECTURE === Architecture.ARM_64 ? 'arm64' : 'x64';
    const splitter = make(
      'splitter',
      'facerec: extracts frames from an uploaded video into the stage-1 bucket',
      {
        // No ffmpeg timeout here: the splitter gives ffmpeg the invocation's remaining time less
        // FFMPEG_RESERVE_SECONDS (functions/core/ffmpeg/deadline.ts), as in local mode.
        [ENV.FFMPEG_PATH]: `${TASK_ROOT}/${BUNDLE_PATHS.ffmpeg(arch)}`,
      },
    );
    // Downloads the uploaded video (the version the event named: the input bucket is versioned,
    // so GetObject with a VersionId needs s3:GetObjectVersion), writes frames.
    splitter
      .readsFrom(input, { sid: 'ReadVideos', versions: true })
      .listsKeysOf(input, { sid: DELETED_UPLOADS_SID })
      .writesTo(stage1, { sid: 'WriteFrames' });
    // A long video's segments each list their frames; the splitter merges those lists.
    splitter.readsFrom(stage1, { sid: 'ReadSegmentLists', objects: FRAME_LIST_PATTERNS.segments });

    const recognition = make('recognition', 'facerec: detects and recognises faces in a batch of frames', {
      [ENV.FACEREC_MODELS_DIR]: `${TASK_ROOT}/${BUNDLE_PATHS.modelsDir}`,
      // Models (and the gallery) load in the init phase, before the first invocation.
      [ENV.FACEREC_LOAD_AT_INIT]: 'true',
      [ENV.FACEREC_GALLERY]: gallery.s3 ? s3Uri(gallery.s3) : `${TASK_ROOT}/${BUNDLE_PATHS.gallery}`,
    });
    // Reads frames; and the gallery when it lives in S3.
    recognition.readsFrom(stage1, { sid: 'ReadFrames' });
    if (gallery.s3) {
      const galleryBucket = s3.Bucket.fromBucketName(this, 'GalleryBucket', gallery.s3.bucket);
      // Without s3:ListBucket a missing object answers 403, indistinguishable from a denied
      // one; with it, no gallery yet is a 404 and every face is `Unknown` until one is pushed.
      recognition
        .readsFrom(galleryBucket, { sid: 'ReadGallery', objects: gallery.s3.key })
        .listsKeysOf(galleryBucket, { sid: 'TellMissingGallery' });
    }

    const result = make(
      'result',
      'facerec: writes <video-stem>.txt (or an error record) to the output bucket',
      {},
    );
    // Writes <stem>.txt (+ <stem>.json) or errors/<stem>.json, removes an old errors/<stem>.json
    // once the video succeeds, and reads the input's current version (HeadObject). Nothing else.
    // Failure records go where layout.ts puts them for this profile (the meta bucket for cse546).
    const records = this.buckets[failureRecordBucketRole(this.settings.profile)];
    const errors = `${ERRORS_PREFIX}*`;
    result.writesTo(output, { sid: 'WriteResults' });
    if (records !== output) result.writesTo(records, { sid: 'WriteFailureRecords', objects: errors });
    // Newest upload wins: HeadObject of the input's current version before writing (issue 12).
    result
      .readsFrom(input, { sid: 'CheckUploadIsCurrent' })
      .listsKeysOf(input, { sid: DELETED_UPLOADS_SID })
      .deletesFrom(records, { sid: 'ClearOldErrorRecords', objects: errors });
    // After a Distributed Map: its results (ResultWriter) and the frames' times (the frame list).
    result
      .readsFrom(stage1, { sid: 'ReadMapRunResults', objects: FRAME_LIST_PATTERNS.results })
      .readsFrom(stage1, { sid: 'ReadFrameLists', objects: FRAME_LIST_PATTERNS.list });
    return { splitter, recognition, result };
  }

  // ---------------------------------------------------------------- state machine

  private createStateMachine(
    props: FaceRecStackProps,
    fns: Record<'splitter' | 'recognition' | 'result', PipelineFunction>,
  ): { stateMachine: sfn.StateMachine; logs: logs.LogGroup } {
    const aslPath = this.aslPath;
    const substitutions: Record<AslPlaceholder, string> = {
      SplitterFunctionArn: fns.splitter.function.functionArn,
      RecognitionFunctionArn: fns.recognition.function.functionArn,
      ResultFunctionArn: fns.result.function.functionArn,
      MapMaxConcurrency: String(this.settings.mapMaxConcurrency),
      // Per-video events ('Video processed', 'Video failed', source facerec) go to the default bus.
      EventBusName: EVENT_BUS_NAME,
      // Task timeouts and Retry blocks: the same in every deployment and in local mode.
      ...ASL_FACTS,
    };
    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small.
      logGroupName: Fn.join('', ['/aws/vendedlogs/states/', Aws.STACK_NAME, '-pipeline']),
      retention: this.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'facerec: split a video into frames, recognise faces in batches, write the result',
      stateMachineType: sfn.StateMachineType.STANDARD,
      // The file as a string (not fromFile's S3 asset), so the template shows the definition.
      definitionBody: sfn.DefinitionBody.fromString(readAsl(aslPath)),
      definitionSubstitutions: substitutions,
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      // The execution timeout is the definition's own TimeoutSeconds (a string definition cannot
      // take CDK's `timeout`).
    });
    // Substitutions are opaque to CDK, so it cannot infer permissions: name the three functions.
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokePipelineFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(fns).map((f) => f.function.functionArn),
      }),
    );
    // The per-video events: PutEvents on the default bus only.
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AnnounceVideos',
        actions: ['events:PutEvents'],
        resources: [
          `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/${EVENT_BUS_NAME}`,
        ],
      }),
    );
    this.grantDistributedMaps(stateMachine, aslPath);
    return { stateMachine, logs: stateMachineLogs };
  }

  /**
   * What the Distributed Map needs: read the frame list (ItemReader) and write the results
   * (ResultWriter) in stage-1, start its child executions (this state machine), describe, stop and
   * redrive them. The grants on the state machine itself are in a policy of their own (as CDK's
   * DistributedMap does it): the state machine does not wait for that one, so its ARN makes no
   * dependency cycle.
   */
  private grantDistributedMaps(stateMachine: sfn.StateMachine, aslPath: string): void {
    const labels = distributedMapLabels(aslPath);
    if (labels.length === 0) return;
    const stage1 = this.buckets.stage1;
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadFrameLists',
        actions: ['s3:GetObject'],
        resources: [stage1.arnForObjects(FRAME_LIST_PATTERNS.list)],
      }),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteMapRunResults',
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [stage1.arnForObjects(FRAME_LIST_PATTERNS.results)],
      }),
    );
    const policy = new iam.Policy(stateMachine, 'DistributedMapPolicy');
    stateMachine.role.attachInlinePolicy(policy);
    stateMachine.grantStartExecution(policy);
    // Its executions (`execution:<name>:*`, as grantExecution names them) and its Map Runs'
    // children (`execution:<name>/<Label>:*`).
    const name = Arn.split(stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executions = (suffix: string) =>
      Stack.of(this).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${name}${suffix}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const own = executions(':*');
    const children = labels.map((label) => executions(`/${label}:*`));
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [own],
      }),
      new iam.PolicyStatement({ actions: ['states:RedriveExecution'], resources: children }),
    );
    this.distributedMapPolicy = { policy, executionArns: [own, ...children] };
  }

  // ---------------------------------------------------------------- uploads -> starter

  /**
   * Uploads reach the starter through a queue, not by direct asynchronous invocation: a
   * throttled or failing StartExecution leaves the message in the queue, retried up to
   * maxReceiveCount times, then kept 14 days in the dead-letter queue (alarmed), never dropped.
   */
  private deliverUploadsTo(starter: PipelineFunction): { uploads: sqs.Queue; deadLetters: sqs.Queue } {
    const deadLetters = new sqs.Queue(this, 'UploadEventsDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const uploads = new sqs.Queue(this, 'UploadEvents', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the starter's timeout (AWS's advice for SQS event sources).
      visibilityTimeout: Duration.seconds(FUNCTION_SIZING.starter.timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: UPLOAD_MAX_RECEIVE_COUNT },
    });
    for (const ext of videoSuffixes(this.settings.videoExtensions)) {
      this.buckets.input.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(uploads), {
        suffix: ext,
      });
    }
    starter.function.addEventSource(
      new SqsEventSource(uploads, {
        batchSize: UPLOAD_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
        // Only the messages the starter names are delivered again (StarterResult.batchItemFailures).
        reportBatchItemFailures: true,
      }),
    );
    return { uploads, deadLetters };
  }

  // ---------------------------------------------------------------- alarms

  private createAlarms(starter: PipelineFunction): cloudwatch.Alarm[] {
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    const alarms = [
      alarm(
        'UploadDeadLettersAlarm',
        this.uploadsDeadLetters.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        'Uploads whose execution could not be started after retries wait in the dead-letter queue: ' +
          'fix the cause, then redrive them (SQS console, "Start DLQ redrive").',
      ),
      alarm(
        'StarterErrorsAlarm',
        starter.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        'The starter failed (its messages are retried, then dead-lettered): see StarterLogGroup.',
      ),
      alarm(
        'FailedExecutionsAlarm',
        this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        'A video failed: its failure record says why (errors/<stem>.json).',
      ),
      alarm(
        'TimedOutExecutionsAlarm',
        this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
        'An execution hit the state machine timeout (no failure record is written in that case).',
      ),
    ];
    notifyTopics(alarms, alarmTopics(this, this.settings));
    return alarms;
  }

  // ---------------------------------------------------------------- outputs

  private addOutputs(gallery: GalleryPlace, stateMachineLogs: logs.LogGroup): void {
    const { input, stage1, output, meta } = this.buckets;
    new CfnOutput(this, 'InputBucketName', { value: input.bucketName, description: 'Upload videos here' });
    new CfnOutput(this, 'Stage1BucketName', { value: stage1.bucketName, description: 'Extracted frames' });
    new CfnOutput(this, 'OutputBucketName', { value: output.bucketName, description: 'Results' });
    new CfnOutput(this, 'MetaBucketName', {
      value: meta.bucketName,
      description: `The gallery (${GALLERY_KEY}) and the failure records of the cse546 profiles`,
    });
    new CfnOutput(this, 'GalleryLocation', {
      value: gallery.s3 ? s3Uri(gallery.s3) : 'embedded in the recognition bundle',
    });
    for (const fn of ['splitter', 'recognition'] as const) {
      new CfnOutput(this, `${capitalize(fn)}FunctionName`, {
        value: this.functions[fn].function.functionName,
      });
    }
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ExecutionsConsoleUrl', {
      description: 'Executions of the pipeline in the Step Functions console',
      value: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${this.stateMachine.stateMachineArn}`,
    });
    new CfnOutput(this, 'StateMachineLogGroup', { value: stateMachineLogs.logGroupName });
    new CfnOutput(this, 'UploadDeadLetterQueueUrl', {
      value: this.uploadsDeadLetters.queueUrl,
      description: 'Upload events the starter could not handle (alarmed; redrive after fixing the cause)',
    });
    for (const [name, fn] of Object.entries(this.functions)) {
      new CfnOutput(this, `${capitalize(name)}LogGroup`, { value: fn.logGroup.logGroupName });
    }
  }
}

/** Before any bundling: a missing gallery is the most likely first-deploy mistake. */
function checkGalleryPlace(gallery: GalleryPlace, settings: DeploySettings, projectRoot: string): void {
  if (!gallery.file) return;
  checkGalleryFile(gallery.file);
  if (settings.packaging === 'image' && path.relative(projectRoot, gallery.file).startsWith('..')) {
    throw new Error(
      `With -c packaging=image the gallery must be inside the repository (the image build context), got ${gallery.file}; ` +
        'copy it into the repository or use -c gallery=s3://bucket/key.',
    );
  }
}

const secureBucketDefaults = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  // ACLs off: the bucket owner owns every object, access is decided by policies alone.
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} satisfies s3.BucketProps;

/**
 * `autoDeleteObjects` lets CDK's teardown helper empty the bucket, through a bucket policy that
 * grants it `s3:GetBucket*`, `s3:List*` and `s3:DeleteObject*`. The helper makes five calls
 * (ListObjectVersions, DeleteObjects, GetBucketTagging, GetBucketPolicy, PutBucketPolicy): grant
 * exactly the actions behind them, so no Allow in the template uses a wildcard action.
 */
export const AUTO_DELETE_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:GetBucketPolicy',
  's3:GetBucketTagging',
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:PutBucketPolicy',
];

function narrowAutoDeleteGrant(stack: Stack, bucket: s3.Bucket): void {
  const policy = bucket.policy;
  if (!policy) return;
  const doc = stack.resolve(policy.document) as {
    Statement: Array<{ Effect: string; Action: string | string[] }>;
  };
  doc.Statement.forEach((st, i) => {
    const actions = ([] as string[]).concat(st.Action);
    if (st.Effect === 'Allow' && actions.includes('s3:DeleteObject*')) {
      (policy.node.defaultChild as s3.CfnBucketPolicy).addPropertyOverride(
        `PolicyDocument.Statement.${i}.Action`,
        AUTO_DELETE_ACTIONS,
      );
    }
  });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Re-exported: its home is settings.ts (the CLI's doctor uses it without the CDK). */
export { videoSuffixes };

function tuningEnv(settings: DeploySettings): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: EnvName, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set(ENV.FACEREC_FRAMES, settings.frames);
  set(ENV.FACEREC_MAX_FRAMES, settings.maxFrames);
  set(ENV.FACEREC_FRAME_BATCH, settings.frameBatch);
  set(ENV.FACEREC_FACES_PER_FRAME, settings.facesPerFrame);
  set(ENV.FACEREC_WRITE_DETAIL, settings.writeDetail);
  set(ENV.FACEREC_SAMPLE, settings.sample);
  set(ENV.FACEREC_TOO_LONG, settings.tooLong);
  return env;
}

function resolveGallery(gallery: string | undefined, projectRoot: string, metaBucket: string): GalleryPlace {
  if (gallery === undefined) return { s3: { bucket: metaBucket, key: GALLERY_KEY } };
  const s3 = parseS3Uri(gallery);
  if (s3) return { s3 };
  return { file: path.resolve(projectRoot, gallery) };
}

/** The Labels of the ASL's Distributed Map states (each names its child executions' ARNs). */
function distributedMapLabels(aslPath: string): string[] {
  const labels: string[] = [];
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, st] of Object.entries(states)) {
      const processor = st.ItemProcessor as
        { ProcessorConfig?: { Mode?: string }; States: Record<string, Record<string, unknown>> } | undefined;
      if (!processor) continue;
      if (processor.ProcessorConfig?.Mode === 'DISTRIBUTED') {
        if (typeof st.Label !== 'string') {
          throw new Error(`${aslPath}: the Distributed Map "${name}" needs a Label (its grants name it)`);
        }
        labels.push(st.Label);
      }
      visit(processor.States);
    }
  };
  // Placeholders are not JSON: any value will do to read the structure.
  const text = readFileSync(aslPath, 'utf8').replace(/\$\{[A-Za-z0-9_]+\}/g, '0');
  visit((JSON.parse(text) as { States: Record<string, Record<string, unknown>> }).States);
  return labels;
}

/** Reads the ASL and checks its placeholders against the substitutions we pass, both ways. */
export function readAsl(aslPath: string): string {
  let text: string;
  try {
    text = readFileSync(aslPath, 'utf8');
  } catch {
    throw new Error(`State machine definition ${aslPath} not found.`);
  }
  const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
  const known = new Set<string>(ASL_PLACEHOLDERS);
  const unknown = [...used].filter((u) => !known.has(u));
  const unused = [...known].filter((k) => !used.has(k));
  if (unknown.length > 0 || unused.length > 0) {
    throw new Error(
      `${aslPath} does not match the stack's definition substitutions` +
        (unknown.length ? `; unknown placeholders: ${unknown.join(', ')}` : '') +
        (unused.length ? `; placeholders never used: ${unused.join(', ')}` : ''),
    );
  }
  return text;
}
