/**
 * The `facerec` command (bin/facerec.js): cli/program.ts defines it; this runs it and applies the
 * exit-code rule of cli/lib/errors.ts (0 done, 1 work failed, 2 usage).
 */
import './lib/quiet-warnings.js';
import { CommanderError } from 'commander';
import { describeError, EXIT, exitCodeOf } from './lib/errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander printed the message (and any suggestion); help and --version end with 0.
    process.exitCode = err.exitCode === 0 ? EXIT.done : EXIT.usage;
  } else {
    console.error(`facerec: ${describeError(err)}`);
    process.exitCode = exitCodeOf(err);
  }
}
