/**
 * Decides a request of a role as AWS IAM would, with @cloud-copilot/iam-simulate (a maintained
 * IAM policy evaluator: actions and resources with wildcards, conditions, explicit denies,
 * identity and resource policies of the same account) over the synthesized policy set.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument, PolicySet, PolicyStatement, RoleName } from './policy-set.js';

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Could `st` apply to an action of `service`? (A statement naming only other services' actions
 * cannot; NotAction statements always may.) Only prunes what the evaluator is given: it costs
 * about a millisecond per statement, and the roles' logs, X-Ray and SQS grants never apply here. */
function mayApply(st: PolicyStatement, service: string): boolean {
  if (st.NotAction !== undefined) return true;
  return list(st.Action).some(
    (a) => a === '*' || a.toLowerCase().startsWith(`${service}:`) || !a.includes(':'),
  );
}

function forService(doc: PolicyDocument, service: string): PolicyDocument {
  return { ...doc, Statement: doc.Statement.filter((st) => mayApply(st, service)) };
}

const TIME_KEYS = ['aws:CurrentTime', 'aws:EpochTime'];

/** IAM's `*` and `?` match any character of an ARN or a condition value; the evaluator's patterns
 * do not match line breaks (a JavaScript regex's `.`), so an S3 key holding one was denied where
 * AWS allows it (a hostile key's upload went to the dead-letter queue). Each line break is
 * evaluated as another character: no policy names a key's line break literally. */
const matchable = (text: string) => text.replace(/[\n\r\u2028\u2029]/g, '_');
const CACHE_SIZE = 20_000;

export interface AccessRequest {
  role: RoleName;
  /** e.g. `s3:GetObject` */
  action: string;
  /** The resource's ARN. */
  resource: string;
  /** The resource policy that applies (a bucket's), if any. */
  resourcePolicy?: PolicyDocument;
  /** Request context keys (`s3:prefix`, ...); the global ones are added here. */
  context?: Record<string, string>;
}

export interface Decision {
  allowed: boolean;
  /** AWS's wording: who may not do what, and why. */
  message: string;
}

export class IamEvaluator {
  /** Decisions already made (the same role, action, resource and context decide the same way,
   * unless a policy looks at the time). */
  private readonly cache = new Map<string, Decision>();
  private readonly timeMatters: boolean;

  constructor(readonly set: PolicySet) {
    const text = JSON.stringify(set);
    this.timeMatters = TIME_KEYS.some((k) => text.includes(k));
  }

  /** `assumed-role/<role>/<session>`: how AWS names the caller in an AccessDenied message. */
  callerArn(role: RoleName): string {
    const { account, functionArns, stateMachineArn } = this.set.source;
    const roleName = this.set.roles[role].roleArn.split('/').at(-1)!;
    const session =
      role === 'stateMachine' ? stateMachineArn.split(':').at(-1)! : functionArns[role].split(':').at(-1)!;
    return `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`;
  }

  async decide(req: AccessRequest): Promise<Decision> {
    const key = this.timeMatters
      ? undefined
      : JSON.stringify([req.role, req.action, req.resource, req.context]);
    const known = key === undefined ? undefined : this.cache.get(key);
    if (known) return known;
    const decision = await this.evaluate(req);
    if (key !== undefined) {
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, decision);
    }
    return decision;
  }

  private async evaluate(req: AccessRequest): Promise<Decision> {
    const { account } = this.set.source;
    const role = this.set.roles[req.role];
    const service = req.action.split(':')[0].toLowerCase();
    const now = new Date();
    const simulation: Simulation = {
      identityPolicies: role.policies.map((p) => ({ name: p.name, policy: forService(p.document, service) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(req.resourcePolicy ? { resourcePolicy: forService(req.resourcePolicy, service) } : {}),
      request: {
        action: req.action,
        principal: role.roleArn,
        resource: { resource: matchable(req.resource), accountId: account },
        contextVariables: {
          // The local endpoints stand in for AWS's HTTPS endpoints (the SDK uses TLS 1.2+ there).
          'aws:SecureTransport': 'true',
          'aws:PrincipalArn': role.roleArn,
          'aws:PrincipalAccount': account,
          'aws:CurrentTime': now.toISOString(),
          'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
          ...(req.action.startsWith('s3:') ? { 's3:TlsVersion': '1.3' } : {}),
          ...Object.fromEntries(Object.entries(req.context ?? {}).map(([k, v]) => [k, matchable(v)])),
        },
      },
    } as Simulation;
    const result = await runSimulation(simulation, {});
    const caller = this.callerArn(req.role);
    const denied = (why: string) => ({
      allowed: false,
      message: `User: ${caller} is not authorized to perform: ${req.action} on resource: "${req.resource}" ${why}`,
    });
    if (result.resultType === 'error') {
      return denied(`(the local IAM evaluator refused the request: ${JSON.stringify(result.errors)})`);
    }
    switch (result.overallResult) {
      case 'Allowed':
        return { allowed: true, message: 'allowed' };
      case 'ExplicitlyDenied':
        return denied('with an explicit deny in a policy');
      default:
        return denied(`because no identity-based policy allows the ${req.action} action`);
    }
  }
}
