/**
 * Child of bench/gallery-scale.ts: one recognition cold start. Loads the recognition handler as
 * a Lambda container would (FACEREC_GALLERY names the gallery file), invokes it once on a
 * one-face frame (face-api's demo photo, served by a stand-in S3 client), prints the time of that
 * first invocation (engine load, gallery load, the frame), wall and CPU, and the process's RSS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { createHandler } from '../functions/recognition/handler.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const frame = readFileSync(path.join(root, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample1.jpg'));

const s3 = {
  async send() {
    const body = Readable.from([frame]) as Readable & { transformToByteArray: () => Promise<Uint8Array> };
    body.transformToByteArray = async () => new Uint8Array(frame);
    return { Body: body };
  },
} as unknown as S3Client;

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'recognition',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:recognition',
  memoryLimitInMB: '3008',
  awsRequestId: 'cold-start',
  logGroupName: '/aws/lambda/recognition',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 600_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

const handler = createHandler({ s3 });
const c0 = process.cpuUsage();
const t0 = performance.now();
await handler({ bucket: 'facerec-stage-1', keys: ['bench/frame-0000.jpg'] }, context);
const firstMs = performance.now() - t0;
const c = process.cpuUsage(c0);
console.log(
  JSON.stringify({ firstMs, firstCpuMs: (c.user + c.system) / 1000, rssMb: process.memoryUsage().rss / 1e6 }),
);
