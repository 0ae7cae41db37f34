/**
 * The kill -9 trial of issue 21 ("no acknowledged upload lost, at any moment"): uploads (some of
 * them re-uploads of a key with new content) go to a local stack that is killed with SIGKILL at
 * random moments and restarted at once each time (a kill may land mid-upload, mid-execution, or
 * in the restart's own recovery). An upload the stack did not acknowledge is sent again after the
 * restart, as a client retries (unless it was stored after all: sending the same bytes again would
 * be a second upload, which S3 would process again too). At the end every key must be answered with the name of its newest
 * content, each upload (key and ETag) by at most one execution.
 *
 * The stack is what `start` returns (a child process): test/infra/local/kill-trial.test.ts runs
 * the local stack with stand-in functions whose "person" is the uploaded content;
 * bench/crash-moments.ts the same with `--uploads`/`--kills`/`--seed`.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../functions/core/concurrency.js';
import { normalizeEtag } from '../functions/core/upload-version.js';
import { listAll } from '../functions/aws/s3.js';
import { seededRandom } from './openset-pairs-make.js';

export interface TrialStack {
  s3: S3Client;
  sfn: SFNClient;
  stateMachineArn: string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

interface TrialUpload {
  key: string;
  body: string | Uint8Array;
  /** The answer this content must get (`facerec up`: the person in the video). */
  name?: string;
}

export interface TrialOptions {
  /** Starts a stack on the trial's data folder (resolves once it serves). */
  start: () => Promise<TrialStack>;
  /** Uploads in order: key, content, and the name its answer must hold (else the content). */
  uploads: TrialUpload[];
  kills: number;
  /** Random delay before each kill, in ms (drawn uniformly). */
  killAfterMs: [number, number];
  /** Upload concurrency. */
  concurrency?: number;
  /** A random pause before each upload, in ms (spreads the uploads over the kills). */
  gapMs?: [number, number];
  random?: () => number;
  inputBucket: string;
  outputBucket: string;
  /** The answer as compared with the expected name (e.g. trimmed). */
  answerOf?: (text: string) => string;
  /** Called after each kill's restart (progress lines). */
  onKill?: (n: number) => void;
  /** Called just before each kill (e.g. to note what the stack was doing). */
  beforeKill?: () => void;
  /** Give up waiting for the answers after this long. */
  settleMs?: number;
}

