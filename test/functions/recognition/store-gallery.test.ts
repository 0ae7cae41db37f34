/**
 * The recognition function with a binary gallery store, as deployed: FACEREC_GALLERY names the
 * store file (a bundle's gallery; the S3 source reads the same bytes, gallery-source.test.ts),
 * the real engine names the faces of a frame, and the result records the same gallery id as the
 * JSON form of that gallery.
 */
import { writeFile, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '#functions/recognition/handler.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { galleryId } from '#functions/core/gallery/read.js';
import { galleryBytes } from '#functions/core/gallery/write.js';
import { enrollPeople } from '#functions/core/gallery/enroll.js';
import { demoPeople, demoPhotos, faceCrop } from '#cli/lib/demo-data.js';
import { lambdaContext, s3Body, testConfig } from '#test/support/lambda.js';

const s3 = mockClient(S3Client);

test('names the faces of a frame from a store, recording the JSON gallery id', async () => {
  const config = testConfig();
  const engine = await createFaceEngine(config.engine);
  const everyone = await demoPeople(engine);
  const photo = demoPhotos()[0];
  const inPhoto = everyone.filter((p) => p.photo === photo);
  const images = await Promise.all(
    [...inPhoto, ...everyone.filter((p) => p.photo !== photo).slice(0, 3)].map(async (p) => ({
      person: p.name,
      file: `${p.name}.jpg`,
      bytes: await faceCrop(p, 1.6),
    })),
  );
  const { gallery } = await enrollPeople(engine, images);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-gallery-'));
  const file = path.join(dir, 'people.gallery');
  await writeFile(file, galleryBytes(gallery, { format: 'store', dtype: 'float16' }));

  s3.on(GetObjectCommand).resolves({ Body: s3Body(await readFile(photo)) });
  const handler = createHandler({
    config: testConfig({ FACEREC_GALLERY: file }),
    s3: new S3Client({ region: 'us-east-1' }),
  });
  const out = await handler({ bucket: 'facerec-stage-1', keys: ['v/frame-0000.jpg'] }, lambdaContext());
  expect(out.galleryId).toBe(galleryId(gallery));
  const names = out.frames[0].faces.map((f) => f.name).sort();
  expect(names).toEqual(inPhoto.map((p) => p.name).sort());
}, 300_000);
