/**
 * The CLI's one exit-code rule and its error messages in plain words.
 *
 * Exit codes (every command):
 * - 0: done (the command did what was asked: every video processed, every check passed);
 * - 1: the work failed (a video failed or timed out, a grade check failed, a stack could not
 *   start, a bucket could not be read, ...);
 * - 2: usage: the command line cannot be run as written (unknown command or option, a missing or
 *   invalid value, a file or folder named on the command line that does not exist, nothing to
 *   work on). Nothing was done.
 * (Ctrl-C: the signal handling of `run` and `up` decides.)
 *
 * System errors (ENOENT, EACCES, EADDRINUSE, ...) and settings errors (zod) are said in plain
 * words; the raw code stays in brackets for searching.
 */
import { z } from 'zod';
import { printable } from '../../functions/core/printable.js';

export const EXIT = { done: 0, failed: 1, usage: 2 } as const;

/** The command line cannot be run as written (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number; dest?: string };

/** Which option (and setting) moves a taken port: `up` and the commands that start a stack tell
 * describeError through this. */
export type PortOptions = Record<number, string>;

const PLAIN: Record<string, (e: SystemError, where: string) => string> = {
  ENOENT: (_, where) => `${where}: no such file or folder`,
  ENOTDIR: (_, where) => `${where}: a part of this path is a file, not a folder`,
  EISDIR: (_, where) => `${where}: is a folder, where a file was expected`,
  EACCES: (_, where) => `${where}: permission denied`,
  EPERM: (_, where) => `${where}: operation not permitted`,
  EEXIST: (_, where) => `${where}: already exists`,
  ENOSPC: (_, where) => `no space left on the disk (writing ${where})`,
  EROFS: (_, where) => `${where}: the file system is read-only`,
  EMFILE: () => 'too many open files (raise the limit: ulimit -n)',
  ECONNREFUSED: (e) => `nothing answers at ${e.address ?? '?'}:${e.port ?? '?'} (connection refused)`,
  ECONNRESET: () => 'the connection was closed by the other side',
  ENOTFOUND: (e) => `cannot resolve the host name ${(e as { hostname?: string }).hostname ?? ''}`.trim(),
  ETIMEDOUT: () => 'the connection timed out',
};

/** `port N on host is taken`, naming the option that changes it when known. */
export function portTakenMessage(e: SystemError, ports: PortOptions = {}): string {
  const port = e.port;
  const where = `${e.address ?? '127.0.0.1'}:${port ?? '?'}`;
  const option = port !== undefined ? ports[port] : undefined;
  return (
    `port ${port ?? '?'} is taken (${where}: another program, or another \`facerec up\`, listens there): ` +
    (option
      ? `choose another with ${option} (0: any free port)`
      : 'stop that program or choose another port with the command’s port option (0: any free port)')
  );
}

/** An error as one line a user can act on. */
export function describeError(err: unknown, ports?: PortOptions): string {
  if (err instanceof z.ZodError) {
    return `invalid setting: ${err.issues
      .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
      .join('; ')}`;
  }
  const e = err as SystemError;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    if (e.code === 'EADDRINUSE') return portTakenMessage(e, ports);
    const plain = PLAIN[e.code];
    if (plain) return `${printable(plain(e, e.path ?? e.dest ?? e.syscall ?? 'file'))} [${e.code}]`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return printable(message);
}

/** The exit code an error ends a command with. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? EXIT.usage : EXIT.failed;
}
