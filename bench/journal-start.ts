/**
 * Journal bounds benchmark (issue 21, finding 4): `npx tsx bench/journal-start.ts [--gb 1]
 * [--executions 1000000]`. Writes an execution journal of the older, unbounded kind (one file, every
 * execution with its history) of `--gb` gigabytes holding `--executions` executions, then times
 * what `facerec up` and `facerec executions` do first with it: the Step Functions service loading
 * the journal (in this process: time and RSS), and the real `facerec executions --json` command
 * (a child process, no stack running) from start to its answer. Prints the figures;
 * docs/benchmarks.md ("Local mode robustness") records them.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { option } from './args.js';
import { repoRoot } from './face-frames.js';
import { loadDefinition } from '../infra/local/sfn/load-definition.js';
import { PUT_EVENTS_RESOURCE } from '../infra/local/events.js';
import { LocalFunction } from '../infra/local/lambda/service.js';
import { LocalStepFunctions } from '../infra/local/sfn/service.js';

const GB = Number(option('--gb', '1'));
const N = Number(option('--executions', '1000000'));
const work = path.join(os.tmpdir(), `facerec-bench-journal-${process.pid}`);
const local = path.join(work, 'local');
const dir = path.join(local, 'executions');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'journal.ndjson');

// An execution of the pipeline as the old journal wrote it, padded so that N of them make GB.
const arnBase = 'arn:aws:states:us-east-1:000000000000';
const perExecution = Math.floor((GB * 1024 ** 3) / N);
function writeJournal(): void {
  const t0 = performance.now();
  const fd = openSync(file, 'w');
  let batch: string[] = [];
  for (let i = 0; i < N; i++) {
    const name = `clip-${i}`;
    const a = `${arnBase}:execution:facerec-pipeline:${name}`;
    const input = JSON.stringify({ bucket: 'facerec-input', key: `clip_${i}.mp4`, size: 1000, etag: 'e' });
    const exec = JSON.stringify({
      k: 'exec',
      r: {
        executionArn: a,
        stateMachineArn: `${arnBase}:stateMachine:facerec-pipeline`,
        name,
        status: 'RUNNING',
        startDate: 1_700_000_000_000 + i,
        input,
        events: [],
      },
    });
    const ev = JSON.stringify({
      k: 'ev',
      a,
      e: { timestamp: 1_700_000_000_000 + i, type: 'TaskStateEntered', pad: '' },
    });
    const end = JSON.stringify({
      k: 'end',
      a,
      status: 'SUCCEEDED',
      stopDate: 1_700_000_000_500 + i,
      output: '{}',
    });
    const pad = Math.max(0, perExecution - exec.length - ev.length - end.length - 3);
    batch.push(exec, ev.replace('"pad":""', `"pad":"${'x'.repeat(pad)}"`), end);
    if (batch.length >= 3000) {
      writeSync(fd, `${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length) writeSync(fd, `${batch.join('\n')}\n`);
  closeSync(fd);
  const size = statSync(file).size;
  console.log(
    `journal: ${(size / 1024 ** 3).toFixed(2)} GB, ${N} executions, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
writeJournal();
// A copy for the command's run (the service's load compacts the file in place).
copyFileSync(file, `${file}.copy`);

// 1. What `facerec executions` (no stack) and `facerec up` do first: load it.
const fn = (name: string) =>
  new LocalFunction({
    name: `facerec-${name}`,
    timeoutSeconds: 1,
    concurrency: 1,
    handler: async () => ({}),
  });
const functions = { splitter: fn('splitter'), recognition: fn('recognition'), result: fn('result') };
const rssBefore = process.memoryUsage().rss;
const cpu1 = process.cpuUsage();
const t1 = performance.now();
const sfn = new LocalStepFunctions({
  definition: loadDefinition({
    SplitterFunctionArn: functions.splitter.arn,
    RecognitionFunctionArn: functions.recognition.arn,
    ResultFunctionArn: functions.result.arn,
    MapMaxConcurrency: 10,
    EventBusName: 'default',
  }),
  name: 'facerec-pipeline',
  functions: Object.values(functions),
  services: { [PUT_EVENTS_RESOURCE]: async () => ({}) },
  journalDir: dir,
});
const loadMs = performance.now() - t1;
// CPU time as well as wall time: on a shared machine the wall time is mostly other jobs' turns;
// on an idle one it is about the CPU time (one thread).
const loadCpu = process.cpuUsage(cpu1);
const kept = sfn.listExecutions().length;
const rss = process.memoryUsage().rss;
await sfn.close();
console.log(
  `service load: ${(loadMs / 1000).toFixed(2)} s wall, ${((loadCpu.user + loadCpu.system) / 1e6).toFixed(2)} s CPU, ${kept} executions kept, journal now ${(statSync(file).size / 1024 ** 2).toFixed(1)} MB, ` +
    `RSS ${(rss / 1024 ** 2).toFixed(0)} MB (+${((rss - rssBefore) / 1024 ** 2).toFixed(0)} MB)`,
);

// 2. The real command on the big journal again (the load above compacted it): from start to answer.
renameSync(`${file}.copy`, file);
const env = {
  ...process.env,
  FACEREC_LOCAL_DIR: local,
  FACEREC_LOCAL_S3_PORT: '0',
  FACEREC_LOCAL_SFN_PORT: '0',
};
const t2 = performance.now();
// bash's `time` gives the command's own CPU (user + system) beside the wall time.
const timed = spawnSync(
  'bash',
  [
    '-c',
    'TIMEFORMAT="cpu %3U %3S"; time "$@" > "$OUT"',
    'bash',
    process.execPath,
    path.join(repoRoot, 'bin/facerec.js'),
    'executions',
    '--json',
  ],
  { env: { ...env, OUT: path.join(work, 'executions.json') }, encoding: 'utf8' },
);
const wallMs = performance.now() - t2;
const [, user, system] = /cpu ([\d.]+) ([\d.]+)/.exec(timed.stderr) ?? [];
console.log(
  `facerec executions --json (no stack, the big journal): ${(wallMs / 1000).toFixed(2)} s wall, ` +
    `${(Number(user) + Number(system)).toFixed(2)} s CPU, ` +
    `${(JSON.parse(readFileSync(path.join(work, 'executions.json'), 'utf8')) as unknown[]).length} rows (load ${os.loadavg()[0].toFixed(1)})`,
);
rmSync(work, { recursive: true, force: true });
