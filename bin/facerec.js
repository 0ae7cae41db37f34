#!/usr/bin/env node
// The `facerec` command: runs the TypeScript CLI through tsx so that a clone works
// without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../cli/main.ts');
