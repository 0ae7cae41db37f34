/**
 * Execution environments of a local function, as Lambda runs them: each one a child process whose
 * environment variables are the function's (its own credentials: no identity shared between
 * functions or leaked between concurrent invocations), created on demand (a cold start: the
 * handler module's init phase), kept warm and reused, one invocation at a time. Processes let
 * recognition and ffmpeg use every core, contain a native crash to one environment, and keep each
 * one small: a process that starts ffmpeg pays for copying its own memory map at every spawn
 * (libuv forks), and a splitter's is ~100 MB where the stack holding every environment's models
 * was ~1.5 GB (~50 ms of CPU a spawn: docs/benchmarks.md, "Local throughput against the floor").
 *
 * An environment whose handler does not stop within a grace period after it was told to (caller
 * gave up, time up) is killed, as Lambda stops a sandbox; one that crashed (uncaught error,
 * exit, a signal) is replaced by a new one on the next invocation. An environment ends with the
 * process that started it: its IPC channel closes, and the runtime exits (runtime.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { settleWithin } from '../../../../functions/core/concurrency.js';
import { runtimeBundle } from './bundles.js';
import type { ErrorReport, FromSandbox, SandboxContext, SandboxInit, ToSandbox } from './protocol.js';

/** Once asked to stop, a handler has this long before its environment is killed. */
const ABORT_GRACE_MS = 10_000;
/** A stopped environment's process has this long to exit by itself before it is killed. */
const EXIT_GRACE_MS = 2000;

export interface SandboxSpec extends SandboxInit {
  /** The function's environment variables (its process.env), credentials included. */
  env: Record<string, string | undefined>;
  /** The function's name (diagnostics). */
  name: string;
}

/** A failure reported by the environment (the handler's error, or the runtime's). */
export class SandboxError extends Error {
  constructor(readonly report: ErrorReport) {
    super(report.errorMessage);
    this.name = report.errorType;
  }
}

export class ExecutionEnvironment {
  private child?: ChildProcess;
  private readonly ready: Promise<void>;
  private exited?: Promise<void>;
  private current?: {
    id: string;
    resolve: (v: unknown) => void;
    reject: (e: Error) => void;
    /** Settles when the invocation does. */
    done?: Promise<unknown>;
  };
  private dead?: Error;
  private graceTimer?: NodeJS.Timeout;
  /** An invocation is waiting for the environment or running in it. */
  private inUse = false;
  /** An uncaught error the runtime reported, told when its process exits. */
  private crash?: ErrorReport;
  /** Init phase duration (ms), once ready. */
  initMs?: number;

  constructor(spec: SandboxSpec) {
    let settleReady: (err?: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined);
    void runtimeBundle().then(
      (runtime) => {
        if (this.dead) settleReady(this.dead);
        else this.start(runtime, spec, settleReady);
      },
      (err: Error) => {
        this.die(
          new SandboxError({
            errorType: 'Runtime.Unavailable',
            errorMessage: `the local Lambda runtime could not be built: ${err.message}`,
            trace: [],
          }),
        );
        settleReady(this.dead);
      },
    );
  }

