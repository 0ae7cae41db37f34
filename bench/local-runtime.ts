/**
 * What local mode's Lambda runtime and IAM cost (`npx tsx bench/local-runtime.ts [--n 500]`),
 * issue 19 point 3:
 * - per invocation: a trivial handler in an execution environment (child process, JSON in and out
 *   through messages) against the same handler called in this process;
 * - cold start: each real handler module's init phase in a new environment (tsx, the AWS SDK, the
 *   function's own modules);
 * - IAM per S3 request: HeadObject signed as a function's role (policy evaluated) against the
 *   admin (not evaluated), on the real local S3 server;
 * - the policies: synthesizing the CDK app (cache miss) against reading the cached set.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { s3ClientConfig } from '../functions/aws/clients.js';
import { loadConfig } from '../functions/config.js';
import { FUNCTION_NAMES } from '../functions/core/facts.js';
import { bucketNames } from '../functions/core/layout.js';
import { IamEvaluator } from '../infra/local/iam/evaluate.js';
import { LocalIdentities, type RoleCredentials } from '../infra/local/iam/identities.js';
import { loadPolicySet } from '../infra/local/iam/policy-cache.js';
import { localPolicySource, type PolicySource } from '../infra/local/iam/policy-set.js';
import { s3Authorizer } from '../infra/local/iam/s3-auth.js';
import { functionBundle } from '../infra/local/lambda/sandbox/bundles.js';
import { LocalFunction } from '../infra/local/lambda/service.js';
import { startLocalS3 } from '../infra/local/s3/service.js';
import { option } from './args.js';

const n = Number(option('--n', '500'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function timeEach(count: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function invocationOverhead(dir: string) {
  const module = path.join(dir, 'echo.mjs');
  writeFileSync(module, 'export const handler = async (event) => ({ echoed: event });\n');
  const payload = { video: { bucket: 'facerec-input', key: 'test_00.mp4' }, execution: 'x'.repeat(200) };
  const common = { timeoutSeconds: 30, concurrency: 1 };
  const inProcess = new LocalFunction({
    ...common,
    name: 'echo-in-process',
    handler: async (event: unknown) => ({ echoed: event }),
  });
  const sandboxed = new LocalFunction({ ...common, name: 'echo-sandboxed' });
  sandboxed.deploy({ sandbox: { module, exportName: 'handler', env: { ...process.env } } });
  const cold = performance.now();
  await sandboxed.invoke(payload);
  const coldMs = performance.now() - cold;
  await timeEach(50, () => sandboxed.invoke(payload)); // warm-up
  await timeEach(50, () => inProcess.invoke(payload));
  const a = median(await timeEach(n, () => inProcess.invoke(payload)));
  const b = median(await timeEach(n, () => sandboxed.invoke(payload)));
  await sandboxed.close();
  return { inProcess: a, sandboxed: b, coldMs };
}

async function coldStarts() {
  const out: Record<string, number> = {};
  for (const fn of FUNCTION_NAMES) {
    const f = new LocalFunction({ name: fn, timeoutSeconds: 60, concurrency: 1 });
    f.deploy({
      sandbox: {
        // What local mode runs: the function's bundle (built or taken from the cache before the clock starts).
        module: await functionBundle(fn),
        exportName: 'handler',
        env: {
          ...process.env,
          FACEREC_LOG_LEVEL: 'SILENT',
          // A bundle's own default would point beside it, not at the project's models.
          FACEREC_MODELS_DIR: loadConfig().engine.modelsDir,
        },
      },
    });
    const t = performance.now();
    // An event every handler refuses at validation: the time is the init phase plus one call.
    await f.invoke({ refuse: true }).catch(() => undefined);
    out[fn] = performance.now() - t;
    await f.close();
  }
  return out;
}

async function iamPerRequest(dir: string, source: PolicySource) {
  const { set } = await loadPolicySet(source);
  const identities = new LocalIdentities();
  const buckets = bucketNames('bench');
  const s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: path.join(dir, 's3'),
    buckets,
    onInputEvent: () => undefined,
    authorize: s3Authorizer(identities, new IamEvaluator(set)),
  });
  const client = (c?: RoleCredentials) =>
    new S3Client({
      ...s3ClientConfig({ region: 'us-east-1', s3Endpoint: s3.url, s3ForcePathStyle: true }),
      credentials: c
        ? {
            accessKeyId: c.AWS_ACCESS_KEY_ID,
            secretAccessKey: c.AWS_SECRET_ACCESS_KEY,
            sessionToken: c.AWS_SESSION_TOKEN,
          }
        : { accessKeyId: 'admin', secretAccessKey: 'admin' },
    });
  const admin = client();
  const starter = client(identities.credentials('starter'));
  // Distinct keys, as a pipeline's requests are: every decision is evaluated, none cached.
  const keys = Array.from({ length: n + 50 }, (_, i) => `clip-${i}.mp4`);
  for (const key of keys)
    await admin.send(new PutObjectCommand({ Bucket: buckets.input, Key: key, Body: 'v' }));
  const heads = (c: S3Client) => {
    let i = 0;
    return () => c.send(new HeadObjectCommand({ Bucket: buckets.input, Key: keys[i++ % keys.length] }));
  };
  const a = median(await timeEach(n, heads(admin)));
  const b = median(await timeEach(n, heads(starter)));
  admin.destroy();
  starter.destroy();
  await s3.close();
  return { admin: a, role: b };
}

async function policyLoad(dir: string, source: PolicySource) {
  const cache = path.join(dir, 'iam-cache');
  const miss = await loadPolicySet(source, cache);
  const hit = await loadPolicySet(source, cache);
  return { missMs: miss.ms, hitMs: hit.ms };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facerec-bench-runtime-'));
  const source = localPolicySource('bench');
  const load = os.loadavg()[0];
  try {
    const inv = await invocationOverhead(dir);
    const cold = await coldStarts();
    const policies = await policyLoad(dir, source);
    const iam = await iamPerRequest(dir, source);
    console.log(
      [
        `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npx tsx bench/local-runtime.ts --n ${n}\``,
        `(${os.cpus().length} cores shared with other jobs, load average ${load.toFixed(2)} at the start; medians of ${n}).`,
        '',
        '| figure | value |',
        '|---|---|',
        `| invocation, in this process / in an execution environment (child process) | ${ms(inv.inProcess)} / ${ms(inv.sandboxed)} (overhead ${ms(inv.sandboxed - inv.inProcess)}) |`,
        `| cold start of a trivial handler module | ${ms(inv.coldMs)} |`,
        `| cold start (init phase + one call), real handlers (their bundles) | ${Object.entries(cold)
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`)
          .join(', ')} |`,
        `| policies: synthesized (cache miss) / read from the cache | ${(policies.missMs / 1000).toFixed(1)} s / ${ms(policies.hitMs)} |`,
        `| S3 HeadObject of distinct keys as the admin (no evaluation) / as a function's role (IAM evaluated) | ${ms(iam.admin)} / ${ms(iam.role)} (overhead ${ms(iam.role - iam.admin)}) |`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
