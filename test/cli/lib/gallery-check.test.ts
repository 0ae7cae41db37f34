/**
 * The gallery a local stack reads, as `run`, `up` and `workload` report it on start (issue 20
 * point 5: they warn when it holds nobody). Against the real local S3 server.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bucketNames, galleryLocation, GALLERY_KEY } from '#functions/core/layout.js';
import { startLocalS3 } from '#infra/local/s3/service.js';
import { checkLocalGallery } from '#cli/lib/gallery-check.js';
import type { Target } from '#cli/lib/target.js';
import { tempDir } from '#test/support/videos.js';

const buckets = bucketNames('facerec');
let server: Awaited<ReturnType<typeof startLocalS3>>;
let s3: S3Client;
const target = (gallery?: string) =>
  ({ kind: 'local', s3, buckets, local: { gallery }, close: async () => undefined }) as unknown as Target;
const put = (body: string) =>
  s3.send(new PutObjectCommand({ Bucket: buckets.meta, Key: GALLERY_KEY, Body: body }));

beforeAll(async () => {
  server = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: tempDir('facerec-gallery-check-'),
    buckets,
    onInputEvent: () => undefined,
  });
  s3 = new S3Client({
    endpoint: server.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  s3.destroy();
  await server.close();
});

test('no gallery in the meta bucket: a warning that every face will be Unknown, and how to make one', async () => {
  const r = await checkLocalGallery(target());
  expect(r).toMatchObject({ people: 0, warning: true, location: galleryLocation(buckets) });
  expect(r!.line).toMatch(
    /^warning: no gallery at s3:\/\/facerec-meta\/gallery\/gallery\.json: every face will be Unknown; make one with `facerec enroll/,
  );
});

test('a gallery with no one enrolled: a warning naming the file it came from', async () => {
  await put(JSON.stringify({ version: 1, people: [] }));
  const r = await checkLocalGallery(target('/home/me/gallery.json'));
  expect(r).toMatchObject({ people: 0, warning: true });
  expect(r!.line).toMatch(
    /gallery\.json \(from \/home\/me\/gallery\.json\) has no one enrolled: every face will be Unknown/,
  );
  await put('not json');
  expect((await checkLocalGallery(target()))!.line).toMatch(/is not JSON/);
});

test('a gallery with people: how many, no warning', async () => {
  await put(JSON.stringify({ version: 1, people: [{ name: 'Amy' }, { name: 'Raj' }] }));
  expect(await checkLocalGallery(target())).toMatchObject({
    people: 2,
    warning: false,
    line: 'gallery: 2 people (s3://facerec-meta/gallery/gallery.json)',
  });
});

test('AWS and other endpoints: not checked (their gallery is a deployment setting)', async () => {
  expect(
    await checkLocalGallery({ ...target(), kind: 'aws', local: undefined } as unknown as Target),
  ).toBeUndefined();
});
