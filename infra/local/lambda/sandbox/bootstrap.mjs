// The entry of an execution environment (a child process): TypeScript through tsx, as the CLI
// runs (bin/facerec.js), then the runtime that loads the function's handler module.
import { register } from 'tsx/esm/api';

register();
await import('./runtime.ts');
