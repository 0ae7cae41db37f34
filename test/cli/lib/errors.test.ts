import { z } from 'zod';
import { describeError, EXIT, exitCodeOf, portTakenMessage, UsageError } from '#cli/lib/errors.js';

const sysError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code}: raw message`), { code, ...extra });

describe('errors in plain words', () => {
  test('file errors name the path and say what is wrong, the code kept for searching', () => {
    expect(describeError(sysError('ENOENT', { path: 'gallery.json', syscall: 'open' }))).toBe(
      'gallery.json: no such file or folder [ENOENT]',
    );
    expect(describeError(sysError('EACCES', { path: '/root/x' }))).toBe(
      '/root/x: permission denied [EACCES]',
    );
    expect(describeError(sysError('EISDIR', { path: 'videos' }))).toMatch(/videos: is a folder/);
    expect(describeError(sysError('ENOSPC', { path: 'out/x.jpg' }))).toMatch(
      /no space left on the disk \(writing out\/x\.jpg\)/,
    );
    expect(describeError(sysError('ECONNREFUSED', { address: '127.0.0.1', port: 4568 }))).toMatch(
      /nothing answers at 127\.0\.0\.1:4568 \(connection refused\)/,
    );
  });

  test('a taken port names the port and the option that changes it', () => {
    const taken = sysError('EADDRINUSE', { address: '127.0.0.1', port: 4568 });
    const ports = { 4568: '--s3-port <port> (or FACEREC_LOCAL_S3_PORT)' };
    expect(describeError(taken, ports)).toBe(portTakenMessage(taken, ports));
    expect(describeError(taken, ports)).toMatch(
      /^port 4568 is taken .*choose another with --s3-port <port> \(or FACEREC_LOCAL_S3_PORT\) \(0: any free port\)$/,
    );
    expect(describeError(taken)).toMatch(/port 4568 is taken.*port option/);
  });

  test('settings errors list the setting and the problem', () => {
    const parsed = z.object({ FACEREC_FRAMES: z.coerce.number().int() }).safeParse({ FACEREC_FRAMES: 'x' });
    expect(describeError(parsed.error)).toMatch(/^invalid setting: FACEREC_FRAMES: /);
  });

  test('messages are printed on one line, escape sequences shown', () => {
    expect(describeError(new Error('bad key a\n\u001b[31mb'))).toBe('bad key a\\n\\x1b[31mb');
  });

  test('exit codes: usage 2, anything else 1', () => {
    expect(EXIT).toEqual({ done: 0, failed: 1, usage: 2 });
    expect(exitCodeOf(new UsageError('no videos'))).toBe(2);
    expect(exitCodeOf(new Error('S3 unreachable'))).toBe(1);
  });
});
