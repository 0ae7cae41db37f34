/**
 * `facerec doctor --aws --smoke` on a real pipeline: the local stack (real handlers, ffmpeg, the
 * models) in the cse546-p2 profile, whose graders list every object of the output bucket, so the
 * clean-up must leave nothing: the upload, its frame (`<stem>.jpg` in stage-1), its `<stem>.txt`
 * or its failure record (in the meta bucket). Objects already there stay untouched.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { describeSmoke, smokeKey, smokeRun } from '#cli/lib/smoke.js';
import { closeTarget, localTarget, type PipelineTarget } from '#cli/lib/target.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { garbage, SAMPLE_IMAGES, tempDir, videoFromImage } from '#test/support/videos.js';

const PREFIX = 'smoke-test';
let work: string;
let stack: LocalStack;
let t: PipelineTarget;

beforeAll(async () => {
  work = tempDir('facerec-smoke-');
  stack = await startLocalStack({
    env: {
      ...quietLocalStackEnv(path.join(work, 'local')),
      FACEREC_PROFILE: 'cse546-p2',
      FACEREC_BUCKET_PREFIX: PREFIX,
      // As deployed: the meta bucket's gallery, none pushed yet (every face Unknown).
      FACEREC_GALLERY: `s3://${PREFIX}-meta/gallery/gallery.json`,
    },
  });
  t = localTarget(stack.info);
  // Someone's real work, which the smoke test must not touch.
  for (const [bucket, key] of [
    [`${PREFIX}-input`, 'notes/readme.txt'],
    [`${PREFIX}-stage-1`, 'test_00.jpg'],
    [`${PREFIX}-output`, 'test_00.txt'],
  ]) {
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'keep me' }));
  }
}, 240_000);

afterAll(async () => {
  if (t) closeTarget(t);
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function keys(bucket: string): Promise<string[]> {
  const out = await t.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((c) => c.Key!).sort();
}

async function everythingLeft() {
  return {
    input: await keys(`${PREFIX}-input`),
    stage1: await keys(`${PREFIX}-stage-1`),
    output: await keys(`${PREFIX}-output`),
    meta: (await keys(`${PREFIX}-meta`)).filter((k) => k.startsWith('errors/')),
  };
}

const untouched = {
  input: ['notes/readme.txt'],
  stage1: ['test_00.jpg'],
  output: ['test_00.txt'],
  meta: [],
};

test('a clip goes through: its name, each state with its time, then no trace of it in any bucket', async () => {
  const clip = await videoFromImage(SAMPLE_IMAGES[0], path.join(work, 'clip.mp4'), { height: 360 });
  const lines: string[] = [];
  const report = await smokeRun({
    target: t,
    clip,
    timeoutSec: 180,
    profile: 'cse546-p2',
    log: (l) => lines.push(l),
  });
  expect(report.key).toMatch(/^facerec-smoke-\d{8}T\d{6}-[0-9a-f]{6}\.mp4$/);
  expect(report.result).toMatchObject({ status: 'SUCCEEDED', name: 'Unknown' });
  const states = report.timings.map((s) => s.name);
  expect(states.length).toBeGreaterThanOrEqual(3);
  for (const s of report.timings) expect(s.totalMs).toBeGreaterThanOrEqual(0);
  expect(report.removed).toBeGreaterThanOrEqual(3); // the upload, its frame, its name file
  const text = describeSmoke(report);
  expect(text).toMatch(/^smoke: facerec-smoke-.* -> "Unknown" in [\d.]+ s/);
  for (const s of states) expect(text).toContain(s);
  expect(text).toMatch(/cleaned up: \d+ objects and versions of the clip removed/);
  expect(await everythingLeft()).toEqual(untouched);
}, 240_000);

test('a clip that fails: the failure said, and its failure record removed too', async () => {
  const clip = garbage(path.join(work, 'broken.mp4'));
  const report = await smokeRun({ target: t, clip, key: smokeKey(), timeoutSec: 180, profile: 'cse546-p2' });
  expect(report.result.status).toBe('FAILED');
  expect(describeSmoke(report)).toMatch(/did not succeed: FAILED/);
  expect(await everythingLeft()).toEqual(untouched);
}, 240_000);
