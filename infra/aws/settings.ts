/**
 * Deployment settings: read from CDK context (`cdk.json`, or `-c key=value` on the command
 * line), validated once, with messages that say what to pass instead. Values from the command
 * line arrive as strings, values from cdk.json as JSON types; both are accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { onOff } from '../../functions/config.js';
import {
  BUCKET_PREFIX_PATTERN,
  BUCKET_PREFIX_RULE,
  COURSE_FUNCTION_NAMES,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAP_MAX_CONCURRENCY,
  DEFAULT_PROFILE,
  DEPLOY_LOG_LEVELS,
  isCourseProfile,
  PROFILES,
  VIDEO_EXTENSIONS,
} from '../../functions/core/facts.js';
import { parseSampling, TOO_LONG_RULES } from '../../functions/core/sampling.js';

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const bool = z.union([z.boolean(), onOff]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const removal = z.enum(['retain', 'destroy']);
const optionalText = z.union([z.string(), z.number(), z.boolean()]).transform(String).optional();
const functionName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, hyphens or underscores (or auto)')
  .optional();

/** Roles of the buckets a deployment may adopt instead of creating (their names are the prefix's). */
const ADOPTABLE_BUCKETS = ['input', 'stage-1', 'output', 'meta'] as const;
export type AdoptableBucket = (typeof ADOPTABLE_BUCKETS)[number];

/** The course's graders read us-east-1, and may grade days after the frames were written. */
const COURSE_REGION = 'us-east-1';
const COURSE_MIN_STAGE1_DAYS = 14;
/** Frames are transient: a day is enough for the default profile (docs/deploy.md). */
const DEFAULT_STAGE1_DAYS = 1;

const SettingsSchema = z.object({
  /**
   * Bucket name prefix. A literal (`-c prefix=cse546-team7`), or a CloudFormation `${...}`
   * template such as the default `facerec-${AWS::AccountId}-${AWS::Region}`, which is unique
   * per account and region so a first deploy never collides with someone else's bucket.
   */
  prefix: z
    .string()
    .min(1)
    .refine((p) => p.includes('${') || BUCKET_PREFIX_PATTERN.test(p), {
      message: `must be ${BUCKET_PREFIX_RULE}`,
    }),
  profile: z.enum(PROFILES),
  /**
   * Unset (default): the recognition function reads `s3://<prefix>-meta/gallery/gallery.json`
   * (`facerec gallery push` writes it; no gallery yet: every face is `Unknown`). Else another
   * `s3://bucket/key`, or a local gallery file embedded in the bundle (fixed until redeployed).
   */
  gallery: z.string().min(1).optional(),
  /** Lambda function names: unset = the profile's (`video-splitting` and `face-recognition` in
   * the cse546 profiles, whose graders look the functions up by name; CloudFormation-generated
   * otherwise), `auto` = generated, else that name. */
  splitterFunctionName: functionName,
  recognitionFunctionName: functionName,
  /** An SNS topic for the alarms (dead letters, starter errors, failed executions); unset: the
   * alarms only show in CloudWatch. */
  alarmTopicArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
    .optional(),
  /** An e-mail address for the alarms: the stack creates an SNS topic subscribed to it (AWS sends
   * a confirmation mail first); unset: no topic is created. */
  alarmEmail: z.string().email('must be an e-mail address such as ops@example.com').optional(),
  /** `zip` (default, no Docker needed) or `image` (container images from functions/Dockerfile). */
  packaging: z.enum(['zip', 'image']),
  /** For the input and output buckets. */
  removalPolicy: removal,
  /** For the stage-1 bucket (frames are transient): destroy by default. */
  stage1RemovalPolicy: removal,
  /** Days before stage-1 frames expire; unset: 1, or 14 in the cse546 profiles (never fewer there:
   * the course's grading may come days after the run). */
  stage1ExpirationDays: int(1, 3650),
  /** The region to deploy to; unset: us-east-1 in the cse546 profiles (the graders' region),
   * else the AWS CLI profile's region. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be a region name such as us-east-1')
    .optional(),
  /** Existing buckets (`<prefix>-input`, ...) to use as they are instead of creating them: their
   * settings and contents are left alone; the input bucket gets this stack's upload notifications
   * next to any it already has. */
  adoptBuckets: z
    .union([z.array(z.string()), z.string().transform((s) => s.split(','))])
    .transform((list) => list.map((b) => b.trim().toLowerCase()).filter((b) => b !== ''))
    .pipe(
      z.array(z.enum(ADOPTABLE_BUCKETS, { message: `each must be one of ${ADOPTABLE_BUCKETS.join(', ')}` })),
    )
    .transform((list) => [...new Set(list)]),
  /** Where platform packages this machine lacks (linux binaries on a Mac) are cached for the
   * bundles; unset: the per-user cache (infra/aws/bundling/platform-packages.ts). */
  packageCache: z.string().min(1).optional(),
  /** Old versions of re-uploaded videos in the input bucket are kept this long. */
  inputNoncurrentVersionDays: int(1, 3650),
  /** Concurrent recognition invocations per execution (the Map state's MaxConcurrency). */
  mapMaxConcurrency: int(1, 1000),
  logRetentionDays: z.coerce
    .number()
    .int()
    .refine((d) => LOG_RETENTION_DAYS.includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
  /** Server access logs for the three buckets, into `<prefix>-access-logs`. */
  accessLogs: bool,
  videoExtensions: z
    .union([z.array(z.string()), z.string().transform((s) => s.split(','))])
    .transform((list) => list.map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter((e) => e !== ''))
    .refine((list) => list.length > 0 && list.every((e) => /^[a-z0-9]+$/.test(e)), {
      message: 'must be a comma-separated list of extensions such as mp4,mov',
    }),
  /** Log level of the functions (FACEREC_LOG_LEVEL, POWERTOOLS_LOG_LEVEL). */
  logLevel: z.enum(DEPLOY_LOG_LEVELS),
  /** Pipeline tuning passed to the functions as FACEREC_FRAMES, FACEREC_MAX_FRAMES,
   * FACEREC_FRAME_BATCH, FACEREC_FACES_PER_FRAME and FACEREC_WRITE_DETAIL; unset = the functions'
   * own defaults. */
  frames: optionalText,
  maxFrames: optionalText,
  frameBatch: optionalText,
  facesPerFrame: optionalText,
  writeDetail: optionalText,
  /** The default profile's sampling (FACEREC_SAMPLE: `10`, `1/s`, `30/min`) and what a video too
   * long for it gets (FACEREC_TOO_LONG: spread, cap, refuse); unset = the functions' defaults. */
  sample: optionalText.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        parseSampling(v);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a number of frames spread over each video (10) or a rate (1/s, 2/s, 30/min)' },
  ),
  tooLong: z.enum(TOO_LONG_RULES).optional(),
});

