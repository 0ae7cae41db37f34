/**
 * The original course grader's checks (CSE546 Project 2), reproduced against what this
 * repository deploys with `-c profile=cse546-p2` and against a local run of the same profile:
 * - it looks the functions up by name: `get_function("video-splitting")`,
 *   `get_function("face-recognition")`;
 * - it expects the buckets `<id>-input`, `<id>-stage-1`, `<id>-output`;
 * - it lists EVERY object of the output bucket and reads each as `test_NN.txt` whose whole
 *   content is a name (any other object, e.g. a failure record, breaks that check);
 * - stage-1 holds `test_NN.jpg`.
 * A failed video (a truncated upload) must leave its record where the grader does not look.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { grade, keysToRead, parseExpectedCsv, type BucketListing } from '#cli/lib/grade.js';
import { buildDemoData, type DemoData } from '#cli/lib/demo-data.js';
import { collectVideos, runVideos } from '#cli/lib/pipeline-run.js';
import { closeTarget, localTarget, type PipelineTarget as Target } from '#cli/lib/target.js';
import { startLocalStack } from '#infra/local/stack.js';
import { functionNameFor, readSettings } from '#infra/aws/settings.js';
import { resources, synthesize, type Synthesized } from '#test/infra/aws/support.js';
import { ffmpegPath, tempDir } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

const STUDENT_ID = '1234567890';
/** What the grader accepts as an output object: `test_NN.txt` (its loop reads each as that). */
const GRADER_OUTPUT_KEY = /^test_\d{2}\.txt$/;
const GRADER_FRAME_KEY = /^test_\d{2}\.jpg$/;

describe('the synthesized cse546-p2 template, as the grader sees the deployment', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ profile: 'cse546-p2', prefix: STUDENT_ID });
  }, 240_000);
  afterAll(() => s?.cleanup());

  test('get_function("video-splitting") and get_function("face-recognition") find the splitter and recognition', () => {
    const fns = resources(s.template, 'AWS::Lambda::Function');
    const named = (n: string) => Object.entries(fns).filter(([, r]) => r.Properties?.FunctionName === n);
    expect(named('video-splitting').map(([id]) => id)).toEqual([
      s.stack.resolve(s.stack.getLogicalId(s.stack.functions.splitter.function.node.defaultChild as never)),
    ]);
    expect(named('face-recognition').map(([id]) => id)).toEqual([
      s.stack.resolve(
        s.stack.getLogicalId(s.stack.functions.recognition.function.node.defaultChild as never),
      ),
    ]);
    // The other two keep generated names (no clash with anything the course creates).
    const explicit = Object.values(fns)
      .map((r) => r.Properties?.FunctionName)
      .filter(Boolean);
    expect(explicit.sort()).toEqual(['face-recognition', 'video-splitting']);
  });

  test('the buckets the grader opens, plus the meta bucket it never reads', () => {
    const names = Object.values(resources(s.template, 'AWS::S3::Bucket'))
      .map((r) => r.Properties?.BucketName)
      .sort();
    expect(names).toEqual([
      `${STUDENT_ID}-input`,
      `${STUDENT_ID}-meta`,
      `${STUDENT_ID}-output`,
      `${STUDENT_ID}-stage-1`,
    ]);
  });

  test('the result function writes <stem>.txt to the output bucket; failure records only under errors/ of the meta bucket', () => {
    const env = (
      s.template.toJSON().Resources as Record<
        string,
        { Properties: { Environment?: { Variables: Record<string, unknown> } } }
      >
    )[
      s.stack.resolve(
        s.stack.getLogicalId(s.stack.functions.result.function.node.defaultChild as never),
      ) as string
    ].Properties.Environment!.Variables;
    expect(env.FACEREC_PROFILE).toBe('cse546-p2');
    expect(env.FACEREC_BUCKET_PREFIX).toBe(STUDENT_ID);
    expect(s.nagViolations).toEqual([]);
  });
});

test('function names: the course names in both cse546 profiles, generated in default, any name by context', () => {
  const settings = (ctx: Record<string, string>) => readSettings((k) => ctx[k]);
  for (const profile of ['cse546-p1', 'cse546-p2']) {
    expect(functionNameFor(settings({ profile }), 'splitter')).toBe('video-splitting');
    expect(functionNameFor(settings({ profile }), 'recognition')).toBe('face-recognition');
  }
  expect(functionNameFor(settings({}), 'splitter')).toBeUndefined();
  expect(
    functionNameFor(settings({ profile: 'cse546-p2', recognitionFunctionName: 'team7-face' }), 'recognition'),
  ).toBe('team7-face');
  expect(
    functionNameFor(settings({ profile: 'cse546-p2', splitterFunctionName: 'auto' }), 'splitter'),
  ).toBeUndefined();
  expect(() => settings({ splitterFunctionName: 'no spaces' })).toThrow(/splitterFunctionName/);
});

