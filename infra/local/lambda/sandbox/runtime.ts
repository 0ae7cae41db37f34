/**
 * Inside an execution environment (a child process whose environment variables are the
 * function's, so its own credentials): the init phase imports the handler module once, then
 * each invocation gets the event (JSON) and a Lambda context, one at a time, as in a Lambda
 * execution environment. `context.abortSignal` tells the handler that its caller gave up or its
 * time is up (where Lambda would stop the sandbox). Messages travel over the IPC channel
 * (protocol.ts); what to load is the process's argument (SandboxInit as JSON).
 *
 * Runs bundled (bundles.ts), as does the function's handler; a TypeScript handler module (tests'
 * stand-ins) is loaded through tsx.
 */
import { setMaxListeners } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { captureMetricLines } from './metrics-capture.js';
import { errorReport, type FromSandbox, type SandboxInit, type ToSandbox } from './protocol.js';

type Handler = (event: unknown, context: Context & { abortSignal: AbortSignal }) => Promise<unknown>;

const post = (m: FromSandbox, then?: () => void) => {
  if (process.connected) process.send!(m, undefined, undefined, then);
};
const init = JSON.parse(process.argv[2]) as SandboxInit;
const running = new Map<string, AbortController>();

// The local Lambda service stopped, or its process died (kill -9): this environment goes too.
process.on('disconnect', () => process.exit(0));
// An uncaught error ends the environment, as in Lambda; the service reports it as the running
// invocation's failure (Runtime.UnhandledError, with the error) when the process has exited.
process.on('uncaughtException', (err) => {
  const report = errorReport(err);
  if (report.errorType === 'Error') report.errorType = 'Runtime.UnhandledError';
  const exit = () => process.exit(129);
  post({ type: 'crash', ...report }, exit);
  setTimeout(exit, 1000).unref();
});
// `ps` tells the environments apart.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) process.title = `${process.env.AWS_LAMBDA_FUNCTION_NAME} (local)`;

async function load(): Promise<Handler | undefined> {
  const started = performance.now();
  try {
    if (/\.[cm]?tsx?$/.test(init.module)) {
      const { register } = await import('tsx/esm/api');
      register();
    }
    const mod = (await import(pathToFileURL(init.module).href)) as Record<string, unknown>;
    const handler = mod[init.exportName];
    if (typeof handler !== 'function') {
      post({
        type: 'init-error',
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: `${init.module} has no function export ${init.exportName}`,
        trace: [],
      });
      return undefined;
    }
    post({ type: 'ready', initMs: performance.now() - started });
    return handler as Handler;
  } catch (err) {
    post({ type: 'init-error', ...errorReport(err, 'Runtime.ImportModuleError') });
    return undefined;
  }
}

async function invoke(handler: Handler, m: Extract<ToSandbox, { type: 'invoke' }>): Promise<void> {
  const abort = new AbortController();
  // The handler hands its abortSignal to every request of the invocation (a segment's frames are
  // uploaded many at once): not a leak, so no MaxListenersExceededWarning on the terminal.
  setMaxListeners(0, abort.signal);
  running.set(m.id, abort);
  const { deadline, ...fields } = m.context;
  const context = {
    ...fields,
    abortSignal: abort.signal,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result = await handler(JSON.parse(m.event) as unknown, context);
    post({ type: 'result', id: m.id, payload: JSON.stringify(result ?? null) });
  } catch (err) {
    post({ type: 'error', id: m.id, ...errorReport(err) });
  } finally {
    running.delete(m.id);
  }
}

if (init.metricsFile) captureMetricLines(init.metricsFile);
const handler = await load();
if (handler) {
  process.on('message', (m: ToSandbox) => {
    if (m.type === 'invoke') void invoke(handler, m);
    else running.get(m.id)?.abort(Object.assign(new Error(m.reason.message), { name: m.reason.name }));
  });
}
