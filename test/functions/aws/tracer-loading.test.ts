/**
 * Powertools' tracer is loaded only where tracing is on (functions/aws/observability.ts): importing
 * it loads the X-Ray SDK, whose context store (cls-hooked) enables an async hook on every promise
 * of the process, disabled tracer or not. Each check runs in a process of its own (the hook, once
 * on, stays on for the process), and reads the store's namespaces (`process.namespaces`).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { functionBundle } from '#infra/local/lambda/sandbox/bundles.js';
import { FUNCTION_NAMES } from '#functions/core/facts.js';

const root = path.resolve(import.meta.dirname, '../../..');

/** What test/support/tracing-child.ts saw, with this environment added to a clean one. */
function child(env: Record<string, string>): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/support/tracing-child.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_LAMBDA_FUNCTION_NAME: 'facerec-result',
      ...env,
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.split('\n').find((l) => l.startsWith('{"tracing"'));
  if (!line) throw new Error(`no report from the child: ${out}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** The namespaces alive after this module code ran in a fresh Node process. */
const namespacesAfter = (code: string): string[] =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${code}\nconsole.log(JSON.stringify(Object.keys(process.namespaces ?? {})));`,
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .trim()
      .split('\n')
      .pop()!,
  ) as string[];

test('tracing off (local mode, tests): an invocation loads no X-Ray context and the clients stay as made', () => {
  expect(child({})).toEqual({
    tracing: false,
    answer: 'answered',
    atStart: [],
    afterInvocation: [],
    earlyClientTraced: false,
    lateClientTraced: false,
  });
}, 60_000);

test('tracing on (Lambda): the tracer loads at the first invocation and captures clients made before and after', () => {
  expect(
    child({
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      LAMBDA_TASK_ROOT: root,
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      // Subsegments go to a port nobody listens on (UDP: nothing waits for an answer).
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:9',
    }),
  ).toEqual({
    tracing: true,
    answer: 'answered',
    atStart: [],
    afterInvocation: ['AWSXRay'],
    earlyClientTraced: true,
    lateClientTraced: true,
  });
}, 60_000);

test("the functions' bundles load without the X-Ray context (the tracer's own import does load it)", async () => {
  // The probe can see it: importing the tracer package creates the namespace at once.
  expect(namespacesAfter("await import('@aws-lambda-powertools/tracer');")).toEqual(['AWSXRay']);
  for (const name of FUNCTION_NAMES) {
    const bundle = pathToFileURL(await functionBundle(name)).href;
    expect({ name, namespaces: namespacesAfter(`await import(${JSON.stringify(bundle)});`) }).toEqual({
      name,
      namespaces: [],
    });
  }
}, 180_000);
