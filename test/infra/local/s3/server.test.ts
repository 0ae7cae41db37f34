/**
 * The local S3 server against hostile keys, odd requests and large buckets (issue 12): the real
 * server on a random port, spoken to by the AWS SDK and by raw HTTP (what curl or a browser sends).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { bucketNames, decodeEventKey } from '#functions/core/layout.js';
import { startLocalS3, type LocalS3 } from '#infra/local/s3/service.js';
import { compareKeys, FileObjectStore } from '#infra/local/s3/store.js';
import { folderChange } from '#test/support/folder-change.js';
import { tempDir } from '#test/support/videos.js';

const buckets = bucketNames('facerec');
let root: string;
let dataDir: string;
let s3: LocalS3;
let client: S3Client;
let events: Array<{ name: string; key: string; size?: number; eTag?: string }>;
let internalErrors: unknown[];

function sdk(extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...extra,
  });
}

async function start(): Promise<void> {
  events = [];
  internalErrors = [];
  s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: dataDir,
    buckets,
    onInputEvent: (e) => {
      for (const r of e.Records as Array<{
        eventName: string;
        s3: { object: { key: string; size?: number; eTag?: string } };
      }>) {
        events.push({
          name: r.eventName,
          key: decodeEventKey(r.s3.object.key),
          size: r.s3.object.size,
          eTag: r.s3.object.eTag,
        });
      }
    },
    onInternalError: (err) => internalErrors.push(err),
  });
  client = sdk();
}

beforeAll(async () => {
  root = tempDir('facerec-s3-');
  dataDir = path.join(root, 'data', 's3');
  await start();
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

/** A raw HTTP request, path sent byte for byte (no client-side normalisation of `..`). */
function raw(
  method: string,
  rawPath: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const url = new URL(s3.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        // A new connection each time: a kept-alive one may be closed by the server's idle timeout
        // just as a request reuses it (ECONNRESET under load).
        agent: false,
        port: url.port,
        method,
        path: rawPath,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const code = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

async function alive(): Promise<void> {
  const res = await client.send(new ListBucketsCommand({}));
  expect(res.Buckets?.map((b) => b.Name).sort()).toEqual(Object.values(buckets).sort());
}

describe('keys as S3 takes them, never as paths', () => {
  test('a 241-byte file name is stored, read and listed; the server stays up', async () => {
    const key = 'Z'.repeat(241);
    const put = await raw('PUT', `/${buckets.input}/${key}`, 'x');
    expect(put.status).toBe(200);
    const got = await raw('GET', `/${buckets.input}/${key}`);
    expect(got).toMatchObject({ status: 200, body: 'x' });
    await alive();
  });

  test('230-240-byte names all keep their metadata, and the bucket still lists', async () => {
    const keys = Array.from({ length: 11 }, (_, i) => `${'n'.repeat(226 + i)}.mp4`);
    for (const key of keys) {
      await client.send(
        new PutObjectCommand({ Bucket: buckets.stage1, Key: key, Body: key, ContentType: 'video/mp4' }),
      );
    }
    for (const key of keys) {
      const head = await client.send(new HeadObjectCommand({ Bucket: buckets.stage1, Key: key }));
      expect(head).toMatchObject({ ContentLength: Buffer.byteLength(key), ContentType: 'video/mp4' });
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: buckets.stage1 }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(expect.arrayContaining(keys));
  });

  test('keys up to 1,024 UTF-8 bytes work; longer ones get KeyTooLongError', async () => {
    const longest = 'é'.repeat(512); // 1,024 bytes
    await client.send(new PutObjectCommand({ Bucket: buckets.stage1, Key: longest, Body: 'ok' }));
    const got = await client.send(new GetObjectCommand({ Bucket: buckets.stage1, Key: longest }));
    expect(await got.Body!.transformToString()).toBe('ok');
    await expect(
      client.send(new PutObjectCommand({ Bucket: buckets.stage1, Key: `${longest}x`, Body: 'no' })),
    ).rejects.toMatchObject({ name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });
    const rawPut = await raw('PUT', `/${buckets.stage1}/${'Z'.repeat(1025)}`, 'no');
    expect([rawPut.status, code(rawPut.body)]).toEqual([400, 'KeyTooLongError']);
    await alive();
  });

  test('`..%2f..%2foutside`: GET, PUT and a browser form POST never leave the bucket', async () => {
    const before = filesUnder(root);
    const outside = path.join(root, 'outside');
    expect((await raw('GET', `/${buckets.input}/..%2f..%2foutside`)).status).toBe(404);
    const put = await raw('PUT', `/${buckets.input}/..%2f..%2foutside`, 'payload');
    expect(put.status).toBe(200);
    // The key is the decoded text, kept as data.
    const got = await client.send(new GetObjectCommand({ Bucket: buckets.input, Key: '../../outside' }));
    expect(await got.Body!.transformToString()).toBe('payload');
    expect((await raw('GET', `/${buckets.input}/..%2f..%2foutside`)).body).toBe('payload');
    // What an unauthenticated web page can send to 127.0.0.1: refused, nothing written.
    const boundary = 'XyZ';
    const form =
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n../../outside-post\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nevil\r\n--${boundary}--\r\n`;
    for (const target of [`/${buckets.input}`, `/${buckets.input}/..%2f..%2foutside`, `/..%2f..%2f`]) {
      const post = await raw('POST', target, form, {
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        Origin: 'http://evil.example',
      });
      expect(post.status).toBeGreaterThanOrEqual(400);
    }
    // Unnormalised dot segments in the path are key characters too.
    expect((await raw('PUT', `/${buckets.input}/../../outside-raw`, 'raw')).status).toBe(200);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(path.join(root, 'outside-raw'))).toBe(false);
    const added = filesUnder(root).filter((f) => !before.includes(f));
    expect(added.length).toBeGreaterThan(0);
    for (const f of added) expect(f.startsWith(path.join('data', 's3', buckets.input) + path.sep)).toBe(true);
    await alive();
  });

  test('`../../../escape3.mp4` and `../escape.mp4` are keys of the input bucket, not new buckets', async () => {
    events.length = 0;
    for (const key of ['../../../escape3.mp4', '../escape.mp4']) {
      await client.send(new PutObjectCommand({ Bucket: buckets.input, Key: key, Body: Buffer.from(key) }));
    }
    expect(events.map((e) => e.key)).toEqual(['../../../escape3.mp4', '../escape.mp4']);
    expect(events[0]).toMatchObject({
      name: 'ObjectCreated:Put',
      size: 20,
      eTag: createHash('md5').update('../../../escape3.mp4').digest('hex'),
    });
    await alive(); // no bucket `escape`
    expect(existsSync(path.join(dataDir, 'escape'))).toBe(false);
    expect(readdirSync(path.dirname(dataDir))).toEqual(['s3']);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: buckets.input, Prefix: '../' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual([
      '../../../escape3.mp4',
      '../../outside',
      '../../outside-raw',
      '../escape.mp4',
    ]);
  });

  test('malformed requests get S3 errors and end nothing', async () => {
    expect(code((await raw('GET', `/${buckets.input}/bad%ZZ`)).body)).toBe('InvalidURI');
    expect(code((await raw('GET', `/${buckets.input}/bad%FF`)).body)).toBe('InvalidURI');
    expect(code((await raw('GET', `/${buckets.input}/lone%ED%A0%80`)).body)).toBe('InvalidURI');
    expect(code((await raw('GET', '/no-such-bucket/x')).body)).toBe('NoSuchBucket');
    expect(code((await raw('PUT', '/Bad_Bucket', '')).body)).toBe('InvalidBucketName');
    expect(code((await raw('GET', `/${buckets.input}?list-type=2&continuation-token=garbage`)).body)).toBe(
      'InvalidArgument',
    );
    expect(code((await raw('GET', `/${buckets.input}?max-keys=-1`)).body)).toBe('InvalidArgument');
    expect(code((await raw('PUT', `/${buckets.input}/x?partNumber=1&uploadId=nope`, 'x')).body)).toBe(
      'NoSuchUpload',
    );
    expect(code((await raw('POST', `/${buckets.input}?delete`, '<Delete><Object>')).body)).toBe(
      'MalformedXML',
    );
    // Not HTTP at all, then an upload cut off half way.
    const url = new URL(s3.url);
    await new Promise<void>((resolve) => {
      const sock = net.connect(Number(url.port), url.hostname, () =>
        sock.end('\u0000\u0001 GARBAGE\r\n\r\n'),
      );
      sock.resume();
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    const tmp = path.join(dataDir, '.tmp');
    const storing = folderChange(tmp, 'the server to start storing cut.mp4 in .tmp');
    const cut = net.connect(Number(url.port), url.hostname, () =>
      cut.write(
        `PUT /${buckets.input}/cut.mp4 HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(1000)}`,
      ),
    );
    const closed = new Promise<void>((resolve) => {
      cut.on('close', () => resolve());
      cut.on('error', () => resolve());
    });
    // Cut off once the server is storing the body (its file in .tmp), then wait for it to give up.
    await storing;
    const removed = folderChange(
      tmp,
      'the server to remove the cut-off upload',
      () => !filesUnder(tmp).length,
    );
    cut.destroy();
    await closed;
    await removed;
    await expect(
      client.send(new HeadObjectCommand({ Bucket: buckets.input, Key: 'cut.mp4' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    expect(filesUnder(path.join(dataDir, '.tmp'))).toEqual([]);
    await alive();
    expect(internalErrors).toEqual([]);
  });

  test('a web page reaching 127.0.0.1 through its own name (DNS rebinding) is refused', async () => {
    const res = await raw('GET', `/${buckets.input}?list-type=2`, undefined, { Host: 'evil.example:80' });
    expect([res.status, code(res.body)]).toEqual([403, 'AccessDenied']);
    expect(
      (await raw('GET', `/${buckets.input}?list-type=2`, undefined, { Host: 'localhost:9' })).status,
    ).toBe(200);
  });

  test('one process at a time serves a data folder; a dead owner (kill -9) is taken over', () => {
    const owner = path.join(dataDir, '.owner');
    expect(JSON.parse(readFileSync(owner, 'utf8'))).toMatchObject({ pid: process.pid });
    const other = tempDir('facerec-s3-owner-');
    writeFileSync(path.join(other, '.owner'), JSON.stringify({ pid: process.ppid }));
    expect(() => new FileObjectStore(other)).toThrow(/in use by process/);
    writeFileSync(path.join(other, '.owner'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
    expect(() => new FileObjectStore(other)).not.toThrow();
  });

  test('a restart after a crash mid-write keeps committed objects and removes the debris', async () => {
    client.destroy();
    await s3.close();
    const store = new FileObjectStore(dataDir);
    await store.put(buckets.output, 'kept.txt', Readable.from([Buffer.from('kept')]));
    const meta = store.head(buckets.output, 'kept.txt');
    // What a kill -9 leaves: a temporary upload, and the bytes of a write whose metadata never landed.
    writeFileSync(path.join(dataDir, '.tmp', 'abc.part'), 'half');
    writeFileSync(path.join(path.dirname(meta.dataPath), `${'0'.repeat(64)}.feed.data`), 'orphan');
    await start();
    const got = await client.send(new GetObjectCommand({ Bucket: buckets.output, Key: 'kept.txt' }));
    expect(await got.Body!.transformToString()).toBe('kept');
    expect(filesUnder(path.join(dataDir, '.tmp'))).toEqual([]);
    expect(existsSync(path.join(path.dirname(meta.dataPath), `${'0'.repeat(64)}.feed.data`))).toBe(false);
  });
});

describe('S3 features the SDK and CLI use', () => {
  test('streamed bodies with aws-chunked checksums arrive intact (SDK defaults)', async () => {
    const c = sdk(); // default checksum settings: CRC32 trailers, aws-chunked encoding
    const bytes = Buffer.alloc(200_000, 7);
    bytes.write('start');
    await c.send(
      new PutObjectCommand({
        Bucket: buckets.stage1,
        Key: 'chunked.bin',
        Body: Readable.from([bytes]),
        ContentLength: bytes.length,
      }),
    );
    const got = await c.send(new GetObjectCommand({ Bucket: buckets.stage1, Key: 'chunked.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    const range = await c.send(
      new GetObjectCommand({ Bucket: buckets.stage1, Key: 'chunked.bin', Range: 'bytes=0-4' }),
    );
    expect(await range.Body!.transformToString()).toBe('start');
    c.destroy();
  });

  test('multipart upload, copy, conditional writes and batch delete; events for the input bucket', async () => {
    events.length = 0;
    const key = 'big video ✓.mp4';
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: buckets.input, Key: key, ContentType: 'video/mp4' }),
    );
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.from('tail');
    const e1 = await client.send(
      new UploadPartCommand({ Bucket: buckets.input, Key: key, UploadId, PartNumber: 1, Body: part1 }),
    );
    const e2 = await client.send(
      new UploadPartCommand({ Bucket: buckets.input, Key: key, UploadId, PartNumber: 2, Body: part2 }),
    );
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: buckets.input,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    expect(done.ETag).toMatch(/-2"$/);
    const head = await client.send(new HeadObjectCommand({ Bucket: buckets.input, Key: key }));
    expect(head).toMatchObject({
      ContentLength: part1.length + 4,
      ContentType: 'video/mp4',
      ETag: done.ETag,
    });
    expect(events).toEqual([
      {
        name: 'ObjectCreated:CompleteMultipartUpload',
        key,
        size: part1.length + 4,
        eTag: done.ETag!.slice(1, -1),
      },
    ]);

    await client.send(
      new CopyObjectCommand({
        Bucket: buckets.input,
        Key: 'copy of.mp4',
        CopySource: `${buckets.input}/${encodeURIComponent(key)}`,
      }),
    );
    expect(events[1]).toMatchObject({ name: 'ObjectCreated:Copy', key: 'copy of.mp4' });

    await expect(
      client.send(
        new PutObjectCommand({ Bucket: buckets.output, Key: 'once.txt', Body: 'a', IfNoneMatch: '*' }),
      ),
    ).resolves.toBeDefined();
    await expect(
      client.send(
        new PutObjectCommand({ Bucket: buckets.output, Key: 'once.txt', Body: 'b', IfNoneMatch: '*' }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(
      client.send(new GetObjectCommand({ Bucket: buckets.output, Key: 'once.txt', IfMatch: '"nope"' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });

    const del = await client.send(
      new DeleteObjectsCommand({
        Bucket: buckets.input,
        Delete: { Objects: [{ Key: key }, { Key: 'copy of.mp4' }] },
      }),
    );
    expect(del.Deleted?.map((d) => d.Key).sort()).toEqual(['big video ✓.mp4', 'copy of.mp4']);
    expect(events).toHaveLength(2); // deletions are not forwarded to the starter
  });
});

describe('listings past 1,000 objects', () => {
  const bucket = 'many-objects';
  const keys: string[] = [];

  beforeAll(async () => {
    // Written by the store while the server is down, then found by the server at start (a restart).
    client.destroy();
    await s3.close();
    const store = new FileObjectStore(dataDir);
    store.createBucket(bucket);
    for (let i = 0; i < 2_345; i++) {
      const key =
        i % 3 === 0
          ? `dir-${i % 7}/frame-${String(i).padStart(5, '0')}.jpg`
          : `video-${String(i).padStart(5, '0')}${i % 50 === 0 ? '-ü😀' : ''}.txt`;
      keys.push(key);
      await store.put(bucket, key, Readable.from([Buffer.from(key)]));
    }
    keys.sort(compareKeys);
    await start();
  });

  test('ListObjectsV2 pages with continuation tokens through every key, in S3 order', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
      pages++;
      expect(page.KeyCount).toBeLessThanOrEqual(1000);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
    const small = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 10, StartAfter: keys[100] }),
    );
    expect(small.Contents?.map((c) => c.Key)).toEqual(keys.slice(101, 111));
  });

  test('ListObjects (v1) pages with markers; delimiters group prefixes across pages', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Marker: marker }));
      const got = (page.Contents ?? []).map((c) => c.Key!);
      seen.push(...got);
      if (!page.IsTruncated) break;
      marker = page.NextMarker ?? got.at(-1);
    }
    expect(seen).toEqual(keys);

    const grouped: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 40, ContinuationToken: token }),
      );
      grouped.push(...(page.Contents ?? []).map((c) => c.Key!));
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.NextContinuationToken;
    } while (token);
    expect(prefixes).toEqual(Array.from({ length: 7 }, (_, i) => `dir-${i}/`));
    expect(grouped).toEqual(keys.filter((k) => !k.includes('/')));
  });

  test('a restart keeps every object and no stray file', () => {
    const shardFiles = filesUnder(path.join(dataDir, bucket));
    expect(shardFiles.filter((f) => f.endsWith('.json'))).toHaveLength(keys.length);
    expect(shardFiles.filter((f) => f.endsWith('.data'))).toHaveLength(keys.length);
    for (const f of shardFiles) expect(path.basename(f).length).toBeLessThan(100);
    expect(statSync(dataDir).isDirectory()).toBe(true);
    mkdirSync(path.join(root, 'unused'), { recursive: true });
  });
});

describe('S3 deviations (issue 21, finding 9)', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;

  test('a malformed multi-delete document deletes nothing: MalformedXML', async () => {
    await client.send(new PutObjectCommand({ Bucket: buckets.output, Key: 'keep.txt', Body: 'x' }));
    for (const body of [
      '<Delete><Object><Key>keep.txt</Key></Object>', // never closed
      '<Delete><Object><Key>keep.txt</Key></Object></Delete><junk>', // a second root
      '<Delete><Object><Key>keep.txt</Key></Object></Other>', // mismatched end tag
      '<Delete><Object><Key>keep.txt</Key></Object><Object><Key>a & b</Key></Object></Delete>', // bare &
      'garbage<Delete><Object><Key>keep.txt</Key></Object></Delete>', // text before the root
    ]) {
      const res = await raw('POST', `/${buckets.output}?delete`, body);
      expect([body, res.status, code(res.body)]).toEqual([body, 400, 'MalformedXML']);
    }
    const head = await client.send(new HeadObjectCommand({ Bucket: buckets.output, Key: 'keep.txt' }));
    expect(head.ContentLength).toBe(1);
    // A well-formed one still deletes (declaration, namespace, comments, self-closed Quiet).
    const ok = await raw(
      'POST',
      `/${buckets.output}?delete`,
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>keep.txt</Key></Object></Delete>',
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<Deleted><Key>keep.txt</Key></Deleted>');
  });

  test('response-content-type with CR/LF or past Latin-1: InvalidArgument, no trace, no descriptor left open', async () => {
    await client.send(new PutObjectCommand({ Bucket: buckets.output, Key: 'hdr.txt', Body: 'x' }));
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      const value = i % 2 ? 'text/plain%0D%0AX-Injected:%201' : 'text/%E2%82%AC';
      const res = await raw('GET', `/${buckets.output}/hdr.txt?response-content-type=${value}`);
      expect([res.status, code(res.body)]).toEqual([400, 'InvalidArgument']);
      expect(res.headers['x-injected']).toBeUndefined();
    }
    expect(openFds()).toBeLessThan(before + 20);
    expect(internalErrors).toEqual([]);
    const fine = await raw('GET', `/${buckets.output}/hdr.txt?response-content-type=text/csv`);
    expect([fine.status, fine.headers['content-type']]).toEqual([200, 'text/csv']);
  });

  test('a Content-MD5 that is not base64 of 16 bytes: InvalidDigest (a wrong one stays BadDigest)', async () => {
    const bad = await raw('PUT', `/${buckets.output}/md5.txt`, 'hello', { 'Content-MD5': 'not-base64!!' });
    expect([bad.status, code(bad.body)]).toEqual([400, 'InvalidDigest']);
    const wrong = await raw('PUT', `/${buckets.output}/md5.txt`, 'hello', {
      'Content-MD5': createHash('md5').update('other').digest('base64'),
    });
    expect([wrong.status, code(wrong.body)]).toEqual([400, 'BadDigest']);
    const right = await raw('PUT', `/${buckets.output}/md5.txt`, 'hello', {
      'Content-MD5': createHash('md5').update('hello').digest('base64'),
    });
    expect(right.status).toBe(200);
  });

  test('max-keys=0: an empty page that is not truncated', async () => {
    await client.send(new PutObjectCommand({ Bucket: buckets.output, Key: 'mk.txt', Body: 'x' }));
    for (const q of ['list-type=2&max-keys=0', 'max-keys=0']) {
      const res = await raw('GET', `/${buckets.output}?${q}`);
      expect(res.status).toBe(200);
      expect(res.body).toContain('<IsTruncated>false</IsTruncated>');
      expect(res.body).not.toContain('<Contents>');
    }
  });

  test("the stack's buckets cannot be deleted (every later video would fail); others can", async () => {
    for (const b of Object.values(buckets)) {
      const res = await raw('DELETE', `/${b}`);
      expect([b, res.status, code(res.body)]).toEqual([b, 403, 'AccessDenied']);
    }
    expect((await raw('PUT', '/scratch-bucket', '')).status).toBe(200);
    expect((await raw('DELETE', '/scratch-bucket')).status).toBe(204);
    const listed = await client.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toEqual(expect.arrayContaining(Object.values(buckets)));
  });

  test('large CopyObjects do not stall other requests', async () => {
    const big = Buffer.alloc(160 * 1024 * 1024, 7);
    await client.send(new PutObjectCommand({ Bucket: buckets.output, Key: 'big.bin', Body: big }));
    await client.send(new PutObjectCommand({ Bucket: buckets.output, Key: 'small.txt', Body: 'x' }));
    const t0 = performance.now();
    const copied: number[] = [];
    const copying = folderChange(path.join(dataDir, '.tmp'), 'a copy to start writing into .tmp');
    const copies = [0, 1, 2].map((i) =>
      client
        .send(
          new CopyObjectCommand({
            Bucket: buckets.output,
            Key: `big-${i}.bin`,
            CopySource: `${buckets.output}/big.bin`,
          }),
        )
        .then(() => copied.push(performance.now() - t0)),
    );
    // Sent once the copies are under way (writing into .tmp): answered while they run (a
    // synchronous copy held every request behind it until it was done).
    await copying;
    await client.send(new HeadObjectCommand({ Bucket: buckets.output, Key: 'small.txt' }));
    const headMs = performance.now() - t0;
    await Promise.all(copies);
    expect(headMs).toBeLessThan(Math.min(...copied));
    for (const i of [0, 1, 2]) {
      const h = await client.send(new HeadObjectCommand({ Bucket: buckets.output, Key: `big-${i}.bin` }));
      expect(h.ContentLength).toBe(big.length);
    }
    await client.send(
      new DeleteObjectsCommand({
        Bucket: buckets.output,
        Delete: { Objects: ['big.bin', 'big-0.bin', 'big-1.bin', 'big-2.bin'].map((Key) => ({ Key })) },
      }),
    );
  }, 60_000);
});
