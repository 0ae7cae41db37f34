/**
 * Waiting in tests, for state that announces nothing (another process's buckets, files a server
 * writes and removes). Wait on an event where there is one (a promise the awaited thing resolves);
 * this checks `what` again and again, returns its first value other than undefined/false, and
 * fails with `description` once `timeoutMs` passed (generous: the machine running the tests is
 * loaded).
 */
import { watch } from 'node:fs';
import { setTimeout as pause } from 'node:timers/promises';

export async function until<T>(
  description: string,
  what: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 60_000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await pause(everyMs);
  }
}

/**
 * Resolves at a change in folder `dir` (a file created, renamed or removed) after which `holds()`
 * is true (without `holds`: at the first change). Watch before causing the change. Fails with
 * `description` once `timeoutMs` passed.
 */
export function folderChange(
  dir: string,
  description: string,
  holds?: () => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(
      () => end(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
      timeoutMs,
    );
    const end = (err?: Error) => {
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    watcher.on('change', () => {
      if (!holds || holds()) end();
    });
    watcher.on('error', end);
    if (holds?.()) end();
  });
}
