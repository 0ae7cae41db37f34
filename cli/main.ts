/**
 * The `facerec` command (bin/facerec.js). Each subcommand registers itself from its module:
 * add a line to `commands` to add one.
 */
import './quiet-warnings.js';
import { Command } from 'commander';
import { registerCompare } from './compare.js';
import { registerConsole } from './console/command.js';
import { registerEnroll } from './enroll.js';
import { registerExecutions } from './executions.js';
import { registerIdentify } from './identify.js';
import { registerRun } from './run.js';
import { registerUp } from './up.js';
import { registerWorkload } from './workload.js';
import { registerGrade } from './grade.js';
import { registerGallery } from './gallery.js';
import { registerReconcile } from './reconcile.js';

const commands: Array<(program: Command) => void> = [
  registerUp,
  registerRun,
  registerExecutions,
  registerConsole,
  registerEnroll,
  registerIdentify,
  registerCompare,
  registerWorkload,
  registerGrade,
  registerGallery,
  registerReconcile,
];

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
