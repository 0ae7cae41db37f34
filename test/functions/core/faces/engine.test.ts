/**
 * The face engine on real models and real photos. The group photos that @vladmandic/face-api
 * ships are always installed; the labelled set in ../shared/data/faces is used when present.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine, type BatchFaceEngine, type ImageAnalysis } from '#functions/core/faces/engine.js';
import { loadFaceModels } from '#functions/core/faces/models.js';
import { ImageDecodeError } from '#functions/core/faces/decode.js';
import { enrollPeople, type EnrollImage } from '#functions/core/gallery/enroll.js';
import type { Gallery } from '#functions/core/gallery/read.js';
import type { FrameAnalysis } from '#functions/core/faces/types.js';
import { listPeopleFolder } from '#cli/lib/people-folder.js';
import {
  background,
  composeFaceFrame,
  DEMO_PHOTOS,
  hasSharedFaces,
  SHARED_FACES,
} from '#bench/face-frames.js';

const config = loadConfig({}).engine;
let engine: BatchFaceEngine;

beforeAll(async () => {
  engine = await createFaceEngine(config);
});

describe('detection on real photos', () => {
  // Counted by eye on annotated images (facerec identify --annotate).
  const expected = [3, 3, 3, 4, 5, 4];
  it.each(DEMO_PHOTOS.map((f, i) => [path.basename(f), f, expected[i]] as const))(
    '%s: every face, nothing else',
    async (_name, file, count) => {
      const result = await engine.analyzeFaces(await readFile(file));
      expect(result.faces).toHaveLength(count);
      for (const face of result.faces) {
        expect(face.score).toBeGreaterThan(0.7);
        expect(face.landmarks).toHaveLength(68);
        expect(face.descriptor).toHaveLength(engine.descriptorSize);
        // the landmarks lie within (a margin of) the box
        const xs = face.landmarks.map((p) => p.x);
        expect(Math.min(...xs)).toBeGreaterThan(face.box.x - face.box.width * 0.3);
        expect(Math.max(...xs)).toBeLessThan(face.box.x + face.box.width * 1.3);
      }
    },
  );

  it('finds no face in frames that hold none', async () => {
    for (const seed of [1, 2, 3]) {
      const frame = await sharp(await background(1920, 1080, seed))
        .jpeg()
        .toBuffer();
      expect((await engine.analyzeFaces(frame)).faces).toHaveLength(0);
    }
    const noise = await sharp(
      Buffer.from(Array.from({ length: 640 * 480 * 3 }, (_, i) => (i * 7919) % 251)),
      {
        raw: { width: 640, height: 480, channels: 3 },
      },
    )
      .png()
      .toBuffer();
    expect((await engine.analyzeFaces(noise)).faces).toHaveLength(0);
  });

  it('finds a 40 px face in a 1080p frame', async () => {
    // sample4's faces are ~170 px; shrunk so they are ~40 px, placed on a plain 1080p frame.
    const small = await sharp(DEMO_PHOTOS[3])
      .resize(Math.round(1920 * 0.24))
      .toBuffer();
    const frame = await sharp(await background(1920, 1080, 4))
      .composite([{ input: small, left: 700, top: 400 }])
      .jpeg({ quality: 92 })
      .toBuffer();
    const faces = (await engine.analyzeFaces(frame)).faces;
    expect(faces.length).toBeGreaterThanOrEqual(3);
    for (const f of faces) expect(Math.max(f.box.width, f.box.height)).toBeLessThan(75);
  });

  it('follows EXIF orientation and reports boxes in the oriented image', async () => {
    const upright = await readFile(DEMO_PHOTOS[0]);
    // Store the pixels rotated 90° clockwise-back, with orientation 6 telling viewers to rotate.
    const stored = await sharp(upright).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const a = await engine.analyzeFaces(upright);
    const b = await engine.analyzeFaces(stored);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(b.faces).toHaveLength(a.faces.length);
    const centre = (f: (typeof a.faces)[number]) => [f.box.x + f.box.width / 2, f.box.y + f.box.height / 2];
    for (const fa of a.faces) {
      const [x, y] = centre(fa);
      expect(b.faces.some((fb) => Math.hypot(centre(fb)[0] - x, centre(fb)[1] - y) < 15)).toBe(true);
    }
  });
});

describe('bad input', () => {
  it.each([
    ['0 bytes', Buffer.alloc(0), /empty file/],
    ['text', Buffer.from('definitely not an image'), /not a readable image/],
    [
      'an SVG',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
      /unsupported image format 'svg'/,
    ],
  ])('%s gives a clear ImageDecodeError', async (_name, bytes, message) => {
    const err = await engine.analyzeFaces(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as Error).message).toMatch(message);
  });

  it('a truncated JPEG gives a clear ImageDecodeError', async () => {
    const whole = await readFile(DEMO_PHOTOS[0]);
    const err = await engine.analyzeFaces(whole.subarray(0, whole.length / 3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as Error).message).toMatch(/truncated or corrupt/);
  });

  it('a 50-megapixel image is shrunk on load, not refused, and boxes come back in its coordinates', async () => {
    const big = await sharp(DEMO_PHOTOS[1])
      .resize(8660, 5774, { fit: 'fill' })
      .jpeg({ quality: 80 })
      .toBuffer();
    const result = await engine.analyzeFaces(big);
    expect([result.width, result.height]).toEqual([8660, 5774]);
    expect(result.faces).toHaveLength(3);
    for (const f of result.faces) expect(f.box.width).toBeGreaterThan(400);
  });

  it('an image above the pixel limit is refused before decoding', async () => {
    const small = await createFaceEngine({ ...config, maxImageMegapixels: 1 });
    const err = await small.analyzeFaces(await readFile(DEMO_PHOTOS[0])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as Error).message).toMatch(/too large: 1920x1280 \(2\.5 MP\) exceeds the 1 MP limit/);
  });
});

describe('several images at once', () => {
  it('one landmark run and one descriptor run for all faces of all images, the same results as one image at a time', async () => {
    const images = await Promise.all(DEMO_PHOTOS.map((f) => readFile(f)));
    const alone: ImageAnalysis[] = [];
    for (const image of images) alone.push(await engine.analyzeFaces(image));
    // The engine's own sessions (loaded once per process): count the runs of the batch.
    const models = await loadFaceModels(config.modelsDir, config.onnxThreads, config.descriptor);
    const runs = { landmarks: 0, descriptor: 0, faces: 0 };
    const [landmarks, descriptor] = [models.landmarks, models.descriptor];
    models.landmarks = (batch, count) => (runs.landmarks++, landmarks(batch, count));
    models.descriptor = (batch, count) => (
      (runs.descriptor++, (runs.faces += count)),
      descriptor(batch, count)
    );
    let together;
    try {
      const detected = [];
      for (const image of images) detected.push(await engine.detect(await engine.decode(image)));
      together = await engine.analyzeDetected(detected);
    } finally {
      [models.landmarks, models.descriptor] = [landmarks, descriptor];
    }
    const faces = alone.reduce((n, a) => n + a.faces.length, 0);
    expect(faces).toBe(22);
    expect(runs).toEqual({ landmarks: 1, descriptor: 1, faces: engine.config.mirrorDescriptor ? 44 : 22 });
    together.forEach((analysis, i) => {
      expect(analysis.faces).toHaveLength(alone[i].faces.length);
      analysis.faces.forEach((face, j) => {
        const single = alone[i].faces[j];
        expect(face.box).toEqual(single.box);
        expect(face.landmarks[30].x).toBeCloseTo(single.landmarks[30].x, 3);
        let worst = 0;
        face.descriptor.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - single.descriptor[k]))));
        expect(worst).toBeLessThan(1e-4);
      });
      expect(analysis.timings.descriptorMs).toBeGreaterThan(0);
    });
  });

  it('an image without faces among others gets none, and takes no share of the batch time', async () => {
    const empty = await sharp(await background(1280, 720, 4))
      .jpeg()
      .toBuffer();
    const [none, some] = await engine.analyzeDetected([
      await engine.detect(await engine.decode(empty)),
      await engine.detect(await engine.decode(await readFile(DEMO_PHOTOS[0]))),
    ]);
    expect(none.faces).toHaveLength(0);
    expect(none.timings.descriptorMs).toBe(0);
    expect(some.faces).toHaveLength(3);
  });
});

describe('sessions', () => {
  it('are created once per process: a second engine loads nothing', async () => {
    const again = await createFaceEngine(config);
    expect(again.loadMs).toBeLessThan(50);
  });
});

describe('enrollment', () => {
  /** Faces cut from the demo photos: each photo's faces are different people. */
  async function demoPeople(): Promise<EnrollImage[]> {
    const images: EnrollImage[] = [];
    for (const [i, file] of DEMO_PHOTOS.slice(0, 2).entries()) {
      const bytes = await readFile(file);
      const faces = (await engine.analyzeFaces(bytes)).faces;
      for (const [j, f] of faces.entries()) {
        const side = Math.round(Math.max(f.box.width, f.box.height) * 1.6);
        const crop = await sharp(bytes)
          .extract({
            left: Math.max(0, Math.round(f.box.x + f.box.width / 2 - side / 2)),
            top: Math.max(0, Math.round(f.box.y + f.box.height / 2 - side / 2)),
            width: side,
            height: side,
          })
          .jpeg()
          .toBuffer();
        images.push({ person: `person-${i}-${j}`, file: `person-${i}-${j}/face.jpg`, bytes: crop });
      }
    }
    return images;
  }

  it('enrolls one descriptor per usable image, skips what is not, and reuses unchanged images', async () => {
    const images = await demoPeople();
    images.push({ person: 'group', file: 'group/all.jpg', bytes: await readFile(DEMO_PHOTOS[5]) });
    images.push({ person: 'broken', file: 'broken/x.jpg', bytes: Buffer.from('nope') });
    const first = await enrollPeople(engine, images);
    expect(first.gallery.modelId).toBe(engine.modelId);
    expect(first.report.enrolled).toHaveLength(images.length - 1);
    expect(first.report.skipped.map((s) => s.person)).toEqual(['broken']);
    // a group photo with no dominant face: the most central face is taken, and reported
    expect(first.report.mainFaceChosen.map((c) => c.person)).toEqual(['group']);
    expect(first.report.mainFaceChosen[0].note).toMatch(/4 faces, none twice as large.*nearest the centre/);
    expect(first.report.peopleWithoutImages).toEqual(['broken']);

    const second = await enrollPeople(engine, images.slice(0, 2), first.gallery);
    expect(second.report.reused).toHaveLength(2);
    expect(second.report.enrolled).toHaveLength(0);
    expect(second.gallery.people).toHaveLength(first.gallery.people.length); // others kept

    // Each enrolled face is identified as itself in its original photo.
    const photo = await engine.identifyFaces(await readFile(DEMO_PHOTOS[0]), first.gallery);
    expect(photo.faces.map((f) => f.name).sort()).toEqual(['person-0-0', 'person-0-1', 'person-0-2']);
  });
});

