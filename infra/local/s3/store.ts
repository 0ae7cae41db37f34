/**
 * The local S3 server's object store: buckets are folders, objects are files named by the
 * SHA-256 of their key. A key is data, never a path: `..`, `%2f`, absolute paths, 1,024-byte
 * keys and any Unicode map to the same short, fixed-shape file names inside the bucket folder.
 *
 *   <root>/<bucket>/                          a bucket (an empty folder is an empty bucket)
 *   <root>/<bucket>/<h0h1>/<sha256>.json      an object's metadata (its key, size, ETag, …)
 *   <root>/<bucket>/<h0h1>/<sha256>.<id>.data its bytes (a new id per write)
 *   <root>/.tmp/, <root>/.uploads/<id>/       writes in progress, multipart parts
 *                                             (multipart-uploads.ts)
 *
 * A write streams to a temporary file, then the metadata file is renamed into place (the commit:
 * a kill -9 at any moment leaves the old object or the new one, never half of one). Data files no
 * metadata names, and temporary files, are removed at start. Keys are kept in memory in S3's
 * listing order (UTF-8 bytes) so that listings page through any number of objects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { isValidBucketName } from '../../../functions/core/facts.js';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { processAlive } from '../../../functions/core/process-alive.js';

/** An error S3 itself would answer with (its code, HTTP status and message). */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly detail: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

const MAX_KEY_BYTES = 1024;
/** Half of a UTF-16 surrogate pair: not a character, so not valid UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** S3's limit for one PUT; larger objects need a multipart upload. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

/** S3's object key rules: 1..1,024 bytes of valid UTF-8 (any character, `/` included). */
export function validateKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 400, 'The object key must not be empty');
  if (LONE_SURROGATE.test(key)) throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', 400, 'Your key is too long', {
      Size: String(bytes),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
}

/** UTF-16 code unit -> a number that sorts like the code point (and so like UTF-8 bytes). */
const rank = (c: number) => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);

/** S3's listing order: by UTF-8 bytes (JavaScript's `<` compares UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

export interface ObjectMeta {
  key: string;
  size: number;
  /** Quoted, as in S3's ETag header. */
  etag: string;
  lastModified: string;
  contentType?: string;
  /** Content-Encoding, Content-Disposition, Cache-Control, Content-Language, Expires. */
  headers?: Record<string, string>;
  /** x-amz-meta-* (names lower-case, without the prefix). */
  userMetadata?: Record<string, string>;
  /** The data file's name in the object's folder. */
  dataFile: string;
}

export interface StoredObject extends ObjectMeta {
  /** Absolute path of the bytes. */
  dataPath: string;
}

export interface PutOptions {
  contentType?: string;
  headers?: Record<string, string>;
  userMetadata?: Record<string, string>;
  /** Base64 MD5 the client sent (Content-MD5): refused with BadDigest when the body differs. */
  contentMd5?: string;
  /** Bytes the client announced: refused with IncompleteBody when fewer arrive. */
  expectedSize?: number;
  /** Conditional write: `*` (If-None-Match) or an ETag (If-Match). */
  ifNoneMatch?: string;
  ifMatch?: string;
  /** Decoding of the request body (aws-chunked), applied before hashing. */
  decode?: Transform;
}

interface Bucket {
  name: string;
  created: string;
  objects: Map<string, ObjectMeta>;
  /** The keys in listing order (kept sorted on every change). */
  sorted: string[];
}

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
export const newId = () => randomBytes(8).toString('hex');

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One process at a time serves a data folder (each keeps its index in memory, and cleans up
 * debris at start): `<root>/.owner` names the process. A dead owner's claim (kill -9) is taken
 * over; a live one's is refused with a clear error.
 */
function claimFolder(root: string): void {
  const file = path.join(root, '.owner');
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    const pid = typeof owner.pid === 'number' ? owner.pid : 0;
    if (pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new Error(
        `the local S3 data folder ${root} is in use by process ${pid} (another facerec stack?); ` +
          `stop it, or remove ${file} if that process is not facerec`,
      );
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('the local S3 data folder')) throw err;
    /* no claim, or an unreadable one */
  }
  try {
    writeFileSync(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
  } catch (err) {
    // A full disk must not keep the stack from starting (reads and deletes are what free it).
    if (!isDiskError(err)) throw err;
    console.error(
      `local S3: cannot write ${file} (${(err as NodeJS.ErrnoException).code}): serving without the claim`,
    );
  }
}

