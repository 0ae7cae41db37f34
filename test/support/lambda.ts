/** Helpers for handler tests: a Lambda context, a config, an S3 body. */
import { Readable } from 'node:stream';
import type { Context } from 'aws-lambda';
import { loadConfig, type Config } from '../../functions/config.js';

export function lambdaContext(name = 'test', timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A config as the functions would read it from this environment. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    PATH: process.env.PATH,
    FACEREC_LOG_LEVEL: 'SILENT',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:facerec-pipeline',
    ...env,
  } as NodeJS.ProcessEnv);
}

/** What GetObject returns as Body: a stream with the SDK's helpers. */
export function s3Body(bytes: Uint8Array | string) {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  const stream = Readable.from([buf]) as Readable & {
    transformToByteArray: () => Promise<Uint8Array>;
    transformToString: () => Promise<string>;
  };
  stream.transformToByteArray = async () => new Uint8Array(buf);
  stream.transformToString = async () => buf.toString('utf8');
  return stream as never;
}

/** An AWS SDK service error as the client throws it. */
export function awsError(name: string, status: number, message = name) {
  return Object.assign(new Error(message), {
    name,
    $metadata: { httpStatusCode: status },
    $fault: status >= 500 ? 'server' : 'client',
  });
}
