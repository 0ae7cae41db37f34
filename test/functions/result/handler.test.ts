import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '#functions/result/handler.js';
import { reasonFromCause } from '#functions/core/failure.js';
import type { FrameResult, ResultInput } from '#functions/core/contracts.js';
import { awsError, lambdaContext, testConfig } from '#test/support/lambda.js';
import { face, frame } from '#test/support/frame-results.js';

const s3 = mockClient(S3Client);
const result = (env: Record<string, string> = {}) =>
  createHandler({
    config: testConfig(env),
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({}),
  });

const input = (batches: ResultInput['batches'], stem = 'test_00'): ResultInput => ({
  video: { bucket: 'facerec-input', key: `${stem}.mp4`, stem },
  split: {
    profile: 'default',
    ffmpeg: 'ffmpeg 6',
    durationSec: 2,
    timings: { downloadMs: 1, ffmpegMs: 2, uploadMs: 3, totalMs: 6 },
  },
  batches,
  execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:test_00-abc',
  startedAt: new Date(Date.now() - 1500).toISOString(),
});
const batch = (frames: FrameResult[], n = 0) => ({
  batch: n,
  frames,
  modelId: 'm1',
  galleryId: 'g1',
  timings: { totalMs: 10 },
});
const put = (key: string) =>
  s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input;

beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  s3.on(HeadObjectCommand).resolves({ ETag: '"e"' });
});

