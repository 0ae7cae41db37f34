/**
 * The splitter's work folders in temporary storage (the video and its frames, up to hundreds of
 * megabytes): named after the process that made them, so that the folders of a splitter that was
 * killed (kill -9 of the local stack, a Lambda sandbox stopped at its time limit) are removed by
 * the next one instead of filling the disk.
 *
 * `facerec-split-<pid>-<token>-<random>`: the token tells processes with the same pid apart (a Lambda
 * sandbox's restarted runtime may get the pid of the one that was stopped). It is the process's
 * start time, not a value drawn per module: threads of one process each have their own copy of this
 * module (local mode ran execution environments as worker threads until 2026-12), and a per-module
 * token made each environment's first sweep remove the others' folders while their ffmpeg wrote to
 * them ("av_interleaved_write_frame(): Input/output error").
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../core/process-alive.js';

const PREFIX = 'facerec-split-';
const PROCESS_TOKEN = processToken();
const OWNED = /^facerec-split-(\d+)-([0-9a-f]{8})-/;
/** Folders of the naming before pids (no owner to ask): removed once older than any invocation. */
const UNOWNED_MAX_AGE_MS = 60 * 60 * 1000;

/** This process's start time in clock ticks after boot (field 22 of /proc/self/stat), as 8 hex
 * digits: the same in every thread of the process, different for a later process with its pid.
 * Where there is no /proc (macOS: local mode only), one value: a same-pid folder counts as live. */
export function processToken(): string {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // The fields after the command name (which may hold spaces), from field 3 on.
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    if (Number.isSafeInteger(start)) return (start % 2 ** 32).toString(16).padStart(8, '0');
  } catch {
    /* no /proc */
  }
  return 'ffffffff';
}

/** A new work folder of this process under `dir`. */
export function makeWorkFolder(dir: string): Promise<string> {
  return mkdtemp(path.join(dir, `${PREFIX}${process.pid}-${PROCESS_TOKEN}-`));
}

/**
 * Remove the work folders under `dir` that no running splitter owns: those of dead processes, of
 * an earlier process with this pid (another token), and unowned ones older than an hour. Returns
 * the names removed. Never throws (a folder that cannot be removed stays for the next sweep).
 */
export function sweepWorkFolders(dir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = OWNED.exec(name);
    let stale: boolean;
    if (m) {
      const pid = Number(m[1]);
      stale = pid === process.pid ? m[2] !== PROCESS_TOKEN : !processAlive(pid);
    } else {
      try {
        stale = now - statSync(path.join(dir, name)).mtimeMs > UNOWNED_MAX_AGE_MS;
      } catch {
        stale = false;
      }
    }
    if (!stale) continue;
    try {
      rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      /* the next sweep tries again */
    }
  }
  return removed;
}
