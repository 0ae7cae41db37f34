/**
 * Execution environments of the local Lambda service (infra/local/lambda/sandbox/): each function's
 * handler module runs in child processes with the function's own environment (its own credentials:
 * nothing shared between functions or concurrent invocations), warm environments are reused, and
 * a handler that crashes its environment (exit, uncaught error, a signal) fails only that
 * invocation. Environments end with the function, and with the process that started them.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LambdaFunctionError, LocalFunction } from '#infra/local/lambda/service.js';
import { processAlive } from '#functions/core/process-alive.js';
import { tempDir } from '#test/support/videos.js';

const dir = tempDir('facerec-sandbox-');
const module = path.join(dir, 'handler.mjs');
writeFileSync(
  module,
  `export const handler = async (event, context) => {
  if (event.exit) process.exit(3);
  if (event.throwLater) setTimeout(() => { throw new TypeError('thrown outside the handler'); });
  if (event.waitMs || event.throwLater) await new Promise((r) => setTimeout(r, event.waitMs ?? 60_000));
  return { key: process.env.AWS_ACCESS_KEY_ID, name: context.functionName, left: context.getRemainingTimeInMillis() > 0, pid: process.pid };
};
`,
);

const functions: LocalFunction[] = [];
function sandboxed(name: string, key: string, concurrency = 4): LocalFunction {
  const fn = new LocalFunction({ name, timeoutSeconds: 30, concurrency });
  fn.deploy({
    sandbox: { module, exportName: 'handler', env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: key } },
  });
  functions.push(fn);
  return fn;
}

afterAll(async () => {
  await Promise.all(functions.map((f) => f.close()));
});

type Answer = { key: string; name: string; left: boolean; pid: number };

test('each function sees its own environment, in processes of their own, also when their invocations overlap', async () => {
  const a = sandboxed('fn-a', 'KEY-A');
  const b = sandboxed('fn-b', 'KEY-B');
  const calls = Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).invoke({ waitMs: 20 }));
  const results = (await Promise.all(calls)) as Answer[];
  results.forEach((r, i) =>
    expect(r).toEqual({
      ...(i % 2 ? { key: 'KEY-A', name: 'fn-a' } : { key: 'KEY-B', name: 'fn-b' }),
      left: true,
      pid: expect.any(Number) as number,
    }),
  );
  // Our own process's environment is not theirs, nor its pid.
  expect(process.env.AWS_ACCESS_KEY_ID).not.toBe('KEY-A');
  const pids = new Set(results.map((r) => r.pid));
  expect(pids.has(process.pid)).toBe(false);
  expect([...pids].sort()).toEqual([...a.environmentPids, ...b.environmentPids].sort());
}, 120_000);

test('a warm environment is reused: one cold start for invocations in sequence', async () => {
  const fn = sandboxed('fn-warm', 'KEY-W', 1);
  for (let i = 0; i < 5; i++) await fn.invoke({});
  expect(fn.coldStarts).toBe(1);
}, 120_000);

test('a handler that ends its environment fails that invocation only; the next one gets a new environment', async () => {
  const fn = sandboxed('fn-crash', 'KEY-C', 1);
  await expect(fn.invoke({ exit: true })).rejects.toMatchObject({ errorType: 'Runtime.ExitError' });
  await expect(fn.invoke({ exit: true })).rejects.toBeInstanceOf(LambdaFunctionError);
  await expect(fn.invoke({})).resolves.toMatchObject({ key: 'KEY-C' });
  expect(fn.coldStarts).toBe(3);
}, 120_000);

test('an uncaught error fails the running invocation with that error, and the environment is replaced', async () => {
  const fn = sandboxed('fn-uncaught', 'KEY-U', 1);
  await expect(fn.invoke({ throwLater: true })).rejects.toMatchObject({
    errorType: 'TypeError',
    errorMessage: 'thrown outside the handler',
  });
  await expect(fn.invoke({})).resolves.toMatchObject({ key: 'KEY-U' });
  expect(fn.coldStarts).toBe(2);
}, 120_000);

test('an environment killed from outside (kill -9) fails its invocation; the next one gets a new environment', async () => {
  const fn = sandboxed('fn-killed', 'KEY-K', 1);
  const { pid } = (await fn.invoke({})) as Answer;
  const running = fn.invoke({ waitMs: 60_000 });
  process.kill(pid, 'SIGKILL');
  await expect(running).rejects.toMatchObject({
    errorType: 'Runtime.ExitError',
    errorMessage: 'Runtime exited with signal SIGKILL',
  });
  const next = (await fn.invoke({})) as Answer;
  expect(next.pid).not.toBe(pid);
}, 120_000);

test("closing a function ends its environments' processes", async () => {
  const fn = sandboxed('fn-closed', 'KEY-X', 2);
  await Promise.all([fn.invoke({ waitMs: 20 }), fn.invoke({ waitMs: 20 })]);
  const pids = fn.environmentPids;
  expect(pids).toHaveLength(2);
  await fn.close();
  expect(pids.filter((p) => processAlive(p))).toEqual([]);
}, 120_000);

test('environments end when the process that started them is killed (kill -9): no orphans', async () => {
  // A process that starts two environments, prints their pids, and waits to be killed.
  const script = path.join(dir, 'owner.mts');
  const service = new URL('../../../../infra/local/lambda/service.ts', import.meta.url).href;
  writeFileSync(
    script,
    `import { LocalFunction } from ${JSON.stringify(service)};
const fn = new LocalFunction({ name: 'fn-owned', timeoutSeconds: 600, concurrency: 2 });
fn.deploy({ sandbox: { module: ${JSON.stringify(module)}, exportName: 'handler', env: { PATH: process.env.PATH } } });
await Promise.all([fn.invoke({}), fn.invoke({ waitMs: 20 })]);
console.log(JSON.stringify(fn.environmentPids));
void fn.invoke({ waitMs: 600_000 });
`,
  );
  const owner = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(owner, 'exit');
  const line = await Promise.race([
    once(createInterface({ input: owner.stdout }), 'line').then(([l]) => l as string),
    exited.then(([code]) => {
      throw new Error(`the owner process exited (${String(code)}) before its environments ran`);
    }),
  ]);
  const pids = JSON.parse(line) as number[];
  expect(pids).toHaveLength(2);
  owner.kill('SIGKILL');
  await exited;
  // Each environment sees its channel close and exits: wait for that, as long as the test may.
  while (pids.some((p) => processAlive(p))) await new Promise((r) => setImmediate(r));
  expect(pids.filter((p) => processAlive(p))).toEqual([]);
}, 120_000);
