import { createFaceEngine } from './functions/core/faces/engine.js';
import { loadConfig } from './functions/config.js';
console.error('args', process.argv.length);
const e = await createFaceEngine(loadConfig().engine);
console.error('engine ok');
