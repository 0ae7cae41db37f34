/**
 * Crash benchmark (`npx tsx bench/crash.ts [--videos 50] [--kill-after 20] [--pool 300]`), issue 12: `facerec up`
 * (the real command, real functions) in a child process, N videos uploaded at once, the child
 * killed with SIGKILL once `--kill-after` outputs exist, then `facerec up` again on the same data
 * folder, nothing uploaded again: every upload must end with an output or an error record, each
 * by one execution, and the executions of before the crash must still be listed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { listAll } from '../functions/aws/s3.js';
import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { loadConfig } from '../functions/config.js';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../functions/core/concurrency.js';
import { findRunningStack } from '../cli/lib/local-stack.js';
import { closeTarget, localTarget, type PipelineTarget as Target } from '../cli/lib/target.js';
import { option } from './args.js';
import { repoRoot } from './face-frames.js';
import { benchVideos } from './pipeline-videos.js';

const N = Number(option('--videos', '50'));
const KILL_AFTER = Number(option('--kill-after', '20'));
/** Take the N videos from the set of this many (e.g. the 300 of bench/burst.ts, already made). */
const POOL = Math.max(N, Number(option('--pool', String(N))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function up(dir: string, gallery: string): { child: ChildProcess; stdout: () => string } {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/facerec.js'), 'up', '--gallery', gallery, '--profile', 'cse546-p2'],
    {
      env: {
        ...process.env,
        FACEREC_LOCAL_DIR: dir,
        FACEREC_LOCAL_S3_PORT: '0',
        FACEREC_LOCAL_SFN_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, stdout: () => out };
}

async function stackOf(dir: string, child: ChildProcess): Promise<Target> {
  for (let i = 0; i < 1200; i++) {
    const info = await findRunningStack(dir);
    if (info && info.pid === child.pid) return localTarget(info);
    if (child.exitCode !== null) throw new Error(`facerec up exited (${child.exitCode})`);
    await sleep(100);
  }
  throw new Error('facerec up did not start');
}

async function outputKeys(t: Target): Promise<string[]> {
  return (await listAll(t.s3, t.buckets.output)).map((o) => o.Key!);
}

async function executions(t: Target): Promise<ExecutionListItem[]> {
  const out = await t.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: t.stateMachineArn, maxResults: 1000 }),
  );
  return out.executions ?? [];
}

async function main() {
  const config = loadConfig();
  const pool = await benchVideos(config, POOL);
  const setup = {
    ...pool,
    videos: pool.videos.slice(0, N),
    specs: pool.specs.slice(0, N),
  };
  const dir = path.join(setup.benchDir, 'crash');
  await rm(dir, { recursive: true, force: true });
  const load = os.loadavg()[0];
  const stems = setup.specs.map((s) => s.key.replace(/\.mp4$/, ''));
  const answered = (keys: string[]) =>
    stems.filter((s) => keys.includes(`${s}.txt`) || keys.includes(`errors/${s}.json`)).length;

  // 1. First stack; all uploads at once (16 in flight); SIGKILL once KILL_AFTER outputs exist.
  const first = up(dir, setup.galleryPath);
  let t = await stackOf(dir, first.child);
  const t0 = Date.now();
  await mapLimit(setup.videos, 16, async (file) => {
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.buckets.input,
        Key: path.basename(file),
        Body: createReadStream(file),
        ContentLength: (await stat(file)).size,
        ContentType: 'video/mp4',
      }),
    );
  });
  const uploadedS = (Date.now() - t0) / 1000;
  let before = 0;
  while (before < KILL_AFTER) {
    await sleep(100);
    before = answered(await outputKeys(t));
  }
  const atKill = await executions(t);
  const runningAtKill = atKill.filter((e) => e.status === 'RUNNING').length;
  const startedAtKill = atKill.length;
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const killedAt = Date.now();
  closeTarget(t);

  // 2. Same data folder, nothing uploaded again.
  const second = up(dir, setup.galleryPath);
  t = await stackOf(dir, second.child);
  const upAgainS = (Date.now() - killedAt) / 1000;
  let after = 0;
  const deadline = Date.now() + 600_000;
  while (after < N && Date.now() < deadline) {
    await sleep(250);
    after = answered(await outputKeys(t));
  }
  const recoveredS = (Date.now() - killedAt) / 1000;
  for (let i = 0; i < 40 && (await executions(t)).some((e) => e.status === 'RUNNING'); i++) await sleep(250);

  const all = await executions(t);
  const perKey = new Map<string, number>();
  await mapLimit(all, AWS_REQUESTS_AT_ONCE, async (e) => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    const key = (JSON.parse(d.input ?? '{}') as { key?: string }).key ?? '?';
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  });
  const keys = await outputKeys(t);
  let correct = 0;
  const wrong: string[] = [];
  await mapLimit(setup.specs, AWS_REQUESTS_AT_ONCE, async (s) => {
    const stem = s.key.replace(/\.mp4$/, '');
    let name: string | undefined;
    if (keys.includes(`${stem}.txt`)) {
      const o = await t.s3.send(new GetObjectCommand({ Bucket: t.buckets.output, Key: `${stem}.txt` }));
      name = await o.Body!.transformToString();
    }
    if (name === setup.expected.get(s.key)) correct++;
    else wrong.push(`${s.key}: ${name ?? 'no output'} (expected ${setup.expected.get(s.key)})`);
  });
  const resumed = all.filter((e) => e.redriveCount).length;
  const statuses: Record<string, number> = {};
  for (const e of all) statuses[e.status!] = (statuses[e.status!] ?? 0) + 1;
  const banner = second.stdout();
  const reconciled = /started (\d+) uploads that had no output/.exec(banner)?.[1] ?? '0';
  second.child.kill('SIGINT');
  await new Promise((r) => second.child.once('exit', r));
  closeTarget(t);

  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`nice -n 10 npx tsx bench/crash.ts --videos ${N} --kill-after ${KILL_AFTER}${POOL > N ? ` --pool ${POOL}` : ''}\``,
    `(${os.cpus().length} cores shared with other jobs, load average ${load.toFixed(2)} at the start; \`facerec up --profile cse546-p2\`, real functions).`,
    '',
    '| figure | value |',
    '|---|---|',
    `| uploads (all at once, 16 in flight) | ${N} in ${uploadedS.toFixed(1)} s |`,
    `| at the SIGKILL | ${before} answered, ${startedAtKill} executions started, ${runningAtKill} running, ${N - startedAtKill} uploads whose S3 event had not started one |`,
    `| after \`facerec up\` on the same folder | ${resumed} executions re-run (ExecutionRedriven), ${reconciled} uploads started by reconcile |`,
    `| answered (output or error record) | **${after}/${N}** (target: all), ${recoveredS.toFixed(1)} s after the kill (stack up again after ${upAgainS.toFixed(1)} s) |`,
    `| right names | **${correct}/${N}** |`,
    `| executions listed after the restart | ${all.length} (${Object.entries(statuses)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}) |`,
    `| uploads with more than one execution | **${[...perKey.values()].filter((n) => n > 1).length}** (target: 0) |`,
  ];
  if (wrong.length) lines.push('', `Wrong or missing: ${wrong.slice(0, 10).join('; ')}`);
  console.log(lines.join('\n'));
  process.exitCode = after === N && correct === N ? 0 : 1;
}

await main();
