/**
 * Image arguments of `identify`, `compare` and `enroll --person`: files as given, folders walked
 * (sub-folders too, names sorted, hidden entries skipped) for .jpg/.jpeg/.png/.webp files. The
 * walk is a loop over a list, not recursion, and follows a symlinked folder once: any tree and
 * any number of arguments.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from './people-folder.js';

export interface ImagePaths {
  /** Image files in argument order (a folder's files sorted by path). */
  files: string[];
  /** Arguments that are neither a file nor a folder. */
  missing: Array<{ path: string; error: string }>;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

export async function expandImagePaths(args: readonly string[]): Promise<ImagePaths> {
  const files: string[] = [];
  const missing: ImagePaths['missing'] = [];
  const seenDirs = new Set<string>();
  for (const arg of args) {
    let info;
    try {
      info = await stat(arg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      missing.push({
        path: arg,
        error: code === 'ENOENT' ? 'no such file or folder' : `cannot read (${code})`,
      });
      continue;
    }
    if (!info.isDirectory()) {
      // A FIFO or a device would be read until something writes to it, or forever.
      if (info.isFile()) files.push(arg);
      else missing.push({ path: arg, error: 'not a regular file' });
      continue;
    }
    const found: string[] = [];
    const pending = [arg];
    while (pending.length) {
      const dir = pending.pop()!;
      const real = await realpath(dir).catch(() => dir);
      if (seenDirs.has(real)) continue;
      seenDirs.add(real);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        missing.push({ path: dir, error: `cannot read folder (${(err as NodeJS.ErrnoException).code})` });
        continue;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const p = path.join(dir, e.name);
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          const target = await stat(p).catch(() => undefined);
          isDir = Boolean(target?.isDirectory());
          isFile = Boolean(target?.isFile());
        }
        if (isDir) pending.push(p);
        else if (isFile && isImage(e.name)) found.push(p);
      }
    }
    files.push(...found.sort());
  }
  return { files, missing };
}
