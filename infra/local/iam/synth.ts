/**
 * Synthesizes the CDK app's stack (infra/aws/facerec-stack.ts, the one `cdk deploy` deploys) in
 * this process, offline, and reads from its template the policies local mode enforces: each
 * function role's and the state machine role's identity policies, and the buckets' policies.
 * Bundling and CloudFormation validation are skipped (they do not change a policy, and cost
 * seconds). Run as a script (by policy-cache.ts), it prints the policy set as JSON.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTION_NAMES, type FunctionName } from '../../../functions/core/facts.js';
import { FaceRecStack } from '../../aws/facerec-stack.js';
import { readSettings } from '../../aws/settings.js';
import { resolveIntrinsics, type CfnNames } from './cfn-resolve.js';
import {
  localRoleArn,
  localRoleName,
  type PolicyDocument,
  type PolicySet,
  type PolicySource,
  type RoleName,
  type RolePolicies,
} from './policy-set.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
type Template = { Resources: Record<string, CfnResource> };

/** The stack's template for `source`, and which logical ids are the pipeline's functions. */
function synthesizeTemplate(source: PolicySource): {
  template: Template;
  functionIds: Map<string, FunctionName>;
} {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'facerec-iam-synth-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: {
        ...cdkJson.context,
        prefix: source.prefix,
        profile: source.profile,
        ...(source.gallery ? { gallery: source.gallery } : {}),
        // No bundling: the policies do not depend on the bundles.
        'aws:cdk:bundling-stacks': [],
      },
    });
    const settings = readSettings((key) => app.node.tryGetContext(key));
    const stack = new FaceRecStack(app, 'FaceRec', { settings, projectRoot });
    const template = app.synth({ skipValidation: true }).getStackArtifact(stack.artifactId)
      .template as Template;
    const functionIds = new Map<string, FunctionName>();
    for (const fn of FUNCTION_NAMES) {
      functionIds.set(stack.getLogicalId(stack.functions[fn].function.node.defaultChild as never), fn);
    }
    return { template, functionIds };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const logicalIdOf = (v: unknown): string | undefined => {
  const o = v as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return o?.Ref ?? o?.['Fn::GetAtt']?.[0];
};

/** The local names of what the template creates: what its references resolve to. */
function localNames(template: Template, functionIds: Map<string, FunctionName>, source: PolicySource) {
  const { region, account } = source;
  const roleOf = new Map<string, RoleName>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const fn = functionIds.get(id);
    if (fn) roleOf.set(logicalIdOf(r.Properties?.Role)!, fn);
    if (r.Type === 'AWS::StepFunctions::StateMachine')
      roleOf.set(logicalIdOf(r.Properties?.RoleArn)!, 'stateMachine');
  }
  const bucketName = (id: string): string | undefined => {
    const r = template.Resources[id];
    return r?.Type === 'AWS::S3::Bucket' ? String(r.Properties?.BucketName ?? id.toLowerCase()) : undefined;
  };
  const names: CfnNames = {
    region,
    account,
    stackName: 'FaceRec',
    ref(id) {
      const r = template.Resources[id];
      const fn = functionIds.get(id);
      if (fn) return source.functionArns[fn].split(':').at(-1);
      const role = roleOf.get(id);
      if (role) return localRoleName(source.prefix, role);
      switch (r?.Type) {
        case 'AWS::S3::Bucket':
          return bucketName(id);
        case 'AWS::StepFunctions::StateMachine':
          return source.stateMachineArn;
        default:
          return undefined;
      }
    },
    getAtt(id, attribute) {
      if (attribute !== 'Arn') return undefined;
      const r = template.Resources[id];
      const fn = functionIds.get(id);
      if (fn) return source.functionArns[fn];
      const role = roleOf.get(id);
      if (role) return localRoleArn(source, role);
      switch (r?.Type) {
        case 'AWS::S3::Bucket':
          return `arn:aws:s3:::${bucketName(id)}`;
        case 'AWS::StepFunctions::StateMachine':
          return source.stateMachineArn;
        case 'AWS::IAM::Role':
          return `arn:aws:iam::${account}:role/${id}`;
        case 'AWS::Logs::LogGroup':
          return `arn:aws:logs:${region}:${account}:log-group:${id}:*`;
        case 'AWS::SQS::Queue':
          return `arn:aws:sqs:${region}:${account}:${id}`;
        default:
          return undefined;
      }
    },
  };
  return { names, roleOf };
}

/** The policies of the stack that `cdk deploy` would create for `source`, resolved to local names. */
export function synthesizePolicySet(source: PolicySource): PolicySet {
  const { template, functionIds } = synthesizeTemplate(source);
  const { names, roleOf } = localNames(template, functionIds, source);
  const resolve = <T>(v: unknown) => resolveIntrinsics(v, names) as T;
  const roles = Object.fromEntries(
    [...FUNCTION_NAMES, 'stateMachine' as const].map((r): [RoleName, RolePolicies] => [
      r,
      { roleArn: localRoleArn(source, r), policies: [] },
    ]),
  ) as Record<RoleName, RolePolicies>;
  const bucketPolicies: Record<string, PolicyDocument> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      // Policies attached to roles (AWS::IAM::Policy, customer-managed policies).
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        for (const target of (p.Roles as unknown[] | undefined) ?? []) {
          const role = roleOf.get(logicalIdOf(target) ?? '');
          if (role) {
            roles[role].policies.push({
              name: String(p.PolicyName ?? p.ManagedPolicyName ?? id),
              document: resolve<PolicyDocument>(p.PolicyDocument),
            });
          }
        }
        break;
      // Inline policies of a role.
      case 'AWS::IAM::Role': {
        const role = roleOf.get(id);
        for (const inline of (p.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>) ?? []) {
          if (role)
            roles[role].policies.push({ name: inline.PolicyName, document: resolve(inline.PolicyDocument) });
        }
        break;
      }
      case 'AWS::S3::BucketPolicy':
        bucketPolicies[resolve<string>(p.Bucket)] = resolve<PolicyDocument>(p.PolicyDocument);
        break;
    }
  }
  return { source, roles, bucketPolicies };
}

// As a script: the source as JSON in argv[2], the policy set as JSON on stdout.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = JSON.parse(process.argv[2]) as PolicySource;
  process.stdout.write(JSON.stringify(synthesizePolicySet(source)));
}
