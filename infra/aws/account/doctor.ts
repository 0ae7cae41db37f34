/**
 * `facerec doctor --aws`: before a deploy, what will fail and how to fix it, in plain words.
 * Each check asks AWS one thing (read-only calls only) and returns findings; nothing is
 * created or changed. The checks:
 *
 * - credentials and region (who you are, where the stack goes and why);
 * - the Lambda runtime in that region;
 * - CDK bootstrap (the CDKToolkit stack, its version and staging bucket);
 * - the stack itself (a failed first create leaves it in ROLLBACK_COMPLETE);
 * - names already taken: each bucket (free, another account's, yours: this stack's, a leftover of
 *   an earlier deploy of it, or someone else's) and the fixed function names of the cse546
 *   profiles; adopted buckets: present, in the right region, notifications that would clash;
 * - the account's Lambda concurrency quota (10 on new accounts: what throttles, how to ask more).
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, ListLayersCommand } from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { LAMBDA_RUNTIME_NAME } from '../bundling/lambda-runtime.js';
import { videoSuffixes } from '../settings.js';
import { errorCode, httpStatus, type AwsClients, type Identity } from './access.js';
import {
  bucketOwner,
  describeStack,
  functionOwner,
  myBuckets,
  physicalIds,
  UPDATABLE_STATES,
  type PlannedBucket,
  type PlannedDeployment,
  type StackState,
} from './deployment.js';

type Level = 'ok' | 'info' | 'warn' | 'fail';

export interface Finding {
  /** What was checked: `credentials`, `region`, `bucket <name>`, ... */
  check: string;
  level: Level;
  /** One line, plain words. */
  summary: string;
  /** What to do, when something will fail or may. */
  fix?: string;
}

export interface DoctorContext {
  aws: AwsClients;
  identity: Identity;
  plan: PlannedDeployment;
  /** Why this region: `-c region`, the profile's default, `--region`, the CLI profile's. */
  regionSource: string;
  /** The CLI profile's own region, when it differs from the one checked. */
  configuredRegion?: string;
}

/** The CDK bootstrap version the synthesized template requires (its CheckBootstrapVersion rule). */
const MIN_BOOTSTRAP_VERSION = 6;
const BOOTSTRAP_STACK = 'CDKToolkit';
/** The Service Quotas code of "Concurrent executions" (AWS Lambda). */
const CONCURRENCY_QUOTA_CODE = 'L-B99A9384';
/** Below this, a burst of videos is throttled (Lambda's default for established accounts: 1,000). */
const COMFORTABLE_CONCURRENCY = 100;

/** A check that could not ask AWS: a warning (the other checks still run). */
function couldNotCheck(check: string, err: unknown): Finding {
  return {
    check,
    level: 'warn',
    summary: `could not check: ${errorCode(err)}: ${(err as Error).message}`,
    fix: /AccessDenied|not authorized/i.test(String((err as Error).message))
      ? 'your identity may not read this; deploying needs broad rights (AdministratorAccess on a sandbox account is simplest)'
      : undefined,
  };
}

export async function runDoctor(ctx: DoctorContext): Promise<Finding[]> {
  const findings: Finding[] = [credentialsFinding(ctx), ...regionFindings(ctx)];
  let stack: StackState | undefined;
  let stackKnown = true;
  try {
    stack = await describeStack(ctx.aws.cfn, ctx.plan.stackName);
  } catch (err) {
    // Without the stack, names it owns may read as leftovers: said once, here.
    findings.push(couldNotCheck(`stack ${ctx.plan.stackName}`, err));
    stackKnown = false;
  }
  for (const check of [
    runtimeFinding,
    bootstrapFindings,
    ...(stackKnown ? [stackFindings] : []),
    bucketFindings,
    functionFindings,
    concurrencyFindings,
  ]) {
    try {
      findings.push(...(await check(ctx, stack)));
    } catch (err) {
      findings.push(couldNotCheck(check.name.replace(/Findings?$/, ''), err));
    }
  }
  return findings;
}

