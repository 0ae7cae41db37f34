/**
 * Local mode's execution environments move the functions' metric lines (EMF) to the data folder's
 * metrics file, as CloudWatch Logs takes them out of a function's log on AWS; when the file cannot
 * be written (a full disk) they are dropped, said once, and never flood the terminal.
 * captureMetricLines patches process.stdout, so each case runs in a child process.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, tempDir } from '#test/support/videos.js';

const EMF = JSON.stringify({
  _aws: {
    Timestamp: 1,
    CloudWatchMetrics: [{ Namespace: 'Facerec/x', Dimensions: [['service']], Metrics: [] }],
  },
  service: 'facerec',
  ResultDuration: 12,
});

/** Runs captureMetricLines(file) in a child, then writes two metric lines and one ordinary line. */
function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const capture = pathToFileURL(path.join(repoRoot, 'infra/local/lambda/sandbox/metrics-capture.ts')).href;
  const script = [
    `const { captureMetricLines } = await import(${JSON.stringify(capture)});`,
    `captureMetricLines(${JSON.stringify(file)});`,
    `process.stdout.write(${JSON.stringify(EMF + '\n')});`,
    `process.stdout.write(${JSON.stringify(EMF + '\n')});`,
    `process.stdout.write('an ordinary line\\n');`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('metric lines go to the metrics file, other output to the terminal', async () => {
  const file = path.join(tempDir('metrics-capture-'), 'local', 'metrics.jsonl');
  const r = await run(file);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('an ordinary line\n');
  expect(readFileSync(file, 'utf8')).toBe(`${EMF}\n${EMF}\n`);
}, 60_000);

test('a metrics file that cannot be written: lines dropped, said once, the terminal left clean', async () => {
  // A regular file where the folder should be: every write fails (ENOTDIR), as a full disk would.
  const dir = tempDir('metrics-capture-');
  writeFileSync(path.join(dir, 'local'), 'not a folder');
  const file = path.join(dir, 'local', 'metrics.jsonl');
  const r = await run(file);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('an ordinary line\n');
  expect(
    r.stderr.match(/metrics: cannot write .*metrics\.jsonl \(ENOTDIR\): metric lines dropped/g),
  ).toHaveLength(1);
}, 60_000);
