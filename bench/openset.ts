/** `npm run bench:openset -- <folder> [--steps 0,250,500,1000] [--json]`: see bench/openset-run.ts. */
import { Command } from 'commander';
import { loadConfig, type EngineConfig } from '../functions/config.js';
import { DEFAULT_STEPS, formatOpenSet, runOpenSet } from './openset-run.js';

const program = new Command('bench:openset')
  .argument('<folder>', 'gallery/<name>/*, probe-known/<name>/*, probe-strangers/<name>/*')
  .option('--threshold <n>', 'fixed match threshold (default: calibrated on the gallery)', parseFloat)
  .option(
    '--steps <list>',
    `distractors enrolled at each step (default ${DEFAULT_STEPS.join(',')}; all of them is always a step)`,
    (text: string) => text.split(',').map((x) => Number(x.trim())),
  )
  .option('--json', 'print one JSON object as the last line')
  .action(async (folder: string, opts: { threshold?: number; steps?: number[]; json?: boolean }) => {
    const base = loadConfig().engine;
    const config: EngineConfig = {
      ...base,
      matchThreshold: opts.threshold ?? base.matchThreshold,
      matchThresholdFixed: opts.threshold !== undefined || base.matchThresholdFixed,
    };
    if (opts.steps?.some((k) => !Number.isInteger(k) || k < 0))
      throw new Error('--steps: whole numbers >= 0');
    const started = performance.now();
    let lastShown = -1;
    const report = await runOpenSet(folder, config, {
      steps: opts.steps,
      progress: (what, done, total) => {
        const tenth = Math.floor((done / total) * 10);
        if (tenth !== lastShown || done === total) process.stderr.write(`  ${what}: ${done}/${total}\n`);
        lastShown = done === total ? -1 : tenth;
      },
    });
    for (const line of formatOpenSet(report)) console.log(line);
    console.log(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (opts.json) console.log(JSON.stringify(report));
  });

await program.parseAsync();
