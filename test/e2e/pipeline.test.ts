/**
 * End to end on the local stack: a real S3-compatible server, the Step Functions endpoint running
 * the ASL file, the real handlers and face engine, videos made with ffmpeg from real face photos.
 */
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine, pipelineModelId } from '#functions/core/faces/engine.js';
import { enrollPeople, type EnrollImage } from '#functions/core/gallery/enroll.js';
import { serializeGallery } from '#functions/core/gallery/write.js';
import { encodeEventKey } from '#functions/core/layout.js';
import { buildDemoData, type DemoData } from '#cli/lib/demo-data.js';
import { collectVideos, runVideos, type RunReport } from '#cli/lib/pipeline-run.js';
import { localTarget, closeTarget, type PipelineTarget as Target } from '#cli/lib/target.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { listPeopleFolder } from '#cli/lib/people-folder.js';
import { readFile } from 'node:fs/promises';
import { ffmpegPath, garbage, SHARED_FACES, tempDir, videoFromImage } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
let data: DemoData;
let work: string;

beforeAll(async () => {
  work = tempDir('facerec-e2e-');
  const engine = await createFaceEngine(loadConfig().engine);
  data = await buildDemoData(engine, ffmpegPath(), path.join(work, 'demo'));
}, 180_000);

async function withStack<T>(
  env: Record<string, string>,
  fn: (stack: LocalStack, t: Target) => Promise<T>,
): Promise<T> {
  const stack = await startLocalStack({
    env: {
      ...quietLocalStackEnv(path.join(work, `local-${Math.random().toString(16).slice(2)}`)),
      FACEREC_GALLERY: data.galleryPath,
      ...env,
    },
  });
  const t = localTarget(stack.info);
  try {
    return await fn(stack, t);
  } finally {
    closeTarget(t);
    await stack.stop();
  }
}

async function keys(t: Target, bucket: string): Promise<string[]> {
  const out = await t.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((c) => c.Key!).sort();
}
async function text(t: Target, bucket: string, key: string): Promise<string> {
  const out = await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}
const byKey = (r: RunReport, key: string) => r.results.find((x) => x.key === key)!;

