/**
 * The `facerec` command (bin/facerec.js): cli/program.ts defines it and applies the exit-code
 * rule of cli/lib/errors.ts (0 done, 1 work failed, 2 usage).
 */
import './lib/quiet-warnings.js';
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
