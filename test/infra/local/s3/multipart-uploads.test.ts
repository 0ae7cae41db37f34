/**
 * Multipart uploads racing with themselves (multipart-uploads.ts, without a server): an Abort or a
 * second Complete that arrives while a Complete joins the parts must not leave an object stored
 * behind a failed answer (the server announces an object only when Complete answers, so such an
 * object would never be processed).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MultipartUploads } from '#infra/local/s3/multipart-uploads.js';
import { FileObjectStore, S3Error } from '#infra/local/s3/store.js';
import { tempDir } from '#test/support/videos.js';

let root: string;
let store: FileObjectStore;
let uploads: MultipartUploads;

beforeEach(() => {
  root = tempDir('facerec-multipart-');
  store = new FileObjectStore(root);
  store.createBucket('input');
  uploads = new MultipartUploads(store);
});

afterEach(() => {
  store.release();
  rmSync(root, { recursive: true, force: true });
});

const codeOf = (err: unknown) => (err instanceof S3Error ? err.code : String(err));

async function oneParted(key: string, body: Buffer): Promise<{ id: string; etag: string }> {
  const id = uploads.create('input', key, {});
  const etag = await uploads.uploadPart('input', key, id, 1, Readable.from([body]), {});
  return { id, etag };
}

test('an Abort during a Complete finds no upload; the Complete stores the object', async () => {
  const body = Buffer.alloc(8 << 20, 7);
  const { id, etag } = await oneParted('v.mp4', body);
  const completing = uploads.complete('input', 'v.mp4', id, [{ partNumber: 1, etag }]);
  let abortCode = 'none';
  try {
    uploads.abort('input', 'v.mp4', id);
  } catch (err) {
    abortCode = codeOf(err);
  }
  const second = await uploads
    .complete('input', 'v.mp4', id, [{ partNumber: 1, etag }])
    .then(() => 'stored', codeOf);
  const meta = await completing;
  expect({ abortCode, second }).toEqual({ abortCode: 'NoSuchUpload', second: 'NoSuchUpload' });
  expect(meta.size).toBe(body.length);
  expect(readFileSync(store.head('input', 'v.mp4').dataPath).equals(body)).toBe(true);
  // The parts' folder is gone with the upload.
  expect(existsSync(path.join(store.uploadsDir, id))).toBe(false);
});

test('a Complete that cannot join the parts gives the upload back: it can be aborted', async () => {
  const { id, etag } = await oneParted('w.mp4', Buffer.from('part'));
  // The part's file vanishes (a disk error stands in): the join fails.
  for (const f of readdirSync(path.join(store.uploadsDir, id))) rmSync(path.join(store.uploadsDir, id, f));
  await expect(uploads.complete('input', 'w.mp4', id, [{ partNumber: 1, etag }])).rejects.toThrow(/ENOENT/);
  expect(() => store.head('input', 'w.mp4')).toThrow();
  expect(() => uploads.abort('input', 'w.mp4', id)).not.toThrow();
  await expect(uploads.complete('input', 'w.mp4', id, [{ partNumber: 1, etag }])).rejects.toMatchObject({
    code: 'NoSuchUpload',
  });
});