describe("e2e, profile cse546-p2 (the original graders' layout)", () => {
  test('names, no face, bad uploads, odd keys, duplicate events', async () => {
    const dir = path.join(work, 'p2-videos');
    const v = (name: string) => path.join(dir, name);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    copyFileSync(path.join(data.videosDir, 'sample1-face1.mp4'), v('test_00.mp4'));
    copyFileSync(path.join(data.videosDir, 'sample4-face1.mp4'), v('my clip ünïcødé+1 (2).mp4'));
    copyFileSync(path.join(data.videosDir, 'stranger.mp4'), v('test_02.mp4'));
    copyFileSync(path.join(data.videosDir, 'no-face.mp4'), v('no face.mp4'));
    writeFileSync(v('zero.mp4'), '');
    copyFileSync(path.join(data.videosDir, 'broken.mp4'), v('truncated.mp4'));
    garbage(v('not-a-video.mp4'));

    await withStack({ FACEREC_PROFILE: 'cse546-p2' }, async (stack, t) => {
      const videos = await collectVideos([dir], stack.config.pipeline.video.extensions);
      const report = await runVideos({ videos, target: t, timeoutSec: 120 });
      // A file that is not a video by its extension: skipped by the starter, nothing else.
      // The local S3 server queues an upload's event before it answers the PUT: idle() then waits
      // for the starter to be done with it.
      await t.s3.send(new PutObjectCommand({ Bucket: t.buckets.input, Key: 'notes.txt', Body: 'hello' }));
      await stack.idle();

      expect(byKey(report, 'test_00.mp4')).toMatchObject({
        status: 'SUCCEEDED',
        name: 'sample1-face1',
        frames: 1,
      });
      expect(byKey(report, 'my clip ünïcødé+1 (2).mp4')).toMatchObject({
        status: 'SUCCEEDED',
        name: 'sample4-face1',
      });
      expect(byKey(report, 'test_02.mp4')).toMatchObject({ status: 'SUCCEEDED', name: 'Unknown' });
      expect(byKey(report, 'no face.mp4')).toMatchObject({ status: 'SUCCEEDED', name: 'No face', faces: 0 });
      for (const bad of ['zero.mp4', 'truncated.mp4', 'not-a-video.mp4']) {
        const r = byKey(report, bad);
        expect(r).toMatchObject({ status: 'FAILED', error: 'Facerec.BadInput' });
        // Frames that cannot be decoded: a failed execution with a record, well within 30 s.
        expect(r.seconds).toBeLessThan(30);
      }
      expect(byKey(report, 'zero.mp4').reason).toMatch(/empty/);
      expect(byKey(report, 'truncated.mp4').reason).toMatch(/truncated/);

      // Stage 1: flat <stem>.jpg, exactly one per good video.
      expect(await keys(t, t.buckets.stage1)).toEqual(
        ['my clip ünïcødé+1 (2).jpg', 'no face.jpg', 'test_00.jpg', 'test_02.jpg'].sort(),
      );
      const jpg = await t.s3.send(new GetObjectCommand({ Bucket: t.buckets.stage1, Key: 'test_00.jpg' }));
      expect(jpg.ContentType).toBe('image/jpeg');
      expect(Buffer.from(await jpg.Body!.transformToByteArray()).subarray(0, 2)).toEqual(
        Buffer.from([0xff, 0xd8]),
      );

      // Output: only <stem>.txt, whose whole content is the name (no JSON detail, and the error
      // records in the meta bucket: the course grader reads every object of the output bucket).
      expect(await keys(t, t.buckets.output)).toEqual(
        ['my clip ünïcødé+1 (2).txt', 'no face.txt', 'test_00.txt', 'test_02.txt'].sort(),
      );
      expect(await keys(t, t.buckets.meta)).toEqual(
        [
          'errors/not-a-video.json',
          'errors/truncated.json',
          'errors/zero.json',
          'gallery/gallery.json',
        ].sort(),
      );
      expect(await text(t, t.buckets.output, 'test_00.txt')).toBe('sample1-face1');
      expect(await text(t, t.buckets.output, 'my clip ünïcødé+1 (2).txt')).toBe('sample4-face1');
      expect(await text(t, t.buckets.output, 'no face.txt')).toBe('No face');
      const record = JSON.parse(await text(t, t.buckets.meta, 'errors/truncated.json'));
      expect(record).toMatchObject({
        stage: 'split',
        error: 'Facerec.BadInput',
        video: { key: 'truncated.mp4' },
      });
      expect(record.execution).toBe(byKey(report, 'truncated.mp4').executionArn);

      // The input objects are never deleted.
      expect(await keys(t, t.buckets.input)).toEqual([...videos.map((x) => x.key), 'notes.txt'].sort());
      const executions = stack.sfn.listExecutions();
      expect(executions).toHaveLength(videos.length);

      // A redelivered event starts nothing new; a new upload of the same key does.
      const head = await t.s3.send(new HeadObjectCommand({ Bucket: t.buckets.input, Key: 'test_00.mp4' }));
      const event = {
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            eventTime: '2024-01-01T00:00:00.000Z',
            s3: {
              bucket: { name: t.buckets.input },
              object: {
                key: encodeEventKey('test_00.mp4'),
                size: head.ContentLength,
                eTag: head.ETag,
                sequencer: '00AB',
              },
            },
          },
        ],
      };
      const first = (await stack.functions.starter.invoke(event)) as any;
      expect(first.started).toHaveLength(1);
      // Redelivered while the execution runs: Step Functions answers with the same execution.
      const whileRunning = (await stack.functions.starter.invoke(event)) as any;
      expect(whileRunning.started.map((s: any) => s.executionArn)).toEqual([first.started[0].executionArn]);
      await stack.idle();
      // Redelivered after it ended: refused as a duplicate.
      const later = (await stack.functions.starter.invoke(event)) as any;
      expect(later).toMatchObject({ started: [], duplicates: [{ key: 'test_00.mp4' }] });
      await stack.idle();
      expect(stack.sfn.listExecutions()).toHaveLength(videos.length + 1);
    });
  }, 240_000);
});