describe('result handler', () => {
  test('<stem>.json: each frame with its time, everyone with intervals; .txt one name a line (cse546: the one name)', async () => {
    const event = input([
      batch([frame('f0', face('Sheldon', 0.3), face('Penny', 0.5)), frame('f1', face('Unknown', 0.8))], 0),
      batch([frame('f2', face('Sheldon', 0.25)), frame('f3')], 1),
    ]);
    event.split!.frameTimesSec = [0, 0.5, 1, 1.5];
    const out = await result()(event, lambdaContext());
    expect(Buffer.from(put('test_00.txt')!.Body as Buffer).toString('utf8')).toBe('Sheldon\nPenny');
    const detail = JSON.parse(Buffer.from(put('test_00.json')!.Body as Buffer).toString('utf8'));
    expect(detail.frames.results.map((f: { key: string; timeSec: number }) => [f.key, f.timeSec])).toEqual([
      ['f0', 0],
      ['f1', 0.5],
      ['f2', 1],
      ['f3', 1.5],
    ]);
    // The field as it was before people had intervals, unchanged.
    expect(detail.appearances).toEqual([
      {
        name: 'Sheldon',
        firstSeenSec: 0,
        lastSeenSec: 1,
        frames: 2,
        frameKeys: ['f0', 'f2'],
        bestDistance: 0.25,
      },
      { name: 'Penny', firstSeenSec: 0, lastSeenSec: 0, frames: 1, frameKeys: ['f0'], bestDistance: 0.5 },
    ]);
    expect(detail.samplingIntervalSec).toBe(0.5);
    expect(detail.unknownFaces).toBe(1);
    expect(detail.people).toEqual([
      {
        name: 'Sheldon',
        weight: expect.any(Number),
        frames: 2,
        faces: 2,
        bestDistance: 0.25,
        screenTimeSec: 1.5,
        firstSeenSec: 0,
        lastSeenSec: 1,
        // Missed in one sampled frame (f1): still one interval.
        intervals: [{ startSec: 0, endSec: 1, firstFrame: 0, lastFrame: 2, frames: 2 }],
      },
      {
        name: 'Penny',
        weight: expect.any(Number),
        frames: 1,
        faces: 1,
        bestDistance: 0.5,
        screenTimeSec: 0.5,
        firstSeenSec: 0,
        lastSeenSec: 0,
        intervals: [{ startSec: 0, endSec: 0, firstFrame: 0, lastFrame: 0, frames: 1 }],
      },
    ]);
    // The execution output (what run, executions, the console and the report read).
    expect(out).toMatchObject({ name: 'Sheldon', faces: 4, unknownFaces: 1, people: detail.people });

    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ETag: '"e"' });
    for (const profile of ['cse546-p1', 'cse546-p2']) {
      await result({ FACEREC_PROFILE: profile })(event, lambdaContext());
      expect(Buffer.from(put('test_00.txt')!.Body as Buffer).toString('utf8')).toBe('Sheldon');
    }
  });

  test('writes <stem>.txt whose whole content is the name, and the JSON detail', async () => {
    const out = await result()(
      input([
        batch([frame('f0', face('Sheldon', 0.3), face('Unknown', 0.8)), frame('f1', face('Sheldon', 0.35))]),
      ]),
      lambdaContext(),
    );
    expect(out).toMatchObject({
      name: 'Sheldon',
      faces: 3,
      frames: 2,
      framesFailed: 0,
      outputKey: 'test_00.txt',
      detailKey: 'test_00.json',
    });
    const txt = put('test_00.txt')!;
    expect(txt.Bucket).toBe('facerec-output');
    expect(Buffer.from(txt.Body as Buffer).toString('utf8')).toBe('Sheldon');
    const detail = JSON.parse(Buffer.from(put('test_00.json')!.Body as Buffer).toString('utf8'));
    expect(detail).toMatchObject({
      name: 'Sheldon',
      model: { id: 'm1' },
      gallery: { id: 'g1' },
      frames: { analysed: 2, failed: 0 },
      timings: { split: { totalMs: 6 }, recognition: { batches: 1 } },
    });
    expect(detail.timings.executionMs).toBeGreaterThanOrEqual(1500);
    expect(s3.commandCalls(DeleteObjectCommand)[0].args[0].input).toEqual({
      Bucket: 'facerec-output',
      Key: 'errors/test_00.json',
    });
  });

  test('cse546 profiles: only the .txt (their graders count every object)', async () => {
    await result({ FACEREC_PROFILE: 'cse546-p2' })(
      input([batch([frame('f0', face('Amy', 0.2))])]),
      lambdaContext(),
    );
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['test_00.txt']);
  });

  test('no face / Unknown', async () => {
    expect(await result()(input([batch([frame('f0'), frame('f1')])]), lambdaContext())).toMatchObject({
      name: 'No face',
    });
    expect(Buffer.from(put('test_00.txt')!.Body as Buffer).toString()).toBe('No face');
    s3.resetHistory();
    expect(
      await result()(input([batch([frame('f0', face('Unknown', 0.9))])]), lambdaContext()),
    ).toMatchObject({ name: 'Unknown' });
  });

  test('a failed batch does not sink the video; all frames failed does', async () => {
    const failed = {
      batch: 1,
      keys: ['f2', 'f3'],
      failed: true as const,
      error: 'Facerec.Internal',
      cause: '{"errorType":"Facerec.Internal","errorMessage":"boom"}',
    };
    const out = await result()(input([batch([frame('f0', face('Raj', 0.4))]), failed]), lambdaContext());
    expect(out).toMatchObject({ name: 'Raj', frames: 1, framesFailed: 2 });
    await expect(result()(input([failed]), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.BadInput',
      message: expect.stringMatching(/none of the 2 frames.*boom/),
    });
  });

  test('failure path: writes errors/<stem>.json with reason, stage and execution', async () => {
    const out = await result()(
      {
        failure: {
          stage: 'split',
          error: 'Facerec.BadInput',
          cause: JSON.stringify({
            errorType: 'Facerec.BadInput',
            errorMessage: 'not a video: moov atom not found',
            trace: [],
          }),
        },
        video: { bucket: 'facerec-input', key: 'dir/bad clip.mp4', etag: 'e', sequencer: '01' },
        execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:bad-1',
      },
      lambdaContext(),
    );
    expect(out).toEqual({
      stage: 'split',
      error: 'Facerec.BadInput',
      reason: 'not a video: moov atom not found',
      bucket: 'facerec-output',
      errorKey: 'errors/dir/bad clip.json',
    });
    const record = JSON.parse(Buffer.from(put('errors/dir/bad clip.json')!.Body as Buffer).toString('utf8'));
    expect(record).toMatchObject({
      stage: 'split',
      error: 'Facerec.BadInput',
      reason: 'not a video: moov atom not found',
      execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:bad-1',
      video: { key: 'dir/bad clip.mp4' },
    });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'errors/dir/bad clip.json',
    ]);
  });

  test('S3 errors: throttling is transient', async () => {
    s3.on(PutObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(result()(input([batch([frame('f0')])]), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
  });

  test('reasonFromCause', () => {
    expect(reasonFromCause('E', undefined)).toBe('E');
    expect(reasonFromCause('E', 'plain text')).toBe('plain text');
    expect(reasonFromCause('E', '{"errorMessage":"m"}')).toBe('m');
  });

  describe('newest upload wins', () => {
    const upload = { bucket: 'facerec-input', key: 'test_00.mp4', etag: 'e', sequencer: '01' };
    const failure = (video: object) => ({
      failure: { stage: 'split' as const, error: 'Facerec.BadInput', cause: 'bad' },
      video,
      execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:old',
    });

    test('the current upload: result written, a stale error record of the video removed', async () => {
      const out = await result()(
        { ...input([batch([frame('f0', face('Alice', 0.3))])]), upload },
        lambdaContext(),
      );
      expect(out).toMatchObject({ name: 'Alice', outputKey: 'test_00.txt' });
      expect(out).not.toHaveProperty('superseded');
      expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({
        Bucket: 'facerec-input',
        Key: 'test_00.mp4',
      });
      expect(put('test_00.txt')?.Body?.toString()).toBe('Alice');
      expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
        'errors/test_00.json',
      ]);
    });

    test('the answer and the error record name the upload they answer (metadata: its ETag, for reconcile)', async () => {
      await result()({ ...input([batch([frame('f0', face('Alice', 0.3))])]), upload }, lambdaContext());
      expect(put('test_00.txt')?.Metadata).toEqual({ 'facerec-upload-etag': 'e' });
      s3.resetHistory();
      await result()(failure({ ...upload, etag: '"e"' }), lambdaContext());
      expect(put('errors/test_00.json')?.Metadata).toEqual({ 'facerec-upload-etag': 'e' });
    });

    test('a newer upload replaced it (ETag): nothing written or deleted, the output says why', async () => {
      s3.on(HeadObjectCommand).resolves({ ETag: '"newer"' });
      const out = await result()(
        { ...input([batch([frame('f0', face('Alice', 0.3))])]), upload },
        lambdaContext(),
      );
      expect(out).toMatchObject({
        name: 'Alice',
        superseded: expect.stringMatching(/newer upload.*e.*newer/),
      });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    });

    test('versioned bucket: the version id decides, whatever the ETag', async () => {
      s3.on(HeadObjectCommand).resolves({ ETag: '"e"', VersionId: 'v2' });
      const old = await result()(
        { ...input([batch([frame('f0', face('Alice', 0.3))])]), upload: { ...upload, versionId: 'v1' } },
        lambdaContext(),
      );
      expect(old).toMatchObject({ superseded: expect.stringMatching(/v1.*v2/) });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      const current = await result()(
        {
          ...input([batch([frame('f0', face('Alice', 0.3))])]),
          upload: { ...upload, etag: 'x', versionId: 'v2' },
        },
        lambdaContext(),
      );
      expect(current).not.toHaveProperty('superseded');
      expect(put('test_00.txt')?.Body?.toString()).toBe('Alice');
    });

    test("an older execution's error record is dropped; a deleted upload gets none either", async () => {
      s3.on(HeadObjectCommand).resolves({ ETag: '"newer"' });
      const out = await result()(failure(upload), lambdaContext());
      expect(out).toMatchObject({ errorKey: 'errors/test_00.json', superseded: expect.any(String) });
      s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
      const gone = await result()(failure(upload), lambdaContext());
      expect(gone).toMatchObject({ superseded: expect.stringMatching(/no longer exists/) });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    test('HeadObject throttled: transient (retried), never written blind', async () => {
      s3.on(HeadObjectCommand).rejects(awsError('SlowDown', 503));
      await expect(result()(failure(upload), lambdaContext())).rejects.toMatchObject({
        name: 'Facerec.Transient',
      });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });
});
