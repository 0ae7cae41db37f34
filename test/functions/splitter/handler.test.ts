import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { createHandler } from '#functions/splitter/handler.js';
import { SplitOutputSchema, type SplitOutput } from '#functions/core/contracts.js';
import { FFMPEG_RESERVE_SECONDS } from '#functions/core/facts.js';
import { FFMPEG_MIN_TIME_MS } from '#functions/core/ffmpeg/deadline.js';
import { LambdaFunctionError, LocalFunction, type LambdaHandler } from '#infra/local/lambda/service.js';
import { awsError, lambdaContext, s3Body, testConfig } from '#test/support/lambda.js';
import { garbage, SAMPLE_IMAGES, tempDir, truncated, videoFromImage } from '#test/support/videos.js';

const s3 = mockClient(S3Client);
let dir: string;
let clip: Buffer;

beforeAll(async () => {
  dir = tempDir();
  clip = readFileSync(
    await videoFromImage(SAMPLE_IMAGES[1], path.join(dir, 'clip.mp4'), { seconds: 2, height: 360 }),
  );
});
beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
});

// Whole-video invocations (no `segment`): the output is a SplitOutput.
const splitter = (env: Record<string, string> = {}) =>
  createHandler({
    config: testConfig(env),
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({}),
  }) as (event: unknown, context: unknown) => Promise<SplitOutput>;
