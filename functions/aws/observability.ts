/**
 * Metrics and traces of the pipeline functions, with Powertools:
 * - Metrics (CloudWatch embedded metric format: one JSON line on stdout per invocation, which
 *   CloudWatch Logs turns into metrics): the cold start of each execution environment, each
 *   stage's duration (core/stages.ts), and per answered video its frames, faces and Unknown faces.
 *   Local mode runs the same code: its Lambda runtime collects the same lines into the data folder
 *   (infra/local/lambda/sandbox/metrics-capture.ts) for `facerec metrics`.
 * - Tracer (X-Ray): a subsegment for the handler, each stage (ffmpeg runs, the engine's stages,
 *   the result's write) and each S3 call (the SDK clients are captured). Only on Lambda: with no
 *   X-Ray daemon (local mode, tests) the tracer is not even loaded (see `loadTracer`).
 *
 * One middleware per function (`observability(fn, config)`), added to the handler's middy chain.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Config, PipelineConfig } from '../config.js';
import type { FunctionName } from '../core/facts.js';
import {
  COUNT_METRICS,
  observeStages,
  stageMetric,
  type StageObserver,
  type TimedStage,
} from '../core/stages.js';

type Observability = PipelineConfig['observability'];

interface Instruments {
  metrics: Metrics;
  /** Only where tracing is on. */
  tracer?: Tracer;
}

let instruments: Promise<Instruments> | undefined;
/** The tracer once loaded: `tracedClient` captures the SDK clients with it. */
let loadedTracer: Tracer | undefined;

/** The process's metrics and tracer (one per execution environment, made at the first
 * invocation from the configuration); the cores' stages report to them from then on. */
function instrumentsFor(o: Observability): Promise<Instruments> {
  instruments ??= (async () => {
    const metrics = new Metrics({ namespace: o.namespace, serviceName: o.service, logger: quietLogger });
    const made: Instruments = { metrics, tracer: o.tracing ? await loadTracer(o) : undefined };
    observeStages(stageObserver(made));
    return made;
  })().catch((err: unknown) => {
    instruments = undefined;
    throw err;
  });
  return instruments;
}

/**
 * Powertools' tracer, imported only where tracing is on. Importing it loads the X-Ray SDK, whose
 * context store (cls-hooked) enables an async hook at once, disabled tracer or not: from then on
 * every promise of the process runs that hook's init and destroy callbacks. The SDK clients and
 * middy make many promises per request: in local mode's 100-video burst the four functions used
 * 12-15% more CPU with the tracer imported and disabled than without it (docs/benchmarks.md).
 */
async function loadTracer(o: Observability): Promise<Tracer> {
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  loadedTracer = new Tracer({ serviceName: o.service, enabled: true });
  return loadedTracer;
}

/** Powertools' warnings, but not the one for an invocation that had no stage to time (a batch
 * whose frames all failed): that is no fault. */
const quietLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).startsWith('No application metrics')) console.warn(...args);
  },
  error: (...args: unknown[]) => console.error(...args),
};

/** Each stage as an X-Ray subsegment (when tracing) and a duration metric. */
function stageObserver({ metrics, tracer }: Instruments): StageObserver {
  const record = (name: TimedStage, ms: number) =>
    metrics.addMetric(stageMetric(name), MetricUnit.Milliseconds, Math.round(ms));
  return {
    async run(name, work) {
      const t0 = performance.now();
      try {
        if (!tracer?.isTracingEnabled()) return await work();
        // captureAsyncFunc gives the work its own context, so stages running side by side (a
        // batch's frames decoding at once) each get their own subsegment.
        return await (tracer.provider.captureAsyncFunc(`### ${name}`, async (subsegment) => {
          try {
            return await work();
          } catch (err) {
            subsegment?.addError(err as Error);
            throw err;
          } finally {
            subsegment?.close();
          }
        }) as Promise<Awaited<ReturnType<typeof work>>>);
      } finally {
        record(name, performance.now() - t0);
      }
    },
  };
}

/** The SDK client, its calls traced as X-Ray subsegments (once per client; unchanged when
 * tracing is off). A client made before the tracer is loaded (the first invocation's middleware
 * loads it) is captured once it is. */
const captured = new WeakSet<object>();
export function tracedClient<C extends object>(client: C, o: Observability): C {
  if (!o.tracing || captured.has(client)) return client;
  captured.add(client);
  if (loadedTracer) return loadedTracer.captureAWSv3Client(client);
  // A tracer that cannot load fails the invocation in the middleware, not here.
  instrumentsFor(o).then(
    ({ tracer }) => tracer?.captureAWSv3Client(client),
    () => captured.delete(client),
  );
  return client;
}

/** What one answered (or failed) video adds to the counts: the result function's response. */
export function videoCounts(response: unknown): Array<[string, number]> {
  const r = response as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || r.superseded !== undefined) return [];
  if (typeof r.errorKey === 'string') return [[COUNT_METRICS.videosFailed, 1]];
  if (typeof r.outputKey !== 'string') return [];
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  return [
    [COUNT_METRICS.videos, 1],
    [COUNT_METRICS.frames, n(r.frames)],
    [COUNT_METRICS.faces, n(r.faces)],
    [COUNT_METRICS.unknownFaces, n(r.unknownFaces)],
  ];
}

type Hook = ((request: Request) => unknown) | undefined;
interface HookSet {
  before?: Hook;
  after?: Hook;
  onError?: Hook;
}

/**
 * The function's metrics and tracing as one middy middleware: Powertools' own middlewares
 * (captureLambdaHandler, logMetrics with the cold-start metric) made at the first invocation,
 * when the configuration is known, plus the result function's video counts.
 */
export function observability(
  fn: FunctionName,
  config: () => Config,
): MiddlewareObj<unknown, unknown, Error, Context> {
  let inner: Promise<HookSet[]> | undefined;
  const hooks = (): Promise<HookSet[]> =>
    (inner ??= (async (): Promise<HookSet[]> => {
      const o = config().pipeline.observability;
      if (!o.metrics && !o.tracing) return [];
      const { metrics, tracer } = await instrumentsFor(o);
      const set: HookSet[] = [];
      if (tracer) {
        const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware');
        // The response can be large (a batch's frames): X-Ray documents are capped at 64 KB.
        set.push(captureLambdaHandler(tracer, { captureResponse: false }) as HookSet);
      }
      set.push(logMetrics(metrics, { captureColdStartMetric: true }) as HookSet);
      return set;
    })().catch((err: unknown) => {
      // A configuration that could not be read is read again at the next invocation.
      inner = undefined;
      throw err;
    }));
  const run = async (which: keyof HookSet, request: Request, order: HookSet[]) => {
    for (const h of order) await h[which]?.(request);
  };
  return {
    name: 'facerec-observability',
    before: async (request) => run('before', request as Request, await hooks()),
    after: async (request) => {
      const set = await hooks();
      if (fn === 'result' && set.length) {
        const { metrics } = await instrumentsFor(config().pipeline.observability);
        for (const [name, value] of videoCounts(request.response))
          metrics.addMetric(name, MetricUnit.Count, value);
      }
      await run('after', request as Request, [...set].reverse());
    },
    onError: async (request) => run('onError', request as Request, [...(await hooks())].reverse()),
  };
}
