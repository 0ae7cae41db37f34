/**
 * statemachine/pipeline.asl.json with a 3-hour video at one frame a second (10,800 frames), in
 * local mode with the local S3 server: the splitter plans segments (stand-in: no real video), they
 * are extracted in parallel (stand-in: each writes its frame list), indexed by the real splitter,
 * recognised through the Distributed Map (stand-in recognition: one child execution per batch),
 * and the real result function reads the results back from S3 and writes `<stem>.json`.
 *
 * What it shows: the execution's history and every state's payload stay small and do not grow
 * with the video (AWS: 25,000 events, 256 KB), every frame keeps its time, and the intervals of
 * the people seen are where the stand-in put them.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { STATE_PAYLOAD_LIMIT } from '#functions/core/facts.js';
import type { SegmentSpec } from '#functions/core/contracts.js';
import { frameFileName, frameListKeys } from '#functions/core/layout.js';
import { planSamples, segmentSeconds, segmentsOf } from '#functions/core/sampling.js';
import { createHandler as createResult } from '#functions/result/handler.js';
import { createHandler as createSplitter } from '#functions/splitter/handler.js';
import { loadDefinition, pipelineSubstitutions } from '#infra/local/sfn/load-definition.js';
import { LocalEventBus, PUT_EVENTS_RESOURCE } from '#infra/local/events.js';
import { LocalFunction, type LambdaHandler } from '#infra/local/lambda/service.js';
import type { LocalS3 } from '#infra/local/s3/service.js';
import { LocalStepFunctions } from '#infra/local/sfn/service.js';
import { lambdaContext, testConfig } from '#test/support/lambda.js';
import { localS3, runExecution } from '#test/support/sfn-run.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const HOURS = 3;
const DURATION = HOURS * 3600;
const VIDEO: { bucket: string; key: string; size: number; etag?: string } = {
  bucket: 'facerec-input',
  key: 'lecture.mp4',
  size: 4e9,
};
const STEM = 'lecture';

/** Who the stand-in recognition sees, when (seconds, both ends included). */
const TRUTH: Record<string, Array<[number, number]>> = {
  Ann: [
    [0, 1200],
    [5000, 5060],
  ],
  Bob: [[7200, 10_799]],
};

let s3: S3Client;
let closeS3: () => Promise<void>;
let sfn: LocalStepFunctions;
const recognitionCalls: any[] = [];