const input = (key: string) => ({
  video: { bucket: 'facerec-input', key, size: clip.length, etag: 'e' },
  execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:x',
});
const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('splitter handler', () => {
  test('cse546-p2: one frame at <stem>.jpg in the stage-1 bucket', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    const out = await splitter({ FACEREC_PROFILE: 'cse546-p2' })(input('test_07.mp4'), lambdaContext());
    expect(SplitOutputSchema.parse(out)).toBeTruthy();
    expect(out).toMatchObject({
      video: { bucket: 'facerec-input', key: 'test_07.mp4', stem: 'test_07' },
      frameBucket: 'facerec-stage-1',
      frameCount: 1,
      batches: [['test_07.jpg']],
    });
    expect(puts()).toHaveLength(1);
    expect(puts()[0]).toMatchObject({
      Bucket: 'facerec-stage-1',
      Key: 'test_07.jpg',
      ContentType: 'image/jpeg',
    });
    const meta = await sharp(puts()[0].Body as Buffer).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', height: 360 });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({
      Bucket: 'facerec-input',
      Key: 'test_07.mp4',
    });
  });

  test('default: N frames under <stem>/ in batches of FACEREC_FRAME_BATCH', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    const out = await splitter({ FACEREC_FRAMES: '7', FACEREC_FRAME_BATCH: '3' })(
      input('dir/My Clip.mp4'),
      lambdaContext(),
    );
    expect(out.frameCount).toBe(7);
    expect(out.batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(out.batches[0][0]).toBe('dir/My Clip/frame-0000.jpg');
    expect(
      puts()
        .map((p) => p.Key)
        .sort(),
    ).toEqual(out.batches.flat().sort());
    expect(out.split.durationSec).toBeCloseTo(2, 1);
    expect(out.split.ffmpeg).toMatch(/^ffmpeg /);
  });

  test('FACEREC_MAX_FRAMES caps the frames', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    const out = await splitter({ FACEREC_FRAMES: '50', FACEREC_MAX_FRAMES: '4' })(
      input('v.mp4'),
      lambdaContext(),
    );
    expect(out.frameCount).toBe(4);
  });

  test('cse546-p1: output-NN.jpg under <stem>/', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    const out = await splitter({ FACEREC_PROFILE: 'cse546-p1', FACEREC_FRAME_BATCH: '10' })(
      input('test_01.mp4'),
      lambdaContext(),
    );
    expect(out.batches[0][0]).toBe('test_01/output-00.jpg');
  });

  test.each([
    ['zero-byte', () => Buffer.alloc(0), /empty/],
    ['non-video', () => readFileSync(garbage(path.join(dir, 'g.mp4'))), /not a video|cannot decode|no frame/],
    [
      'truncated',
      () => readFileSync(truncated(writeTmp('full.mp4', clip), path.join(dir, 't.mp4'), 0.02)),
      /./,
    ],
  ])('%s upload: bad input, not retried', async (_label, bytes, message) => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(bytes()) });
    const err = await splitter({ FACEREC_PROFILE: 'cse546-p2' })(input('bad.mp4'), lambdaContext()).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'Facerec.BadInput' });
    expect((err as Error).message).toMatch(message);
    expect(puts()).toHaveLength(0);
  });

  test('S3 throttling is transient; a missing object is bad input', async () => {
    s3.on(GetObjectCommand).rejectsOnce(awsError('SlowDown', 503)).rejectsOnce(awsError('NoSuchKey', 404));
    await expect(splitter()(input('a.mp4'), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
    await expect(splitter()(input('a.mp4'), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.BadInput',
    });
  });

  test('a failed upload of a frame is transient', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    s3.on(PutObjectCommand).rejects(awsError('InternalError', 500));
    await expect(
      splitter({ FACEREC_PROFILE: 'cse546-p2' })(input('a.mp4'), lambdaContext()),
    ).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
  });

  test('a video larger than the temporary storage is refused before downloading', async () => {
    // The cse546 profiles download the video (the default profile reads a large one in place).
    const err = await splitter({ FACEREC_PROFILE: 'cse546-p2' })(
      { video: { bucket: 'facerec-input', key: 'huge.mp4', size: 2 ** 50 } },
      lambdaContext(),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'Facerec.BadInput',
      message: expect.stringMatching(/temporary storage/),
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  test('an invalid input is bad input', async () => {
    await expect(splitter()({ video: { key: 'x' } }, lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.BadInput',
    });
  });

  test('ffmpeg past its time limit: Facerec.Timeout, quickly', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
    const t0 = Date.now();
    const err = await splitter({ FFMPEG_PATH: hangingFfmpeg(), FACEREC_FFMPEG_TIMEOUT_MS: '500' })(
      input('a.mp4'),
      lambdaContext(),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Facerec.Timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  // Issue 24 point 3: one deadline rule, from the invocation's remaining time, whatever gives it
  // (Lambda's context, local mode's stand-in). Before, local mode kept 8 s back and ffmpeg's probe
  // got its own 15 s here; AWS kept 30 s of the timeout through a setting the stack wrote.
  describe.each(['default', 'cse546-p2'])(
    'profile %s: ffmpeg gets the remaining time less the reserve',
    (profile) => {
      const givenMs = 1500;
      const remaining = FFMPEG_RESERVE_SECONDS * 1000 + givenMs;

      test("under a Lambda context: Facerec.Timeout with the rule's limit, not a hang", async () => {
        s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
        const err = await splitter({ FFMPEG_PATH: hangingFfmpeg(), FACEREC_PROFILE: profile })(
          input('a.mp4'),
          lambdaContext('splitter', remaining),
        ).catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'Facerec.Timeout' });
        expect(limitOf(err)).toBeLessThanOrEqual(givenMs);
        expect(limitOf(err)).toBeGreaterThanOrEqual(FFMPEG_MIN_TIME_MS);
      });

      test("under local mode's function stand-in (its own deadline): the same", async () => {
        s3.on(GetObjectCommand).resolves({ Body: s3Body(clip) });
        const fn = new LocalFunction({
          name: 'facerec-splitter',
          timeoutSeconds: remaining / 1000,
          concurrency: 1,
          handler: splitter({ FFMPEG_PATH: hangingFfmpeg(), FACEREC_PROFILE: profile }) as LambdaHandler,
        });
        try {
          const err = await fn.invoke(input('a.mp4')).catch((e: unknown) => e);
          // The splitter's classified error, not the stand-in's Sandbox.Timedout.
          expect(err).toBeInstanceOf(LambdaFunctionError);
          expect((err as LambdaFunctionError).errorType).toBe('Facerec.Timeout');
          const limit = limitOf({ message: (err as LambdaFunctionError).errorMessage });
          expect(limit).toBeLessThanOrEqual(givenMs);
          expect(limit).toBeGreaterThanOrEqual(FFMPEG_MIN_TIME_MS);
        } finally {
          await fn.close();
        }
      });
    },
  );
});

/** An ffmpeg that answers -version and hangs on anything else. */
function hangingFfmpeg() {
  const hanging = path.join(dir, 'ffmpeg');
  writeFileSync(
    hanging,
    '#!/bin/sh\n[ "$2" = "-version" ] && echo "ffmpeg version hang" && exit 0\nexec sleep 60\n',
    { mode: 0o755 },
  );
  return hanging;
}

/** The limit a timeout names: `ffmpeg did not finish within <ms> ms (killed)`. */
function limitOf(err: unknown): number {
  const m = /did not finish within (\d+) ms/.exec((err as Error).message);
  if (!m) throw new Error(`no ffmpeg limit in: ${(err as Error).message}`);
  return Number(m[1]);
}

function writeTmp(name: string, bytes: Buffer) {
  const f = path.join(dir, name);
  writeFileSync(f, bytes);
  return f;
}
