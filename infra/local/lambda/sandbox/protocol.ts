/**
 * The messages between the local Lambda service and an execution environment (a child process
 * running one function's handler module, infra/local/lambda/sandbox/runtime.ts), over the IPC
 * channel. Events and results travel as JSON text, as through the Lambda API.
 */

/** What the environment is told once, when it starts (its init phase): its argument, as JSON. */
export interface SandboxInit {
  /** File path of the handler module (functions/<name>/handler.ts). */
  module: string;
  /** The export that handles events (Lambda's `index.handler`: `handler`). */
  exportName: string;
  /** Where the metric lines the function writes go (metrics-capture.ts); unset: the terminal. */
  metricsFile?: string;
}

/** The Lambda context's fields; the environment adds its methods and the abort signal. */
export interface SandboxContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  /** Epoch ms when the function's time is up. */
  deadline: number;
}

/** A failure as the Lambda runtime reports it. */
export interface ErrorReport {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type ToSandbox =
  | { type: 'invoke'; id: string; event: string; context: SandboxContext }
  | { type: 'abort'; id: string; reason: { name: string; message: string } };

export type FromSandbox =
  | { type: 'ready'; initMs: number }
  | ({ type: 'init-error' } & ErrorReport)
  | { type: 'result'; id: string; payload: string }
  | ({ type: 'error'; id: string } & ErrorReport)
  /** An uncaught error: the environment's process exits next. */
  | ({ type: 'crash' } & ErrorReport);

/** How the runtime reports anything thrown (`name` is the error type the state machine matches). */
export function errorReport(err: unknown, fallbackType = 'Error'): ErrorReport {
  const e = err instanceof Error ? err : new Error(String(err));
  const own = err as { errorType?: unknown; errorMessage?: unknown; trace?: unknown };
  if (typeof own.errorType === 'string' && typeof own.errorMessage === 'string') {
    return {
      errorType: own.errorType,
      errorMessage: own.errorMessage,
      trace: Array.isArray(own.trace) ? own.trace : [],
    };
  }
  return { errorType: e.name || fallbackType, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
}
