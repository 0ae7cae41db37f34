/**
 * The S3 gallery source: one HeadObject per TTL, a download only when the ETag changed, a
 * missing object is an empty gallery, transient errors stay transient, a bad gallery is a
 * configuration error. SDK client mocked (aws-sdk-client-mock).
 */
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { gallerySource } from '#functions/aws/gallery-source.js';
import { emptyGallery, galleryId, galleryPeople, type Gallery } from '#functions/core/gallery/read.js';
import { galleryBytes } from '#functions/core/gallery/write.js';
import { awsError, s3Body } from '#test/support/lambda.js';

const s3mock = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });
const LOCATION = 's3://facerec-meta/gallery/gallery.json';
const where = { Bucket: 'facerec-meta', Key: 'gallery/gallery.json' };

const galleryOf = (...names: string[]): Gallery => ({
  ...emptyGallery('m1', 2),
  people: names.map((name) => ({
    name,
    images: [{ file: `${name}.jpg`, sha256: 'a'.repeat(64), descriptor: [0.1, 0.2] }],
  })),
});

let clock = 0;
const now = () => clock;
beforeEach(() => {
  s3mock.reset();
  clock = 1_000_000;
});

function serve(etag: string, gallery: Gallery) {
  s3mock.on(HeadObjectCommand, where).resolves({ ETag: etag });
  s3mock.on(GetObjectCommand, where).resolves({ ETag: etag, Body: s3Body(JSON.stringify(gallery)) });
}

test('reads once, re-checks with HeadObject after the TTL, downloads again only on a new ETag', async () => {
  const source = gallerySource(LOCATION, () => client, { ttlMs: 10_000, now });
  serve('"v1"', galleryOf('Ann'));
  const first = await source.current('m1', 2);
  expect(galleryPeople(first.gallery).map((p) => p.name)).toEqual(['Ann']);
  expect(first.version).toBe('"v1"');

  clock += 5_000; // within the TTL: no S3 call at all
  await source.current('m1', 2);
  expect(s3mock.commandCalls(HeadObjectCommand)).toHaveLength(1);

  clock += 6_000; // past the TTL, same ETag: one HEAD, no GET
  expect((await source.current('m1', 2)).id).toBe(first.id);
  expect(s3mock.commandCalls(HeadObjectCommand)).toHaveLength(2);
  expect(s3mock.commandCalls(GetObjectCommand)).toHaveLength(1);

  serve('"v2"', galleryOf('Ann', 'Bob')); // pushed meanwhile
  clock += 11_000;
  const second = await source.current('m1', 2);
  expect(galleryPeople(second.gallery).map((p) => p.name)).toEqual(['Ann', 'Bob']);
  expect(second.id).toBe(galleryId(galleryOf('Ann', 'Bob')));
  expect(s3mock.commandCalls(GetObjectCommand)).toHaveLength(2);
});

test('concurrent callers share one check', async () => {
  const source = gallerySource(LOCATION, () => client, { now });
  serve('"v1"', galleryOf('Ann'));
  await Promise.all([1, 2, 3, 4].map(() => source.current('m1', 2)));
  expect(s3mock.commandCalls(HeadObjectCommand)).toHaveLength(1);
});

test('no gallery object yet: an empty gallery of the engine model (every face Unknown), then the pushed one', async () => {
  const source = gallerySource(LOCATION, () => client, { ttlMs: 1000, now });
  s3mock.on(HeadObjectCommand, where).rejects(awsError('NotFound', 404));
  const missing = await source.current('m1', 2);
  expect(missing).toMatchObject({ version: 'missing', gallery: emptyGallery('m1', 2) });
  serve('"v1"', galleryOf('Ann'));
  clock += 1001;
  expect(galleryPeople((await source.current('m1', 2)).gallery)).toHaveLength(1);
});

test('throttling is transient (the state machine retries); denied or malformed is a configuration error', async () => {
  s3mock.on(HeadObjectCommand, where).rejects(awsError('SlowDown', 503));
  await expect(gallerySource(LOCATION, () => client).current('m1', 2)).rejects.toMatchObject({
    name: 'Facerec.Transient',
  });
  s3mock.reset();
  s3mock.on(HeadObjectCommand, where).rejects(awsError('AccessDenied', 403));
  await expect(gallerySource(LOCATION, () => client).current('m1', 2)).rejects.toMatchObject({
    name: 'GalleryError',
    message: expect.stringContaining(LOCATION),
  });
  s3mock.reset();
  s3mock.on(HeadObjectCommand, where).resolves({ ETag: '"x"' });
  s3mock
    .on(GetObjectCommand, where)
    .resolves({ ETag: '"x"', Body: s3Body('{"version":1,"modelId":"other"') });
  await expect(gallerySource(LOCATION, () => client).current('m1', 2)).rejects.toMatchObject({
    name: 'GalleryError',
    message: expect.stringContaining('not JSON'),
  });
});

test('a passing S3 fault on the re-check keeps the loaded gallery; the next call checks again', async () => {
  const source = gallerySource(LOCATION, () => client, { ttlMs: 1000, now });
  serve('"v1"', galleryOf('Ann'));
  const first = await source.current('m1', 2);
  s3mock.on(HeadObjectCommand, where).rejects(awsError('SlowDown', 503));
  clock += 1001;
  expect(await source.current('m1', 2)).toBe(first);
  serve('"v2"', galleryOf('Bob'));
  expect(galleryPeople((await source.current('m1', 2)).gallery).map((p) => p.name)).toEqual(['Bob']);
});

test('a binary store under the same key is read as a store, with the same id as its JSON form', async () => {
  const source = gallerySource(LOCATION, () => client, { ttlMs: 1000, now });
  const json = galleryOf('Ann', 'Bob');
  s3mock.on(HeadObjectCommand, where).resolves({ ETag: '"s1"' });
  s3mock
    .on(GetObjectCommand, where)
    .resolves({ ETag: '"s1"', Body: s3Body(galleryBytes(json, { format: 'store', dtype: 'float32' })) });
  const loaded = await source.current('m1', 2);
  expect(loaded.gallery).toMatchObject({ kind: 'compiled', names: ['Ann', 'Bob'] });
  expect(loaded.id).toBe(galleryId(json));
  // a store made for another model is refused as a JSON gallery is
  s3mock.on(HeadObjectCommand, where).resolves({ ETag: '"s2"' });
  s3mock.on(GetObjectCommand, where).resolves({
    ETag: '"s2"',
    Body: s3Body(galleryBytes({ ...json, modelId: 'other' }, { format: 'store' })),
  });
  clock += 1001;
  await expect(source.current('m1', 2)).rejects.toMatchObject({
    name: 'GalleryError',
    message: expect.stringMatching(/built for model 'other'/),
  });
});
