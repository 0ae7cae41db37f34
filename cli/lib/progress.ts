/** A one-line progress display on stderr (redrawn on a terminal, occasional lines otherwise). */
import type { Progress } from './pipeline-run.js';

export function progressPrinter(enabled: boolean) {
  const tty = process.stderr.isTTY;
  let lastLine = '';
  let lastPrinted = 0;
  return {
    update(p: Progress) {
      if (!enabled) return;
      const done = p.succeeded + p.failed;
      const width = 24;
      const filled = p.total ? Math.round((done / p.total) * width) : 0;
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      const line =
        `[${bar}] ${done}/${p.total} done` +
        (p.failed ? `, ${p.failed} failed` : '') +
        ` · uploaded ${p.uploaded} · running ${p.running} · ${(p.elapsedMs / 1000).toFixed(1)} s`;
      if (tty) {
        if (line !== lastLine) process.stderr.write(`\r${line}\x1b[K`);
      } else if (line !== lastLine && Date.now() - lastPrinted > 5000) {
        process.stderr.write(`${line}\n`);
        lastPrinted = Date.now();
      }
      lastLine = line;
    },
    done() {
      if (enabled && tty && lastLine) process.stderr.write('\n');
      else if (enabled && !tty && lastLine) process.stderr.write(`${lastLine}\n`);
    },
  };
}
