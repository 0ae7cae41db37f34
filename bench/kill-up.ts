/**
 * kill -9 at random moments against the real `facerec up` (issue 21, "no acknowledged upload lost,
 * at any moment"): `npx tsx bench/kill-up.ts [--uploads 100] [--kills 20] [--seed 21]
 * [--profile cse546-p2] [--gap-ms 30000] [--kill-ms 300-20000]`.
 *
 * The trial of bench/kill-trial.ts with `bin/facerec.js up` (real S3 and Step Functions servers,
 * real functions, ffmpeg and models) in a child process on a data folder of its own, on two free
 * high ports fixed for the run (the restarted stack answers at the same endpoints, as a user's
 * client expects). The videos are the pipeline benchmarks' (bench/pipeline-videos.ts), 480p, one
 * enrolled person each: upload v of key k is the video of person (k + v - 1) mod P, so a
 * re-upload changes the expected name and the answer tells which upload of a key it is of. The
 * stack counts as back once its S3 endpoint answers (before its recovery ends), so a kill can land
 * in the restart's own recovery. Prints the figures; docs/benchmarks.md ("Local mode robustness")
 * records them. Exit code 1 when an upload is lost, answered by older content, or run twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { s3ClientConfig, sfnClientConfig } from '../functions/aws/clients.js';
import { loadConfig } from '../functions/config.js';
import { PROFILES, type Profile } from '../functions/core/facts.js';
import { findRunningStack } from '../cli/lib/local-stack.js';
import { option } from './args.js';
import { repoRoot } from './face-frames.js';
import { runKillTrial, seeded, trialUploads, type TrialStack } from './kill-trial.js';
import { benchVideos } from './pipeline-videos.js';

const uploads = Number(option('--uploads', '100'));
const kills = Number(option('--kills', '20'));
const seed = Number(option('--seed', '21'));
const profile = option('--profile', 'cse546-p2') as Profile;
const gapMs = Number(option('--gap-ms', '30000'));
const [killLo, killHi] = option('--kill-ms', '300-20000').split('-').map(Number);
if (!PROFILES.includes(profile)) throw new Error(`--profile: one of ${PROFILES.join(', ')}`);
/** Videos of as many people; a key has fewer uploads than this, so each re-upload changes the name. */
const VIDEOS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Does something accept connections on this loopback port? */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A port free now (the kernel's pick), kept for the whole run. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const config = loadConfig();
  const set = await benchVideos(config, VIDEOS, [480]);
  const people = set.specs.map((s) => ({
    file: path.join(set.videosDir, s.key),
    name: set.expected.get(s.key)!,
  }));
  const bytes = await Promise.all(people.map((p) => readFile(p.file)));
  const distinct = new Set(people.map((p) => p.name)).size;
  if (distinct < VIDEOS) throw new Error(`${VIDEOS} videos need as many enrolled people (${distinct})`);
  const dir = path.join(set.benchDir, 'kill-up');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const [s3Port, sfnPort] = [await freePort(), await freePort()];
  const log = createWriteStream(path.join(dir, 'up.log'));
  const random = seeded(seed);

  // Upload v of key k: the video of person (k + v - 1) mod P (consecutive uploads of a key show
  // different people as long as a key has at most P uploads).
  const plan = trialUploads(uploads, random).map((u) => {
    const k = Number(u.key.slice(2, 5));
    const v = Number(/_v(\d+)$/.exec(String(u.body))![1]);
    const i = (k + v - 1) % people.length;
    return { key: u.key, body: bytes[i], name: people[i].name };
  });

  let clients: { s3: S3Client; sfn: SFNClient; stateMachineArn: string } | undefined;
  let generation = 0;
  // Kills that found the stack still starting (no stack.json of its own yet: loading, recovering).
  let current: ChildProcess | undefined;
  let killsInStart = 0;
  const advertised = () => {
    try {
      return (JSON.parse(readFileSync(path.join(dir, 'stack.json'), 'utf8')) as { pid?: number }).pid;
    } catch {
      return undefined;
    }
  };
  const start = async (): Promise<TrialStack> => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin/facerec.js'),
        'up',
        ...['--gallery', set.galleryPath, '--profile', profile, '--no-console'],
      ],
      {
        env: {
          ...process.env,
          FACEREC_LOCAL_DIR: dir,
          FACEREC_LOCAL_S3_PORT: String(s3Port),
          FACEREC_LOCAL_SFN_PORT: String(sfnPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const g = ++generation;
    current = child;
    log.write(`--- start ${g} (pid ${child.pid}) at ${new Date().toISOString()}\n`);
    child.stdout!.on('data', (c: Buffer) => log.write(c));
    child.stderr!.on('data', (c: Buffer) => log.write(c));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const gone = () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`facerec up exited (${child.exitCode ?? child.signalCode}); see ${dir}/up.log`);
    };
    if (!clients) {
      // The first start: stack.json names the state machine and endpoints.
      for (;;) {
        gone();
        const info = await findRunningStack(dir);
        if (info && info.pid === child.pid) {
          const aws = {
            region: info.region,
            s3Endpoint: info.s3Endpoint,
            sfnEndpoint: info.sfnEndpoint,
            s3ForcePathStyle: true,
          };
          const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
          clients = {
            // One attempt: the trial retries a cut upload itself, after asking whether it was stored
            // (the SDK's own retry would send a committed upload a second time).
            s3: new S3Client({
              ...s3ClientConfig(aws),
              credentials,
              maxAttempts: 1,
            }),
            sfn: new SFNClient({ ...sfnClientConfig(aws), credentials }),
            stateMachineArn: info.stateMachineArn,
          };
          break;
        }
        await sleep(50);
      }
    } else {
      // A restart: the same endpoints, back as soon as S3 listens (its recovery may still run).
      while (!(await listening(s3Port))) {
        gone();
        await sleep(20);
      }
    }
    const end = async (signal: NodeJS.Signals) => {
      child.kill(signal);
      await exited;
    };
    return { ...clients, kill: () => end('SIGKILL'), stop: () => end('SIGINT') };
  };

  const load = os.loadavg()[0];
  try {
    const r = await runKillTrial({
      start,
      uploads: plan,
      kills,
      killAfterMs: [killLo, killHi],
      gapMs: [0, gapMs],
      concurrency: 4,
      random,
      inputBucket: 'facerec-input',
      outputBucket: 'facerec-output',
      answerOf: (t) => t.trim(),
      beforeKill: () => {
        if (advertised() !== current?.pid) killsInStart++;
      },
      onKill: (n) => console.error(`kill ${n}/${kills} at ${new Date().toISOString().slice(11, 19)}`),
      settleMs: 600_000,
    });
    console.log(
      [
        `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:kill-up -- --uploads ${uploads} --kills ${kills} --seed ${seed} --profile ${profile}\``,
        `(${os.cpus().length} cores shared with other jobs, load average ${load.toFixed(1)} at the start; real \`facerec up\`, ffmpeg and models; ${people.length} 480p videos of ${distinct} people; ports ${s3Port}/${sfnPort})`,
        '',
        '| figure | value |',
        '|---|---|',
        `| uploads (keys, re-uploads of a key with another person) | ${r.uploads} (${r.keys} keys, ${r.reuploads} re-uploads) |`,
        `| kill -9 of \`facerec up\`, each followed at once by a restart | ${r.kills} (${killsInStart} while it was still starting or recovering, ${r.kills - killsInStart} while it served; ${r.resent} upload attempts cut and sent again) |`,
        `| keys answered by their newest upload's person | **${r.answered}/${r.keys}** |`,
        `| uploads (key + ETag) with more than one execution | **${r.duplicates.length}** |`,
        `| executions of an upload a re-upload replaced (end superseded) | ${r.olderUploadExecutions} |`,
        `| executions | ${Object.entries(r.executions)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')} |`,
        `| last kill and last upload -> every answer | ${r.settleSeconds.toFixed(1)} s (whole trial ${r.wallSeconds.toFixed(0)} s) |`,
        ...(r.wrong.length ? ['', `Wrong: ${r.wrong.join('; ')}`] : []),
        ...(r.duplicates.length ? ['', `Duplicates: ${r.duplicates.join('; ')}`] : []),
      ].join('\n'),
    );
    process.exitCode = r.wrong.length === 0 && r.duplicates.length === 0 ? 0 : 1;
  } finally {
    clients?.s3.destroy();
    clients?.sfn.destroy();
    log.end();
  }
}

await main();
