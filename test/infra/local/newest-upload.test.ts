/**
 * Issue 12, "upload a Biden clip, 2 s later a Freeman clip to the same key: output says Biden; a
 * stale errors/<stem>.json stays beside a newer good .txt". On the local stack (real S3 server,
 * starter, Step Functions service, result function, and the splitter's real download), with a
 * stand-in splitter whose "person" is the uploaded bytes, so that the order of events can be
 * forced: the older upload's execution is held back until the newer one has finished.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '#functions/aws/clients.js';
import { BadInputError } from '#functions/aws/errors.js';
import { downloadToFile } from '#functions/aws/s3.js';
import { videoStem } from '#functions/core/layout.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { closeTarget, localTarget, type PipelineTarget as Target } from '#cli/lib/target.js';
import type { ExecutionRecord } from '#infra/local/sfn/service.js';
import { tempDir } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
let stack: LocalStack;
let t: Target;
/** Held executions, by the content of their upload: released by the test. */
const holds = new Map<string, { where: 'download' | 'recognition'; release: Promise<void> }>();
const reached = new Set<string>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startLocalStack({
    env: {
      ...quietLocalStackEnv(tempDir('facerec-newest-')),
      FACEREC_PROFILE: 'cse546-p2',
    },
    handlers: {
      splitter: async (event: any) => {
        const video = event.video;
        const hold = [...holds.entries()].find(([, h]) => h.where === 'download');
        // The first execution to arrive while a download hold is set waits (the older upload).
        if (hold && !reached.has(hold[0])) {
          reached.add(hold[0]);
          await hold[1].release;
        }
        const dir = await mkdtemp(path.join(os.tmpdir(), 'facerec-newest-split-'));
        try {
          await downloadToFile(s3Client(stack.config.pipeline.aws), video, path.join(dir, 'v'));
          const person = await readFile(path.join(dir, 'v'), 'utf8');
          if (person === 'BAD') throw new BadInputError(`${video.key}: not a video`);
          const stem = videoStem(video.key);
          return {
            video: { bucket: video.bucket, key: video.key, stem },
            frameBucket: stack.config.pipeline.buckets.stage1,
            frameCount: 1,
            batches: [[`${stem}/${person}.jpg`]],
            split: {
              profile: 'cse546-p2',
              ffmpeg: 'stand-in',
              timings: { downloadMs: 0, ffmpegMs: 0, uploadMs: 0, totalMs: 0 },
            },
          };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      recognition: async (event: any) => {
        const person = path.basename(event.keys[0], '.jpg');
        const hold = holds.get(person);
        if (hold?.where === 'recognition') {
          reached.add(person);
          await hold.release;
        }
        return {
          batch: event.batch,
          frames: event.keys.map((key: string) => ({
            key,
            faces: [{ box: { x: 0, y: 0, width: 50, height: 50 }, score: 0.99, name: person, distance: 0.2 }],
            facesTotal: 1,
          })),
          modelId: 'stand-in',
          galleryId: 'stand-in',
          timings: { totalMs: 1 },
        };
      },
    },
  });
  t = localTarget(stack.info);
});

afterAll(async () => {
  closeTarget(t);
  await stack.stop();
});

const put = (key: string, body: string) =>
  t.s3.send(
    new PutObjectCommand({ Bucket: t.buckets.input, Key: key, Body: body, ContentType: 'video/mp4' }),
  );
const text = async (key: string) => {
  try {
    const out = await t.s3.send(new GetObjectCommand({ Bucket: t.buckets.output, Key: key }));
    return await out.Body!.transformToString();
  } catch {
    return undefined;
  }
};
// cse546-p2 keeps failure records out of the graded buckets, in the meta bucket.
const records = async () =>
  ((await t.s3.send(new ListObjectsV2Command({ Bucket: t.buckets.meta }))).Contents ?? [])
    .map((c) => c.Key!)
    .sort();
const until = async (what: () => boolean | Promise<boolean>, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (await what()) return;
  throw new Error('timed out waiting');
};
const finished = () =>
  new Map(stack.sfn.listExecutions().map((r) => [r.name, r] as [string, ExecutionRecord]));

function hold(person: string, where: 'download' | 'recognition') {
  let release!: () => void;
  holds.set(person, { where, release: new Promise<void>((r) => (release = r)) });
  return () => {
    holds.delete(person);
    release();
  };
}

test('clip A, then clip B on the same key while A is still running: the output names B, A is dropped', async () => {
  const releaseA = hold('Biden', 'recognition');
  await put('clip.mp4', 'Biden');
  await until(() => reached.has('Biden')); // A has read its bytes and is analysing
  await put('clip.mp4', 'Freeman');
  await until(async () => (await text('clip.txt')) === 'Freeman');
  releaseA();
  await stack.idle();
  expect(await text('clip.txt')).toBe('Freeman');
  const runs = [...finished().values()].filter((r) => JSON.parse(r.input).key === 'clip.mp4');
  expect(runs).toHaveLength(2);
  const outs = runs.map((r) => JSON.parse(r.output!));
  expect(outs.find((o) => o.name === 'Biden')).toMatchObject({
    superseded: expect.stringMatching(/newer upload/),
  });
  expect(outs.find((o) => o.name === 'Freeman')).not.toHaveProperty('superseded');
});

test("an older execution that only reaches the download after the re-upload neither reads B's bytes nor leaves an error record", async () => {
  const releaseA = hold('first-to-arrive', 'download');
  await put('late.mp4', 'Biden');
  await until(() => reached.has('first-to-arrive'));
  await put('late.mp4', 'Freeman');
  await until(async () => (await text('late.txt')) === 'Freeman');
  releaseA();
  await stack.idle();
  expect(await text('late.txt')).toBe('Freeman');
  expect(await records()).not.toContain('errors/late.json');
  const older = [...finished().values()].find(
    (r) => JSON.parse(r.input).key === 'late.mp4' && r.status === 'FAILED',
  );
  expect(older).toMatchObject({ error: 'Facerec.BadInput' });
  expect(older!.cause).toMatch(/superseded/);
});

test('a success removes the error record a failed earlier upload of the same video left', async () => {
  await put('again.mp4', 'BAD');
  await until(async () => (await records()).includes('errors/again.json'));
  await stack.idle();
  await put('again.mp4', 'Freeman');
  await until(async () => (await text('again.txt')) === 'Freeman');
  await stack.idle();
  expect(await records()).not.toContain('errors/again.json');
});
