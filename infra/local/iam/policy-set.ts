/**
 * The IAM policies local mode enforces: each role's identity policies and each bucket's resource
 * policy, as the CDK app synthesizes them (infra/local/iam/synth.ts), with every CloudFormation
 * reference resolved to the local stack's names. Plain JSON: cached on disk between starts.
 */
import type { FunctionName } from '../../../functions/core/facts.js';
import { DEFAULT_REGION } from '../../../functions/core/facts.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

/** The roles of the stack that call local endpoints: the four functions' and the state machine's. */
export type RoleName = FunctionName | 'stateMachine';

export interface RolePolicies {
  /** The role's ARN as the local stack names it (`arn:aws:iam::<account>:role/<prefix>-<role>`). */
  roleArn: string;
  /** Inline and customer-managed policies attached to the role, by policy name. */
  policies: Array<{ name: string; document: PolicyDocument }>;
}

/** What the policies were synthesized for: a cached set is used only for the same inputs. */
export interface PolicySource {
  prefix: string;
  profile: string;
  region: string;
  account: string;
  /** `s3://bucket/key` when the gallery lives outside the meta bucket. */
  gallery?: string;
  /** The local functions' and state machine's ARNs (what the template's references become). */
  functionArns: Record<FunctionName, string>;
  stateMachineArn: string;
}

export interface PolicySet {
  source: PolicySource;
  roles: Record<RoleName, RolePolicies>;
  /** Bucket policies, by bucket name. */
  bucketPolicies: Record<string, PolicyDocument>;
}

export const LOCAL_ACCOUNT = '000000000000';

/** The source of a stack with prefix `prefix` (the local names: `<prefix>-<function>` and
 * `<prefix>-pipeline`, as infra/local/stack.ts names them), for tools and tests that evaluate
 * policies without a stack. */
export function localPolicySource(
  prefix: string,
  profile = 'default',
  region = DEFAULT_REGION,
): PolicySource {
  const fn = (name: FunctionName) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${prefix}-${name}`;
  return {
    prefix,
    profile,
    region,
    account: LOCAL_ACCOUNT,
    functionArns: {
      starter: fn('starter'),
      splitter: fn('splitter'),
      recognition: fn('recognition'),
      result: fn('result'),
    },
    stateMachineArn: `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${prefix}-pipeline`,
  };
}

/** The local name of a role (its ARN ends with it). */
export function localRoleName(prefix: string, role: RoleName): string {
  return role === 'stateMachine' ? `${prefix}-pipeline-role` : `${prefix}-${role}-role`;
}

export function localRoleArn(source: Pick<PolicySource, 'prefix' | 'account'>, role: RoleName): string {
  return `arn:aws:iam::${source.account}:role/${localRoleName(source.prefix, role)}`;
}

/** A copy of `set` without the statement `sid` of `role` (tests: one grant removed). */
export function withoutStatement(set: PolicySet, role: RoleName, sid: string): PolicySet {
  const copy = structuredClone(set);
  let found = false;
  for (const p of copy.roles[role].policies) {
    const kept = p.document.Statement.filter((s) => s.Sid !== sid);
    found ||= kept.length !== p.document.Statement.length;
    p.document.Statement = kept;
  }
  if (!found) throw new Error(`role ${role} has no statement ${sid}`);
  return copy;
}
