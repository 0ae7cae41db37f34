/**
 * The console's view of a pipeline (what `facerec console`, `facerec report` and the console of
 * `facerec up` read): a target resolved by cli/lib/target.ts, with the gallery and the folder of
 * photos it was enrolled from, and a page-safe description (no endpoints).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { galleryLocation } from '../../functions/core/layout.js';
import type { StackInfo } from '../../infra/local/stack.js';
import { localTarget, profileOf, type Target } from '../lib/target.js';
import { startConsoleServer, type ConsoleServer } from './server.js';
import type { ConsoleSource, ConsoleTarget } from './source.js';

export const DEFAULT_CONSOLE_PORT = 8084;

/** The folder a gallery was enrolled from: given, else `people/` beside the gallery file (the
 * demo's layout), when it exists. */
function peopleDirFor(gallery: string | undefined, given?: string): string | undefined {
  if (given) return path.resolve(given);
  if (!gallery || gallery.startsWith('s3://')) return undefined;
  const beside = path.join(path.dirname(path.resolve(gallery)), 'people');
  return existsSync(beside) ? beside : undefined;
}

/**
 * The gallery the pipeline's recognition function reads: an `s3://` location as configured, else
 * the meta bucket's (where a local stack pushes its `--gallery` file at start and `facerec gallery
 * push` writes), so the console shows what recognizes faces now, not the file a stack started with.
 */
export function pipelineGallery(t: Pick<Target, 'buckets' | 'local'>, configured?: string): string {
  const given = t.local?.gallery ?? configured;
  return given?.startsWith('s3://') ? given : galleryLocation(t.buckets);
}

/** Whether the process of a local stack still runs (signal 0 checks without sending one). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A resolved target as the console reads it: the gallery the pipeline uses (or the one given),
 * photos from the folder it was enrolled from (given, else `people/` beside the stack's file). */
export function consoleTargetOf(
  t: Target,
  opts: { people?: string; gallery?: string; configuredGallery?: string } = {},
): { target: ConsoleTarget; close: () => Promise<void> } {
  const gallery = opts.gallery ?? pipelineGallery(t, opts.configuredGallery);
  const enrolledFrom = opts.gallery ?? t.local?.gallery ?? opts.configuredGallery;
  const pid = t.local && t.sfn && !t.journaled ? t.local.pid : undefined;
  const target: ConsoleTarget = {
    s3: t.s3,
    sfn: t.sfn,
    buckets: t.buckets,
    profile: profileOf(t),
    stateMachineArn: t.stateMachineArn,
    description:
      t.local && t.sfn && !t.journaled
        ? `local stack, pid ${t.local.pid}, profile ${t.local.profile}`
        : t.description,
    gallery,
    peopleDir: peopleDirFor(enrolledFrom, opts.people),
    ...(pid !== undefined && pid !== process.pid ? { alive: () => processAlive(pid) } : {}),
  };
  return { target, close: () => t.close() };
}

/** The console of a local stack (of this process, or found running). */
export function localConsoleTarget(info: StackInfo, opts: { people?: string; gallery?: string } = {}) {
  return consoleTargetOf(localTarget(info), opts);
}

/** Listen on the given port, or any free one when it is taken. */
export async function serveConsole(source: ConsoleSource, port: number): Promise<ConsoleServer> {
  try {
    return await startConsoleServer({ source, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    return startConsoleServer({ source, port: 0 });
  }
}
