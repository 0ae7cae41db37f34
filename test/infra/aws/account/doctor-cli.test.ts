/**
 * Bad input to `facerec doctor` and `facerec teardown`, through the real CLI and the real SDK
 * credential chain (no network: a home with no AWS files, instance metadata off): no
 * credentials, an unknown profile, no region, no --aws, a bad setting: each a clear message and a
 * non-zero exit, and nothing asked of AWS.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../support.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'facerec-nocreds-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The CLI in a fresh process; resolves on its exit. */
function facerec(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'cli', 'main.ts'), ...args],
    {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: path.join(home, '.aws', 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, '.aws', 'credentials'),
        ...env,
      },
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

test.each(['doctor', 'teardown'])(
  '%s --aws without credentials: says how to get some, exit 2',
  async (command) => {
    const r = await facerec([command, '--aws', '--region', 'us-east-1']);
    expect(r.out).toMatch(new RegExp(`facerec ${command}: No AWS credentials found`));
    expect(r.out).toMatch(/Fix: `aws configure`/);
    expect(r.out).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(r.code).toBe(2);
  },
);

test('an unknown --profile: named, with how to create it and where the pipeline profile goes', async () => {
  mkdirSync(path.join(home, '.aws'), { recursive: true });
  writeFileSync(path.join(home, '.aws', 'config'), '[profile work]\nregion = eu-west-1\n');
  const r = await facerec(['doctor', '--aws', '--profile', 'cse546-p2']);
  expect(r.out).toMatch(/AWS profile "cse546-p2" is not in ~\/\.aws\/config or ~\/\.aws\/credentials/);
  expect(r.out).toMatch(/aws configure --profile cse546-p2/);
  expect(r.out).toMatch(/use -c profile=cse546-p2, as with cdk/);
  expect(r.code).toBe(2);
});

test('without --aws, or with a bad setting: a message, exit 2', async () => {
  const noAws = await facerec(['doctor']);
  expect(noAws.out).toMatch(/doctor looks at an AWS account: pass --aws/);
  expect(noAws.code).toBe(2);
  const bad = await facerec(['teardown', '--aws', '-c', 'profile=cse546-p9', '--region', 'us-east-1']);
  expect(bad.out).toMatch(/-c profile=\.\.\.: Invalid option/);
  expect(bad.code).toBe(2);
  const pair = await facerec(['doctor', '--aws', '-c', 'prefix', '--region', 'us-east-1']);
  expect(pair.out).toMatch(/-c prefix: expected key=value/);
  expect(pair.code).toBe(2);
});
