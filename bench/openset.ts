/** `npm run bench:openset -- <folder> [--json]`: see bench/openset-run.ts. */
import { Command } from 'commander';
import { loadConfig, type EngineConfig } from '../functions/config.js';
import { formatOpenSet, runOpenSet } from './openset-run.js';

const program = new Command('bench:openset')
  .argument('<folder>', 'gallery/<name>/*, probe-known/<name>/*, probe-strangers/<name>/*')
  .option('--threshold <n>', 'fixed match threshold (default: calibrated on the gallery)', parseFloat)
  .option('--json', 'print one JSON object as the last line')
  .action(async (folder: string, opts: { threshold?: number; json?: boolean }) => {
    const base = loadConfig().engine;
    const config: EngineConfig = {
      ...base,
      matchThreshold: opts.threshold ?? base.matchThreshold,
      matchThresholdFixed: opts.threshold !== undefined || base.matchThresholdFixed,
    };
    const started = performance.now();
    const report = await runOpenSet(folder, config, (done, total) => {
      if (done % 100 === 0 || done === total) process.stderr.write(`  ${done}/${total} probes\n`);
    });
    for (const line of formatOpenSet(report)) console.log(line);
    console.log(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (opts.json) console.log(JSON.stringify(report));
  });

await program.parseAsync();
