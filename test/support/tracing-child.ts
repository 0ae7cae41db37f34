/**
 * Run by test/functions/aws/tracer-loading.test.ts in a process of its own (through tsx): the
 * observability middleware with the environment it was given, and what it loaded. Prints one JSON
 * line: the X-Ray context namespaces (cls-hooked) alive at start, after an invocation, and whether
 * an SDK client made before the first invocation, and one made after, carry X-Ray's middleware.
 */
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { loadConfig } from '#functions/config.js';
import { observability, tracedClient } from '#functions/aws/observability.js';
import { lambdaContext } from '#test/support/lambda.js';

const namespaces = () => Object.keys((process as { namespaces?: object }).namespaces ?? {});
const xray = (client: S3Client) =>
  client.middlewareStack.identify().some((m) => m.startsWith('XRaySDKInstrumentation'));

const config = loadConfig();
const o = config.pipeline.observability;
const early = tracedClient(new S3Client({ region: 'us-east-1' }), o);
const atStart = namespaces();
const handler = middy(async () => 'answered').use(observability('result', () => config));
const answer = (await handler({}, lambdaContext('facerec-result'))) as string;
const late = tracedClient(new S3Client({ region: 'us-east-1' }), o);
console.log(
  JSON.stringify({
    tracing: o.tracing,
    answer,
    atStart,
    afterInvocation: namespaces(),
    earlyClientTraced: xray(early),
    lateClientTraced: xray(late),
  }),
);
