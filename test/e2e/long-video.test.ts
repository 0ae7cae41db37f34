/**
 * Long videos end to end on the local stack (real S3 server, Step Functions endpoint on the ASL
 * file, the real starter, splitter with ffmpeg and result; recognition stood in for speed: it names
 * the face of each frame from the frame's tick, so the intervals can be checked exactly): a video
 * sampled by rate, split into segments that parallel splitter invocations extract, recognised
 * through the Distributed Map with its frame list and results in the local S3; and a 10-hour video
 * refused as the setting says, with an error record.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import type { LambdaHandler } from '#infra/local/lambda/service.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { ffmpegPath, tempDir } from '#test/support/videos.js';
import { s3Client } from '#functions/aws/clients.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const run = promisify(execFile);
const ffmpeg = ffmpegPath();
let work: string;

beforeAll(() => {
  work = tempDir('facerec-long-e2e-');
});

async function lavfi(name: string, source: string, seconds: number, extra: string[] = []) {
  const file = path.join(work, name);
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...extra, file],
  ]);
  return file;
}

/** Recognition stand-in: at 4 frames a second, Ann from 5 s to 12 s and from 30 s on. */
const annAt = (t: number) => (t >= 5 && t <= 12) || t >= 30;
const recognition: LambdaHandler = async (event: any) => ({
  frames: (event.keys as string[]).map((key) => {
    const t = Number(/frame-(\d+)\.jpg$/.exec(key)![1]) / 4;
    return {
      key,
      faces: annAt(t)
        ? [{ box: { x: 1, y: 2, width: 50, height: 50 }, score: 0.99, name: 'Ann', distance: 0.3 }]
        : [],
      facesTotal: annAt(t) ? 1 : 0,
    };
  }),
  modelId: 'm',
  galleryId: 'g',
  timings: { totalMs: 1 },
});

async function withStack<T>(env: Record<string, string>, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const stack = await startLocalStack({
    env: { ...quietLocalStackEnv(path.join(work, `local-${Math.random().toString(16).slice(2)}`)), ...env },
    handlers: { recognition },
  });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

async function process(stack: LocalStack, key: string, file: string) {
  const s3 = s3Client(stack.config.pipeline.aws);
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: stack.info.buckets.input, Key: key, Body: readFileSync(file) }),
    );
    // The upload's event starts the execution; wait until it and everything it started ended (the
    // local S3 server queues the event before it answers the PUT: idle() waits for the starter).
    await stack.idle();
    const [execution] = stack.sfn.listExecutions();
    const read = async (bucket: string, k: string) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      return res.Body!.transformToString();
    };
    const list = async (bucket: string, prefix: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map(
        (o) => o.Key!,
      );
    return { execution, read, list };
  } finally {
    s3.destroy();
  }
}

test('4 frames a second over 40 s: three segments extracted apart, the Distributed Map, every frame timed, Ann from 5 to 12 s and from 30 s', async () => {
  const clip = await lavfi('talk.mp4', 'testsrc=size=160x120:rate=25', 40, ['-g', '50']);
  await withStack({ FACEREC_SAMPLE: '4/s', FACEREC_SEGMENT_SECONDS: '15' }, async (stack) => {
    const { execution, read, list } = await process(stack, 'talks/talk.mp4', clip);
    expect(execution.status).toBe('SUCCEEDED');
    const history = stack.sfn.history(execution.executionArn);
    const entered = history
      .filter((e) => e.type.endsWith('StateEntered'))
      .map((e: any) => e.stateEnteredEventDetails.name);
    expect(entered).toEqual(
      expect.arrayContaining([
        'Extract segments',
        'Index frames',
        'Recognize faces at scale',
        'Write result',
      ]),
    );
    expect(entered).not.toContain('Recognize faces in frame batches');
    expect(history.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(3); // the segments
    expect(history.map((e) => e.type)).toContain('MapRunSucceeded');

    expect(await read('facerec-output', 'talks/talk.txt')).toBe('Ann');
    const detail = JSON.parse(await read('facerec-output', 'talks/talk.json'));
    expect(detail.frames.analysed).toBe(160);
    detail.frames.results.forEach((f: any, i: number) => {
      expect(f.key).toBe(`talks/talk/frame-${String(i).padStart(4, '0')}.jpg`);
      // 25 fps: the first frame at or after each tick (ffmpeg's time, not the tick's).
      expect(f.timeSec).toBeGreaterThanOrEqual(i * 0.25 - 1e-9);
      expect(f.timeSec).toBeLessThan(i * 0.25 + 0.04);
    });
    expect(
      detail.people.map((a: any) => [a.name, a.intervals.map((x: any) => [x.startSec, x.endSec])]),
    ).toEqual([
      [
        'Ann',
        [
          [5, 12],
          [30, 39.76],
        ],
      ],
    ]);
    expect(detail.sampling).toMatchObject({ asked: '4/s', used: '4 frames a second' });
    // In stage-1: the frames, their list, the segments' lists and the Map Run's results.
    const stage1 = await list('facerec-stage-1', 'talks/talk/');
    expect(stage1.filter((k) => k.endsWith('.jpg'))).toHaveLength(160);
    expect(stage1).toEqual(
      expect.arrayContaining([
        'talks/talk/frames.json',
        'talks/talk/segments/segment-0000.json',
        'talks/talk/segments/segment-0002.json',
      ]),
    );
    expect(stage1.some((k) => /^talks\/talk\/map-run\/[0-9a-f-]{36}\/manifest\.json$/.test(k))).toBe(true);
  });
}, 600_000);

test('a 10-hour video at one frame a second with FACEREC_TOO_LONG=refuse: an error record that says why, quickly', async () => {
  const ten = await lavfi('ten.mp4', 'color=c=gray:s=32x32:r=1', 36_000, ['-g', '600']);
  await withStack({ FACEREC_SAMPLE: '1/s', FACEREC_TOO_LONG: 'refuse' }, async (stack) => {
    const started = Date.now();
    const { execution, read } = await process(stack, 'ten.mp4', ten);
    expect(execution.status).toBe('FAILED');
    const record = JSON.parse(await read('facerec-output', 'errors/ten.json'));
    expect(record).toMatchObject({
      stage: 'split',
      error: 'Facerec.BadInput',
      kind: 'too-long',
      reason: expect.stringMatching(
        /10:00:00 at 1 frame a second is 36000 frames; at most 10800 are allowed/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(120_000);
  });
}, 600_000);
