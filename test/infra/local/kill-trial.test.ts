/**
 * Issue 21: "no acknowledged upload lost, at any moment". The local stack (real S3 server, starter,
 * Step Functions service, journal and result function; stand-in splitter and recognition whose
 * "person" is the uploaded content) in a child process is killed with SIGKILL at 20 random moments
 * during a 100-upload run with re-uploads of some keys, restarted at once each time: every key
 * ends answered with its newest content, no upload has two executions (bench/kill-trial.ts).
 */
import { runKillTrial, seeded, trialUploads } from '#bench/kill-trial.js';
import { killChildren, startChild } from '#test/support/crash-child.js';
import { tempDir } from '#test/support/videos.js';

afterAll(killChildren);

test('kill -9 at 20 random moments of a 100-upload run with re-uploads: every key answered by its newest content, 0 duplicates', async () => {
  const dir = tempDir('facerec-kill-trial-');
  const random = seeded(Number(process.env.KILL_TRIAL_SEED ?? 21));
  const r = await runKillTrial({
    start: async () => {
      const c = await startChild(dir, { CRASH_CONTENT: '1', CRASH_SPLIT_MS: '60' });
      return { ...c, stateMachineArn: c.ready.stateMachineArn };
    },
    uploads: trialUploads(100, random),
    kills: 20,
    killAfterMs: [200, 1500],
    random,
    inputBucket: 'facerec-input',
    outputBucket: 'facerec-output',
    settleMs: 240_000,
  });
  console.log(JSON.stringify(r, null, 1));
  expect(r.wrong).toEqual([]);
  expect(r.duplicates).toEqual([]);
  expect(r.answered).toBe(r.keys);
  expect(r.reuploads).toBeGreaterThan(20);
  expect(r.executions.RUNNING ?? 0).toBe(0);
}, 900_000);
