/**
 * IAM in local mode, wired: each function's own credentials (in its environment, as Lambda gives
 * them), and, unless FACEREC_LOCAL_IAM=off, the synthesized policies enforced by the local S3
 * server and Step Functions endpoint for requests signed with them.
 */
import type { Config } from '../../../functions/config.js';
import { bucketPrefixOf, parseS3Uri } from '../../../functions/core/layout.js';
import type { FunctionName } from '../../../functions/core/facts.js';
import type { LocalFunction } from '../lambda/service.js';
import { IamEvaluator } from './evaluate.js';
import { LocalIdentities } from './identities.js';
import { loadPolicySet } from './policy-cache.js';
import { LOCAL_ACCOUNT, type PolicySet } from './policy-set.js';
import { s3Authorizer } from './s3-auth.js';
import { sfnAuthorizer } from './sfn-auth.js';

type Env = Record<string, string | undefined>;

export interface LocalAccess {
  /** What is enforced, when IAM is on. */
  iam?: {
    policies: PolicySet;
    /** The policies came from the cache (else synthesized at this start), in `loadMs`. */
    cached: boolean;
    loadMs: number;
  };
  authorizeS3?: ReturnType<typeof s3Authorizer>;
  authorizeSfn?: ReturnType<typeof sfnAuthorizer>;
  /** The environment of function `name`'s execution environments: `base` plus its credentials
   * and the variables Lambda sets. */
  environmentOf(name: FunctionName, fn: LocalFunction, base: Env): Env;
}

export async function localAccess(o: {
  config: Config;
  functions: Record<FunctionName, LocalFunction>;
  stateMachineArn: string;
  editPolicies?: (synthesized: PolicySet) => PolicySet;
}): Promise<LocalAccess> {
  const identities = new LocalIdentities();
  const environmentOf = (name: FunctionName, fn: LocalFunction, base: Env): Env => ({
    ...base,
    ...identities.credentials(name),
    AWS_LAMBDA_FUNCTION_NAME: fn.spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.spec.memoryMb ?? 1024),
    // Environments are made on demand (no provisioned concurrency): Powertools counts cold starts.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // The functions stand in for Lambda's Node (24), not this one: the SDK's warning that this
    // Node is too old would be false there, and each environment printed it once.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const p = o.config.pipeline;
  if (!p.local.iam) return { environmentOf };
  const gallery = o.config.galleryPath && parseS3Uri(o.config.galleryPath) ? o.config.galleryPath : undefined;
  const loaded = await loadPolicySet({
    prefix: bucketPrefixOf(p.buckets),
    profile: p.profile,
    region: p.aws.region,
    account: LOCAL_ACCOUNT,
    ...(gallery ? { gallery } : {}),
    functionArns: {
      starter: o.functions.starter.arn,
      splitter: o.functions.splitter.arn,
      recognition: o.functions.recognition.arn,
      result: o.functions.result.arn,
    },
    stateMachineArn: o.stateMachineArn,
  });
  const policies = o.editPolicies ? o.editPolicies(loaded.set) : loaded.set;
  const evaluator = new IamEvaluator(policies);
  return {
    iam: { policies, cached: loaded.cached, loadMs: loaded.ms },
    authorizeS3: s3Authorizer(identities, evaluator),
    authorizeSfn: sfnAuthorizer(identities, evaluator),
    environmentOf,
  };
}
