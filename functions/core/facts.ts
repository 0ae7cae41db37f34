/**
 * Facts the functions, the infrastructure (AWS and local) and the CLI share, each stated once.
 * Plain values only: no imports, so every Lambda bundle, the CDK app and the CLI can load it.
 * Reading the environment stays in functions/config.ts; CDK context in infra/aws/settings.ts.
 */

/** Frame sampling and key layout (functions/core/layout.ts says what each one does). */
export const PROFILES = ['default', 'cse546-p1', 'cse546-p2'] as const;
export type Profile = (typeof PROFILES)[number];
export const DEFAULT_PROFILE: Profile = 'default';

/** The profiles of the cse546 course, whose graders look functions up by name and read every
 * object of the output and stage-1 buckets. */
export function isCourseProfile(profile: Profile): boolean {
  return profile.startsWith('cse546');
}

/** The four pipeline functions, on AWS and in local mode. */
export const FUNCTION_NAMES = ['starter', 'splitter', 'recognition', 'result'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The function names the cse546 graders look up (`get_function`). */
export const COURSE_FUNCTION_NAMES = {
  splitter: 'video-splitting',
  recognition: 'face-recognition',
} as const;

/**
 * Seconds each function may run, on AWS (the Lambda timeout) and in local mode (the local
 * stand-in's: one value, so a video that fits on AWS fits locally and the other way round; the
 * local stand-in used to stop the splitter at 120 s for no stated reason). The Task states of
 * statemachine/pipeline.asl.json allow at least as long, so the function's own timeout (a
 * classified error) comes first: test/functions/core/facts.test.ts checks it.
 */
export const FUNCTION_TIMEOUT_SECONDS: Record<FunctionName, number> = {
  // One HeadObject and one StartExecution per upload.
  starter: 30,
  // Download, ffmpeg and frame uploads of one video; ffmpeg gets what is left less FFMPEG_RESERVE_SECONDS.
  splitter: 300,
  // One batch of frames through the three ONNX models.
  recognition: 120,
  // Votes over the Map's results and writes one or two small objects.
  result: 60,
};

/**
 * Seconds of the splitter's remaining time that ffmpeg may not take: kept for what follows it in
 * the invocation (the frames' uploads, the frame list, the response), so that a stuck ffmpeg ends
 * in a classified timeout (Facerec.Timeout, an error record) before the function's own timeout.
 * One rule on AWS and in local mode, from the invocation's remaining time
 * (functions/core/ffmpeg/deadline.ts). AWS used to give ffmpeg the timeout less 30 s, fixed at
 * deploy, and local mode the remaining time less 8 s.
 */
export const FFMPEG_RESERVE_SECONDS = 30;

/**
 * Memory of each function (MB), on AWS (the Lambda's memory size, from measurements: see
 * infra/aws/facerec-stack.ts FUNCTION_SIZING and docs/cost.md) and in local mode (the local
 * stand-in's AWS_LAMBDA_FUNCTION_MEMORY_SIZE: one value, so the splitter's ffmpeg gets the same
 * memory cap locally as on AWS; local mode used to say 1,024 MB for every function, and the
 * splitter's ffmpeg then failed on ordinary videos under a 768 MB cap).
 */
export const FUNCTION_MEMORY_MB: Record<FunctionName, number> = {
  starter: 256,
  splitter: 2048,
  // One full vCPU (1,769 MB = one vCPU on Lambda).
  recognition: 1769,
  result: 256,
};

/** Video types the pipeline reacts to by default (the input bucket's notification filters and
 * the starter's check; `-c videoExtensions` / FACEREC_VIDEO_EXTENSIONS override it). */
export const VIDEO_EXTENSIONS = [
  'mp4',
  'mov',
  'm4v',
  'avi',
  'mkv',
  'webm',
  'mpg',
  'mpeg',
  '3gp',
  'wmv',
  'flv',
  'ts',
] as const;

/** Content types the starter accepts by default (`type/*` wildcards allowed). */
export const VIDEO_CONTENT_TYPES = ['video/*', 'application/octet-stream', 'binary/octet-stream'] as const;

/** A literal bucket prefix: S3 bucket name rules, leaving room for the longest suffix
 * (`-stage-1`, `-access-logs`) within 63 characters. */
export const BUCKET_PREFIX_PATTERN = /^[a-z0-9][a-z0-9.-]{0,46}[a-z0-9]$/;
export const BUCKET_PREFIX_RULE =
  '2-48 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit (S3 bucket rules: bucket names are <prefix>-input, <prefix>-stage-1, <prefix>-output, <prefix>-meta)';

/** S3's naming rules for general purpose buckets. */
export function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias')
  );
}

/** The region when none is set: the functions' default (AWS_REGION) and local mode's (its ARNs,
 * event records and buckets), the one a stack's local endpoints stand for. */
export const DEFAULT_REGION = 'us-east-1';

/** Log levels of the functions (Powertools Logger's, FACEREC_LOG_LEVEL). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL = 'INFO' satisfies LogLevel;
/** The levels a deployment may choose (`-c logLevel`): a subset of LOG_LEVELS, unchanged from
 * infra/aws/settings.ts (no reason was recorded for leaving out TRACE, CRITICAL and SILENT). */
export const DEPLOY_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const satisfies readonly LogLevel[];

/** The Powertools service name the four functions log under (a `function` key tells them apart). */
export const LOG_SERVICE_NAME = 'facerec';

/**
 * The names of the errors the functions throw (the Lambda runtime reports `error.name` as the
 * error type, the ASL's Retry matches on it, failure records name it): this list and nothing else
 * (functions/aws/errors.ts says what each means; test/functions/core/facts.test.ts checks that
 * every `Facerec.*` name the ASL and the code use is one of these). StackStopped and DeadLetter
 * are local mode's own (infra/local).
 */