export interface TrialReport {
  uploads: number;
  keys: number;
  reuploads: number;
  kills: number;
  /** Uploads that had to be sent again because a kill cut them. */
  resent: number;
  /** Keys whose output is their newest content's name. */
  answered: number;
  wrong: string[];
  /** Uploads (key + ETag) with more than one execution. */
  duplicates: string[];
  /** Executions of an upload that a re-upload of its key replaced (they end superseded). */
  olderUploadExecutions: number;
  executions: Record<string, number>;
  /** From the last kill (and the last upload, when later) to every answer. */
  settleSeconds: number;
  wallSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runKillTrial(o: TrialOptions): Promise<TrialReport> {
  const random = o.random ?? Math.random;
  const answerOf = o.answerOf ?? ((t: string) => t);
  const nameOf = (u: TrialUpload) => u.name ?? String(u.body);
  const t0 = Date.now();
  let stack = await o.start();
  let generation = 0;
  let restarting: Promise<void> | undefined;
  let resent = 0;

  /** Kill now and restart at once; concurrent callers wait for the same restart. */
  const killAndRestart = () =>
    (restarting ??= (async () => {
      await stack.kill();
      stack = await o.start();
      generation++;
      restarting = undefined;
    })());

  // The killer: `kills` times, after a random delay, kill -9 and restart at once.
  const killer = (async () => {
    for (let i = 0; i < o.kills; i++) {
      const [lo, hi] = o.killAfterMs;
      await sleep(lo + random() * (hi - lo));
      o.beforeKill?.();
      await killAndRestart();
      o.onKill?.(i + 1);
    }
  })();

  // The uploader: each upload sent until acknowledged (a kill cuts it: wait for the restart).
  const newest = new Map<string, TrialUpload>();
  const sentBefore = new Set<number>();
  const order = o.uploads.map((u, i) => ({ ...u, i }));
  // Uploads of one key go in order (a re-upload after the upload it replaces).
  const byKey = new Map<string, typeof order>();
  for (const u of order) byKey.set(u.key, [...(byKey.get(u.key) ?? []), u]);
  const chains = [...byKey.values()];
  chains.sort((a, b) => a[0].i - b[0].i);
  await mapLimit(chains, o.concurrency ?? 4, async (chain) => {
    for (const u of chain) {
      if (o.gapMs) await sleep(o.gapMs[0] + random() * (o.gapMs[1] - o.gapMs[0]));
      for (;;) {
        const gen = generation;
        await restarting;
        try {
          // A retry first asks whether the cut upload was stored after all (its ETag is the MD5
          // of the body), as a careful client does: sending it again would be a second upload.
          if (sentBefore.has(u.i) && (await storedAlready(stack.s3, o.inputBucket, u.key, u.body))) {
            newest.set(u.key, u);
            break;
          }
          sentBefore.add(u.i);
          await stack.s3.send(
            new PutObjectCommand({
              Bucket: o.inputBucket,
              Key: u.key,
              Body: u.body,
              ContentType: 'video/mp4',
            }),
          );
          newest.set(u.key, u);
          break;
        } catch {
          resent++;
          // Cut by a kill (or refused while the stack starts): wait for the restart to begin or end,
          // or half a second, and try again (the retry asks first whether it was stored).
          const until = Date.now() + 500;
          while (gen === generation && !restarting && Date.now() < until) await sleep(20);
        }
      }
    }
  });
  await killer;
  const lastKill = Date.now();

  // Every key answered with its newest content's name; nothing running.
  const settleBy = Date.now() + (o.settleMs ?? 300_000);
  let wrong: string[] = [];
  for (;;) {
    wrong = [];
    const outputs = new Set((await listAll(stack.s3, o.outputBucket)).map((x) => x.Key!));
    await mapLimit([...newest], AWS_REQUESTS_AT_ONCE, async ([key, u]) => {
      const txt = `${key.replace(/\.[^.]+$/, '')}.txt`;
      let got: string | undefined;
      if (outputs.has(txt)) {
        const r = await stack.s3.send(new GetObjectCommand({ Bucket: o.outputBucket, Key: txt }));
        got = answerOf(await r.Body!.transformToString());
      }
      if (got !== nameOf(u)) wrong.push(`${key}: ${got ?? 'no answer'} (newest: ${nameOf(u)})`);
    });
    const running = await listExecutions(stack.sfn, stack.stateMachineArn, 'RUNNING');
    if ((wrong.length === 0 && running.length === 0) || Date.now() > settleBy) break;
    await sleep(250);
  }
  const settleSeconds = (Date.now() - lastKill) / 1000;

  // One execution per upload (key and ETag): redrives are the same execution.
  const all = await listExecutions(stack.sfn, stack.stateMachineArn);
  const perUpload = new Map<string, number>();
  const executions: Record<string, number> = {};
  const newestEtag = new Map([...newest].map(([key, u]) => [key, md5(u.body)]));
  let olderUploadExecutions = 0;
  await mapLimit(all, AWS_REQUESTS_AT_ONCE, async (e) => {
    executions[e.status] = (executions[e.status] ?? 0) + 1;
    const d = await stack.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    const input = JSON.parse(d.input ?? '{}') as { key?: string; etag?: string };
    const id = `${input.key} ${normalizeEtag(input.etag) ?? ''}`;
    if (input.key && normalizeEtag(input.etag) !== newestEtag.get(input.key)) olderUploadExecutions++;
    perUpload.set(id, (perUpload.get(id) ?? 0) + 1);
  });
  await stack.stop();
  return {
    uploads: o.uploads.length,
    keys: newest.size,
    reuploads: o.uploads.length - newest.size,
    kills: o.kills,
    resent,
    answered: newest.size - wrong.length,
    wrong,
    duplicates: [...perUpload].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`),
    olderUploadExecutions,
    executions,
    settleSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
  };
}

/** A single-part upload's ETag. */
const md5 = (body: string | Uint8Array) => createHash('md5').update(body).digest('hex');

/** Is `body` the object under `key` (its ETag, the MD5 of a single-part upload)? */
async function storedAlready(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<boolean> {
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return normalizeEtag(h.ETag) === md5(body);
  } catch {
    return false;
  }
}

async function listExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  status?: 'RUNNING',
): Promise<Array<{ executionArn: string; status: string }>> {
  const out: Array<{ executionArn: string; status: string }> = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: status, maxResults: 1000, nextToken }),
    );
    for (const e of page.executions ?? []) out.push({ executionArn: e.executionArn!, status: e.status! });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** `n` uploads over about 70% as many keys: the rest re-upload an earlier key with new content. */
export function trialUploads(n: number, random: () => number): Array<{ key: string; body: string }> {
  const keys = Math.max(1, Math.round(n * 0.7));
  const out: Array<{ key: string; body: string }> = [];
  const versions = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key =
      i < keys
        ? `k_${String(i).padStart(3, '0')}.mp4`
        : `k_${String(Math.floor(random() * keys)).padStart(3, '0')}.mp4`;
    const v = (versions.get(key) ?? 0) + 1;
    versions.set(key, v);
    out.push({ key, body: `person_${key.slice(2, 5)}_v${v}` });
  }
  return out;
}

/** A seeded generator: the same trial for the same seed. */
export const seeded = seededRandom;
