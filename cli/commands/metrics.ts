/**
 * `facerec metrics [--since 1h] [--json]`: the pipeline's metrics in local mode (videos, frames,
 * faces, Unknown faces, each stage's duration, cold starts): the same embedded-metric-format lines
 * the functions write on AWS, collected by the local Lambda runtime into the data folder
 * (infra/local/metrics.ts). On AWS the same figures are in the stack's CloudWatch dashboard
 * (docs/deploy.md, "Observability").
 */
import type { Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { localMetricsFile, readLocalMetrics, type MetricSummary } from '../../infra/local/metrics.js';
import { table } from '../lib/history.js';
import { durationOption } from '../lib/options.js';

interface MetricsFlags {
  /** Seconds back from now. */
  since?: number;
  json?: boolean;
}

const figure = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export function metricsTable(metrics: MetricSummary[]): string {
  return table(
    ['metric', 'function', 'unit', 'samples', 'sum', 'min', 'avg', 'max'],
    metrics.map((m) => [
      m.name,
      m.function ?? '-',
      m.unit,
      String(m.samples),
      figure(m.sum),
      figure(m.min),
      figure(m.avg),
      figure(m.max),
    ]),
  );
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description(
      "the local pipeline's metrics (videos, frames, faces, Unknown faces, stage durations, cold starts), as the functions emit them on AWS",
    )
    .addOption(durationOption('--since <duration>', 'only metrics recorded in the last <duration>'))
    .option('--json', 'print the summaries as JSON')
    .action((flags: MetricsFlags) => {
      const dir = loadConfig().pipeline.local.dir;
      const since = flags.since === undefined ? 0 : Date.now() - flags.since * 1000;
      const metrics = readLocalMetrics(dir, since);
      if (flags.json) {
        console.log(JSON.stringify(metrics, null, 2));
        return;
      }
      if (!metrics.length) {
        console.log(
          `no metrics in ${localMetricsFile(dir)} yet: run a video through the local pipeline first`,
        );
        return;
      }
      console.log(metricsTable(metrics));
    });
}
