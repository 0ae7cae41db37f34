/**
 * Execution environments of a local function, as Lambda runs them: each one a worker thread with
 * the function's own environment variables (its own credentials: no identity shared between
 * functions or leaked between concurrent invocations), created on demand (a cold start: the
 * handler module's init phase), kept warm and reused, one invocation at a time. Worker threads
 * also let recognition and ffmpeg use every core.
 *
 * An environment whose handler does not stop within a grace period after it was told to (caller
 * gave up, time up) is terminated, as Lambda stops a sandbox; one that crashed (uncaught error,
 * exit) is replaced by a new one on the next invocation.
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { settleWithin } from '../../../../functions/core/concurrency.js';
import type { ErrorReport, FromSandbox, SandboxContext, SandboxInit, ToSandbox } from './protocol.js';

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);

/** Once asked to stop, a handler has this long before its environment is terminated. */
const ABORT_GRACE_MS = 10_000;

export interface SandboxSpec extends SandboxInit {
  /** The function's environment variables (its process.env), credentials included. */
  env: Record<string, string | undefined>;
  /** Thread name (shows in diagnostics). */
  name: string;
}

/** A failure reported by the environment (the handler's error, or the runtime's). */
export class SandboxError extends Error {
  constructor(readonly report: ErrorReport) {
    super(report.errorMessage);
    this.name = report.errorType;
  }
}

let nativeLibrariesPinned = false;
/** sharp (libvips) and onnxruntime must stay loaded in the main thread, or a worker that exits
 * unloads the shared libraries under the others (sharp's documentation on worker threads). */
function pinNativeLibraries(): void {
  if (nativeLibrariesPinned) return;
  nativeLibrariesPinned = true;
  const require = createRequire(import.meta.url);
  for (const name of ['sharp', 'onnxruntime-node']) {
    try {
      require(name);
    } catch {
      // Not installed here: no function of this process can load it either.
    }
  }
}

export class ExecutionEnvironment {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private current?: {
    id: string;
    resolve: (v: unknown) => void;
    reject: (e: Error) => void;
    /** Settles when the invocation does. */
    done?: Promise<unknown>;
  };
  private dead?: Error;
  private graceTimer?: NodeJS.Timeout;
  /** Init phase duration (ms), once ready. */
  initMs?: number;

  constructor(spec: SandboxSpec) {
    pinNativeLibraries();
    const env = Object.fromEntries(
      Object.entries(spec.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    this.worker = new Worker(BOOTSTRAP, {
      workerData: {
        module: spec.module,
        exportName: spec.exportName,
        metricsFile: spec.metricsFile,
      } satisfies SandboxInit,
      env,
      name: spec.name,
    });
    this.worker.unref();
    let settleReady: (err?: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: FromSandbox) => {
      switch (m.type) {
        case 'ready':
          this.initMs = m.initMs;
          settleReady();
          break;
        case 'init-error':
          this.die(new SandboxError(m));
          settleReady(this.dead);
          break;
        case 'result':
          this.settle(m.id, () => this.current!.resolve(JSON.parse(m.payload) as unknown));
          break;
        case 'error':
          this.settle(m.id, () => this.current!.reject(new SandboxError(m)));
          break;
      }
    });
    const crashed = (report: ErrorReport) => {
      const err = new SandboxError(report);
      settleReady(err);
      this.die(err);
    };
    this.worker.on('error', (err) =>
      crashed({
        errorType: err.name === 'Error' ? 'Runtime.UnhandledError' : err.name,
        errorMessage: err.message,
        trace: (err.stack ?? '').split('\n'),
      }),
    );
    this.worker.on('exit', (code) =>
      crashed({
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with code ${code}`,
        trace: [],
      }),
    );
  }

  /** Dead environments are not reused. */
  get usable(): boolean {
    return this.dead === undefined;
  }

  /** Runs one invocation (after the init phase, on a cold start). `signal` asks the handler to stop
   * (context.abortSignal); a handler still running `ABORT_GRACE_MS` later has its environment
   * terminated. */
  async invoke(event: string, context: SandboxContext, signal?: AbortSignal): Promise<unknown> {
    await this.ready;
    if (this.dead) throw this.dead;
    if (this.current) throw new Error('an execution environment runs one invocation at a time');
    const id = randomUUID();
    const done = new Promise<unknown>((resolve, reject) => (this.current = { id, resolve, reject }));
    this.current!.done = done;
    const onAbort = () => {
      const reason = signal!.reason as Error | undefined;
      const msg: ToSandbox = {
        type: 'abort',
        id,
        reason: { name: reason?.name ?? 'AbortError', message: reason?.message ?? 'aborted' },
      };
      this.worker.postMessage(msg);
      this.graceTimer = setTimeout(() => {
        this.die(reason instanceof Error ? reason : new Error('aborted'));
        void this.worker.terminate();
      }, ABORT_GRACE_MS);
      this.graceTimer.unref();
    };
    this.worker.ref(); // an invocation keeps the process alive, an idle environment does not
    try {
      this.worker.postMessage({ type: 'invoke', id, event, context } satisfies ToSandbox);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      return await done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.graceTimer);
      this.worker.unref();
    }
  }

  /** Waits for the init phase (true when it succeeded). */
  async initialized(): Promise<boolean> {
    return this.ready.then(
      () => true,
      () => false,
    );
  }

  /** Stops the environment. A running handler is asked to stop and given `graceMs` to settle
   * first: terminating a thread in the middle of a native call (sharp's) can take the process down. */
  async terminate(graceMs = 5000): Promise<void> {
    const running = this.current;
    if (running?.done) {
      this.worker.postMessage({
        type: 'abort',
        id: running.id,
        reason: { name: 'Runtime.Terminated', message: 'the function was stopped' },
      } satisfies ToSandbox);
      await settleWithin(running.done, graceMs);
    }
    this.die(
      new SandboxError({
        errorType: 'Runtime.Terminated',
        errorMessage: 'the function was stopped',
        trace: [],
      }),
    );
    await this.worker.terminate();
  }

  private settle(id: string, fn: () => void): void {
    if (this.current?.id !== id) return;
    fn();
    this.current = undefined;
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.current?.reject(err);
    this.current = undefined;
  }
}

/** The environments of one function: idle ones reused (warm), new ones made when all are busy. */
export class EnvironmentPool {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  /** Environments created (cold starts). */
  coldStarts = 0;

  constructor(private readonly spec: SandboxSpec) {}

  async invoke(event: string, context: SandboxContext, signal?: AbortSignal): Promise<unknown> {
    const env = this.take();
    try {
      return await env.invoke(event, context, signal);
    } finally {
      if (env.usable) this.idle.push(env);
      else this.all.delete(env);
    }
  }

  /** Starts one environment ahead of the first invocation (its init phase runs now). */
  prewarm(): void {
    if (this.all.size === 0) this.idle.push(this.create());
  }

  async close(): Promise<void> {
    const envs = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(envs.map((e) => e.terminate()));
  }

  private take(): ExecutionEnvironment {
    for (;;) {
      const env = this.idle.pop();
      if (!env) return this.create();
      if (env.usable) return env;
      this.all.delete(env);
    }
  }

  private create(): ExecutionEnvironment {
    const env = new ExecutionEnvironment(this.spec);
    this.coldStarts++;
    this.all.add(env);
    return env;
  }
}
