/**
 * The `facerec` command (bin/facerec.js). Each subcommand registers itself from its module:
 * add a line to `commands` to add one.
 */
import './lib/quiet-warnings.js';
import { Command } from 'commander';
import { registerCompare } from './commands/compare.js';
import { registerDemo } from './commands/demo.js';
import { registerConsole } from './commands/console.js';
import { registerEnroll } from './commands/enroll.js';
import { registerExecutions } from './commands/executions.js';
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
