/**
 * `facerec teardown --aws [--profile p] [--prefix p] [-c key=value]... [--bucket name]...
 * [--function name]... [--yes] [--dry-run]`: list what the deployment leaves in the account (the
 * stack, the buckets it created and retains, with how many objects and versions each holds),
 * ask, then delete it (infra/aws/account/teardown.ts). A bucket or function the stack did not
 * create is deleted only when named with --bucket / --function. Nothing is deleted without a
 * "yes" typed at the prompt or --yes.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import {
  describePlan,
  executeTeardown,
  isEmptyPlan,
  planTeardown,
  TeardownError,
} from '../../infra/aws/account/teardown.js';
import { commandSession, withAccountOptions, type AccountFlags } from './doctor.js';

interface TeardownFlags extends AccountFlags {
  bucket: string[];
  function: string[];
  yes?: boolean;
  dryRun?: boolean;
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Asks a question on a terminal; undefined when there is none to ask on. */
  ask?: (question: string) => Promise<string>;
}

function terminalIo(): Io {
  return {
    out: process.stdout,
    err: process.stderr,
    ask: process.stdin.isTTY
      ? async (question) => {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}

export async function teardownCommand(flags: TeardownFlags, io: Io = terminalIo()): Promise<number> {
  const session = await commandSession(flags, 'teardown', io.err);
  if (typeof session === 'number') return session;
  try {
    const { plan, access } = session;
    let p;
    try {
      p = await planTeardown({ aws: access, plan, buckets: flags.bucket, functions: flags.function });
    } catch (err) {
      if (err instanceof TeardownError) {
        io.err.write(`facerec teardown: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    io.out.write(
      `facerec teardown: stack ${plan.stackName}, buckets ${plan.prefix}-*, account ${plan.account}, ${plan.region}\n\n`,
    );
    for (const name of p.notFound) io.out.write(`  not found (nothing to do): ${name}\n`);
    for (const k of p.kept) io.out.write(`  kept: bucket ${k.name}: ${k.reason}\n`);
    if (isEmptyPlan(p)) {
      io.out.write(`${p.kept.length || p.notFound.length ? '\n' : ''}Nothing to delete.\n`);
      return 0;
    }
    io.out.write(
      `${p.kept.length || p.notFound.length ? '\n' : ''}Will delete, for good (no undo; every version of every object):\n`,
    );
    for (const line of describePlan(p)) io.out.write(`  - ${line}\n`);
    if (flags.dryRun) {
      io.out.write('\n--dry-run: nothing deleted.\n');
      return 0;
    }
    if (!flags.yes) {
      if (!io.ask) {
        io.err.write(
          '\nNothing deleted: no terminal to ask on. Run again with --yes to confirm the list above.\n',
        );
        return 1;
      }
      const answer = (await io.ask('\nType yes to delete all of the above: ')).trim().toLowerCase();
      if (answer !== 'yes') {
        io.out.write('Nothing deleted.\n');
        return 1;
      }
    }
    try {
      await executeTeardown(access, p, { log: (line) => io.out.write(`${line}\n`) });
    } catch (err) {
      io.err.write(`facerec teardown: ${(err as Error).message}\n`);
      return 1;
    }
    io.out.write('Done.\n');
    return 0;
  } finally {
    session.access.close();
  }
}

export function registerTeardown(program: Command): void {
  withAccountOptions(program.command('teardown'))
    .description(
      'delete a deployment for good: the stack, then the buckets it created and retains (emptied of every version), after listing them and asking',
    )
    .option(
      '--bucket <name>',
      'also delete this bucket, even if the stack did not create it (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
      [],
    )
    .option(
      '--function <name>',
      'also delete this Lambda function, e.g. a leftover video-splitting (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
      [],
    )
    .option('--yes', 'do not ask: delete what the list shows')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .action(async (flags: TeardownFlags) => {
      process.exitCode = await teardownCommand(flags);
    });
}
