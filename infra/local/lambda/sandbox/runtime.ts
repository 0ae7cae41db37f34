/**
 * Inside an execution environment (a worker thread with the function's own environment
 * variables, so its own credentials): the init phase imports the handler module once, then
 * each invocation gets the event (JSON) and a Lambda context, one at a time, as in a Lambda
 * execution environment. `context.abortSignal` tells the handler that its caller gave up or its
 * time is up (where Lambda would stop the sandbox).
 */
import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { captureMetricLines } from './metrics-capture.js';
import { errorReport, type FromSandbox, type SandboxInit, type ToSandbox } from './protocol.js';

type Handler = (event: unknown, context: Context & { abortSignal: AbortSignal }) => Promise<unknown>;

const port = parentPort!;
const post = (m: FromSandbox) => port.postMessage(m);
const init = workerData as SandboxInit;
const running = new Map<string, AbortController>();

async function load(): Promise<Handler | undefined> {
  const started = performance.now();
  try {
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
  port.on('message', (m: ToSandbox) => {
    if (m.type === 'invoke') void invoke(handler, m);
    else running.get(m.id)?.abort(Object.assign(new Error(m.reason.message), { name: m.reason.name }));
  });
}
