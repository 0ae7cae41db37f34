/**
 * The command line's rules (issue 20 point 5): one exit-code rule (0 done, 1 work failed, 2 usage),
 * `--version`, the nearest command or option for a misspelled one, option values checked, errors
 * in plain words. In-process through runCli (what main.ts runs), and through bin/facerec.js as a
 * user runs it.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildProgram, packageVersion, runCli } from '#cli/program.js';
import { facerec } from '#test/support/cli.js';

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** `facerec <args>` in this process; the exit code and what was printed. */
async function cli(...args: string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const log = jest
    .spyOn(console, 'log')
    .mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
  const error = jest
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  try {
    const program = buildProgram({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    const code = await runCli(['node', 'facerec', ...args], program);
    return { code, out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
}

const localDir = mkdtempSync(path.join(os.tmpdir(), 'facerec-program-'));
const savedEnv = { ...process.env };
beforeAll(() => {
  // No stack, no journal, no state machine: what "nothing to talk to" looks like.
  process.env.FACEREC_LOCAL_DIR = localDir;
  delete process.env.STATE_MACHINE_ARN;
  delete process.env.FACEREC_GALLERY;
});
afterAll(() => {
  process.env = savedEnv;
});

describe('exit code 0: done', () => {
  test('--version prints the package version', async () => {
    expect(await cli('--version')).toMatchObject({ code: 0, out: `${packageVersion()}\n` });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('--help', async () => {
    const r = await cli('run', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: facerec run/);
  });
});

describe('exit code 2: usage, with the nearest command or option', () => {
  test('no command: the help, exit 2', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Usage: facerec/);
  });

  test('a misspelled command', async () => {
    const r = await cli('runn', 'videos/');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'runn'[\s\S]*Did you mean run\?/);
  });

  test('a misspelled required option is named as unknown, not as missing', async () => {
    const r = await cli('identify', 'x.jpg', '--galery', 'g.json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--galery'[\s\S]*Did you mean --gallery\?/);
    expect(r.err).not.toMatch(/required option/);
    // A required option really missing is said so.
    expect((await cli('identify', 'x.jpg')).err).toMatch(/required option '--gallery <file>' not specified/);
  });

  test('a misspelled option', async () => {
    const r = await cli('executions', '--limitt', '3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Did you mean --limit\?/);
  });

  test.each([
    [
      ['executions', '--status', 'DONE'],
      /allowed: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE/,
    ],
    [['executions', '--limit', '0'], /a whole number >= 1/],
    [['executions', '--interval', 'soon'], /not a duration/],
    [['up', '--s3-port', '70000'], /a port number: 0 \(any free port\) to 65535/],
    [['up', '--console-port', 'http'], /a port number/],
    [['workload', 'videos/', '--concurrency', 'many'], /a whole number >= 1/],
    [['workload', 'videos/', '--rate', 'fast'], /not a rate/],
    [['grade', '--expected', 'e.csv', '--since', 'yesterday'], /not a time/],
    [['run', 'videos/', '--endpoint', 'ftp://example.com'], /an http\(s\) URL/],
    [['run', 'videos/', '--prefix', 'Bad_Prefix'], /lowercase letters/],
    [['run', 'videos/', '--profile', 'cse546-p3'], /Allowed choices are default, cse546-p1, cse546-p2/],
    [['identify', 'x.jpg', '--gallery', 'g.json', '--threshold', 'close'], /a number >= 0/],
  ])('%j is refused with the allowed values', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('--status in any case is accepted (then the work fails: no stack here)', async () => {
    const r = await cli('executions', '--status', 'failed');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no local stack runs/);
  });

  test('paths named on the command line that do not exist, in plain words', async () => {
    const run = await cli('run', path.join(localDir, 'no-such-folder'));
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/no-such-folder: no such file or folder/);
    const grade = await cli('grade', '--expected', path.join(localDir, 'expected.csv'));
    expect(grade.code).toBe(2);
    expect(grade.err).toMatch(/expected\.csv: no such file or folder \[ENOENT\]/);
    expect(grade.err).not.toMatch(/open '/);
    const identify = await cli('identify', path.join(localDir, 'photo.jpg'), '--gallery', 'g.json');
    expect(identify.code).toBe(2);
  });

  test('run --prefix batch1/ is still read as the key prefix (its old meaning)', async () => {
    const r = await cli('run', path.join(localDir, 'nothing'), '--prefix', 'batch1/');
    expect(r.err).not.toMatch(/lowercase letters/);
    expect(r.err).toMatch(/nothing: no such file or folder/);
  });
});

describe('exit code 1: the work failed', () => {
  test('nothing to read executions from', async () => {
    const r = await cli('executions');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^facerec: no local stack runs/m);
  });
});

describe('bin/facerec.js, as a user runs it', () => {
  const env = { FACEREC_LOCAL_DIR: localDir };
  test('exit codes 0, 2 and 1 reach the shell', async () => {
    const [version, usage, failed] = await Promise.all([
      facerec(['--version'], env),
      facerec(['executions', '--status', 'DONE'], env),
      facerec(['executions'], env),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `${packageVersion()}\n` });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/allowed: RUNNING/);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/no local stack runs/);
  }, 120_000);

  test('a taken port names the port and the option that moves it (exit 1, no stack left behind)', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'facerec-port-'));
      const r = await facerec(['up', '--s3-port', String(port), '--no-console'], { FACEREC_LOCAL_DIR: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `port ${port} is taken .*choose another with --s3-port <port> \\(or FACEREC_LOCAL_S3_PORT\\)`,
        ),
      );
      expect(r.stderr).not.toMatch(/EADDRINUSE: address already in use/);
      expect(existsSync(path.join(dir, 'stack.json'))).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 120_000);
});
