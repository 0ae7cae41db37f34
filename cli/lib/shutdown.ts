/**
 * SIGINT (Ctrl-C) and SIGTERM for the commands that run a local stack or follow videos (`facerec
 * up`, `facerec run`): the first signal says what happens to the videos in flight and stops in
 * order (a stack started here stops its executions, which the next start on the same data folder
 * redrives, and withdraws its stack.json); a second signal exits at once, after the synchronous
 * part of the cleanup (stack.json), leaving the executions to the next start as after a crash.
 */
import { rmSync } from 'node:fs';
import type { LocalStack } from '../../infra/local/stack.js';
import { readStackInfo, stackFile } from '../../infra/local/stack.js';
import { STACK_STOPPED_ERROR } from '../../infra/local/sfn/service.js';

/** How long a stack that a command started waits for its executions when it stops (target.ts). */
export const TARGET_STACK_GRACE_MS = 1000;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** The shell's exit code of a process ended by a signal: 128 + its number. */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1;
}

export interface ShutdownHooks {
  /** The first signal: say what happens, stop in order. The process exits when it resolves,
   * with `exitCode` (default: the signal's). */
  stop: (signal: NodeJS.Signals) => Promise<number | void> | number | void;
  /** A second signal, before `stop` is done: the synchronous last cleanup, then exit. */
  force?: () => void;
  /** Where messages go (stderr). */
  say?: (line: string) => void;
}

/**
 * Handle SIGINT and SIGTERM with `hooks` from now on; returns the function that removes them
 * (when the command ends by itself).
 */
export function onShutdown(hooks: ShutdownHooks): () => void {
  const say = hooks.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: stopping now`);
      try {
        hooks.force?.();
      } finally {
        process.exit(signalExitCode(signal));
      }
      return;
    }
    stopping = true;
    Promise.resolve()
      .then(() => hooks.stop(signal))
      .then(
        (code) => process.exit(typeof code === 'number' ? code : signalExitCode(signal)),
        (err: unknown) => {
          say(`stopping failed: ${(err as Error).message}`);
          hooks.force?.();
          process.exit(signalExitCode(signal));
        },
      );
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}

/** Remove `<dir>/stack.json` if it names this process (synchronous: safe on a forced exit). */
export function withdrawStackFile(dir: string): void {
  if (readStackInfo(dir)?.pid === process.pid) rmSync(stackFile(dir), { force: true });
}

/** What stopping a local stack does to the videos in flight, in words (before it stops). */
export function stackStopNotice(stack: LocalStack, graceMs: number): string {
  const running = stack.sfn.runningCount;
  const where = stack.config.pipeline.local.dir;
  if (running === 0) return 'stopping the local stack: no video in flight';
  const wait = graceMs > 0 ? `waiting up to ${Math.round(graceMs / 1000)} s for them, then ` : '';
  return (
    `stopping the local stack: ${running} video${running === 1 ? '' : 's'} in flight; ${wait}` +
    `those still running are stopped (ABORTED) and resumed by the next \`facerec up\` or \`facerec run\` on ${where} ` +
    '(their uploads stay in the input bucket)'
  );
}

/** After the stop: how many executions were left to the next start. */
export function stackStoppedNotice(stack: LocalStack): string {
  const stopped = stack.sfn
    .listExecutions({ status: 'ABORTED' })
    .filter((r) => r.error === STACK_STOPPED_ERROR).length;
  return stopped
    ? `stopped: ${stopped} execution${stopped === 1 ? '' : 's'} will be resumed by the next start`
    : 'stopped';
}

/** Where `facerec run` stood when it was stopped (its last progress). */
export interface RunStanding {
  total: number;
  uploaded: number;
  succeeded: number;
  failed: number;
}

/** What happens to the videos of an interrupted `facerec run`, in words. */
export function runStopNotice(
  standing: RunStanding | undefined,
  target: { stack?: LocalStack; description: string },
): string {
  const total = standing?.total ?? 0;
  const done = (standing?.succeeded ?? 0) + (standing?.failed ?? 0);
  const notUploaded = total - (standing?.uploaded ?? 0);
  const open = total - done;
  const head = `stopping: ${done} of ${total} videos done`;
  if (open === 0) return head;
  const uploads =
    notUploaded > 0
      ? `; ${notUploaded} not (fully) uploaded: not in the input bucket, run again to send them`
      : '';
  if (target.stack) return `${head}${uploads}`; // stackStopNotice says what happens to the rest
  return (
    `${head}${uploads}; the ${open - notUploaded} uploaded and not finished go on in ${target.description}: ` +
    '`facerec executions --watch` follows them'
  );
}
