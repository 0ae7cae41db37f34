/** The aws-chunked decoding of streamed SDK uploads, without a server. */
import { AwsChunkedDecoder, decodeAwsChunked } from '#infra/local/s3/api/aws-chunked.js';

const encode = (parts: string[], trailer = 'x-amz-checksum-crc32:AAAAAA==\r\n') =>
  parts.map((p) => `${Buffer.byteLength(p).toString(16)};chunk-signature=abc\r\n${p}\r\n`).join('') +
  `0\r\n${trailer}\r\n`;

/** Feeds the decoder `step` bytes at a time (headers and terminators split across writes). */
async function decodeInSteps(body: Buffer, step: number): Promise<Buffer> {
  const decoder = new AwsChunkedDecoder();
  const out: Buffer[] = [];
  decoder.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  for (let i = 0; i < body.length; i += step) decoder.write(body.subarray(i, i + step));
  decoder.end();
  await done;
  return Buffer.concat(out);
}

describe('aws-chunked bodies', () => {
  it('yields the payload without sizes, signatures or trailers', async () => {
    const body = Buffer.from(encode(['hello ', 'wörld', 'x'.repeat(5000)]));
    const want = `hello wörld${'x'.repeat(5000)}`;
    expect((await decodeAwsChunked(body)).toString()).toBe(want);
    for (const step of [1, 2, 3, 7, 4096]) expect((await decodeInSteps(body, step)).toString()).toBe(want);
  });

  it('refuses a bad size, a missing terminator and a body that ends early', async () => {
    await expect(decodeAwsChunked(Buffer.from('zz\r\nabc\r\n0\r\n\r\n'))).rejects.toThrow('bad chunk header');
    await expect(decodeAwsChunked(Buffer.from('3\r\nabcX\r\n0\r\n\r\n'))).rejects.toThrow(
      'missing chunk terminator',
    );
    await expect(decodeAwsChunked(Buffer.from('5\r\nabc'))).rejects.toThrow('ended early');
    await expect(decodeAwsChunked(Buffer.alloc(5000, 0x41))).rejects.toThrow('chunk header too long');
  });
});
