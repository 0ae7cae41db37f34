// The entry of an execution environment (a worker thread): TypeScript through tsx, as the CLI
// runs (bin/facerec.js), then the runtime that loads the function's handler module.
import { register } from 'tsx/esm/api';

register();
await import('./runtime.ts');
