import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, type Engine } from '#functions/recognition/handler.js';
import { RecognitionOutputSchema } from '#functions/core/contracts.js';
import { DEFAULT_FACES_PER_FRAME } from '#functions/core/batches.js';
import { ImageDecodeError } from '#functions/core/faces/decode.js';
import { emptyGallery, galleryId } from '#functions/core/gallery/read.js';
import type { FrameAnalysis } from '#functions/core/faces/types.js';
import { awsError, lambdaContext, s3Body, testConfig } from '#test/support/lambda.js';

const s3 = mockClient(S3Client);

/** A stand-in engine: the image bytes say which faces it holds (`faces:Name@distance,…`).
 * `calls` counts frames analysed, `runs` the batches (identifyDetected calls), `detected` the
 * text of each frame detected, in order; `onDetect` (when set) runs before each detection. */
const engine: Engine<string, string> & {
  calls: number;
  runs: number[];
  detected: string[];
  onDetect?: (text: string) => Promise<void>;
} = {
  modelId: 'test-model',
  calls: 0,
  runs: [],
  detected: [],
  async decode(image: Uint8Array): Promise<string> {
    const text = Buffer.from(image).toString('utf8');
    if (!text.startsWith('faces:')) throw new ImageDecodeError('not an image');
    return text;
  },
  async detect(text: string): Promise<string> {
    await engine.onDetect?.(text);
    engine.detected.push(text);
    return text;
  },
  async identifyDetected(frames: string[]): Promise<FrameAnalysis[]> {
    engine.runs.push(frames.length);
    return frames.map((text) => {
      engine.calls++;
      const faces = text
        .slice(6)
        .split(',')
        .filter(Boolean)
        .map((f, i) => {
          const [name, d] = f.split('@');
          return {
            box: { x: 10.4 * i, y: 20.6, width: 100.123, height: 120.9 },
            score: 0.987654321 - i * 0.01,
            landmarks: [],
            name,
            distance: d === 'null' ? null : Number(d),
          };
        });
      return {
        width: 640,
        height: 480,
        faces,
        timings: { decodeMs: 1, detectMs: 1, landmarksMs: 1, descriptorMs: 1 },
      };
    });
  },
};
const gallery = { ...emptyGallery('test-model', 128), people: [] };
let loads = 0;
const handler = createHandler({
  config: testConfig(),
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({}),
  engine: async () => {
    loads++;
    return engine;
  },
  gallery: async () => gallery,
});

const input = (keys: string[]) => ({
  bucket: 'facerec-stage-1',
  keys,
  batch: 2,
  execution: 'arn:x',
  video: 'v.mp4',
});

beforeEach(() => {
  s3.reset();
  engine.calls = 0;
  engine.runs = [];
  engine.detected = [];
  engine.onDetect = undefined;
});

