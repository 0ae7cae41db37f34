/**
 * Waiting in tests on a folder's changes (files a server writes and removes, which it announces
 * nowhere else): fs.watch events, not sleeps.
 */
import { watch } from 'node:fs';

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
