/**
 * Hostile and odd uploads through the local stack (issue 12), with the real S3 server, starter,
 * splitter (real ffmpeg) and result functions; recognition is a stand-in that checks each frame
 * is a JPEG in the stage-1 bucket (the face engine is tested elsewhere).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { s3ClientConfig } from '#functions/aws/clients.js';
import type { RecognitionInput } from '#functions/core/contracts.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { audioOnly, patternVideo, tempDir } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

let work: string;
let stack: LocalStack;
let s3: S3Client;
const skipped: Array<{ key: string; reason: string }> = [];

beforeAll(async () => {
  work = tempDir('facerec-hostile-');
  stack = await startLocalStack({
    onUploadSkipped: (s) => skipped.push(s),
    env: {
      ...quietLocalStackEnv(path.join(work, 'local')),
      FACEREC_PROFILE: 'cse546-p2',
    },
    handlers: {
      recognition: async (event) => {
        const e = event as RecognitionInput;
        const frames = [];
        for (const key of e.keys) {
          const got = await s3.send(new GetObjectCommand({ Bucket: e.bucket, Key: key }));
          const meta = await sharp(Buffer.from(await got.Body!.transformToByteArray())).metadata();
          frames.push({
            key,
            width: meta.width,
            height: meta.height,
            faces: [
              {
                box: { x: 1, y: 1, width: 40, height: 40 },
                score: 0.99,
                name: `seen ${meta.format}`,
                distance: 0.1,
              },
            ],
            facesTotal: 1,
          });
        }
        return {
          batch: e.batch,
          frames,
          modelId: 'stand-in',
          galleryId: 'stand-in',
          timings: { totalMs: 1 },
        };
      },
    },
  });
  s3 = new S3Client(
    s3ClientConfig({ region: stack.info.region, s3Endpoint: stack.info.s3Endpoint, s3ForcePathStyle: true }),
  );
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

async function text(bucket: string, key: string): Promise<string | undefined> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await got.Body!.transformToString();
  } catch {
    return undefined;
  }
}

test('escaping keys, % keys, 241-byte names, audio-only and images named .mp4: each ends with an output or a clear error record, all inside the data folder', async () => {
  const clip = readFileSync(await patternVideo(path.join(work, 'clip.mp4'), 1, '160x120'));
  const voice = readFileSync(await audioOnly(path.join(work, 'voice.m4a')));
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#345' } })
    .png()
    .toBuffer();
  const long = `${'Z'.repeat(237)}.mp4`;
  const uploads: Array<[string, Buffer]> = [
    ['../../../escape3.mp4', clip],
    ['../escape.mp4', clip],
    ['100% real.mp4', clip],
    ['a%02d b %s.mp4', clip],
    [long, clip],
    ['ünï ✓/视频 clip.mp4', clip],
    ['voice.mp4', voice],
    ['photo.mp4', png],
  ];
  const b = stack.info.buckets;
  for (const [key, body] of uploads) {
    await s3.send(new PutObjectCommand({ Bucket: b.input, Key: key, Body: body, ContentType: 'video/mp4' }));
  }
  await stack.idle();

  for (const key of [
    '../../../escape3',
    '../escape',
    '100% real',
    'a%02d b %s',
    long.slice(0, -4),
    'ünï ✓/视频 clip',
  ]) {
    expect([key, await text(b.output, `${key}.txt`)]).toEqual([key, 'seen jpeg']);
    expect(await text(b.meta, `errors/${key}.json`)).toBeUndefined();
  }
  // cse546-p2 keeps failure records in the meta bucket (its graders read all of the output bucket).
  const voiceRecord = JSON.parse((await text(b.meta, 'errors/voice.json'))!);
  expect(voiceRecord).toMatchObject({
    stage: 'split',
    kind: 'no-video-stream',
    reason: 'not a video: the file has audio but no video stream',
  });
  const photoRecord = JSON.parse((await text(b.meta, 'errors/photo.json'))!);
  expect(photoRecord).toMatchObject({
    stage: 'split',
    kind: 'not-a-video',
    reason: expect.stringMatching(/still image \(png\)/),
  });
  for (const r of [voiceRecord, photoRecord]) {
    expect(JSON.stringify(r)).not.toMatch(/\/tmp\/|\/work\/|"trace"|\s at /);
  }
  // Nothing outside the data folder, no bucket named after a key.
  expect(readdirSync(work).sort()).toEqual(['clip.mp4', 'local', 'voice.m4a']);
  expect(
    readdirSync(path.join(work, 'local', 's3'))
      .filter((d) => !d.startsWith('.'))
      .sort(),
  ).toEqual(Object.values(b).sort());
}, 120_000);

test('an upload the starter skips (not a video by its content type or key) is said, not silent', async () => {
  const b = stack.info.buckets;
  // What `curl --data-binary` sends, and a file that is not a video by its name.
  await s3.send(
    new PutObjectCommand({
      Bucket: b.input,
      Key: 'form.mp4',
      Body: 'x',
      ContentType: 'application/x-www-form-urlencoded',
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: b.input, Key: 'notes.txt', Body: 'x', ContentType: 'text/plain' }),
  );
  await stack.idle();
  const said = skipped.filter((s) => s.key === 'form.mp4' || s.key === 'notes.txt');
  // Two uploads, two starter invocations that may run side by side: in key order.
  expect(said.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
    {
      key: 'form.mp4',
      reason: expect.stringMatching(/content type application\/x-www-form-urlencoded is not a video/),
    },
    { key: 'notes.txt', reason: expect.stringMatching(/not a video by its extension/) },
  ]);
  expect(await text(b.output, 'form.txt')).toBeUndefined();
}, 60_000);