describe('e2e, default profile', () => {
  test('several frames per video, JSON detail, several people reported', async () => {
    await withStack({ FACEREC_FRAMES: '6', FACEREC_FRAME_BATCH: '4' }, async (stack, t) => {
      const videos = await collectVideos(
        ['group.mp4', 'sample2-face1.mp4'].map((f) => path.join(data.videosDir, f)),
        stack.config.pipeline.video.extensions,
        'folder with space/',
      );
      const report = await runVideos({ videos, target: t, timeoutSec: 120 });
      expect(report.results.every((r) => r.status === 'SUCCEEDED')).toBe(true);
      expect(byKey(report, 'folder with space/sample2-face1.mp4')).toMatchObject({
        name: 'sample2-face1',
        frames: 6,
      });
      const stage1 = await keys(t, t.buckets.stage1);
      expect(stage1.filter((k) => k.startsWith('folder with space/group/'))).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => `folder with space/group/frame-000${i}.jpg`),
      );
      const detail = JSON.parse(await text(t, t.buckets.output, 'folder with space/group.json'));
      expect(data.expected['group.mp4'].names).toContain(detail.name);
      // Everyone in the video: <stem>.txt one name a line, most screen time first, as `people`.
      expect(await text(t, t.buckets.output, 'folder with space/group.txt')).toBe(
        detail.people.map((p: any) => p.name).join('\n'),
      );
      expect(detail.people.map((p: any) => p.name).sort()).toEqual(
        [...data.expected['group.mp4'].names].sort(),
      );
      for (const p of detail.people) {
        // A still photo: everyone in (about) every frame: one interval over the whole sample.
        expect(p.intervals).toHaveLength(1);
        expect(p.intervals[0].firstFrame).toBeLessThanOrEqual(1);
        expect(p.intervals[0].lastFrame).toBeGreaterThanOrEqual(4);
        expect(p.screenTimeSec).toBeGreaterThan(0);
      }
      expect(byKey(report, 'folder with space/group.mp4').result).toMatchObject({
        unknownFaces: detail.unknownFaces,
        people: detail.people,
      });
      expect(detail.frames.results).toHaveLength(6);
      // Each frame's time in the video (evenly spread, increasing); everyone's appearances.
      const times = detail.frames.results.map((f: any) => f.timeSec);
      expect(times.every((x: unknown) => typeof x === 'number')).toBe(true);
      expect([...times].sort((a: number, b: number) => a - b)).toEqual(times);
      expect(detail.appearances.map((a: any) => a.name).sort()).toEqual(
        detail.people.map((p: any) => p.name).sort(),
      );
      for (const a of detail.appearances) {
        expect(a.frames).toBeGreaterThan(0);
        expect(a.firstSeenSec).toBeLessThanOrEqual(a.lastSeenSec);
        expect(a.bestDistance).toBeLessThanOrEqual(loadConfig().engine.matchThreshold);
      }
      expect(detail.model.id).toBe(pipelineModelId(loadConfig().engine));
      expect(detail.gallery.id).toMatch(/^[0-9a-f]{16}$/);
      expect(detail.timings.split.ffmpegMs).toBeGreaterThan(0);
      // Two Map items for 6 frames in batches of 4.
      const history = stack.sfn.history(byKey(report, 'folder with space/group.mp4').executionArn!);
      expect(history.filter((e) => e.type === 'MapIterationStarted')).toHaveLength(2);
    });
  }, 240_000);
});

const shared = existsSync(SHARED_FACES) ? describe : describe.skip;
if (!existsSync(SHARED_FACES)) {
  console.warn(
    `e2e: ${SHARED_FACES} is absent; the labeled-faces test is skipped (it needs ../shared/data/faces)`,
  );
}

shared('e2e with the labeled faces of ../shared/data/faces', () => {
  test('leave-one-out: enroll 4 photos per person, a video of the 5th names them', async () => {
    const people = (await listPeopleFolder(SHARED_FACES)).filter((p) => p.files.length >= 2);
    const engine = await createFaceEngine(loadConfig().engine);
    const images: EnrollImage[] = [];
    for (const p of people) {
      for (const f of p.files.slice(0, -1))
        images.push({ person: p.name, file: path.basename(f), bytes: await readFile(f) });
    }
    const { gallery } = await enrollPeople(engine, images);
    const galleryPath = path.join(work, 'shared-gallery.json');
    writeFileSync(galleryPath, serializeGallery(gallery));
    const dir = path.join(work, 'shared-videos');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    for (const p of people)
      await videoFromImage(p.files.at(-1)!, path.join(dir, `${p.name}.mp4`), { height: 480 });
    const groups = readdirSync(SHARED_FACES)
      .filter((f) => /^bbt\d\.jpg$/.test(f))
      .slice(0, 2);
    for (const g of groups)
      await videoFromImage(path.join(SHARED_FACES, g), path.join(dir, g.replace('.jpg', '.mp4')), {
        height: 720,
      });

    await withStack({ FACEREC_PROFILE: 'cse546-p2', FACEREC_GALLERY: galleryPath }, async (stack, t) => {
      const videos = await collectVideos([dir], stack.config.pipeline.video.extensions);
      const report = await runVideos({ videos, target: t, timeoutSec: 180 });
      // Each one's key, status and error, so that a failure says which video and why.
      expect(report.results.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);
      const persons = report.results.filter((r) => !r.key.startsWith('bbt'));
      const right = persons.filter((r) => r.name === path.basename(r.key, '.mp4'));
      console.log(
        `leave-one-out through the pipeline: ${right.length}/${persons.length} named right; ` +
          persons.map((r) => `${r.key}->${r.name}`).join(', '),
      );
      expect(right.length / persons.length).toBeGreaterThanOrEqual(0.75);
      for (const r of report.results.filter((x) => x.key.startsWith('bbt'))) {
        expect(r.faces).toBeGreaterThanOrEqual(3);
        expect(r.name).not.toBe('No face');
      }
      expect((await keys(t, t.buckets.output)).filter((k) => k.endsWith('.txt'))).toHaveLength(videos.length);
    });
  }, 300_000);
});