function credentialsFinding(ctx: DoctorContext): Finding {
  return {
    check: 'credentials',
    level: 'ok',
    summary: `account ${ctx.identity.account}, as ${ctx.identity.arn}`,
  };
}

function regionFindings(ctx: DoctorContext): Finding[] {
  const { region } = ctx.plan;
  const out: Finding[] = [{ check: 'region', level: 'ok', summary: `${region} (${ctx.regionSource})` }];
  if (ctx.configuredRegion && ctx.configuredRegion !== region) {
    out.push({
      check: 'region',
      level: 'info',
      summary: `your AWS CLI's default region is ${ctx.configuredRegion}; this stack goes to ${region}`,
      fix: `bootstrap and look for the stack in ${region} (e.g. \`npx cdk bootstrap aws://${ctx.identity.account}/${region}\`, the console's region menu)`,
    });
  }
  return out;
}

async function runtimeFinding(ctx: DoctorContext): Promise<Finding[]> {
  const check = 'runtime';
  try {
    // The service validates the runtime name against the ones it offers in this region.
    await ctx.aws.lambda.send(
      new ListLayersCommand({ CompatibleRuntime: LAMBDA_RUNTIME_NAME as never, MaxItems: 1 }),
    );
    return [{ check, level: 'ok', summary: `Lambda offers ${LAMBDA_RUNTIME_NAME} in ${ctx.plan.region}` }];
  } catch (err) {
    const code = errorCode(err);
    if (/InvalidParameterValue|ValidationException/i.test(code)) {
      return [
        {
          check,
          level: 'fail',
          summary: `Lambda in ${ctx.plan.region} does not offer ${LAMBDA_RUNTIME_NAME} (${code})`,
          fix: 'deploy to a region that has it, e.g. -c region=us-east-1',
        },
      ];
    }
    throw err;
  }
}

