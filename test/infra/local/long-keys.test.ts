/**
 * Issue 21, finding 3: input keys of 1,014-1,024 bytes were accepted, but the keys derived from
 * them (stage-1 frames, `<stem>.txt`, `errors/<stem>.json`) passed S3's 1,024 bytes: an `internal`
 * error record, or no answer at all. On the local stack (real S3 server, starter, result function;
 * a stand-in splitter that stores its one frame under the real stage-1 key), every such upload
 * gets its answer, under keys of at most 1,024 bytes.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '#functions/aws/clients.js';
import { listAll } from '#functions/aws/s3.js';
import { loadConfig } from '#functions/config.js';
import { frameKey, MAX_KEY_BYTES, outputKeys, videoStem } from '#functions/core/layout.js';
import { closeTarget, localTarget } from '#cli/lib/target.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { standInRecognition } from '#test/support/stand-in-functions.js';
import { tempDir } from '#test/support/videos.js';

let stack: LocalStack;
let splitterS3: S3Client | undefined;

beforeAll(async () => {
  const env = quietLocalStackEnv(tempDir('facerec-long-keys-'));
  const config = loadConfig(env as NodeJS.ProcessEnv);
  stack = await startLocalStack({
    env,
    recover: false,
    handlers: {
      splitter: async (event: unknown) => {
        const { video } = event as { video: { bucket: string; key: string } };
        const stem = videoStem(video.key);
        const key = frameKey('default', stem, 'frame-0000.jpg');
        splitterS3 ??= s3Client(stack.config.pipeline.aws);
        await splitterS3.send(
          new PutObjectCommand({ Bucket: config.pipeline.buckets.stage1, Key: key, Body: 'jpeg' }),
        );
        return {
          video: { bucket: video.bucket, key: video.key, stem },
          frameBucket: config.pipeline.buckets.stage1,
          frameCount: 1,
          batches: [[key]],
          split: {
            profile: 'default',
            ffmpeg: 'stand-in',
            timings: { downloadMs: 0, ffmpegMs: 0, uploadMs: 0, totalMs: 0 },
          },
        };
      },
      recognition: standInRecognition,
    },
  });
});

afterAll(async () => {
  splitterS3?.destroy();
  await stack.stop();
});

/** An input key of exactly `bytes` bytes (in a folder, ending .mp4, with 2- and 3-byte characters). */
const keyOf = (bytes: number, tag: string) => {
  const head = `long/${tag}-é€-`;
  return `${head}${'k'.repeat(bytes - Buffer.byteLength(head) - 4)}.mp4`;
};

test('inputs keys of 1,010 to 1,024 bytes: each answered, every derived key within 1,024 bytes', async () => {
  const t = localTarget(stack.info);
  try {
    const sizes = [1010, 1013, 1014, 1016, 1017, 1020, 1024];
    const inputs = sizes.map((n, i) => keyOf(n, String.fromCharCode(97 + i)));
    for (const k of inputs) expect(Buffer.byteLength(k)).toBeLessThanOrEqual(MAX_KEY_BYTES);
    for (const key of inputs) {
      await t.s3.send(
        new PutObjectCommand({ Bucket: t.buckets.input, Key: key, Body: 'video', ContentType: 'video/mp4' }),
      );
    }
    await stack.idle();
    const executions = stack.sfn.listExecutions();
    expect(executions.map((e) => [e.status, e.error])).toEqual(inputs.map(() => ['SUCCEEDED', undefined]));
    const outputs = (await listAll(t.s3, t.buckets.output)).map((o) => o.Key!);
    const frames = (await listAll(t.s3, t.buckets.stage1)).map((o) => o.Key!);
    for (const key of [...outputs, ...frames])
      expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_KEY_BYTES);
    // Each input's answer is where outputKeys says (what facerec run, grade and reconcile read).
    for (const key of inputs) expect(outputs).toContain(outputKeys(videoStem(key)).text);
    // Short enough stems are used as they are; longer ones shortened, all distinct.
    expect(outputs).toContain(`${videoStem(inputs[0])}.txt`);
    expect(new Set(outputs.filter((k) => k.endsWith('.txt'))).size).toBe(inputs.length);
    expect(outputs.filter((k) => k.startsWith('errors/'))).toEqual([]);
  } finally {
    closeTarget(t);
  }
}, 60_000);
