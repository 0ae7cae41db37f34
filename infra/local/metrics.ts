/**
 * Local mode's metrics: the embedded-metric-format lines the functions wrote (Powertools Metrics,
 * functions/aws/observability.ts), which the local Lambda runtime collects into
 * `<local dir>/metrics.jsonl` (lambda/sandbox/metrics-capture.ts), summed up as CloudWatch would show
 * them: per metric (and per function for the cold starts) the number of values, their sum,
 * minimum, average and maximum. `facerec metrics` prints it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The metrics file of a data folder. */
export function localMetricsFile(localDir: string): string {
  return path.join(localDir, 'metrics.jsonl');
}

export interface MetricSummary {
  /** The metric's name, e.g. `Frames`, `DetectDuration`. */
  name: string;
  unit: string;
  /** `function_name` of Powertools' cold-start metric; unset for the others. */
  function?: string;
  /** Values recorded (CloudWatch's SampleCount). */
  samples: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
}

interface EmfLine {
  _aws?: {
    Timestamp?: number;
    CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string; Unit?: string }> }>;
  };
  [key: string]: unknown;
}

/** The metrics recorded at or after `since` (epoch ms), sorted by name. Lines that are not EMF
 * (a torn last line after a kill) are skipped. */
export function summarizeMetrics(lines: Iterable<string>, since = 0): MetricSummary[] {
  const byKey = new Map<string, MetricSummary>();
  for (const line of lines) {
    let emf: EmfLine;
    try {
      emf = JSON.parse(line) as EmfLine;
    } catch {
      continue;
    }
    if ((emf._aws?.Timestamp ?? 0) < since) continue;
    const fn = typeof emf.function_name === 'string' ? emf.function_name : undefined;
    for (const directive of emf._aws?.CloudWatchMetrics ?? []) {
      for (const { Name: name, Unit: unit = 'None' } of directive.Metrics ?? []) {
        const raw = emf[name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
        if (!values.length) continue;
        const key = `${name}\u0000${fn ?? ''}`;
        let s = byKey.get(key);
        if (!s) {
          s = {
            name,
            unit,
            ...(fn ? { function: fn } : {}),
            samples: 0,
            sum: 0,
            min: Infinity,
            max: -Infinity,
            avg: 0,
          };
          byKey.set(key, s);
        }
        for (const v of values) {
          s.samples++;
          s.sum += v;
          s.min = Math.min(s.min, v);
          s.max = Math.max(s.max, v);
        }
        s.avg = s.sum / s.samples;
      }
    }
  }
  return [...byKey.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || (a.function ?? '').localeCompare(b.function ?? ''),
  );
}

/** The data folder's metrics (none when no function has run there yet). */
export function readLocalMetrics(localDir: string, since = 0): MetricSummary[] {
  let text: string;
  try {
    text = readFileSync(localMetricsFile(localDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return summarizeMetrics(text.split('\n'), since);
}
