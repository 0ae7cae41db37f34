/**
 * Resolves the CloudFormation intrinsics of a synthesized template's policy documents to the
 * names and ARNs of the local stack: `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`,
 * `Fn::Split`. The local stack knows what CloudFormation would create (bucket names, function
 * and state-machine ARNs); a resource it has no name for resolves to an ARN that matches nothing
 * local (`arn:aws:local-unresolved:::<LogicalId>.<Attr>`), never to a wildcard. Pure.
 */

export interface CfnNames {
  region: string;
  account: string;
  stackName: string;
  /** What `Ref` of a resource gives (bucket name, function name, state-machine ARN, ...). */
  ref(logicalId: string): string | undefined;
  /** What `Fn::GetAtt` gives (`Arn` of a bucket, function, role, ...). */
  getAtt(logicalId: string, attribute: string): string | undefined;
}

const PSEUDO: Record<string, (n: CfnNames) => string> = {
  'AWS::Partition': () => 'aws',
  'AWS::Region': (n) => n.region,
  'AWS::AccountId': (n) => n.account,
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (n) => n.stackName,
  'AWS::NoValue': () => '',
};

const unresolved = (what: string) => `arn:aws:local-unresolved:::${what}`;

function ref(name: string, names: CfnNames): string {
  const pseudo = PSEUDO[name];
  if (pseudo) return pseudo(names);
  return names.ref(name) ?? unresolved(name);
}

function getAtt(target: unknown, names: CfnNames): string {
  const [logicalId, attribute] = Array.isArray(target)
    ? (target as string[])
    : String(target).split(/\.(.*)/s, 2);
  return names.getAtt(logicalId, attribute) ?? unresolved(`${logicalId}.${attribute}`);
}

function sub(template: string, vars: Record<string, string>, names: CfnNames): string {
  return template.replace(/\$\{([^}]+)\}/g, (_, expr: string) => {
    if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
    if (expr in vars) return vars[expr];
    return expr.includes('.') ? getAtt(expr, names) : ref(expr, names);
  });
}

/** `value` with every intrinsic function replaced by the string it stands for. */
export function resolveIntrinsics(value: unknown, names: CfnNames): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, names));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    const str = (v: unknown) => String(resolveIntrinsics(v, names));
    switch (fn) {
      case 'Ref':
        return ref(String(arg), names);
      case 'Fn::GetAtt':
        return getAtt(resolveIntrinsics(arg, names), names);
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolveIntrinsics(parts, names) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return sub(arg, {}, names);
        const [template, vars] = arg as [string, Record<string, unknown>];
        const resolved = Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, str(v)]));
        return sub(template, resolved, names);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolveIntrinsics(list, names) as unknown[])[Number(resolveIntrinsics(index, names))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return str(source).split(sep);
      }
      default:
        if (fn.startsWith('Fn::')) throw new Error(`cannot resolve ${fn} in a policy document`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, names)]));
}