describe('enrollment describes each face from several views', () => {
  const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    return dot;
  };

  it('stores the mean of the views; frames keep the single descriptor', async () => {
    expect(config.mirrorDescriptor).toBe(false); // MobileFaceNet's default: frames are not mirrored
    const bytes = await readFile(DEMO_PHOTOS[1]);
    const plain = (await engine.analyzeFaces(bytes)).faces;
    const averaged = (await engine.analyzeFaces(bytes, { enrollment: true })).faces;
    expect(averaged.map((f) => f.box)).toEqual(plain.map((f) => f.box));
    for (const [i, f] of averaged.entries()) {
      // unit length, close to the single descriptor of the same face, but not the same
      expect(cosine(f.descriptor, f.descriptor)).toBeCloseTo(1, 5);
      const similarity = cosine(f.descriptor, plain[i].descriptor);
      expect(similarity).toBeGreaterThan(0.8);
      expect(similarity).toBeLessThan(0.99999);
    }
    // the enrolled descriptor is the averaged one of the photo's main face
    const { gallery } = await enrollPeople(engine, [{ person: 'p', file: 'p.jpg', bytes }]);
    const stored = gallery.people[0].images[0].descriptor;
    expect(Math.max(...averaged.map((f) => cosine(stored, f.descriptor)))).toBeCloseTo(1, 5);
    expect(Math.max(...plain.map((f) => cosine(stored, f.descriptor)))).toBeLessThan(0.99999);
  });

  it('re-describes, when enrolling again, a photo a gallery from before the views holds as one view', async () => {
    const bytes = await readFile(DEMO_PHOTOS[1]);
    const image = { person: 'p', file: 'p.jpg', bytes };
    const fresh = (await enrollPeople(engine, [image])).gallery;
    expect(fresh.people[0].images[0].recipe).toBe(engine.enrollmentRecipe);
    // what a gallery enrolled before this recipe holds: the single view, no recipe recorded
    const old = structuredClone(fresh);
    const entry = { ...old.people[0].images[0] };
    delete entry.recipe;
    const single = (await engine.analyzeFaces(bytes)).faces;
    const main = single.reduce((best, f) =>
      cosine(f.descriptor, fresh.people[0].images[0].descriptor) >
      cosine(best.descriptor, fresh.people[0].images[0].descriptor)
        ? f
        : best,
    );
    old.people[0].images[0] = { ...entry, descriptor: Array.from(main.descriptor) };

    const again = await enrollPeople(engine, [image], old);
    expect(again.report.refreshed).toEqual([{ person: 'p', file: 'p.jpg', was: undefined }]);
    expect(again.report.reused).toEqual([]);
    const stored = again.gallery.people[0].images[0];
    expect(stored.recipe).toBe(engine.enrollmentRecipe);
    expect(cosine(stored.descriptor, fresh.people[0].images[0].descriptor)).toBeCloseTo(1, 5);
    expect(cosine(stored.descriptor, main.descriptor)).toBeLessThan(0.99999);
  });
});

