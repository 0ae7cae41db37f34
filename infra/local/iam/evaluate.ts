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

/**
 * A requested resource (or condition value) as the evaluator is given it. IAM's `*` and `?` match
 * any character of an ARN or a condition value; the evaluator's patterns do not match line breaks
 * (a JavaScript regex's `.`), so an S3 key holding one was denied where AWS allows it (a hostile
 * key's upload went to the dead-letter queue): each line break is evaluated as another character.
 * And the evaluator takes a `*` or `?` in the *requested* resource as a wildcard too (it allowed
 * the splitter to read `a*b?c` in stage-1, whose grant there names only keys with a `segments`
 * folder), where AWS reads them as the characters they are: each is evaluated as a character no policy names.
 */
const matchable = (text: string) => text.replace(/[\n\r\u2028\u2029]/g, '_').replace(/[*?]/g, '\uE000');
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

/** What decides a request besides the caller and the action: allowed, or why not. */
interface Outcome {
  allowed: boolean;
  why: string;
}

/** An IAM resource pattern as a regular expression: `*` any run of characters, `?` any one. */
function resourcePattern(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** Every Resource and NotResource of the policies, once. */
function resourcePatternsOf(set: PolicySet): string[] {
  const docs = [
    ...Object.values(set.roles).flatMap((r) => r.policies.map((p) => p.document)),
    ...Object.values(set.bucketPolicies),
  ];
  const out = new Set<string>();
  for (const doc of docs)
    for (const st of doc.Statement)
      for (const r of [...list(st.Resource), ...list(st.NotResource)]) out.add(r);
  return [...out];
}

export class IamEvaluator {
  /**
   * Outcomes already decided. A policy sees a resource only through which of its Resource and
   * NotResource patterns match it, so two resources that match the same patterns are decided alike:
   * the cache is keyed by that match (one frame's key decides for every other frame's), unless a
   * policy uses a variable (`${…}`) in a pattern; not used when a policy looks at the time. An
   * evaluation costs milliseconds, and every S3 request of every function is decided.
   */
  private readonly cache = new Map<string, Outcome>();
  private readonly timeMatters: boolean;
  /** The policies' resource patterns, compiled; undefined when a pattern holds a variable. */
  private readonly patterns?: RegExp[];
  /** Resource policies by identity (a bucket's policy object), for the cache key. */
  private readonly policyIds = new WeakMap<PolicyDocument, number>();
  private lastPolicyId = 0;

  constructor(readonly set: PolicySet) {
    const text = JSON.stringify(set);
    this.timeMatters = TIME_KEYS.some((k) => text.includes(k));
    const patterns = resourcePatternsOf(set);
    if (!patterns.some((p) => p.includes('${'))) this.patterns = patterns.map(resourcePattern);
  }

  /** Outcomes held (one per role, action, resource match and context): for the tests. */
  get outcomesCached(): number {
    return this.cache.size;
  }

  /** What the policies can tell of a resource: which of their patterns match it. */
  private resourceKey(resource: string): string {
    if (!this.patterns) return resource;
    const r = matchable(resource);
    return this.patterns.map((p) => (p.test(r) ? '1' : '0')).join('');
  }

  private policyId(doc: PolicyDocument | undefined): number {
    if (!doc) return 0;
    let id = this.policyIds.get(doc);
    if (id === undefined) {
      id = ++this.lastPolicyId;
      this.policyIds.set(doc, id);
    }
    return id;
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
      : JSON.stringify([
          req.role,
          req.action,
          this.resourceKey(req.resource),
          this.policyId(req.resourcePolicy),
          req.context,
        ]);
    let outcome = key === undefined ? undefined : this.cache.get(key);
    if (!outcome) {
      outcome = await this.evaluate(req);
      if (key !== undefined) {
        if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, outcome);
      }
    }
    if (outcome.allowed) return { allowed: true, message: 'allowed' };
    return {
      allowed: false,
      message: `User: ${this.callerArn(req.role)} is not authorized to perform: ${req.action} on resource: "${req.resource}" ${outcome.why}`,
    };
  }

  private async evaluate(req: AccessRequest): Promise<Outcome> {
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
    const denied = (why: string) => ({ allowed: false, why });
    if (result.resultType === 'error') {
      return denied(`(the local IAM evaluator refused the request: ${JSON.stringify(result.errors)})`);
    }
    switch (result.overallResult) {
      case 'Allowed':
        return { allowed: true, why: '' };
      case 'ExplicitlyDenied':
        return denied('with an explicit deny in a policy');
      default:
        return denied(`because no identity-based policy allows the ${req.action} action`);
    }
  }
}