export const ERROR_NAMES = {
  Transient: 'Facerec.Transient',
  BadInput: 'Facerec.BadInput',
  Timeout: 'Facerec.Timeout',
  Config: 'Facerec.Config',
  Internal: 'Facerec.Internal',
  StackStopped: 'Facerec.StackStopped',
  DeadLetter: 'Facerec.DeadLetter',
} as const;

/**
 * Seconds a Task state of the ASL gives one invocation of a function: its function timeout and a
 * margin, so the function's own timeout (a classified error with its reason) always comes before
 * the state's States.Timeout (the state's clock starts before the invocation does).
 */
const TASK_TIMEOUT_MARGIN_SECONDS = 30;
export function taskTimeoutSeconds(fn: FunctionName): number {
  return FUNCTION_TIMEOUT_SECONDS[fn] + TASK_TIMEOUT_MARGIN_SECONDS;
}

/** One Retry rule of the ASL (Step Functions' fields). */
export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxAttempts: number;
  MaxDelaySeconds?: number;
  JitterStrategy: 'FULL' | 'NONE';
}

/**
 * The Retry of every Task that invokes one of our functions: throttling (the account's
 * concurrency quota) waits its turn for long, with short capped delays; a passing fault (ours,
 * Facerec.Transient, or the Lambda service's) is tried 4 times with backoff; anything else (bad
 * input, configuration, timeouts, bugs) is never retried.
 */
const LAMBDA_TASK_RETRY: readonly AslRetrier[] = [
  {
    ErrorEquals: ['Lambda.TooManyRequestsException'],
    IntervalSeconds: 1,
    BackoffRate: 1.5,
    MaxAttempts: 100,
    MaxDelaySeconds: 4,
    JitterStrategy: 'FULL',
  },
  {
    ErrorEquals: [
      ERROR_NAMES.Transient,
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.ClientExecutionTimeoutException',
    ],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxAttempts: 4,
    MaxDelaySeconds: 10,
    JitterStrategy: 'FULL',
  },
];

/** The Retry of the EventBridge announcements (which never fail a video: their Catch goes on). */
const ANNOUNCE_TASK_RETRY: readonly AslRetrier[] = [
  { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' },
];

/** Where the per-video events ('Video processed', 'Video failed', source facerec) go, on AWS and
 * in local mode. */
export const EVENT_BUS_NAME = 'default';

/**
 * The placeholders of statemachine/pipeline.asl.json whose values are the same in every
 * deployment (facts of this file), as the text each is replaced with: the CDK stack passes them
 * as DefinitionSubstitutions beside the deployment's own (ASL_DEPLOYMENT_PLACEHOLDERS), local mode
 * and the console substitute them themselves (infra/local/sfn/load-definition.ts). JSON, so a Retry block
 * or a number goes in unquoted (`"Retry": ${LambdaTaskRetry}`).
 */
export const ASL_FACTS = {
  SplitterTaskTimeoutSeconds: String(taskTimeoutSeconds('splitter')),
  RecognitionTaskTimeoutSeconds: String(taskTimeoutSeconds('recognition')),
  ResultTaskTimeoutSeconds: String(taskTimeoutSeconds('result')),
  LambdaTaskRetry: JSON.stringify(LAMBDA_TASK_RETRY),
  AnnounceTaskRetry: JSON.stringify(ANNOUNCE_TASK_RETRY),
} as const;
export type AslFact = keyof typeof ASL_FACTS;

/** The placeholders whose values differ per deployment (function ARNs, the Map's concurrency)
 * or that the CDK stack also needs in its IAM policies (the event bus). */
const ASL_DEPLOYMENT_PLACEHOLDERS = [
  'SplitterFunctionArn',
  'RecognitionFunctionArn',
  'ResultFunctionArn',
  'MapMaxConcurrency',
  'EventBusName',
] as const;
export type AslDeploymentPlaceholder = (typeof ASL_DEPLOYMENT_PLACEHOLDERS)[number];

/** The placeholders statemachine/pipeline.asl.json uses, and nothing else. */
export const ASL_PLACEHOLDERS = [
  ...ASL_DEPLOYMENT_PLACEHOLDERS,
  ...(Object.keys(ASL_FACTS) as AslFact[]),
] as const;
export type AslPlaceholder = AslDeploymentPlaceholder | AslFact;

/** Detector defaults (FACEREC_MIN_FACE_SCORE, FACEREC_MIN_FACE_SIZE; the engine's detection
 * options, functions/core/faces/detection-passes.ts, when no config is given): boxes scored below the
 * score are dropped; the size (box side, image pixels) is the smallest face detection must find. */
export const DEFAULT_MIN_FACE_SCORE = 0.7;
export const DEFAULT_MIN_FACE_SIZE = 40;

/** Images (and video frames) with more pixels than this many millions are refused as bad input
 * (decompression bombs): FACEREC_MAX_IMAGE_MEGAPIXELS, the decoder's default limit. */
export const DEFAULT_MAX_IMAGE_MEGAPIXELS = 100;

/** Step Functions' limit on a state's input or output, and on a Distributed Map child's batch
 * input (bytes of UTF-8 JSON); local mode enforces it as AWS does. */
export const STATE_PAYLOAD_LIMIT = 256 * 1024;

/** Upload-queue messages the starter gets in one invocation at most: the SQS event source's
 * BatchSize on AWS, and the local queue's batches (infra/local/queue.ts). */
export const UPLOAD_BATCH_SIZE = 10;

/** Recognition invocations one execution runs at once (the Map state's MaxConcurrency). */
export const DEFAULT_MAP_MAX_CONCURRENCY = 10;
