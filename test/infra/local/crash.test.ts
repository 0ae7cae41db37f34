/**
 * Issue 12, "kill -9 after 29 of 50 videos, restart on the same data: 21 in-flight videos never
 * processed, nobody told; execution history lost". A child process runs the local stack (real
 * starter, Step Functions service, journal, result function; stand-in splitter and recognition);
 * uploads go in, the child is killed with SIGKILL mid-run (executions running, S3 events not yet
 * handled), a new child starts on the same data folder, and every upload must end with an output,
 * without uploading again, each by one execution, with the history of before the crash listed.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { tempDir } from '#test/support/videos.js';
import { executions, keys, killChildren, startChild } from '#test/support/crash-child.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clients = (c: { s3: S3Client; sfn: SFNClient }) => c;

afterAll(killChildren);

test('kill -9 mid-run, restart on the same data: every upload answered once, history kept', async () => {
  const dir = tempDir('facerec-crash-');
  const N = 10;
  const videos = Array.from({ length: N }, (_, i) => `clip_${String(i).padStart(2, '0')}.mp4`);
  const late = ['late_0.mp4', 'late_1.mp4']; // their S3 events are still in the starter at the kill

  // 1. First stack: one splitter slot, 250 ms per video.
  const first = await startChild(dir, { CRASH_SPLIT_MS: '250', CRASH_SLOW_STARTER_PREFIX: 'late_' });
  let c = clients(first);
  const out = 'facerec-output';
  for (const key of [...videos, ...late]) {
    await c.s3.send(
      new PutObjectCommand({
        Bucket: 'facerec-input',
        Key: key,
        Body: `video ${key}`,
        ContentType: 'video/mp4',
      }),
    );
  }
  let before: string[] = [];
  for (let i = 0; i < 200 && before.length < 3; i++) {
    await sleep(50);
    before = (await keys(c.s3, out)).filter((k) => k.endsWith('.txt'));
  }
  expect(before.length).toBeGreaterThanOrEqual(3);
  const running = (await executions(c.sfn, first.ready.stateMachineArn)).filter(
    (e) => e.status === 'RUNNING',
  );
  expect(running.length).toBeGreaterThan(0);
  await first.kill();

  // 2. Second stack on the same folder: nothing uploaded again.
  const second = await startChild(dir, { CRASH_SPLIT_MS: '20' });
  expect(second.ready.reconcileError).toBeUndefined();
  c = clients(second);
  let answered: string[] = [];
  for (let i = 0; i < 400; i++) {
    answered = (await keys(c.s3, out)).filter((k) => k.endsWith('.txt'));
    if (answered.length >= N + late.length) break;
    await sleep(50);
  }
  const expected = [...videos, ...late].map((k) => k.replace(/\.mp4$/, '.txt')).sort();
  if (answered.length < expected.length) {
    const ex = await executions(c.sfn, second.ready.stateMachineArn);
    const ds = await Promise.all(
      ex.map((e) => c.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))),
    );
    console.log(
      JSON.stringify(
        { ready: second.ready, ds: ds.map((d) => [d.name, d.status, d.error, d.cause, d.output]) },
        null,
        1,
      ),
    );
  }
  expect(answered).toEqual(expected);
  for (const key of expected) {
    const body = await c.s3.send(new GetObjectCommand({ Bucket: out, Key: key }));
    expect(await body.Body!.transformToString()).toBe(`Person-${key.replace(/\.txt$/, '')}`);
  }
  expect(await keys(c.s3, 'facerec-input')).toEqual([...videos, ...late].sort());
  expect((await keys(c.s3, out)).filter((k) => k.startsWith('errors/'))).toEqual([]);

  // What the restart did: the running executions re-run (same names), the lost events started.
  expect(second.ready.resumed.sort()).toEqual(running.map((e) => e.name!).sort());
  expect(second.ready.reconciled).toEqual(late);

  // One execution per upload, all succeeded; the ones finished before the kill still listed.
  for (let i = 0; i < 100; i++) {
    if ((await executions(c.sfn, second.ready.stateMachineArn)).every((e) => e.status !== 'RUNNING')) break;
    await sleep(50);
  }
  const all = await executions(c.sfn, second.ready.stateMachineArn);
  expect(all.map((e) => e.status)).toEqual(all.map(() => 'SUCCEEDED'));
  const inputs = await Promise.all(
    all.map(async (e) => {
      const d = await c.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      return (JSON.parse(d.input!) as { key: string }).key;
    }),
  );
  expect(inputs.sort()).toEqual([...videos, ...late].sort());
  const redriven = all.filter((e) => e.redriveCount);
  expect(redriven.map((e) => e.name).sort()).toEqual(running.map((e) => e.name!).sort());
  const h = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn: redriven[0].executionArn }));
  const types = (h.events ?? []).map((e) => e.type);
  expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
  expect(types).toContain('ExecutionRedriven');
  expect(types.at(-1)).toBe('ExecutionSucceeded');

  await second.stop();
}, 60_000);
