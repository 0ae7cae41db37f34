/**
 * Execution environments of the local Lambda service (infra/local/lambda/sandbox/): each function's
 * handler module runs in worker threads with the function's own environment (its own credentials:
 * nothing shared between functions or concurrent invocations), warm environments are reused, and
 * a handler that crashes its environment fails only that invocation.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LambdaFunctionError, LocalFunction } from '#infra/local/lambda/service.js';
import { tempDir } from '#test/support/videos.js';

const dir = tempDir('facerec-sandbox-');
const module = path.join(dir, 'handler.mjs');
writeFileSync(
  module,
  `export const handler = async (event, context) => {
  if (event.exit) process.exit(3);
  if (event.waitMs) await new Promise((r) => setTimeout(r, event.waitMs));
  return { key: process.env.AWS_ACCESS_KEY_ID, name: context.functionName, left: context.getRemainingTimeInMillis() > 0 };
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

test('each function sees its own environment, also when their invocations overlap', async () => {
  const a = sandboxed('fn-a', 'KEY-A');
  const b = sandboxed('fn-b', 'KEY-B');
  const calls = Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).invoke({ waitMs: 20 }));
  const results = (await Promise.all(calls)) as Array<{ key: string; name: string; left: boolean }>;
  results.forEach((r, i) =>
    expect(r).toEqual(
      i % 2 ? { key: 'KEY-A', name: 'fn-a', left: true } : { key: 'KEY-B', name: 'fn-b', left: true },
    ),
  );
  // Our own process's environment is not theirs.
  expect(process.env.AWS_ACCESS_KEY_ID).not.toBe('KEY-A');
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
