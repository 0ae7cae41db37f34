/**
 * AWS SDK clients, one per process (Lambda containers reuse them across invocations).
 * On AWS no endpoint is set; local mode (and any S3-compatible store) sets endpoints, path-style
 * addressing, and checksum settings that local servers understand. Nothing else differs.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import type { PipelineConfig } from '../config.js';

type AwsSettings = PipelineConfig['aws'];

export function s3ClientConfig(aws: AwsSettings): S3ClientConfig {
  const local = Boolean(aws.s3Endpoint);
  return {
    region: aws.region,
    ...(aws.s3Endpoint ? { endpoint: aws.s3Endpoint } : {}),
    forcePathStyle: aws.s3ForcePathStyle,
    // Local S3 servers mishandle the streaming (aws-chunked) checksums the SDK adds by default.
    ...(local
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    maxAttempts: 4,
  };
}

export function sfnClientConfig(aws: AwsSettings): SFNClientConfig {
  return { region: aws.region, ...(aws.sfnEndpoint ? { endpoint: aws.sfnEndpoint } : {}), maxAttempts: 4 };
}

const s3Clients = new Map<string, S3Client>();
const sfnClients = new Map<string, SFNClient>();

export function s3Client(aws: AwsSettings): S3Client {
  const cfg = s3ClientConfig(aws);
  const id = JSON.stringify(cfg);
  let c = s3Clients.get(id);
  if (!c) s3Clients.set(id, (c = new S3Client(cfg)));
  return c;
}

export function sfnClient(aws: AwsSettings): SFNClient {
  const cfg = sfnClientConfig(aws);
  const id = JSON.stringify(cfg);
  let c = sfnClients.get(id);
  if (!c) sfnClients.set(id, (c = new SFNClient(cfg)));
  return c;
}