beforeAll(async () => {
  let server: LocalS3;
  ({ server, s3, close: closeS3 } = await localS3());
  // The upload the execution is for (the result function checks it is still the newest).
  const put = await s3.send(new PutObjectCommand({ Bucket: VIDEO.bucket, Key: VIDEO.key, Body: 'video' }));
  VIDEO.etag = put.ETag;
  const config = testConfig({ AWS_ENDPOINT_URL_S3: server.url, FACEREC_SAMPLE: '1/s' });
  const realSplitter = createSplitter({ config, s3 });
  const realResult = createResult({ config, s3 });

  // The plan of a 1080p30 3-hour video at one frame a second, as the splitter makes it.
  const plan = planSamples({ kind: 'rate', periodSec: 1 }, DURATION, {
    maxFrames: 10_800,
    tooLong: 'spread',
  });
  const segSec = segmentSeconds({ width: 1920, height: 1080, fps: 30, referenceFramesOnly: true });
  const segments: SegmentSpec[] = segmentsOf(plan as { periodSec: number; endSec: number }, {
    targetSec: segSec,
  }).map((x) => ({ ...x, originSec: 0, fps: 30, maxFrames: Math.ceil(x.endSec - x.startSec) + 2 }));

  const splitter = async (event: any, context: any) => {
    if (event.segments) return realSplitter(event, context); // the real index
    if (event.segment) {
      const seg = event.segment as SegmentSpec;
      const frames = [];
      for (let t = seg.startSec; t < seg.endSec; t++) {
        frames.push({ key: `${STEM}/${frameFileName('default', STEM, t)}`, timeSec: t + 0.02 });
      }
      const part = { bucket: 'facerec-stage-1', key: frameListKeys(STEM).segment(seg.index) };
      await s3.send(
        new PutObjectCommand({ ...{ Bucket: part.bucket, Key: part.key }, Body: JSON.stringify({ frames }) }),
      );
      return {
        segment: seg.index,
        frameCount: frames.length,
        part,
        timings: { ffmpegMs: 1, uploadMs: 1, totalMs: 2 },
      };
    }
    return {
      video: { bucket: VIDEO.bucket, key: VIDEO.key, stem: STEM },
      frameBucket: 'facerec-stage-1',
      frameCount: 0,
      batches: [],
      segments,
      split: {
        profile: 'default',
        ffmpeg: 'stand-in',
        durationSec: DURATION,
        sampling: { asked: '1/s', used: '1 frame a second', periodSec: 1, endSec: DURATION },
        segments: segments.length,
        timings: { downloadMs: 0, ffmpegMs: 1, uploadMs: 0, totalMs: 1, startedAt: Date.now() },
      },
    };
  };
  const seenAt = (t: number) =>
    Object.entries(TRUTH)
      .filter(([, ranges]) => ranges.some(([a, b]) => t >= a && t <= b))
      .map(([name]) => name);
  const recognition = async (event: any) => {
    recognitionCalls.push(event);
    return {
      frames: event.keys.map((key: string) => {
        const t = Number(/frame-(\d+)\.jpg$/.exec(key)![1]);
        return {
          key,
          width: 1920,
          height: 1080,
          faces: [
            ...seenAt(t).map((name) => ({
              box: { x: 1, y: 2, width: 90, height: 90 },
              score: 0.99,
              name,
              distance: 0.3,
            })),
            { box: { x: 500, y: 2, width: 90, height: 90 }, score: 0.9, name: 'Unknown', distance: 0.9 },
          ],
          facesTotal: seenAt(t).length + 1,
        };
      }),
      modelId: 'm',
      galleryId: 'g',
      timings: { totalMs: 5 },
    };
  };
  const fn = (name: string, handler: (e: any, c: any) => Promise<unknown>, timeoutSeconds: number) =>
    new LocalFunction({
      name: `facerec-${name}`,
      timeoutSeconds,
      concurrency: 8,
      handler: ((e: unknown) => handler(e, lambdaContext(name, timeoutSeconds * 1000))) as LambdaHandler,
    });
  const functions = {
    splitter: fn('splitter', splitter, 300),
    recognition: fn('recognition', recognition, 120),
    result: fn('result', (e, c) => realResult(e, c), 60),
  };
  sfn = new LocalStepFunctions({
    definition: loadDefinition(
      pipelineSubstitutions({
        splitter: functions.splitter.arn,
        recognition: functions.recognition.arn,
        result: functions.result.arn,
        mapMaxConcurrency: 10,
      }),
    ),
    name: 'facerec-pipeline',
    functions: Object.values(functions),
    retryIntervalMs: 0,
    services: { [PUT_EVENTS_RESOURCE]: new LocalEventBus().putEvents },
    s3: () => s3,
  });
}, 60_000);

afterAll(async () => {
  await sfn.close();
  await closeS3();
});

const run = (input: unknown) => runExecution(sfn, input, 'three-hours');

test('a 3-hour video at one frame a second: every frame through the Distributed Map, a small history, small states, true intervals', async () => {
  const r = await run(VIDEO);
  expect(r.status).toBe('SUCCEEDED');

  // One child execution per batch of 25 frames, every frame once.
  expect(recognitionCalls).toHaveLength(10_800 / 25);
  const keys = recognitionCalls.flatMap((c) => c.keys);
  expect(new Set(keys).size).toBe(10_800);

  // The parent's history: a few hundred events (AWS allows 25,000), none per frame or batch.
  const history = sfn.history(r.executionArn);
  expect(history.length).toBeLessThan(500);
  expect(history.filter((e) => e.type === 'MapRunStarted')).toHaveLength(1);
  // Every state's input and output far under 256 KB.
  let largest = 0;
  for (const e of history as any[]) {
    const payload = e.stateEnteredEventDetails?.input ?? e.stateExitedEventDetails?.output ?? '';
    largest = Math.max(largest, Buffer.byteLength(payload));
  }
  expect(largest).toBeLessThan(STATE_PAYLOAD_LIMIT / 4);

  // The result: everyone, with their intervals, from 10,800 timed frames.
  const output = JSON.parse(r.output!);
  expect(output.frames).toBe(10_800);
  const res = await s3.send(new GetObjectCommand({ Bucket: 'facerec-output', Key: `${STEM}.json` }));
  const detail = JSON.parse(await res.Body!.transformToString());
  expect(detail.frames.results).toHaveLength(10_800);
  expect(detail.frames.results[3601]).toMatchObject({ key: 'lecture/frame-3601.jpg', timeSec: 3601.02 });
  expect(detail.appearanceGapSec).toBe(2.5);
  const intervals = Object.fromEntries(
    detail.people.map((a: any) => [a.name, a.intervals.map((i: any) => [i.startSec, i.endSec])]),
  );
  expect(intervals).toEqual({
    Ann: [
      [0.02, 1200.02],
      [5000.02, 5060.02],
    ],
    Bob: [[7200.02, 10_799.02]],
  });
  expect(detail.sampling).toMatchObject({ asked: '1/s', used: '1 frame a second' });
}, 600_000);