  private start(runtime: string, spec: SandboxSpec, settleReady: (err?: Error) => void): void {
    const env = Object.fromEntries(
      Object.entries(spec.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const init: SandboxInit = {
      module: spec.module,
      exportName: spec.exportName,
      metricsFile: spec.metricsFile,
    };
    const child = fork(runtime, [JSON.stringify(init)], {
      env,
      // Not this process's flags (a test runner's, tsx's loader): the runtime is JavaScript.
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    if (this.inUse) this.busy();
    else this.idle();
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: FromSandbox) => {
      switch (m.type) {
        case 'ready':
          this.initMs = m.initMs;
          settleReady();
          break;
        case 'init-error':
          this.die(new SandboxError(m));
          settleReady(this.dead);
          this.kill();
          break;
        case 'result':
          this.settle(m.id, () => this.current!.resolve(JSON.parse(m.payload) as unknown));
          break;
        case 'error':
          this.settle(m.id, () => this.current!.reject(new SandboxError(m)));
          break;
        case 'crash':
          this.crash = { errorType: m.errorType, errorMessage: m.errorMessage, trace: m.trace };
          break;
      }
    });
    const crashed = (report: ErrorReport) => {
      const err = new SandboxError(report);
      settleReady(err);
      this.die(err);
    };
    // The process could not be started (no memory, no such file). A message that could not be
    // sent to a process that died (EPIPE) is not the cause: its exit, which follows, says why.
    child.on('error', (err) => {
      if (child.pid === undefined)
        crashed({ errorType: 'Runtime.Unavailable', errorMessage: err.message, trace: [] });
    });
    child.on('exit', (code, signal) =>
      crashed(
        this.crash ?? {
          errorType: 'Runtime.ExitError',
          errorMessage: `Runtime exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
          trace: [],
        },
      ),
    );
  }

  /** The environment's process id (diagnostics: its CPU time in /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Dead environments are not reused. */
  get usable(): boolean {
    return this.dead === undefined;
  }

  /** Runs one invocation (after the init phase, on a cold start). `signal` asks the handler to stop
   * (context.abortSignal); a handler still running `ABORT_GRACE_MS` later has its environment
   * killed. */
  async invoke(event: string, context: SandboxContext, signal?: AbortSignal): Promise<unknown> {
    // An invocation keeps the process alive from its call, its cold start included; an idle
    // environment does not.
    this.inUse = true;
    this.busy();
    try {
      return await this.run(event, context, signal);
    } finally {
      this.inUse = false;
      this.idle();
    }
  }

  private async run(event: string, context: SandboxContext, signal?: AbortSignal): Promise<unknown> {
    await this.ready;
    if (this.dead) throw this.dead;
    if (this.current) throw new Error('an execution environment runs one invocation at a time');
    const id = randomUUID();
    const done = new Promise<unknown>((resolve, reject) => (this.current = { id, resolve, reject }));
    this.current!.done = done;
    const onAbort = () => {
      const reason = signal!.reason as Error | undefined;
      this.send({
        type: 'abort',
        id,
        reason: { name: reason?.name ?? 'AbortError', message: reason?.message ?? 'aborted' },
      });
      this.graceTimer = setTimeout(() => {
        this.die(reason instanceof Error ? reason : new Error('aborted'));
        this.kill();
      }, ABORT_GRACE_MS);
      this.graceTimer.unref();
    };
    try {
      this.send({ type: 'invoke', id, event, context });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      return await done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.graceTimer);
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
   * first (its uploads end, its ffmpeg is stopped), then the process is told to exit, and killed if
   * it lingers. */
  async terminate(graceMs = 5000): Promise<void> {
    const running = this.current;
    if (running?.done) {
      this.send({
        type: 'abort',
        id: running.id,
        reason: { name: 'Runtime.Terminated', message: 'the function was stopped' },
      });
      await settleWithin(running.done, graceMs);
    }
    this.die(
      new SandboxError({
        errorType: 'Runtime.Terminated',
        errorMessage: 'the function was stopped',
        trace: [],
      }),
    );
    // Closing the channel ends the runtime (it exits on 'disconnect').
    if (this.child?.connected) this.child.disconnect();
    if (!this.exited) return;
    await settleWithin(this.exited, EXIT_GRACE_MS);
    this.kill();
    await settleWithin(this.exited, graceMs);
  }

  private send(m: ToSandbox): void {
    if (this.child?.connected) this.child.send(m);
  }

  private kill(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private busy(): void {
    this.child?.ref();
    this.child?.channel?.ref();
  }

  private idle(): void {
    this.child?.unref();
    this.child?.channel?.unref();
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

  /** Process ids of the environments alive now. */
  get pids(): number[] {
    return [...this.all].flatMap((e) => (e.usable && e.pid !== undefined ? [e.pid] : []));
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
