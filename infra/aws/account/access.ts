/**
 * Access to one AWS account and region for `facerec doctor --aws` and `facerec teardown --aws`:
 * credentials from the SDK's chain (or one named profile), the region, the SDK clients, and
 * what went wrong said in plain words when they cannot be had.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';

export interface AwsClients {
  sts: STSClient;
  cfn: CloudFormationClient;
  s3: S3Client;
  lambda: LambdaClient;
  sfn: SFNClient;
}

export interface AwsAccess extends AwsClients {
  region: string;
  /** The AWS named profile (`--profile`), if one was given. */
  profile?: string;
  close(): void;
}

/** A problem that stops the command before it talks to AWS: said plainly, exit code 2. */
export class AccessError extends Error {
  override name = 'AccessError';
}

export interface AccessRequest {
  /** AWS named profile (~/.aws/config, ~/.aws/credentials). */
  profile?: string;
  /** The region to use; unset: the profile's, else AWS_REGION. */
  region?: string;
}

/** The region the SDK would use for this profile (AWS_REGION, the profile's `region`), if any. */
export async function configuredRegion(profile?: string): Promise<string | undefined> {
  const probe = new STSClient(profile ? { profile } : {});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/** Clients for the account of `profile` (else the default chain) in `region`. */
export function clientsFor(region: string, profile?: string): AwsAccess {
  // A named profile is read with fromIni, whose error names the profile when it is missing
  // (the default chain would only say it found no credentials).
  const config = {
    region,
    maxAttempts: 4,
    ...(profile ? { profile, credentials: fromIni({ profile }) } : {}),
  };
  const clients: AwsClients = {
    sts: new STSClient(config),
    cfn: new CloudFormationClient(config),
    // Buckets of the account may live in other regions (leftovers, adopted ones).
    s3: new S3Client({ ...config, followRegionRedirects: true }),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
  };
  return {
    ...clients,
    region,
    profile,
    close: () => Object.values(clients).forEach((c) => c.destroy()),
  };
}

export interface Identity {
  account: string;
  arn: string;
}

/** Who the credentials are (STS GetCallerIdentity), or an AccessError saying what to do. */
async function whoAmI(access: Pick<AwsAccess, 'sts' | 'profile'>): Promise<Identity> {
  try {
    const id = await access.sts.send(new GetCallerIdentityCommand({}));
    return { account: id.Account!, arn: id.Arn! };
  } catch (err) {
    throw new AccessError(credentialProblem(err, access.profile));
  }
}

/** What a failed credential lookup or STS call means, and what to do about it. */
function credentialProblem(err: unknown, profile?: string): string {
  const e = err as Error & { name?: string };
  const message = e?.message ?? String(err);
  const name = e?.name ?? '';
  if (profile && /could not resolve credentials using profile/i.test(message)) {
    return (
      `AWS profile "${profile}" is not in ~/.aws/config or ~/.aws/credentials (or has no credentials).\n` +
      `  Fix: \`aws configure --profile ${profile}\` (access keys) or \`aws configure sso --profile ${profile}\`, ` +
      'or pass the name of a profile you have (`aws configure list-profiles`).\n' +
      '  (For the pipeline profile, e.g. cse546-p2, use -c profile=cse546-p2, as with cdk.)'
    );
  }
  if (/could not load credentials from any providers/i.test(message) || name === 'CredentialsProviderError') {
    return (
      'No AWS credentials found (no AWS_ACCESS_KEY_ID, no default profile, no SSO session).\n' +
      '  Fix: `aws configure` (access keys of an IAM user), or `aws configure sso` then `aws sso login`, ' +
      'then run this again (with --profile <name> for a named profile).'
    );
  }
  if (/expired/i.test(name) || /expired/i.test(message)) {
    return `Your AWS credentials have expired (${message}).\n  Fix: \`aws sso login${profile ? ` --profile ${profile}` : ''}\`, or new access keys.`;
  }
  if (/InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient/i.test(name)) {
    return `AWS rejected the credentials (${name}: ${message}).\n  Fix: check the access key and secret (\`aws configure\`), or that the key is active in IAM.`;
  }
  if (/ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|getaddrinfo/i.test(message)) {
    return `Cannot reach AWS (${message}): check the network or proxy.`;
  }
  return `Cannot use the AWS credentials: ${name ? `${name}: ` : ''}${message}`;
}

/**
 * The access the command asked for: the region is `request.region`, else the profile's or
 * AWS_REGION; no region at all is an AccessError saying how to give one. The credentials are
 * checked (STS) before anything else is asked of AWS.
 */
export async function openAccess(request: AccessRequest): Promise<{ access: AwsAccess; identity: Identity }> {
  const region = request.region ?? (await configuredRegion(request.profile));
  // Credentials first (STS answers in any region): without them nothing else matters.
  const access = clientsFor(region ?? 'us-east-1', request.profile);
  try {
    const identity = await whoAmI(access);
    if (!region) {
      throw new AccessError(
        `No AWS region: ${request.profile ? `profile "${request.profile}" names none` : 'AWS_REGION is unset and the default profile names none'}.\n` +
          "  Fix: pass --region us-east-1 (the course graders' region), or `aws configure set region us-east-1" +
          `${request.profile ? ` --profile ${request.profile}` : ''}\`.`,
      );
    }
    return { access, identity };
  } catch (err) {
    access.close();
    throw err;
  }
}

/** `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}` of a prefix template, filled in. */
export function resolvePrefix(prefix: string, at: { account: string; region: string }): string {
  const partition = at.region.startsWith('cn-')
    ? 'aws-cn'
    : at.region.includes('-gov-')
      ? 'aws-us-gov'
      : 'aws';
  return prefix
    .replaceAll('${AWS::AccountId}', at.account)
    .replaceAll('${AWS::Region}', at.region)
    .replaceAll('${AWS::Partition}', partition);
}

/** The SDK error's name, or its HTTP status when the response had no body (HeadBucket). */
export function errorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name && e.name !== 'Unknown' && e.name !== 'UnknownError') return e.name;
  return status ? String(status) : (e?.Code ?? 'Error');
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
