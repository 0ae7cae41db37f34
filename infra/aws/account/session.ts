/**
 * What `facerec doctor --aws` and `facerec teardown --aws` share before they look at anything:
 * the deployment settings exactly as `cdk deploy` would read them (cdk.json's context, then
 * `-c key=value`, then the command's --prefix), the region the stack goes to and why, the
 * credentials (checked), and the names the deployment uses in that account and region.
 */
import { readSettings, cdkJsonContext, type DeploySettings } from '../settings.js';
import { AccessError, configuredRegion, openAccess, type AwsAccess, type Identity } from './access.js';
import { plannedDeployment, type PlannedDeployment } from './deployment.js';

export interface SessionRequest {
  projectRoot: string;
  /** AWS named profile. */
  profile?: string;
  region?: string;
  prefix?: string;
  /** `-c key=value` pairs, as given to cdk. */
  context?: Record<string, string>;
}

export interface Session {
  access: AwsAccess;
  identity: Identity;
  plan: PlannedDeployment;
  settings: DeploySettings;
  regionSource: string;
  /** The CLI profile's own region (may differ from the stack's). */
  configuredRegion?: string;
}

/** `key=value` -> [key, value]; throws on anything else. */
export function parseContextPair(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new AccessError(`-c ${text}: expected key=value (as with cdk -c)`);
  return [text.slice(0, at), text.slice(at + 1)];
}

function sessionSettings(req: SessionRequest): { settings: DeploySettings; stackName: string } {
  const context: Record<string, unknown> = {
    ...cdkJsonContext(req.projectRoot),
    ...req.context,
    ...(req.prefix ? { prefix: req.prefix } : {}),
  };
  try {
    return {
      settings: readSettings((key) => context[key]),
      stackName: String(context.stackName ?? 'FaceRec'),
    };
  } catch (err) {
    throw new AccessError((err as Error).message);
  }
}

export async function openSession(req: SessionRequest): Promise<Session> {
  const { settings, stackName } = sessionSettings(req);
  const configured = await configuredRegion(req.profile);
  let region: string | undefined;
  let regionSource: string;
  if (req.region) {
    region = req.region;
    regionSource = '--region';
    if (settings.region && settings.region !== req.region) {
      throw new AccessError(
        `--region ${req.region}, but this deployment goes to ${settings.region} (${req.context?.region ? '-c region' : `the ${settings.profile} profile`}): ` +
          `pass -c region=${req.region} here and to cdk deploy, or drop --region`,
      );
    }
  } else if (settings.region) {
    region = settings.region;
    regionSource = req.context?.region ? '-c region' : `the ${settings.profile} profile deploys there`;
  } else {
    region = configured;
    regionSource = req.profile
      ? `the region of AWS profile ${req.profile}`
      : "your AWS CLI's region (AWS_REGION or the default profile)";
  }
  const { access, identity } = await openAccess({ profile: req.profile, region });
  const plan = plannedDeployment(settings, { stackName, account: identity.account, region: access.region });
  return {
    access,
    identity,
    plan,
    settings,
    regionSource,
    configuredRegion: configured !== access.region ? configured : undefined,
  };
}
