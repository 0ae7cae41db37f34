/** Running an execution of a local Step Functions service in a test, and the local S3 it may use. */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../functions/aws/clients.js';
import { bucketNames } from '../../functions/core/layout.js';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3/service.js';
import type { ExecutionRecord, LocalStepFunctions } from '../../infra/local/sfn/service.js';
import { tempDir } from './videos.js';

/** Starts an execution and resolves with its record when it has finished. */
export function runExecution(
  sfn: LocalStepFunctions,
  input: unknown,
  name: string,
): Promise<ExecutionRecord> {
  return new Promise((resolve) => {
    const { executionArn } = sfn.startExecution({
      stateMachineArn: sfn.stateMachineArn,
      name,
      input: JSON.stringify(input),
    });
    const onFinished = (r: ExecutionRecord) => {
      if (r.executionArn !== executionArn) return;
      sfn.off('finished', onFinished);
      resolve(r);
    };
    sfn.on('finished', onFinished);
  });
}

/** A local S3 server with the pipeline's buckets (facerec-*), in a folder of its own, and a client. */
export async function localS3(): Promise<{ server: LocalS3; s3: S3Client; close: () => Promise<void> }> {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const server = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: tempDir('facerec-s3-'),
    buckets: bucketNames('facerec'),
    onInputEvent: () => undefined,
  });
  const s3 = s3Client({ region: 'us-east-1', s3Endpoint: server.url, s3ForcePathStyle: true });
  return {
    server,
    s3,
    close: async () => {
      s3.destroy();
      await server.close();
    },
  };
}