export type DeploySettings = z.infer<typeof SettingsSchema>;

/** The explicit name of the splitter or recognition function, or undefined (generated). */
export function functionNameFor(
  settings: DeploySettings,
  fn: 'splitter' | 'recognition',
): string | undefined {
  const given = fn === 'splitter' ? settings.splitterFunctionName : settings.recognitionFunctionName;
  if (given === 'auto') return undefined;
  if (given) return given;
  return isCourseProfile(settings.profile) ? COURSE_FUNCTION_NAMES[fn] : undefined;
}

/** Defaults of every setting, stated here only (cdk.json restates none: a value there would be a
 * second home). The ones the functions share (profile, Map concurrency, video extensions, log
 * level) come from core/facts.ts. */
export const DEFAULT_SETTINGS: DeploySettings = {
  prefix: 'facerec-${AWS::AccountId}-${AWS::Region}',
  profile: DEFAULT_PROFILE,
  gallery: undefined,
  splitterFunctionName: undefined,
  recognitionFunctionName: undefined,
  alarmTopicArn: undefined,
  alarmEmail: undefined,
  packaging: 'zip',
  removalPolicy: 'retain',
  stage1RemovalPolicy: 'destroy',
  stage1ExpirationDays: DEFAULT_STAGE1_DAYS,
  region: undefined,
  adoptBuckets: [],
  packageCache: undefined,
  inputNoncurrentVersionDays: 30,
  mapMaxConcurrency: DEFAULT_MAP_MAX_CONCURRENCY,
  logRetentionDays: 30,
  accessLogs: false,
  videoExtensions: [...VIDEO_EXTENSIONS],
  logLevel: DEFAULT_LOG_LEVEL,
  frames: undefined,
  maxFrames: undefined,
  frameBatch: undefined,
  facesPerFrame: undefined,
  writeDetail: undefined,
  sample: undefined,
  tooLong: undefined,
};

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof DeploySettings>;

/**
 * Validates settings gathered from context. `lookup(key)` returns the raw context value
 * (undefined when absent: the default applies).
 */
export function readSettings(lookup: (key: string) => unknown): DeploySettings {
  const given = (key: string) => {
    const value = lookup(key);
    return value === undefined || value === '' ? undefined : value;
  };
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) raw[key] = given(key) ?? DEFAULT_SETTINGS[key];
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  -c ${String(i.path[0])}=...: ${i.message}`);
    throw new Error(`Invalid deployment settings:\n${lines.join('\n')}`);
  }
  const settings = parsed.data;
  if (isCourseProfile(settings.profile)) {
    settings.region ??= COURSE_REGION;
    if (given('stage1ExpirationDays') === undefined) settings.stage1ExpirationDays = COURSE_MIN_STAGE1_DAYS;
    else if (settings.stage1ExpirationDays < COURSE_MIN_STAGE1_DAYS) {
      throw new Error(
        `Invalid deployment settings:\n  -c stage1ExpirationDays=${settings.stage1ExpirationDays}: the ${settings.profile} ` +
          `profile keeps frames at least ${COURSE_MIN_STAGE1_DAYS} days (the course's grading may come days after the run)`,
      );
    }
  }
  return settings;
}

/** Where the stack goes, for the synth's first line: the region and why that one. */
export function describeRegion(settings: DeploySettings, regionGiven: boolean): string {
  if (!settings.region) {
    return "the region of the AWS CLI's profile (AWS_REGION, or `region` in ~/.aws/config); -c region=... to fix one";
  }
  if (regionGiven) return `${settings.region} (-c region)`;
  return `${settings.region} (the ${settings.profile} profile's graders read ${COURSE_REGION}; -c region=... to change)`;
}

/** `.mp4` and `.MP4`, ...: S3 suffix filters are case-sensitive. */
export function videoSuffixes(extensions: string[]): string[] {
  return [...new Set(extensions.flatMap((e) => [`.${e.toLowerCase()}`, `.${e.toUpperCase()}`]))];
}

/** cdk.json's `context` (feature flags, and any setting a project fixes there). */
export function cdkJsonContext(projectRoot: string): Record<string, unknown> {
  const file = path.join(projectRoot, 'cdk.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}