/** A failure of the disk itself (full, over quota, read-only, I/O), not of a request. */
export function isDiskError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EIO' || code === 'EFBIG';
}

export class FileObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tmpDir: string;
  /** Where multipart uploads keep their parts (multipart-uploads.ts). */
  readonly uploadsDir: string;

  constructor(readonly root: string) {
    this.tmpDir = path.join(root, '.tmp');
    this.uploadsDir = path.join(root, '.uploads');
    mkdirSync(root, { recursive: true });
    claimFolder(root);
    // Writes and multipart uploads in progress do not survive a restart (S3 would keep
    // multipart uploads; local clients restart them).
    rmSync(this.tmpDir, { recursive: true, force: true });
    rmSync(this.uploadsDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir);
    for (const entry of readdirSync(root, { withFileTypes: true })) {
      if (entry.isDirectory() && isValidBucketName(entry.name)) this.loadBucket(entry.name);
    }
  }

  /** Give up the claim on the folder (when the server stops). */
  release(): void {
    const file = path.join(this.root, '.owner');
    try {
      const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
      if (owner.pid === process.pid) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  }

  private loadBucket(name: string): void {
    const dir = path.join(this.root, name);
    const bucket: Bucket = {
      name,
      created: statSync(dir).birthtime.toISOString(),
      objects: new Map(),
      sorted: [],
    };
    for (const shard of readdirSync(dir, { withFileTypes: true })) {
      if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
      const shardDir = path.join(dir, shard.name);
      const files = readdirSync(shardDir);
      const live = new Set<string>();
      for (const f of files.filter((x) => /^[0-9a-f]{64}\.json$/.test(x))) {
        try {
          const meta = JSON.parse(readFileSync(path.join(shardDir, f), 'utf8')) as ObjectMeta;
          if (typeof meta.key !== 'string' || hashKey(meta.key) !== f.slice(0, 64)) continue;
          if (!existsSync(path.join(shardDir, meta.dataFile))) continue;
          bucket.objects.set(meta.key, meta);
          live.add(meta.dataFile);
        } catch {
          /* unreadable metadata: the object was never committed */
        }
      }
      // Bytes of writes that never committed, or of versions replaced before a crash.
      for (const f of files) {
        if (f.endsWith('.data') && !live.has(f)) rmSync(path.join(shardDir, f), { force: true });
      }
    }
    bucket.sorted = [...bucket.objects.keys()].sort(compareKeys);
    this.buckets.set(name, bucket);
  }

  // ---- buckets ----

  listBuckets(): Array<{ name: string; created: string }> {
    return [...this.buckets.values()]
      .map((b) => ({ name: b.name, created: b.created }))
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  createBucket(name: string): void {
    if (!isValidBucketName(name)) {
      throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name });
    }
    if (this.buckets.has(name)) return;
    mkdirSync(path.join(this.root, name), { recursive: true });
    this.buckets.set(name, { name, created: new Date().toISOString(), objects: new Map(), sorted: [] });
  }

  deleteBucket(name: string): void {
    const bucket = this.bucket(name);
    if (bucket.objects.size > 0) {
      throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
        BucketName: name,
      });
    }
    rmSync(path.join(this.root, name), { recursive: true, force: true });
    this.buckets.delete(name);
  }

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b)
      throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: name });
    return b;
  }

  // ---- objects ----

  private objectDir(bucket: string, key: string): { dir: string; hash: string } {
    const hash = hashKey(key);
    return { dir: path.join(this.root, bucket, hash.slice(0, 2)), hash };
  }

  head(bucketName: string, key: string): StoredObject {
    validateKey(key);
    const meta = this.bucket(bucketName).objects.get(key);
    if (!meta) throw new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key });
    return { ...meta, dataPath: path.join(this.objectDir(bucketName, key).dir, meta.dataFile) };
  }

  /** Throws NoSuchBucket when there is no bucket `name`. */
  requireBucket(name: string): void {
    this.bucket(name);
  }

  /** A new temporary file's path (removed at start if a crash leaves it). */
  tempPath(): string {
    return path.join(this.tmpDir, `${newId()}.part`);
  }

  /** Stream `body` into a temporary file, hashing it; returns the file, its size and MD5. */
  async receive(
    body: Readable,
    opts: Pick<PutOptions, 'decode' | 'contentMd5' | 'expectedSize'>,
    limit: number,
  ): Promise<{ file: string; size: number; md5: Buffer }> {
    const file = this.tempPath();
    const md5 = createHash('md5');
    let size = 0;
    const tooLarge = new S3Error(
      'EntityTooLarge',
      400,
      'Your proposed upload exceeds the maximum allowed size',
      { MaxSizeAllowed: String(limit) },
    );
    try {
      const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | Transform> = [body];
      if (opts.decode) stages.push(opts.decode);
      await pipeline(
        ...(stages as [Readable]),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > limit) throw tooLarge;
            md5.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(file),
      );
    } catch (err) {
      rmSync(file, { force: true });
      if (err instanceof S3Error) throw err;
      // The disk's failure (ENOSPC: full) is the server's, answered 500 and retried by clients
      // (error-boundary.ts); only a body that stopped arriving is the client's IncompleteBody.
      if (isDiskError(err)) throw err;
      throw new S3Error('IncompleteBody', 400, 'The request body ended before it was complete');
    }
    const digest = md5.digest();
    if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
      rmSync(file, { force: true });
      throw new S3Error(
        'IncompleteBody',
        400,
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      );
    }
    if (opts.contentMd5 !== undefined && opts.contentMd5 !== digest.toString('base64')) {
      rmSync(file, { force: true });
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
    }
    return { file, size, md5: digest };
  }

  private checkConditions(current: ObjectMeta | undefined, opts: PutOptions, key: string): void {
    if (
      opts.ifNoneMatch !== undefined &&
      current &&
      (opts.ifNoneMatch === '*' || opts.ifNoneMatch === current.etag)
    ) {
      throw new S3Error(
        'PreconditionFailed',
        412,
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'If-None-Match',
          Key: key,
        },
      );
    }
    if (opts.ifMatch !== undefined && (!current || (opts.ifMatch !== '*' && opts.ifMatch !== current.etag))) {
      if (!current) throw new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key });
      throw new S3Error(
        'PreconditionFailed',
        412,
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'If-Match',
          Key: key,
        },
      );
    }
  }

  /** Make `file` the bytes of `key` (synchronous from here on: no other request interleaves). */
  private commit(
    bucket: Bucket,
    key: string,
    file: string,
    meta: Omit<ObjectMeta, 'dataFile' | 'key'>,
    opts: PutOptions,
  ): ObjectMeta {
    const current = bucket.objects.get(key);
    try {
      this.checkConditions(current, opts, key);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
    const { dir, hash } = this.objectDir(bucket.name, key);
    mkdirSync(dir, { recursive: true });
    const dataFile = `${hash}.${newId()}.data`;
    renameSync(file, path.join(dir, dataFile));
    const full: ObjectMeta = { key, ...meta, dataFile };
    const tmpMeta = path.join(this.tmpDir, `${newId()}.json`);
    // No fsync: the rename is atomic for a process killed at any point (what local mode must
    // survive); a power cut may lose the latest writes, as with any local tool.
    try {
      writeFileSync(tmpMeta, JSON.stringify(full));
      renameSync(tmpMeta, path.join(dir, `${hash}.json`));
    } catch (err) {
      // A full disk: the old object stays as it was, the new bytes go.
      rmSync(tmpMeta, { force: true });
      rmSync(path.join(dir, dataFile), { force: true });
      throw err;
    }
    if (current) rmSync(path.join(dir, current.dataFile), { force: true });
    else bucket.sorted.splice(lowerBound(bucket.sorted, key), 0, key);
    bucket.objects.set(key, full);
    return full;
  }

  async put(bucketName: string, key: string, body: Readable, opts: PutOptions = {}): Promise<ObjectMeta> {
    validateKey(key);
    this.bucket(bucketName);
    this.checkConditions(this.buckets.get(bucketName)!.objects.get(key), opts, key);
    const got = await this.receive(body, opts, MAX_PUT_BYTES);
    // The bucket may have been deleted meanwhile.
    const bucket = this.buckets.get(bucketName);
    if (!bucket) {
      rmSync(got.file, { force: true });
      throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', {
        BucketName: bucketName,
      });
    }
    return this.commit(
      bucket,
      key,
      got.file,
      this.describe(got.size, `"${got.md5.toString('hex')}"`, opts),
      opts,
    );
  }

  /** Make `file` (a temporary file of this store's) the object `key`, with its size and ETag. */
  commitFile(
    bucketName: string,
    key: string,
    file: string,
    size: number,
    etag: string,
    opts: PutOptions,
  ): ObjectMeta {
    return this.commit(this.bucket(bucketName), key, file, this.describe(size, etag, opts), opts);
  }

  private describe(size: number, etag: string, opts: PutOptions): Omit<ObjectMeta, 'dataFile' | 'key'> {
    return {
      size,
      etag,
      lastModified: new Date().toISOString(),
      ...(opts.contentType ? { contentType: opts.contentType } : {}),
      ...(opts.headers && Object.keys(opts.headers).length ? { headers: opts.headers } : {}),
      ...(opts.userMetadata && Object.keys(opts.userMetadata).length
        ? { userMetadata: opts.userMetadata }
        : {}),
    };
  }

  /**
   * CopyObject: the source's bytes under a new key; metadata copied or replaced. The bytes are
   * copied off the event loop (a copy of hundreds of megabytes must not stall other requests).
   */
  async copy(
    src: { bucket: string; key: string },
    dest: { bucket: string; key: string },
    replace: PutOptions | undefined,
    conditions: PutOptions = {},
  ): Promise<ObjectMeta> {
    validateKey(dest.key);
    this.bucket(dest.bucket);
    const tmp = this.tempPath();
    for (let attempt = 0; ; attempt++) {
      const source = this.head(src.bucket, src.key);
      try {
        await copyFile(source.dataPath, tmp);
      } catch (err) {
        rmSync(tmp, { force: true });
        // The source was replaced while it was copied: copy what is there now.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw err;
      }
      const opts: PutOptions = replace ?? {
        contentType: source.contentType,
        headers: source.headers,
        userMetadata: source.userMetadata,
      };
      // The destination bucket may have been deleted meanwhile.
      const bucket = this.buckets.get(dest.bucket);
      if (!bucket) {
        rmSync(tmp, { force: true });
        this.bucket(dest.bucket);
      }
      return this.commit(bucket!, dest.key, tmp, this.describe(source.size, source.etag, opts), {
        ...opts,
        ...conditions,
      });
    }
  }

  /** Returns whether an object was there. */
  delete(bucketName: string, key: string): boolean {
    validateKey(key);
    const bucket = this.bucket(bucketName);
    const meta = bucket.objects.get(key);
    if (!meta) return false;
    const { dir, hash } = this.objectDir(bucketName, key);
    // Metadata first: a crash in between leaves an unreferenced data file, removed at start.
    rmSync(path.join(dir, `${hash}.json`), { force: true });
    rmSync(path.join(dir, meta.dataFile), { force: true });
    bucket.objects.delete(key);
    const i = lowerBound(bucket.sorted, key);
    if (bucket.sorted[i] === key) bucket.sorted.splice(i, 1);
    return true;
  }

  /**
   * Keys after `after` (exclusive) that start with `prefix`, in listing order, grouped by
   * `delimiter` like S3: calls `visit` with each key or common prefix until it returns false.
   */
  scan(
    bucketName: string,
    opts: { prefix: string; after?: string; delimiter?: string },
    visit: (item: { key: string; meta: ObjectMeta } | { commonPrefix: string }) => boolean,
  ): void {
    const bucket = this.bucket(bucketName);
    const { prefix, delimiter } = opts;
    const after = opts.after ?? '';
    let i =
      compareKeys(after, prefix) < 0 ? lowerBound(bucket.sorted, prefix) : lowerBound(bucket.sorted, after);
    const sorted = bucket.sorted;
    if (i < sorted.length && sorted[i] === after) i++;
    // A marker that is itself a common prefix skips the whole group.
    let group = delimiter && after.startsWith(prefix) && after.endsWith(delimiter) ? after : undefined;
    for (; i < sorted.length; i++) {
      const key = sorted[i];
      if (!key.startsWith(prefix)) {
        if (compareKeys(key, prefix) > 0) break;
        continue;
      }
      if (group !== undefined && key.startsWith(group)) continue;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          group = key.slice(0, at + delimiter.length);
          if (!visit({ commonPrefix: group })) return;
          continue;
        }
      }
      if (!visit({ key, meta: bucket.objects.get(key)! })) return;
    }
  }
}
