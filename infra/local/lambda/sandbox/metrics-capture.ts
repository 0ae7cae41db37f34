/**
 * On AWS, CloudWatch Logs turns the embedded-metric-format lines a function writes to stdout
 * (Powertools Metrics: functions/aws/observability.ts) into metrics. Local mode's runtime does the
 * same job: inside each execution environment, every such line goes to the data folder's metrics
 * file (infra/local/metrics.ts reads it for `facerec metrics`) instead of the terminal; when the
 * file cannot be written (a full disk) they are dropped, said once. Other output passes through
 * unchanged.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** An EMF line starts with its `_aws` metadata (Powertools serializes it first). */
const EMF_START = '{"_aws":';

export function captureMetricLines(file: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch {
    // Reported at the first line that cannot be written.
  }
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (...args: unknown[]) => boolean;
  let told = false;
  stdout.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : undefined;
    if (text?.startsWith(EMF_START)) {
      try {
        appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      } catch (err) {
        // Cannot write the file (a full disk): the figures are lost, not the work, and a terminal
        // flooded with JSON would hide what matters; said once per execution environment.
        if (!told) {
          told = true;
          const code = (err as NodeJS.ErrnoException).code ?? String(err);
          process.stderr.write(`metrics: cannot write ${file} (${code}): metric lines dropped\n`);
        }
      }
      const done = rest.find((r): r is () => void => typeof r === 'function');
      done?.();
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stdout.write;
}
