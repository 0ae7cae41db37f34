/**
 * onnxruntime-node's first session creation in a process runs a one-time native initialisation
 * that recurses deeply (gdb: ~87,000 frames inside libonnxruntime.so.1, about 8 MB of stack)
 * on the calling thread. On the main thread that is the process's stack (8 MB by `ulimit -s`),
 * whose top also holds the command line and the environment: with ~30 KB of arguments (about
 * 390 image paths to `facerec identify`) the recursion runs off the end and the process dies
 * with SIGSEGV, printing nothing (figures: docs/benchmarks.md, "Long command lines").
 *
 * The initialisation is process-wide and done once, so it is run first on a worker thread whose
 * stack is large (64 MB), by creating a session from an invalid model there; afterwards sessions
 * on the main thread skip it. If the worker cannot run (no worker support, a bundle without the
 * package path), nothing changes: the main thread initialises as before.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const STACK_MB = 64;
let initialised: Promise<void> | undefined;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const ort = require(workerData.ortPath);
ort.InferenceSession.create(new Uint8Array([8, 1])).then(
  () => parentPort.postMessage('ok'),
  () => parentPort.postMessage('ok'), // the model is invalid on purpose: only the init matters
);
`;

/** Run onnxruntime's one-time initialisation on a large-stack worker (once per process). */
export function initOnnxRuntimeOnLargeStack(): Promise<void> {
  initialised ??= new Promise<void>((resolve) => {
    let ortPath: string;
    try {
      ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    } catch {
      resolve();
      return;
    }
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ortPath },
        resourceLimits: { stackSizeMb: STACK_MB },
        stdout: false,
        stderr: false,
      });
    } catch {
      resolve();
      return;
    }
    const done = () => {
      resolve();
      void worker.terminate().catch(() => undefined);
    };
    worker.once('message', done);
    worker.once('error', done);
    worker.once('exit', done);
  });
  return initialised;
}
