/**
 * kill -9 at random moments (issue 21): `npx tsx bench/crash-moments.ts [--uploads 100] [--kills 20]
 * [--seed 21]`. The trial of bench/kill-trial.ts on the local stack of test/support/crash-stack.ts
 * (real S3 server, starter, Step Functions service, journal and result function; stand-in splitter
 * and recognition whose "person" is the uploaded content, so that an answer says which upload of a
 * key it is of), in a child process killed with SIGKILL and restarted at once each time. Prints
 * the figures; docs/benchmarks.md ("Local mode robustness") records them.
 */
import os from 'node:os';
import { killChildren, startChild } from '../test/support/crash-child.js';
import { tempDir } from '../test/support/videos.js';
import { option } from './args.js';
import { runKillTrial, seeded, trialUploads } from './kill-trial.js';

const uploads = Number(option('--uploads', '100'));
const kills = Number(option('--kills', '20'));
const seed = Number(option('--seed', '21'));
const dir = tempDir('facerec-bench-kill-');
const random = seeded(seed);
const load = os.loadavg()[0];
try {
  const r = await runKillTrial({
    start: async () => {
      const c = await startChild(dir, { CRASH_CONTENT: '1', CRASH_SPLIT_MS: '60' });
      return { ...c, stateMachineArn: c.ready.stateMachineArn };
    },
    uploads: trialUploads(uploads, random),
    kills,
    killAfterMs: [200, 1500],
    random,
    inputBucket: 'facerec-input',
    outputBucket: 'facerec-output',
  });
  console.log(
    [
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npx tsx bench/crash-moments.ts --uploads ${uploads} --kills ${kills} --seed ${seed}\` (load average ${load.toFixed(1)} at the start)`,
      '',
      '| figure | value |',
      '|---|---|',
      `| uploads (keys, re-uploads of a key with new content) | ${r.uploads} (${r.keys} keys, ${r.reuploads} re-uploads) |`,
      `| kill -9, each followed at once by a restart | ${r.kills} (${r.resent} uploads cut by a kill and sent again) |`,
      `| keys answered by their newest content | **${r.answered}/${r.keys}** |`,
      `| uploads (key + ETag) with more than one execution | **${r.duplicates.length}** |`,
      `| executions | ${Object.entries(r.executions)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')} |`,
      `| last kill -> every answer | ${r.settleSeconds.toFixed(1)} s (whole trial ${r.wallSeconds.toFixed(0)} s) |`,
      ...(r.wrong.length ? ['', `Wrong: ${r.wrong.join('; ')}`] : []),
    ].join('\n'),
  );
  process.exitCode = r.wrong.length === 0 && r.duplicates.length === 0 ? 0 : 1;
} finally {
  killChildren();
}
