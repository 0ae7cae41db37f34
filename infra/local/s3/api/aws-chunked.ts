/**
 * The `aws-chunked` content encoding: how SDKs send streaming uploads with checksums or chunk
 * signatures. The server strips it before the store hashes the bytes.
 */
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Decodes an `aws-chunked` request body:
 * `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0…\r\n<trailers>\r\n`.
 */
export class AwsChunkedDecoder extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private remaining = -1;
  private done = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.done) return callback();
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      for (;;) {
        if (this.remaining < 0) {
          const eol = this.buffer.indexOf('\r\n');
          if (eol < 0) {
            if (this.buffer.length > 4096) throw new Error('chunk header too long');
            break;
          }
          const header = this.buffer.subarray(0, eol).toString('latin1');
          const size = parseInt(header.split(';')[0], 16);
          if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(header.split(';')[0])) {
            throw new Error('bad chunk header');
          }
          this.buffer = this.buffer.subarray(eol + 2);
          if (size === 0) {
            this.done = true; // trailers (checksums) follow: not needed, the store hashes itself
            this.buffer = Buffer.alloc(0);
            break;
          }
          this.remaining = size;
        }
        if (this.buffer.length === 0) break;
        if (this.remaining > 0) {
          const take = Math.min(this.remaining, this.buffer.length);
          this.push(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          this.remaining -= take;
        }
        if (this.remaining === 0) {
          if (this.buffer.length < 2) break;
          if (this.buffer[0] !== 13 || this.buffer[1] !== 10) throw new Error('missing chunk terminator');
          this.buffer = this.buffer.subarray(2);
          this.remaining = -1;
        }
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.done ? null : new Error('aws-chunked body ended early'));
  }
}

/** The decoded bytes of a whole (small) aws-chunked body held in memory. */
export async function decodeAwsChunked(body: Buffer): Promise<Buffer> {
  const decoder = new AwsChunkedDecoder();
  const parts: Buffer[] = [];
  decoder.on('data', (b: Buffer) => parts.push(b));
  await new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
    decoder.end(body);
  });
  return Buffer.concat(parts);
}