describe('recognition handler', () => {
  test('per frame: faces with box, score, name, distance; compact numbers', async () => {
    s3.on(GetObjectCommand, { Key: 'v/frame-0000.jpg' }).resolves({
      Body: s3Body('faces:Penny@0.41234567,Unknown@0.7'),
    });
    s3.on(GetObjectCommand, { Key: 'v/frame-0001.jpg' }).resolves({ Body: s3Body('faces:') });
    const out = await handler(input(['v/frame-0000.jpg', 'v/frame-0001.jpg']), lambdaContext());
    expect(RecognitionOutputSchema.parse(out)).toBeTruthy();
    expect(out.batch).toBe(2);
    expect(out.modelId).toBe('test-model');
    expect(out.galleryId).toBe(galleryId(gallery));
    expect(out.frames).toHaveLength(2);
    expect(out.frames[0]).toMatchObject({
      key: 'v/frame-0000.jpg',
      width: 640,
      height: 480,
      facesTotal: 2,
      faces: [
        { box: { x: 0, y: 21, width: 100, height: 121 }, score: 0.9877, name: 'Penny', distance: 0.4123 },
        { name: 'Unknown', distance: 0.7 },
      ],
    });
    expect(out.frames[1]).toMatchObject({ key: 'v/frame-0001.jpg', faces: [], facesTotal: 0 });
  });

  test('all frames of the batch go through the nets in one run; bad frames are left out of it', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body('faces:A@0.3') });
    s3.on(GetObjectCommand, { Key: 'bad.jpg' }).resolves({ Body: s3Body('GIF89a') });
    const keys = ['f1.jpg', 'f2.jpg', 'bad.jpg', 'f3.jpg', 'f4.jpg', 'f5.jpg'];
    const out = await handler(input(keys), lambdaContext());
    expect(engine.runs).toEqual([5]);
    expect(out.frames.map((f) => f.key)).toEqual(keys);
    expect(out.frames.map((f) => f.error?.type)).toEqual([
      undefined,
      undefined,
      'ImageDecodeError',
      undefined,
      undefined,
      undefined,
    ]);
    expect(out.frames[0].ms).toBe(4);
  });

  test('download, decode and detection overlap: a frame is detected while a later one still downloads', async () => {
    // f2's download answers only once f1 has been detected: a handler that waited for every
    // download before detecting anything would never finish.
    let release!: () => void;
    const f1Detected = new Promise<void>((r) => (release = r));
    engine.onDetect = async (text) => {
      if (text === 'faces:One@0.1') release();
    };
    s3.on(GetObjectCommand, { Key: 'f1.jpg' }).resolves({ Body: s3Body('faces:One@0.1') });
    s3.on(GetObjectCommand, { Key: 'f2.jpg' }).callsFake(async () => {
      await f1Detected;
      return { Body: s3Body('faces:Two@0.2') };
    });
    const out = handler(input(['f2.jpg', 'f1.jpg']), lambdaContext());
    // Not a wait for the handler: a clear failure instead of a hang if there is no overlap.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('no overlap: f1 was never detected before f2 arrived')),
        20_000,
      );
    });
    try {
      const result = (await Promise.race([out, hung])) as Awaited<typeof out>;
      expect(engine.detected).toEqual(['faces:One@0.1', 'faces:Two@0.2']);
      expect(result.frames.map((f) => f.faces[0]?.name)).toEqual(['Two', 'One']);
      expect(engine.runs).toEqual([2]);
    } finally {
      clearTimeout(timer);
    }
  });

  test('models and gallery load once per container', async () => {
    s3.on(GetObjectCommand).resolves({ Body: s3Body('faces:A@0.3') });
    await handler(input(['a.jpg']), lambdaContext());
    await handler(input(['b.jpg']), lambdaContext());
    expect(loads).toBe(1);
  });

  test('a crowded frame lists FACEREC_FACES_PER_FRAME faces (default 40), and counts them all', async () => {
    const many = Array.from({ length: 50 }, (_, i) => `P${i}@0.3`).join(',');
    s3.on(GetObjectCommand).resolves({ Body: s3Body(`faces:${many}`) });
    const out = await handler(input(['crowd.jpg']), lambdaContext());
    expect(out.frames[0].faces).toHaveLength(DEFAULT_FACES_PER_FRAME);
    expect(out.frames[0].facesTotal).toBe(50);
    expect(out.frames[0].faces[0].name).toBe('P0');
    const eight = createHandler({
      config: testConfig({ FACEREC_FACES_PER_FRAME: '8' }),
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({}),
      engine: async () => engine,
      gallery: async () => gallery,
    });
    const cut = await eight(input(['crowd.jpg']), lambdaContext());
    expect(cut.frames[0].faces).toHaveLength(8);
    expect(cut.frames[0]).toMatchObject({ facesTotal: 50, unknownTotal: 0 });
  });

  test('an undecodable frame is reported, the others are analysed (not retried)', async () => {
    s3.on(GetObjectCommand, { Key: 'bad.jpg' }).resolves({ Body: s3Body('GIF89a garbage') });
    s3.on(GetObjectCommand, { Key: 'missing.jpg' }).rejects(awsError('NoSuchKey', 404));
    s3.on(GetObjectCommand, { Key: 'good.jpg' }).resolves({ Body: s3Body('faces:Raj@0.2') });
    const out = await handler(input(['bad.jpg', 'missing.jpg', 'good.jpg']), lambdaContext());
    expect(out.frames.map((f) => [f.key, f.error?.type])).toEqual([
      ['bad.jpg', 'ImageDecodeError'],
      ['missing.jpg', 'Facerec.BadInput'],
      ['good.jpg', undefined],
    ]);
    expect(out.frames[2].faces[0].name).toBe('Raj');
  });

  test('S3 throttling fails the batch as transient (the state machine retries it)', async () => {
    s3.on(GetObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(handler(input(['a.jpg']), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Transient',
    });
  });

  test('no gallery configured and none pushed yet: the meta bucket is checked, every face is Unknown', async () => {
    const h = createHandler({
      config: testConfig(),
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({}),
      engine: async () => engine,
    });
    s3.on(HeadObjectCommand, { Bucket: 'facerec-meta', Key: 'gallery/gallery.json' }).rejects(
      awsError('NotFound', 404),
    );
    s3.on(GetObjectCommand, { Bucket: 'facerec-stage-1' }).resolves({ Body: s3Body('faces:') });
    const out = await h(input(['a.jpg']), lambdaContext());
    expect(out.galleryId).toBe(galleryId(emptyGallery('test-model', 128)));
    expect(
      s3.commandCalls(HeadObjectCommand, { Bucket: 'facerec-meta', Key: 'gallery/gallery.json' }),
    ).toHaveLength(1);
  });

  test('an unreadable gallery file: configuration error with the reason', async () => {
    const h = createHandler({
      config: testConfig({ FACEREC_GALLERY: '/nonexistent/gallery.json' }),
      s3: new S3Client({}),
      sfn: new SFNClient({}),
      engine: async () => engine,
    });
    await expect(h(input(['a.jpg']), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Config',
      message: expect.stringMatching(/gallery/),
    });
  });

  test('a gallery in S3 (FACEREC_GALLERY=s3://bucket/key)', async () => {
    const h = createHandler({
      config: testConfig({ FACEREC_GALLERY: 's3://my-config/people/gallery.json' }),
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({}),
      engine: async () => engine,
    });
    s3.on(HeadObjectCommand, { Bucket: 'my-config', Key: 'people/gallery.json' }).resolves({ ETag: '"v1"' });
    s3.on(GetObjectCommand, { Bucket: 'my-config', Key: 'people/gallery.json' }).resolves({
      Body: s3Body(JSON.stringify(gallery)),
      ETag: '"v1"',
    });
    s3.on(GetObjectCommand, { Bucket: 'facerec-stage-1' }).resolves({ Body: s3Body('faces:A@0.2') });
    const out = await h(input(['a.jpg']), lambdaContext());
    expect(out.galleryId).toBe(galleryId(gallery));
    const wrong = createHandler({
      config: testConfig({ FACEREC_GALLERY: 's3://my-config/other.json' }),
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({}),
      engine: async () => engine,
    });
    s3.on(HeadObjectCommand, { Bucket: 'my-config', Key: 'other.json' }).resolves({ ETag: '"w1"' });
    s3.on(GetObjectCommand, { Bucket: 'my-config', Key: 'other.json' }).resolves({
      Body: s3Body(JSON.stringify({ ...gallery, modelId: 'another-model' })),
    });
    await expect(wrong(input(['a.jpg']), lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.Config',
      message: expect.stringMatching(/another-model/),
    });
  });

  test('invalid input: bad input', async () => {
    await expect(handler({ bucket: 'facerec-stage-1', keys: [] }, lambdaContext())).rejects.toMatchObject({
      name: 'Facerec.BadInput',
    });
  });
});
