/**
 * Issue 21, findings 1 and 2: the moments recovery used to miss. A local stack (real starter, Step
 * Functions service, journal, result function; stand-in splitter and recognition whose "person" is
 * the uploaded content) ends (kill -9 of a child process, or a stop in this process) and a new one
 * starts at once on the same data folder.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { tempDir } from '#test/support/videos.js';
import { s3Client } from '#functions/aws/clients.js';
import { loadConfig } from '#functions/config.js';
import { closeTarget, localTarget } from '#cli/lib/target.js';
import { startLocalStack } from '#infra/local/stack.js';
import { executions, killChildren, startChild, text } from '#test/support/crash-child.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { contentRecognition, contentSplitter } from '#test/support/stand-in-functions.js';

afterAll(killChildren);

const INPUT = 'facerec-input';
const OUTPUT = 'facerec-output';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const put = (s3: S3Client, key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: INPUT, Key: key, Body: body, ContentType: 'video/mp4' }));

async function until<T>(what: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const v = await what();
    if (v !== undefined) return v;
  }
  throw new Error('timed out waiting');
}

test('finding 1: kill -9 right after a key is re-uploaded: the newest upload is answered', async () => {
  const dir = tempDir('facerec-crash-reupload-');
  // The first upload's event starts its execution (held in a 60 s splitter); the re-upload's event
  // is still in the starter at the kill.
  const first = await startChild(dir, {
    CRASH_CONTENT: '1',
    CRASH_SPLIT_MS: '60000',
    CRASH_SLOW_STARTER_AFTER: '1',
  });
  await put(first.s3, 'clip.mp4', 'Biden');
  await until(async () =>
    (await executions(first.sfn, first.ready.stateMachineArn)).some((e) => e.status === 'RUNNING')
      ? true
      : undefined,
  );
  await put(first.s3, 'clip.mp4', 'Freeman');
  await first.kill();

  const second = await startChild(dir, { CRASH_CONTENT: '1', CRASH_SPLIT_MS: '20' });
  try {
    expect(second.ready.resumed).toHaveLength(1); // Biden's execution, re-run: it ends superseded
    expect(second.ready.reconciled).toEqual(['clip.mp4']); // Freeman, whose event was lost
    expect(await until(() => text(second.s3, OUTPUT, 'clip.txt'))).toBe('Freeman');
  } finally {
    await second.stop();
  }
}, 90_000);

test('finding 2: the stack stops right after uploads are acknowledged, the next one starts at once: every one is answered', async () => {
  // In this process, so that the next stack starts within a second of the last upload (a child
  // process takes longer than that just to load its modules on a loaded machine).
  const env = { ...quietLocalStackEnv(tempDir('facerec-fresh-')), FACEREC_PROFILE: 'cse546-p2' };
  const never = () => new Promise<never>(() => undefined); // the starter: the events die with the stack
  const first = await startLocalStack({ env, handlers: { starter: never } });
  const t = localTarget(first.info);
  const keys = Array.from({ length: 10 }, (_, i) => `fresh_${i}.mp4`);
  await Promise.all(keys.map((key) => put(t.s3, key, `person_${key.slice(6, 7)}`)));
  closeTarget(t);
  await first.stop();

  // The recovered executions run before startLocalStack returns: the endpoint comes from the config.
  const config = loadConfig(env as NodeJS.ProcessEnv);
  let splitterS3: S3Client | undefined;
  let endpoint: (url: string) => void = () => undefined;
  const s3Url = new Promise<string>((r) => (endpoint = r));
  const second = await startLocalStack({
    env,
    handlers: {
      splitter: contentSplitter({
        splitMs: 0,
        frameBucket: 'facerec-stage-1',
        s3: async () =>
          (splitterS3 ??= s3Client({
            ...config.pipeline.aws,
            s3Endpoint: await s3Url,
            s3ForcePathStyle: true,
          })),
      }),
      recognition: contentRecognition,
    },
  });
  endpoint(second.info.s3Endpoint);
  const u = localTarget(second.info);
  try {
    expect(second.recovery.reconcile?.started.map((s) => s.key).sort()).toEqual(keys);
    await second.idle();
    for (const key of keys)
      expect(await text(u.s3, OUTPUT, key.replace('.mp4', '.txt'))).toBe(`person_${key.slice(6, 7)}`);
  } finally {
    closeTarget(u);
    splitterS3?.destroy();
    await second.stop();
  }
}, 90_000);