const shared = hasSharedFaces() ? describe : describe.skip;
if (!hasSharedFaces()) console.warn(`skipping labelled-data tests: ${SHARED_FACES} is absent`);

shared('on the labelled faces in ../shared/data/faces', () => {
  it('finds 4, 3, 5, 6 and 5 faces in the group photos bbt1..bbt5', async () => {
    const counts = [];
    for (let i = 1; i <= 5; i++)
      counts.push(
        (await engine.analyzeFaces(await readFile(path.join(SHARED_FACES, `bbt${i}.jpg`)))).faces.length,
      );
    expect(counts).toEqual([4, 3, 5, 6, 5]);
  });

  let people: Awaited<ReturnType<typeof listPeopleFolder>>;
  let gallery: Gallery;
  beforeAll(async () => {
    people = await listPeopleFolder(SHARED_FACES);
    const images: EnrollImage[] = [];
    for (const p of people)
      for (const f of p.files.slice(0, 4)) images.push({ person: p.name, file: f, bytes: await readFile(f) });
    ({ gallery } = await enrollPeople(engine, images));
  });

  it('enrolls four images of each person and names the fifth, also inside a 720p frame', async () => {
    expect(gallery.people).toHaveLength(8);
    for (const [i, p] of people.entries()) {
      const probe = p.files[4];
      expect((await engine.identifyFaces(await readFile(probe), gallery)).faces.map((f) => f.name)).toEqual([
        p.name,
      ]);
      const frame = await composeFaceFrame(probe, { width: 1280, height: 720, faceHeight: 220, seed: i + 1 });
      expect((await engine.identifyFaces(frame, gallery)).faces.map((f) => f.name)).toEqual([p.name]);
    }
  });

  it('names the faces of several frames in one search: each frame gets its own faces, as one at a time', async () => {
    const empty = await sharp(await background(1280, 720, 7))
      .jpeg()
      .toBuffer();
    const files = [
      people[0].files[4],
      'empty',
      path.join(SHARED_FACES, 'bbt1.jpg'),
      people[1].files[4],
      path.join(SHARED_FACES, 'bbt2.jpg'),
      people[2].files[4],
    ];
    const bytes = await Promise.all(files.map((f) => (f === 'empty' ? empty : readFile(f))));
    const alone: FrameAnalysis[] = [];
    for (const b of bytes) alone.push(await engine.identifyFaces(b, gallery));
    const detected = [];
    for (const b of bytes) detected.push(await engine.detect(await engine.decode(b)));
    const together = await engine.identifyDetected(detected, gallery);
    expect(together.map((f) => f.faces.length)).toEqual([1, 0, 4, 1, 3, 1]);
    expect(together.map((f) => f.faces.map((x) => x.name))).toEqual(
      alone.map((f) => f.faces.map((x) => x.name)),
    );
    together.forEach((frame, i) =>
      frame.faces.forEach((face, j) => {
        expect(face.box).toEqual(alone[i].faces[j].box);
        expect(face.distance).toBeCloseTo(alone[i].faces[j].distance!, 4);
      }),
    );
    // the probes are named as their people (a shifted slice would give another frame's names)
    expect([0, 3, 5].map((i) => together[i].faces[0].name)).toEqual([
      people[0].name,
      people[1].name,
      people[2].name,
    ]);
  });
});
