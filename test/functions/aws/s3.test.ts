/**
 * uploadFile: a streamed upload the SDK cannot retry (its body was consumed) is retried here with a
 * fresh stream when the failure is transient (a connection reset by a loaded server failed a
 * leave-one-out run in the full suite); anything else fails at once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { uploadFile } from '#functions/aws/s3.js';
import { tempDir } from '#test/support/videos.js';

const s3Mock = mockClient(S3Client);
const file = path.join(tempDir('facerec-upload-'), 'clip.mp4');
writeFileSync(file, 'video bytes');
const upload = () =>
  uploadFile(new S3Client({ region: 'us-east-1' }), {
    bucket: 'in',
    key: 'clip.mp4',
    file,
    bytes: 11,
    contentType: 'video/mp4',
  });

async function text(body: unknown): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}

beforeEach(() => s3Mock.reset());

test('a reset connection is retried with a fresh stream of the whole file', async () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });
  s3Mock.on(PutObjectCommand).rejectsOnce(reset).resolves({ ETag: '"abc"' });
  await expect(upload()).resolves.toMatchObject({ ETag: '"abc"' });
  const calls = s3Mock.commandCalls(PutObjectCommand);
  expect(calls).toHaveLength(2);
  expect(calls[0].args[0].input.Body).not.toBe(calls[1].args[0].input.Body);
  expect(await text(calls[1].args[0].input.Body)).toBe('video bytes');
  expect(calls[1].args[0].input).toMatchObject({ Bucket: 'in', Key: 'clip.mp4', ContentLength: 11 });
});

test('at most four attempts; a refusal (AccessDenied) is not retried', async () => {
  s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown' }));
  await expect(upload()).rejects.toThrow('slow down');
  expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(4);
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
  await expect(upload()).rejects.toThrow('denied');
  expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
}, 30_000);