describe('a local cse546-p2 run, read the way the grader reads the buckets', () => {
  let data: DemoData;
  let work: string;
  beforeAll(async () => {
    work = tempDir('facerec-grader-');
    const engine = await createFaceEngine(loadConfig().engine);
    data = await buildDemoData(engine, ffmpegPath(), path.join(work, 'demo'));
  }, 180_000);

  test('every output object is a test_NN.txt holding a name; the failed video leaves its record in the meta bucket', async () => {
    const dir = path.join(work, 'videos');
    mkdirSync(dir);
    copyFileSync(path.join(data.videosDir, 'sample1-face1.mp4'), path.join(dir, 'test_00.mp4'));
    copyFileSync(path.join(data.videosDir, 'stranger.mp4'), path.join(dir, 'test_01.mp4'));
    copyFileSync(path.join(data.videosDir, 'broken.mp4'), path.join(dir, 'test_02.mp4'));
    const stack = await startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(work, 'local')),
        FACEREC_PROFILE: 'cse546-p2',
        FACEREC_BUCKET_PREFIX: STUDENT_ID,
        FACEREC_GALLERY: data.galleryPath,
      },
    });
    const t: Target = localTarget(stack.info);
    try {
      const videos = await collectVideos([dir], stack.config.pipeline.video.extensions);
      const report = await runVideos({ videos, target: t, timeoutSec: 120 });
      expect(report.results.map((r) => [r.key, r.status]).sort()).toEqual([
        ['test_00.mp4', 'SUCCEEDED'],
        ['test_01.mp4', 'SUCCEEDED'],
        ['test_02.mp4', 'FAILED'],
      ]);
      const list = async (bucket: string) =>
        ((await t.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => ({
          key: o.Key!,
          size: o.Size ?? 0,
          lastModified: o.LastModified?.getTime() ?? 0,
        }));
      const read = async (bucket: string, key: string) =>
        (await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

      // The grader's loop: every object of the output bucket, read as a name file.
      const outputs = await list(`${STUDENT_ID}-output`);
      expect(outputs.map((o) => o.key).sort()).toEqual(['test_00.txt', 'test_01.txt']);
      for (const o of outputs) {
        expect(o.key).toMatch(GRADER_OUTPUT_KEY);
        const name = await read(`${STUDENT_ID}-output`, o.key);
        expect(name).toMatch(/^[^\s{][^\n]*[^\s]$/); // a bare name: no newline, no JSON
      }
      expect(await read(`${STUDENT_ID}-output`, 'test_00.txt')).toBe('sample1-face1');
      expect(await read(`${STUDENT_ID}-output`, 'test_01.txt')).toBe('Unknown');
      // Stage 1: test_NN.jpg only.
      const frames = await list(`${STUDENT_ID}-stage-1`);
      expect(frames.map((o) => o.key).sort()).toEqual(['test_00.jpg', 'test_01.jpg']);
      for (const f of frames) expect(f.key).toMatch(GRADER_FRAME_KEY);
      // The failure is recorded, where the grader does not read.
      const meta = await list(`${STUDENT_ID}-meta`);
      expect(meta.map((o) => o.key).sort()).toEqual(['errors/test_02.json', 'gallery/gallery.json']);
      expect(JSON.parse(await read(`${STUDENT_ID}-meta`, 'errors/test_02.json'))).toMatchObject({
        stage: 'split',
        error: 'Facerec.BadInput',
      });

      // `facerec grade` agrees: nothing unexpected in the output; the failure is explained.
      const expected = parseExpectedCsv(
        'test_00.mp4,sample1-face1\ntest_01.mp4,Unknown\ntest_02.mp4,sample5-face1\n',
      );
      const listing = (name: string, objects: BucketListing['objects']): BucketListing => ({
        name,
        exists: true,
        objects,
      });
      const buckets = {
        input: listing(`${STUDENT_ID}-input`, await list(`${STUDENT_ID}-input`)),
        stage1: listing(`${STUDENT_ID}-stage-1`, frames),
        output: listing(`${STUDENT_ID}-output`, outputs),
      };
      const records = listing(
        `${STUDENT_ID}-meta`,
        meta.filter((o) => o.key.startsWith('errors/')),
      );
      const texts = new Map<string, string>();
      for (const key of keysToRead(expected, buckets.output, records)) {
        texts.set(key, await read(key.endsWith('.txt') ? `${STUDENT_ID}-output` : `${STUDENT_ID}-meta`, key));
      }
      const g = grade({
        buckets,
        records,
        texts,
        expected,
        profile: 'cse546-p2',
        writeDetail: false,
        maxFrames: 100,
        withinSeconds: 300,
      });
      const byId = Object.fromEntries(g.checks.map((c) => [c.id, c]));
      expect(byId.Test_5).toMatchObject({ status: 'PASS', details: [] });
      // The broken upload has no frame: that is the grader's finding too, and the only one.
      expect(byId.Test_2.details).toEqual(['test_02.mp4: no frame (expected test_02.jpg)']);
      expect(byId.Test_3.details).toEqual([
        expect.stringMatching(
          /^test_02.txt: missing; the pipeline recorded a failure \(errors\/test_02.json: split: Facerec.BadInput/,
        ),
      ]);
    } finally {
      closeTarget(t);
      await stack.stop();
    }
  }, 240_000);
});