async function bootstrapFindings(ctx: DoctorContext): Promise<Finding[]> {
  const check = 'bootstrap';
  const { account, region } = ctx.plan;
  const bootstrap = `npx cdk bootstrap aws://${account}/${region}`;
  let toolkit;
  try {
    toolkit = (await ctx.aws.cfn.send(new DescribeStacksCommand({ StackName: BOOTSTRAP_STACK }))).Stacks?.[0];
  } catch (err) {
    if (!/does not exist/i.test((err as Error).message ?? '')) throw err;
  }
  if (!toolkit) {
    return [
      {
        check,
        level: 'fail',
        summary: `${region} is not bootstrapped for the CDK (no ${BOOTSTRAP_STACK} stack): cdk deploy would stop at once`,
        fix: `\`${bootstrap}\` (once per account and region)`,
      },
    ];
  }
  const status = toolkit.StackStatus ?? '';
  if (!UPDATABLE_STATES.has(status)) {
    return [
      {
        check,
        level: 'fail',
        summary: `the ${BOOTSTRAP_STACK} stack is ${status}${toolkit.StackStatusReason ? ` (${toolkit.StackStatusReason})` : ''}`,
        fix: /ROLLBACK_COMPLETE|FAILED/.test(status)
          ? `delete it (\`aws cloudformation delete-stack --stack-name ${BOOTSTRAP_STACK} --region ${region}\`), then \`${bootstrap}\``
          : 'wait for it to finish, then run this again',
      },
    ];
  }
  const outputs = Object.fromEntries((toolkit.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const version = Number(outputs.BootstrapVersion ?? 0);
  if (version < MIN_BOOTSTRAP_VERSION) {
    return [
      {
        check,
        level: 'fail',
        summary: `CDK bootstrap version ${version || 'unknown'}: this app needs ${MIN_BOOTSTRAP_VERSION} or later`,
        fix: `\`${bootstrap}\` (upgrades it in place)`,
      },
    ];
  }
  if (outputs.BucketName) {
    try {
      await ctx.aws.s3.send(new HeadBucketCommand({ Bucket: outputs.BucketName }));
    } catch (err) {
      if (httpStatus(err) === 404) {
        return [
          {
            check,
            level: 'fail',
            summary: `the bootstrap's staging bucket ${outputs.BucketName} was deleted: uploads of the function code would fail`,
            fix: `delete the ${BOOTSTRAP_STACK} stack, then \`${bootstrap}\` again`,
          },
        ];
      }
    }
  }
  return [{ check, level: 'ok', summary: `bootstrapped (${BOOTSTRAP_STACK} version ${version})` }];
}

async function stackFindings(ctx: DoctorContext, stack: StackState | undefined): Promise<Finding[]> {
  const check = `stack ${ctx.plan.stackName}`;
  if (!stack) return [{ check, level: 'ok', summary: 'not deployed yet: cdk deploy creates it' }];
  const { status } = stack;
  const reason = stack.statusReason ? ` (${stack.statusReason})` : '';
  if (UPDATABLE_STATES.has(status)) {
    return [{ check, level: 'ok', summary: `${status}: cdk deploy updates it` }];
  }
  if (status.endsWith('_IN_PROGRESS')) {
    return [
      {
        check,
        level: 'warn',
        summary: `${status}: an operation is under way`,
        fix: 'wait for it to end, then run this again',
      },
    ];
  }
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED') {
    return [
      {
        check,
        level: 'fail',
        summary: `${status}${reason}: its first create failed, and CloudFormation cannot update such a stack; the buckets it created are kept`,
        fix: '`facerec teardown --aws` (deletes the stack and, after asking, the buckets it kept), then deploy again',
      },
    ];
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return [
      {
        check,
        level: 'fail',
        summary: `${status}${reason}`,
        fix: `\`aws cloudformation continue-update-rollback --stack-name ${ctx.plan.stackName} --region ${ctx.plan.region}\`, then deploy again`,
      },
    ];
  }
  return [
    {
      check,
      level: 'fail',
      summary: `${status}${reason}`,
      fix: '`facerec teardown --aws` to remove it, then deploy again',
    },
  ];
}

async function bucketFindings(ctx: DoctorContext, stack: StackState | undefined): Promise<Finding[]> {
  const { plan } = ctx;
  const mine = await myBuckets(ctx.aws.s3, plan.prefix);
  const stacks = physicalIds(stack, 'AWS::S3::Bucket');
  const findings: Finding[] = [];
  for (const b of plan.buckets) {
    const owner = await bucketOwner(ctx.aws.s3, b.name, mine);
    findings.push(...(b.adopted ? await adoptedBucket(ctx, b, owner) : createdBucket(ctx, b, owner, stacks)));
  }
  return findings;
}

function createdBucket(
  ctx: DoctorContext,
  b: PlannedBucket,
  owner: Awaited<ReturnType<typeof bucketOwner>>,
  stackBuckets: Set<string>,
): Finding[] {
  const check = `bucket ${b.name}`;
  const { stackName } = ctx.plan;
  const adoptable = b.role !== 'access-logs';
  switch (owner.kind) {
    case 'free':
      return [{ check, level: 'ok', summary: 'free: the stack creates it' }];
    case 'elsewhere':
      return [
        {
          check,
          level: 'fail',
          summary: `taken by another AWS account (bucket names are global; S3 answered ${owner.status})`,
          fix: 'choose another prefix (-c prefix=...), or leave it unset for one unique to your account and region',
        },
      ];
    case 'mine':
      if (stackBuckets.has(b.name))
        return [{ check, level: 'ok', summary: `part of stack ${stackName}: an update keeps it` }];
      if (owner.stack === stackName) {
        return [
          {
            check,
            level: 'fail',
            summary: `a leftover of an earlier ${stackName} stack (retained when that stack was deleted or its first create failed): the create would fail with "already exists"`,
            fix:
              '`facerec teardown --aws` lists it and, after asking, empties and deletes it' +
              (adoptable ? `; or keep it and its contents: -c adoptBuckets=${b.role}` : ''),
          },
        ];
      }
      return [
        {
          check,
          level: 'fail',
          summary: owner.stack
            ? `yours, made by another stack (${owner.stack}): the create would fail with "already exists"`
            : 'yours, made outside this stack (by hand, or the course\'s first part): the create would fail with "already exists"',
          fix:
            (adoptable ? `use it as it is: -c adoptBuckets=${b.role}; or ` : '') +
            `delete it: \`facerec teardown --aws --bucket ${b.name}\` (empties every version, after asking); or choose another prefix`,
        },
      ];
  }
}

async function adoptedBucket(
  ctx: DoctorContext,
  b: PlannedBucket,
  owner: Awaited<ReturnType<typeof bucketOwner>>,
): Promise<Finding[]> {
  const check = `bucket ${b.name}`;
  if (owner.kind !== 'mine') {
    return [
      {
        check,
        level: 'fail',
        summary: `to be adopted (-c adoptBuckets) but ${owner.kind === 'free' ? 'it does not exist' : "it is another account's"}`,
        fix: `drop ${b.role} from -c adoptBuckets (the stack then creates it), or fix the prefix`,
      },
    ];
  }
  if (owner.region && owner.region !== ctx.plan.region) {
    return [
      {
        check,
        level: 'fail',
        summary: `adopted, but it is in ${owner.region} and the stack goes to ${ctx.plan.region} (S3 notifies queues of its own region only)`,
        fix: `deploy to ${owner.region} (-c region=${owner.region}), or let the stack create the bucket`,
      },
    ];
  }
  const out: Finding[] = [
    { check, level: 'ok', summary: 'adopted: used as it is (its settings and contents untouched)' },
  ];
  if (b.role === 'input') out.push(...(await notificationClash(ctx, b.name)));
  if (b.role === 'stage-1') {
    out.push({
      check,
      level: 'info',
      summary: `its own lifecycle rules apply: the stack's ${ctx.plan.settings.stage1ExpirationDays}-day frame expiry is not set on an adopted bucket`,
    });
  }
  return out;
}

interface NotificationRule {
  Id?: string;
  Events?: string[];
  Filter?: { Key?: { FilterRules?: Array<{ Name?: string; Value?: string }> } };
}

/** S3 refuses a configuration whose rules overlap (same event type, overlapping prefix and
 * suffix): an existing rule on the adopted input bucket that overlaps ours stops the deploy. */
async function notificationClash(ctx: DoctorContext, bucket: string): Promise<Finding[]> {
  const config = await ctx.aws.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const rules: Array<NotificationRule & { to: string }> = [
    ...(config.QueueConfigurations ?? []).map((r) => ({ ...r, to: r.QueueArn ?? 'a queue' })),
    ...(config.TopicConfigurations ?? []).map((r) => ({ ...r, to: r.TopicArn ?? 'a topic' })),
    ...(config.LambdaFunctionConfigurations ?? []).map((r) => ({
      ...r,
      to: r.LambdaFunctionArn ?? 'a function',
    })),
  ] as Array<NotificationRule & { to: string }>;
  const ours = videoSuffixes(ctx.plan.settings.videoExtensions);
  // The stack's own rules (from an earlier deploy) carry its stack id in their Id.
  const clashing = rules.filter((r) => {
    if (r.Id?.includes(`:stack/${ctx.plan.stackName}/`)) return false;
    if (!(r.Events ?? []).some((e) => e.startsWith('s3:ObjectCreated'))) return false;
    const rule = (name: string) =>
      r.Filter?.Key?.FilterRules?.find((f) => f.Name?.toLowerCase() === name)?.Value;
    const suffix = rule('suffix');
    // Our rules have no prefix: any prefix overlaps them; a suffix overlaps when one ends the other.
    return suffix === undefined || ours.some((s) => s.endsWith(suffix) || suffix.endsWith(s));
  });
  if (clashing.length === 0) {
    return rules.length
      ? [
          {
            check: `bucket ${bucket}`,
            level: 'ok',
            summary: `its ${rules.length} notification(s) stay; ours are added beside them`,
          },
        ]
      : [];
  }
  return [
    {
      check: `bucket ${bucket}`,
      level: 'fail',
      summary: `its notification ${clashing.map((r) => `"${r.Id ?? '?'}" (to ${r.to})`).join(', ')} overlaps the stack's uploads rule: S3 refuses overlapping rules, so the deploy would fail`,
      fix: "remove that notification (S3 console: the bucket's Properties, Event notifications), or narrow it to another prefix or suffix",
    },
  ];
}

async function functionFindings(ctx: DoctorContext, stack: StackState | undefined): Promise<Finding[]> {
  const ours = physicalIds(stack, 'AWS::Lambda::Function');
  const findings: Finding[] = [];
  for (const { role, name } of ctx.plan.functions) {
    const check = `function ${name}`;
    const owner = await functionOwner(ctx.aws.lambda, name);
    if (owner.kind === 'free') findings.push({ check, level: 'ok', summary: 'free: the stack creates it' });
    else if (ours.has(name))
      findings.push({ check, level: 'ok', summary: `part of stack ${ctx.plan.stackName}` });
    else {
      const option = `${role}FunctionName`;
      findings.push({
        check,
        level: 'fail',
        summary:
          (owner.stack === ctx.plan.stackName
            ? `a leftover of an earlier ${ctx.plan.stackName} stack`
            : `exists already (${owner.stack ? `stack ${owner.stack}` : "made outside this stack, e.g. the course's first part"}${owner.runtime ? `, ${owner.runtime}` : ''})`) +
          ': the create would fail with "already exists"',
        fix: `delete it: \`facerec teardown --aws --function ${name}\` (after asking); or let CloudFormation name it: -c ${option}=auto (the course's graders look it up by name, though)`,
      });
    }
  }
  return findings;
}

async function concurrencyFindings(ctx: DoctorContext): Promise<Finding[]> {
  const settings = await ctx.aws.lambda.send(new GetAccountSettingsCommand({}));
  const limit = settings.AccountLimit?.ConcurrentExecutions;
  const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions;
  const check = 'concurrency';
  if (limit === undefined)
    return [{ check, level: 'warn', summary: "Lambda did not report the account's concurrency limit" }];
  const map = ctx.plan.settings.mapMaxConcurrency;
  const ask =
    `ask for more: Service Quotas console, AWS Lambda, "Concurrent executions", or ` +
    `\`aws service-quotas request-service-quota-increase --service-code lambda --quota-code ${CONCURRENCY_QUOTA_CODE} --desired-value 1000 --region ${ctx.plan.region}\``;
  const summary =
    `${limit} concurrent Lambda executions for the whole account in ${ctx.plan.region}` +
    (unreserved !== undefined && unreserved !== limit ? ` (${unreserved} unreserved)` : '');
  if (limit >= COMFORTABLE_CONCURRENCY) return [{ check, level: 'ok', summary }];
  return [
    {
      check,
      level: 'warn',
      summary:
        `${summary}: one video's Map runs up to ${map} recognitions at once, so ${limit <= map ? 'a single video fills it' : `about ${Math.max(1, Math.floor(limit / (map + 1)))} videos at once fill it`}; ` +
        "every invocation beyond it (other videos' splitter, recognition and result, and the starter) is throttled (TooManyRequestsException) and retried, so a burst of uploads is slower and, if retries run out, fails",
      fix: `${ask}; meanwhile a lower -c mapMaxConcurrency (e.g. ${Math.max(1, Math.floor(limit / 3))}) leaves room for other videos`,
    },
  ];
}

/** 1 when any finding fails (something will fail on deploy), else 0. */
export function exitCodeOf(findings: readonly Finding[]): number {
  return findings.some((f) => f.level === 'fail') ? 1 : 0;
}
