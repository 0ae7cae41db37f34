/**
 * Multipart uploads in the local S3's file store: each part is received like a PUT's body (into
 * a temporary file, hashed, its size and Content-MD5 checked) and kept under
 * `<root>/.uploads/<upload id>/`; completing joins the parts the client names, in its order, into
 * one temporary file that the store commits as the object, with S3's multipart ETag (the MD5 of
 * the parts' MD5s, `-<count>`). Uploads in progress do not survive a restart (the store clears
 * `.uploads/` at start; S3 would keep them, local clients start them again).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MAX_PUT_BYTES,
  newId,
  S3Error,
  validateKey,
  type FileObjectStore,
  type ObjectMeta,
  type PutOptions,
} from './store.js';

const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;

interface Upload {
  id: string;
  bucket: string;
  key: string;
  options: PutOptions;
  initiated: string;
  parts: Map<number, { etag: string; size: number; file: string }>;
}

export class MultipartUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly store: FileObjectStore) {}

  create(bucketName: string, key: string, options: PutOptions): string {
    validateKey(key);
    this.store.requireBucket(bucketName);
    const id = newId() + newId();
    mkdirSync(path.join(this.store.uploadsDir, id), { recursive: true });
    this.uploads.set(id, {
      id,
      bucket: bucketName,
      key,
      options,
      initiated: new Date().toISOString(),
      parts: new Map(),
    });
    return id;
  }

  private upload(id: string, bucket: string, key: string): Upload {
    const u = this.uploads.get(id);
    if (!u || u.bucket !== bucket || u.key !== key) {
      throw new S3Error(
        'NoSuchUpload',
        404,
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: id },
      );
    }
    return u;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    opts: PutOptions,
  ): Promise<string> {
    validateKey(key);
    const u = this.upload(uploadId, bucket, key);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new S3Error(
        'InvalidArgument',
        400,
        'Part number must be an integer between 1 and 10000, inclusive',
      );
    }
    const got = await this.store.receive(body, opts, MAX_PUT_BYTES);
    const file = path.join(this.store.uploadsDir, u.id, `${partNumber}.${newId()}`);
    if (!this.uploads.has(u.id)) {
      rmSync(got.file, { force: true });
      throw new S3Error('NoSuchUpload', 404, 'The specified upload does not exist.', { UploadId: uploadId });
    }
    renameSync(got.file, file);
    const old = u.parts.get(partNumber);
    if (old) rmSync(old.file, { force: true });
    const etag = `"${got.md5.toString('hex')}"`;
    u.parts.set(partNumber, { etag, size: got.size, file });
    return etag;
  }

  async complete(
    bucketName: string,
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
  ): Promise<ObjectMeta> {
    validateKey(key);
    const u = this.upload(uploadId, bucketName, key);
    if (parts.length === 0) {
      throw new S3Error(
        'MalformedXML',
        400,
        'The XML you provided was not well-formed or did not validate against our published schema',
      );
    }
    const chosen = [];
    let last = 0;
    for (const p of parts) {
      if (p.partNumber <= last) {
        throw new S3Error(
          'InvalidPartOrder',
          400,
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
      last = p.partNumber;
      const part = u.parts.get(p.partNumber);
      const quoted = p.etag.startsWith('"') ? p.etag : `"${p.etag}"`;
      if (!part || part.etag !== quoted) {
        throw new S3Error('InvalidPart', 400, 'One or more of the specified parts could not be found.', {
          PartNumber: String(p.partNumber),
        });
      }
      chosen.push(part);
    }
    chosen.slice(0, -1).forEach((part, i) => {
      if (part.size < MIN_PART_BYTES) {
        throw new S3Error(
          'EntityTooSmall',
          400,
          'Your proposed upload is smaller than the minimum allowed object size.',
          {
            PartNumber: String(parts[i].partNumber),
          },
        );
      }
    });
    // The upload is this request's from here on: an Abort or a second Complete arriving while the
    // parts are joined finds no such upload (as once it is completed), rather than removing the
    // parts under the join or the upload after the object was stored, which would leave an object
    // that no event announced. A join that fails gives the upload back (it can be completed again,
    // or aborted).
    this.uploads.delete(u.id);
    const tmp = this.store.tempPath();
    const out = createWriteStream(tmp);
    try {
      for (const part of chosen) await pipeline(createReadStream(part.file), out, { end: false });
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      out.destroy();
      rmSync(tmp, { force: true });
      this.uploads.set(u.id, u);
      throw err;
    }
    const md5s = createHash('md5');
    for (const part of chosen) md5s.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
    const etag = `"${md5s.digest('hex')}-${chosen.length}"`;
    const size = chosen.reduce((s, p) => s + p.size, 0);
    let meta: ObjectMeta;
    try {
      meta = this.store.commitFile(bucketName, key, tmp, size, etag, u.options);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.uploads.set(u.id, u);
      throw err;
    }
    rmSync(path.join(this.store.uploadsDir, u.id), { recursive: true, force: true });
    return meta;
  }

  abort(bucket: string, key: string, uploadId: string): void {
    const u = this.upload(uploadId, bucket, key);
    this.uploads.delete(u.id);
    rmSync(path.join(this.store.uploadsDir, u.id), { recursive: true, force: true });
  }
}
