/**
 * The default profile's splitter against the real local S3 server (real ffmpeg): videos read in
 * place through presigned URLs, count and rate sampling with ffmpeg's times, a long video planned
 * as segments, each segment extracted apart and indexed, the Distributed Map's frame list, a video
 * too long for its sampling (spread, capped, refused), and one whose length its container does
 * not say.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  SegmentOutputSchema,
  SplitOutputSchema,
  type SegmentOutput,
  type SplitOutput,
} from '#functions/core/contracts.js';
import { createHandler } from '#functions/splitter/handler.js';
import { onePassIsCheaper } from '#functions/splitter/sampled.js';
import { extractAtTimes } from '#functions/core/ffmpeg/timed-frames.js';
import type { LocalS3 } from '#infra/local/s3/service.js';
import { localS3 } from '#test/support/sfn-run.js';
import { lambdaContext, testConfig } from '#test/support/lambda.js';
import { ffmpegPath, garbage, tempDir } from '#test/support/videos.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const run = promisify(execFile);
const ffmpeg = ffmpegPath();
let dir: string;
let server: LocalS3;
let s3: S3Client;
let closeS3: () => Promise<void>;

async function lavfi(name: string, source: string, seconds: number, extra: string[] = []): Promise<string> {
  const file = path.join(dir, name);
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...extra, file],
  ]);
  return file;
}

async function upload(key: string, file: string) {
  const body = readFileSync(file);
  await s3.send(new PutObjectCommand({ Bucket: 'facerec-input', Key: key, Body: body }));
  return { bucket: 'facerec-input', key, size: body.length };
}

async function stage1Json(key: string): Promise<any> {
  const res = await s3.send(new GetObjectCommand({ Bucket: 'facerec-stage-1', Key: key }));
  return JSON.parse(await res.Body!.transformToString());
}

const splitter = (env: Record<string, string> = {}) => {
  const handler = createHandler({
    config: testConfig({
      AWS_ENDPOINT_URL_S3: server.url,
      // Every video read in place through a presigned URL, as a large one is.
      FACEREC_STREAM_VIDEO_MB: '0',
      ...env,
    }),
    s3,
  });
  return (event: unknown) => handler(event as never, lambdaContext('splitter', 120_000)) as Promise<any>;
};

let clip: string;
beforeAll(async () => {
  dir = tempDir('facerec-sampled-');
  ({ server, s3, close: closeS3 } = await localS3());
  clip = await lavfi('clip.mp4', 'testsrc=size=160x120:rate=25', 12, ['-g', '25']);
}, 120_000);
afterAll(() => closeS3());

test('count sampling through a presigned URL: frames timed by ffmpeg, keys in batches', async () => {
  const video = await upload('count/clip.mp4', clip);
  const out = SplitOutputSchema.parse(
    await splitter({ FACEREC_SAMPLE: '4', FACEREC_FRAME_BATCH: '3' })({ video }),
  );
  expect(out.batches).toEqual([
    ['count/clip/frame-0000.jpg', 'count/clip/frame-0001.jpg', 'count/clip/frame-0002.jpg'],
    ['count/clip/frame-0003.jpg'],
  ]);
  expect(out.split.frameTimesSec).toEqual([0, 3, 6, 9]);
  expect(out.split.sampling).toEqual({ asked: '4', used: '4 frames spread over the video' });
  const frame = await s3.send(
    new GetObjectCommand({ Bucket: 'facerec-stage-1', Key: 'count/clip/frame-0003.jpg' }),
  );
  expect(frame.ContentType).toBe('image/jpeg');
});

test("a short clip's count sampling is taken in one decoding pass: the very frames its seeks would give", async () => {
  // The course's clips: 2 s at 25 fps, one keyframe. Ten seeks decode ~5x the clip (3.1x the CPU
  // of one pass, docs/benchmarks.md); the 12 s clip above keeps its seeks.
  expect(onePassIsCheaper(2, 25, 10)).toBe(true);
  expect(onePassIsCheaper(12, 25, 4)).toBe(false);
  const short = await lavfi('short.mp4', 'testsrc=size=320x240:rate=25', 2);
  const video = await upload('short/clip.mp4', short);
  const out = SplitOutputSchema.parse(await splitter({ FACEREC_SAMPLE: '10' })({ video }));
  const times = out.split.frameTimesSec as number[];
  expect(times).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8]);
  const seeks = await extractAtTimes({
    ffmpeg,
    input: short,
    originSec: 0,
    outDir: tempDir('facerec-seeks-'),
    times,
    timeoutMs: 60_000,
  });
  expect(seeks.frames.map((f) => f.timeSec)).toEqual(times);
  const keys = out.batches.flat();
  expect(keys).toHaveLength(10);
  for (const [i, key] of keys.entries()) {
    const res = await s3.send(new GetObjectCommand({ Bucket: 'facerec-stage-1', Key: key }));
    const bytes = Buffer.from(await res.Body!.transformToByteArray());
    expect(bytes.equals(readFileSync(seeks.frames[i].file))).toBe(true);
  }
});

test('a long video: segments planned, extracted apart, indexed into the frame list of the Distributed Map', async () => {
  const video = await upload('long/clip.mp4', clip);
  const split = splitter({ FACEREC_SAMPLE: '10/s', FACEREC_SEGMENT_SECONDS: '4' });
  const plan = SplitOutputSchema.parse(await split({ video, execution: 'x' }));
  expect(plan.frameCount).toBe(0);
  expect(plan.segments!.map((s) => [s.startSec, s.endSec])).toEqual([
    [0, 4],
    [4, 8],
    [8, 12],
  ]);
  expect(plan.segments!.every((s) => s.periodSec === 0.1 && s.originSec === 0 && s.fps === 25)).toBe(true);

  const outcomes: SegmentOutput[] = [];
  // In any order, as parallel invocations finish.
  for (const segment of [...plan.segments!].reverse()) {
    outcomes.push(SegmentOutputSchema.parse(await split({ video, segment })));
  }
  expect(outcomes.map((o) => o.frameCount)).toEqual([40, 40, 40]);
  const part = await stage1Json(outcomes[2].part.key);
  expect(part.frames.slice(0, 2)).toEqual([
    { key: 'long/clip/frame-0000.jpg', timeSec: 0 },
    { key: 'long/clip/frame-0001.jpg', timeSec: 0.12 },
  ]);

  const indexed: SplitOutput = SplitOutputSchema.parse(
    await split({ video, segments: outcomes, split: plan.split }),
  );
  expect(indexed.frameCount).toBe(120);
  expect(indexed.batches).toEqual([]);
  expect(indexed.frameList).toEqual({
    bucket: 'facerec-stage-1',
    key: 'long/clip/frames.json',
    batchSize: 25,
    resultsPrefix: 'long/clip/map-run',
  });
  expect(indexed.split).toMatchObject({ segments: 3, frameIndex: { key: 'long/clip/frames.json' } });
  const list = await stage1Json('long/clip/frames.json');
  expect(list).toHaveLength(120);
  expect(list.map((f: any) => f.key)).toEqual(
    Array.from({ length: 120 }, (_, i) => `long/clip/frame-${String(i).padStart(4, '0')}.jpg`),
  );
  // 25 fps sampled at 10/s: the first frame at or after each tick, as ffmpeg timed it.
  list.forEach((f: any, i: number) => {
    expect(f.timeSec).toBeGreaterThanOrEqual(i * 0.1 - 1e-9);
    expect(f.timeSec).toBeLessThan(i * 0.1 + 0.04 + 1e-9);
  });
}, 120_000);

test('a long video under a key of 1,024 bytes: its segment lists, frame list and results prefix fit S3 (issue 21, finding 3)', async () => {
  const head = 'long/é€-';
  const key = `${head}${'k'.repeat(1024 - Buffer.byteLength(head) - 4)}.mp4`;
  expect(Buffer.byteLength(key)).toBe(1024);
  const video = await upload(key, clip);
  const split = splitter({ FACEREC_SAMPLE: '10/s', FACEREC_SEGMENT_SECONDS: '4' });
  const plan = SplitOutputSchema.parse(await split({ video, execution: 'x' }));
  expect(plan.segments).toHaveLength(3);
  const outcomes: SegmentOutput[] = [];
  for (const segment of plan.segments!)
    outcomes.push(SegmentOutputSchema.parse(await split({ video, segment })));
  expect(outcomes.map((o) => o.frameCount)).toEqual([40, 40, 40]);
  const indexed = SplitOutputSchema.parse(await split({ video, segments: outcomes, split: plan.split }));
  expect(indexed.frameCount).toBe(120);
  const { frameList } = indexed;
  const keys = [
    ...outcomes.map((o) => o.part.key),
    frameList!.key,
    // The deepest key Step Functions' ResultWriter writes under the prefix.
    `${frameList!.resultsPrefix}/${'0'.repeat(36)}/SUCCEEDED_0.json`,
    ...(await stage1Json(frameList!.key)).map((f: any) => f.key),
  ];
  for (const k of keys) expect(Buffer.byteLength(k)).toBeLessThanOrEqual(1024);
}, 120_000);

test('segments that failed are recorded; all failed is bad input with the first reason', async () => {
  const video = { bucket: 'facerec-input', key: 'long/clip.mp4' };
  const failed = {
    segment: 1,
    failed: true as const,
    error: 'Facerec.BadInput',
    cause: '{"errorMessage":"cannot decode"}',
  };
  const good = SegmentOutputSchema.parse(
    await splitter({ FACEREC_SAMPLE: '1/s' })({
      video,
      segment: { index: 0, of: 2, startSec: 0, endSec: 6, periodSec: 1, originSec: 0, fps: 25, maxFrames: 8 },
    }),
  );
  const out = SplitOutputSchema.parse(
    await splitter({ FACEREC_SAMPLE: '1/s' })({ video, segments: [good, failed], split: {} }),
  );
  expect(out.frameCount).toBe(6);
  expect(out.batches.flat()).toHaveLength(6); // few frames: the inline Map takes them
  expect(out.split.failedSegments).toEqual([failed]);
  await expect(
    splitter({ FACEREC_SAMPLE: '1/s' })({ video, segments: [failed], split: {} }),
  ).rejects.toMatchObject({
    name: 'Facerec.BadInput',
    message: expect.stringMatching(/1 of 1 segments failed \(first: cannot decode\)/),
  });
});

describe('a 10-hour video at one frame a second', () => {
  let video: { bucket: string; key: string; size: number };
  beforeAll(async () => {
    video = await upload(
      'ten-hours.mp4',
      await lavfi('ten.mp4', 'color=c=gray:s=32x32:r=1', 36_000, ['-g', '600']),
    );
  }, 120_000);

  test('refused (FACEREC_TOO_LONG=refuse): bad input that says why and what to set', async () => {
    await expect(
      splitter({ FACEREC_SAMPLE: '1/s', FACEREC_TOO_LONG: 'refuse' })({ video }),
    ).rejects.toMatchObject({
      name: 'Facerec.BadInput',
      message: expect.stringMatching(
        /^ten-hours\.mp4: the video is too long for its sampling: 10:00:00 at 1 frame a second is 36000 frames; at most 10800 are allowed \(FACEREC_MAX_FRAMES\)\. FACEREC_TOO_LONG=spread/,
      ),
    });
  });

  test('spread (the default): the whole video in segments at 18 frames a minute, and it says so', async () => {
    const out = SplitOutputSchema.parse(await splitter({ FACEREC_SAMPLE: '1/s' })({ video }));
    expect(out.segments!.at(-1)!.endSec).toBe(36_000);
    expect(out.segments!.every((s) => Math.abs(s.periodSec - 10 / 3) < 1e-5)).toBe(true);
    expect(out.split.sampling).toMatchObject({
      asked: '1/s',
      used: '18 frames a minute',
      capped: { rule: 'spread', wouldTake: 36_000, maxFrames: 10_800 },
    });
  });

  test('capped (FACEREC_TOO_LONG=cap): the first 3 hours at one a second', async () => {
    const out = SplitOutputSchema.parse(
      await splitter({ FACEREC_SAMPLE: '1/s', FACEREC_TOO_LONG: 'cap' })({ video }),
    );
    expect(out.segments!.at(-1)!.endSec).toBe(10_800);
    expect(out.segments!.every((s) => s.periodSec === 1)).toBe(true);
    expect(out.split.sampling!.capped!.note).toMatch(/only the first 3:00:00 was sampled/);
  });
});

test('a video whose container does not say how long it is: measured, then sampled in one pass', async () => {
  const raw = path.join(dir, 'raw.h264');
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25'],
    ...['-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', raw],
  ]);
  const video = await upload('no-duration.mp4', raw);
  const out = SplitOutputSchema.parse(await splitter({ FACEREC_SAMPLE: '4' })({ video }));
  expect(out.frameCount).toBe(4);
  expect(out.split.durationSec).toBeGreaterThan(7.5);
  out.split.frameTimesSec!.forEach((t, i) => expect(t).toBeCloseTo((i * out.split.durationSec!) / 4, 1));
});

test('not a video, read through a URL: bad input, and no URL or credential in the message', async () => {
  const video = await upload('garbage.mp4', garbage(path.join(dir, 'garbage.mp4')));
  const err = await splitter()({ video }).catch((e: unknown) => e as Error);
  expect(err).toMatchObject({ name: 'Facerec.BadInput', message: expect.stringMatching(/not a video/) });
  expect(err.message).not.toMatch(/X-Amz|127\.0\.0\.1|http/);
});

describe("issue 21's media limits on the default profile's sampled splitter (findings 6)", () => {
  test('frames larger than the engine reads: refused from the probe, bad input, nothing in stage-1', async () => {
    const video = await upload('limits/huge.mp4', clip);
    // The clip is 160x120 (0.0192 MP): a limit of 0.019 MP plays a 16000x9000 frame's refusal.
    const err = await splitter({ FACEREC_MAX_IMAGE_MEGAPIXELS: '0.019' })({ video }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({
      name: 'Facerec.BadInput',
      message: expect.stringMatching(/frames are too large: 160x120 .* refused before decoding/),
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'facerec-stage-1', Prefix: 'limits/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  test("an ordinary video within the cap local mode and a 1,024 MB Lambda give ffmpeg (768 MB): its frames, not a false 'too large'", async () => {
    if (!['/usr/bin/prlimit', '/bin/prlimit'].some((p) => existsSync(p))) {
      console.warn('skipped: no prlimit on this machine (the cap is enforced only where it exists)');
      return;
    }
    // Ten frames spread over the clip: eight seeking inputs per ffmpeg run, each decoder with its
    // threads. Their malloc arenas (64 MB of address space each, unused) passed an address-space
    // cap of 768 MB: every video of the default profile failed in local mode.
    const video = await upload('limits/ordinary.mp4', clip);
    const out = SplitOutputSchema.parse(
      await splitter({ FACEREC_SAMPLE: '10', FACEREC_FFMPEG_MEMORY_MB: '768' })({ video }),
    );
    expect(out.frameCount).toBe(10);
  }, 120_000);

  test('ffmpeg under its memory cap (prlimit): past it, too large for the cap, not "cannot decode"', async () => {
    if (!['/usr/bin/prlimit', '/bin/prlimit'].some((p) => existsSync(p))) {
      console.warn('skipped: no prlimit on this machine (the cap is enforced only where it exists)');
      return;
    }
    const big = await lavfi('big.mp4', 'testsrc=size=3840x2160:rate=25', 1);
    const video = await upload('limits/big.mp4', big);
    for (const sample of ['2', '1/s']) {
      const err = await splitter({ FACEREC_SAMPLE: sample, FACEREC_FFMPEG_MEMORY_MB: '150' })({
        video,
      }).catch((e: unknown) => e as Error);
      expect(err.name).toBe('Facerec.BadInput');
      expect(err.message).toMatch(/too large to decode within ffmpeg's memory cap \(150 MB/);
    }
    // Under a cap that fits, the same clip decodes.
    const ok = SplitOutputSchema.parse(
      await splitter({ FACEREC_SAMPLE: '2', FACEREC_FFMPEG_MEMORY_MB: '2048' })({ video }),
    );
    expect(ok.frameCount).toBe(2);
  }, 120_000);
});

test("issue 21 (finding 7) on the default profile: a killed splitter's work folder is swept by the next invocation", async () => {
  // A pid that is gone: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const folder = path.join(os.tmpdir(), `facerec-split-${dead}-00000000-sampled-test`);
  mkdirSync(path.join(folder, 'frames'), { recursive: true });
  writeFileSync(path.join(folder, 'video.mp4'), 'x'.repeat(1000));
  const video = await upload('sweep/clip.mp4', clip);
  const out = SplitOutputSchema.parse(await splitter({ FACEREC_SAMPLE: '2' })({ video }));
  expect(out.frameCount).toBe(2);
  expect(existsSync(folder)).toBe(false);
});
