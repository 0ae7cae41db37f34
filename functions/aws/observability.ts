/**
 * Metrics and traces of the pipeline functions, with Powertools:
 * - Metrics (CloudWatch embedded metric format: one JSON line on stdout per invocation, which
 *   CloudWatch Logs turns into metrics): the cold start of each execution environment, each
 *   stage's duration (core/stages.ts), and per answered video its frames, faces and Unknown faces.
 *   Local mode runs the same code: its Lambda runtime collects the same lines into the data folder
 *   (infra/local/lambda/sandbox/metrics-capture.ts) for `facerec metrics`.
 * - Tracer (X-Ray): a subsegment for the handler, each stage (ffmpeg runs, the engine's stages,
 *   the result's write) and each S3 call (the SDK clients are captured). Only on Lambda: with no
 *   X-Ray daemon (local mode, tests) the tracer is disabled and every call on it returns at once.
 *
 * One middleware per function (`observability(fn, config)`), added to the handler's middy chain.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
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
  tracer: Tracer;
}

let instruments: Instruments | undefined;

/** The process's metrics and tracer (one per execution environment, made at the first
 * invocation from the configuration); the cores' stages report to them from then on. */
function instrumentsFor(o: Observability): Instruments {
  if (!instruments) {
    const metrics = new Metrics({ namespace: o.namespace, serviceName: o.service, logger: quietLogger });
    const tracer = new Tracer({ serviceName: o.service, enabled: o.tracing });
    instruments = { metrics, tracer };
    observeStages(stageObserver(instruments));
  }
  return instruments;
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
        if (!tracer.isTracingEnabled()) return await work();
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
 * tracing is off). */
const captured = new WeakSet<object>();
export function tracedClient<C extends object>(client: C, o: Observability): C {
  if (!o.tracing || captured.has(client)) return client;
  captured.add(client);
  return instrumentsFor(o).tracer.captureAWSv3Client(client);
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
  let inner: HookSet[] | undefined;
  const hooks = (): HookSet[] => {
    if (!inner) {
      const o = config().pipeline.observability;
      if (!o.metrics && !o.tracing) return (inner = []);
      const { metrics, tracer } = instrumentsFor(o);
      inner = [
        // The response can be large (a batch's frames): X-Ray documents are capped at 64 KB.
        captureLambdaHandler(tracer, { captureResponse: false }) as HookSet,
        logMetrics(metrics, { captureColdStartMetric: true }) as HookSet,
      ];
    }
    return inner;
  };
  const run = async (which: keyof HookSet, request: Request, order: HookSet[]) => {
    for (const h of order) await h[which]?.(request);
  };
  return {
    name: 'facerec-observability',
    before: (request) => run('before', request as Request, hooks()),
    after: async (request) => {
      if (fn === 'result' && hooks().length) {
        const { metrics } = instrumentsFor(config().pipeline.observability);
        for (const [name, value] of videoCounts(request.response))
          metrics.addMetric(name, MetricUnit.Count, value);
      }
      await run('after', request as Request, [...hooks()].reverse());
    },
    onError: (request) => run('onError', request as Request, [...hooks()].reverse()),
  };
}
