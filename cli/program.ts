/**
 * The `facerec` command line: every subcommand registers itself from its module (add a line to
 * `commands` to add one). Usage errors end with exit code 2 (cli/lib/errors.ts has the rule); a
 * misspelled command or option is answered with the nearest one; `--version` prints the
 * package's version.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, type Option } from 'commander';
import { describeError, EXIT, exitCodeOf } from './lib/errors.js';
import { registerCompare } from './commands/compare.js';
import { registerDemo } from './commands/demo.js';
import { registerConsole } from './commands/console.js';
import { registerEnroll } from './commands/enroll.js';
import { registerExecutions } from './commands/executions.js';
import { registerMetrics } from './commands/metrics.js';
import { registerIdentify } from './commands/identify.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerUp } from './commands/up.js';
import { registerWorkload } from './commands/workload.js';
import { registerGrade } from './commands/grade.js';
import { registerGallery } from './commands/gallery.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerDoctor } from './commands/doctor.js';
import { registerTeardown } from './commands/teardown.js';

const commands: Array<(program: Command) => void> = [
  registerUp,
  registerRun,
  registerExecutions,
  registerMetrics,
  registerConsole,
  registerReport,
  registerEnroll,
  registerIdentify,
  registerCompare,
  registerWorkload,
  registerGrade,
  registerGallery,
  registerReconcile,
  registerDoctor,
  registerTeardown,
  registerDemo,
];

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** What commander does not expose in its typings (present at runtime in commander 14). */
interface CommanderInternals {
  args: string[];
  missingMandatoryOptionValue(option: Option): void;
  unknownOption(flag: string): void;
}

/** A Command whose subcommands are the same kind: commander checks required options before
 * unknown ones, so `--galery g.json` would say "required option --gallery not specified"; this
 * names the unknown option first, with commander's suggestion (`Did you mean --gallery?`). */
class FacerecCommand extends Command {
  override createCommand(name?: string): Command {
    return new FacerecCommand(name);
  }

  missingMandatoryOptionValue(option: Option): void {
    const self = this as unknown as CommanderInternals;
    const unknown = self.args.find((a) => /^-./.test(a) && a !== '--');
    if (unknown) self.unknownOption(unknown.split('=')[0]);
    (Command.prototype as unknown as CommanderInternals).missingMandatoryOptionValue.call(this, option);
  }
}

/** The program; `output` redirects commander's own messages (usage errors, help) for tests. */
export function buildProgram(output?: { writeOut(s: string): void; writeErr(s: string): void }): Command {
  const program = new FacerecCommand()
    .name('facerec')
    .description('Face recognition for videos: S3 + Lambda + Step Functions, or all of it locally')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for the usage)')
    .showSuggestionAfterError(true)
    // Errors are thrown to main.ts, which applies the exit-code rule (subcommands inherit this).
    .exitOverride();
  if (output) program.configureOutput(output);
  for (const register of commands) register(program);
  return program;
}

/** Run the command line `argv` (process.argv's shape) to its end; the exit code by the rule of
 * cli/lib/errors.ts. Errors are printed on stderr in plain words. */
export async function runCli(argv: readonly string[], program = buildProgram()): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return Number(process.exitCode ?? EXIT.done);
  } catch (err) {
    // Commander printed its message (and any suggestion); help and --version end with 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.done : EXIT.usage;
    console.error(`facerec: ${describeError(err)}`);
    return exitCodeOf(err);
  }
}
