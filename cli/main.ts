/**
 * The `facerec` command (bin/facerec.js). Each subcommand registers itself from its module:
 * add a line to `commands` to add one.
 */
import { Command } from 'commander';
import { registerCompare } from './compare.js';
import { registerEnroll } from './enroll.js';
import { registerExecutions } from './executions.js';
import { registerIdentify } from './identify.js';
import { registerRun } from './run.js';
import { registerUp } from './up.js';

const commands: Array<(program: Command) => void> = [
  registerUp,
  registerRun,
  registerExecutions,
  registerEnroll,
  registerIdentify,
  registerCompare,
];

// The AWS SDK warns that future releases need Node 22; that is not news for a user of this CLI.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : (warning as Error)?.message;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || /require node >=22/.test(text ?? '')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

const program = new Command()
  .name('facerec')
  .description('Face recognition for videos: S3 + Lambda + Step Functions, or all of it locally')
  .showHelpAfterError();
for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`facerec: ${(err as Error).message}`);
  process.exitCode = process.exitCode || 1;
}
