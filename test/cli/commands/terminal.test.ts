/**
 * Terminal output (issue 20 points 1 and 7): what `run`, `up`, `workload`, `reconcile` and the
 * tables print shows everyone recognized and the Unknown faces, and a key or a name holding a
 * newline and ANSI escapes prints as one visible, escaped line: no forged `done ... -> <name>`
 * line, no colour.
 */
import { PassThrough } from 'node:stream';
import type { ResultOutput } from '#functions/core/contracts.js';
import { bucketNames } from '#functions/core/layout.js';
import { printReport } from '#cli/commands/run.js';
import { describeExecution, recoveryLines } from '#cli/commands/up.js';
import { printWorkload } from '#cli/commands/workload.js';
import { printReconcile } from '#cli/commands/reconcile.js';
import { table } from '#cli/lib/history.js';
import type { RunReport } from '#cli/lib/pipeline-run.js';

/** A key (and a name) that would print a green, forged line on a terminal. */
const FORGED = 'x.mp4\n\u001b[32mdone    forged.mp4 -> Alice  (1 faces, 1 frames, 0.10 s)\u001b[0m';
const ESCAPED = 'x.mp4\\n\\x1b[32mdone    forged.mp4 -> Alice';
// eslint-disable-next-line no-control-regex -- control characters are what must not be printed
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function capture(write: (out: NodeJS.WritableStream) => void): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  write(out);
  return text;
}

/** Every line is one printed line: no control character, no line that starts as a forged one. */
function expectNoForgedLine(text: string) {
  expect(text).not.toMatch(CONTROL);
  for (const line of text.split('\n')) expect(line).not.toMatch(/^\s*done\s+forged/);
  expect(text).toContain(ESCAPED);
}

const output = (over: Partial<ResultOutput> = {}): ResultOutput => ({
  name: 'Amy',
  people: [
    {
      name: 'Amy',
      weight: 3,
      frames: 3,
      faces: 3,
      bestDistance: 0.3,
      screenTimeSec: 6,
      firstSeenSec: 0,
      lastSeenSec: 4,
      intervals: [{ startSec: 0, endSec: 4, firstFrame: 0, lastFrame: 2, frames: 3 }],
    },
    {
      name: FORGED,
      weight: 1,
      frames: 1,
      faces: 1,
      bestDistance: 0.5,
      screenTimeSec: 2,
      firstSeenSec: 8,
      lastSeenSec: 8,
      intervals: [{ startSec: 8, endSec: 8, firstFrame: 4, lastFrame: 4, frames: 1 }],
    },
  ],
  faces: 7,
  unknownFaces: 3,
  frames: 5,
  framesFailed: 0,
  bucket: 'facerec-output',
  outputKey: 'v.txt',
  ...over,
});

test('run: everyone recognized, the Unknown faces, who appears when; hostile keys and names escaped', () => {
  const report = {
    results: [
      {
        video: 'a.mp4',
        key: FORGED,
        status: 'SUCCEEDED',
        name: 'Amy',
        faces: 7,
        frames: 5,
        seconds: 1.5,
        result: output(),
      },
      {
        video: 'b.mp4',
        key: `b-${FORGED}`,
        status: 'FAILED',
        error: 'Facerec.BadInput',
        reason: `not a video: ${FORGED}`,
        errorKey: `errors/${FORGED}.json`,
      },
    ],
    firstUploadAt: 0,
    uploadedAt: 1,
    lastDoneAt: 2000,
    wallSeconds: 2,
    target: { buckets: bucketNames('facerec') },
  } as unknown as RunReport;
  const text = capture((out) => printReport(report, out));
  expectNoForgedLine(text);
  const [header, , row] = text.split('\n');
  expect(header).toMatch(/^video\s+people\s+faces\s+unknown\s+frames\s+seconds$/);
  expect(row).toMatch(/ Amy \+1 more +7 +3 +5 +1\.50$/);
  expect(text).toMatch(
    /who appears when[\s\S]*Amy +0\.0s-4\.0s +\(6\.0s on screen, 3 frames, best distance 0\.30\)/,
  );
  expect(text).toMatch(/1\/2 videos processed, 1 failed/);
});

test('up: a finished execution names everyone and the Unknown faces; a hostile key forges nothing', () => {
  const input = JSON.stringify({ bucket: 'facerec-input', key: FORGED });
  const base = {
    executionArn: 'arn',
    stateMachineArn: 'sm',
    name: 'x',
    startDate: 0,
    stopDate: 1500,
    input,
    events: [],
  };
  const done = describeExecution({ ...base, status: 'SUCCEEDED', output: JSON.stringify(output()) });
  expect(done.split('\n')).toHaveLength(1);
  expect(done).toMatch(
    /^done +x\.mp4\\n\\x1b\[32mdone +forged\.mp4 .*-> Amy, x\.mp4\\n.*\(7 faces, 3 Unknown, 5 frames, 1\.50 s\)$/,
  );
  expectNoForgedLine(done);
  const failed = describeExecution({
    ...base,
    status: 'FAILED',
    error: 'Facerec.BadInput',
    cause: JSON.stringify({ errorMessage: `not a video: ${FORGED}` }),
  });
  expect(failed.split('\n')).toHaveLength(1);
  expectNoForgedLine(failed);
  const recovery = recoveryLines({
    resumed: [],
    reconcile: { started: [{ key: FORGED, name: 'n' }], skipped: [{ key: FORGED, reason: FORGED }] },
  } as never).join('\n');
  expectNoForgedLine(recovery);
});

test('workload and reconcile print keys and reasons escaped; the default profile lists its names on one row', () => {
  const video = (key: string, status: string, extra = {}) => ({
    file: key,
    key,
    stem: key,
    outputKey: `${key}.txt`,
    errorKey: `errors/${key}.json`,
    status,
    ...extra,
  });
  const workload = capture((out) =>
    printWorkload(
      {
        videos: [
          video(FORGED, 'done', { name: 'Amy\nRaj', latencyMs: 1000 }),
          video(`b-${FORGED}`, 'failed', { reason: FORGED }),
        ],
        pacing: { kind: 'rate', perSecond: 1 },
        timeoutSec: 300,
        firstUploadAt: 0,
        lastUploadAt: 1,
        polls: 1,
        pollIntervalMs: { min: 250, max: 1000 },
        preexisting: 0,
      } as never,
      out,
    ),
  );
  expectNoForgedLine(workload);
  expect(workload).toMatch(/Amy, Raj/);
  const reconcile = capture((out) =>
    printReconcile(
      {
        inputs: 2,
        answered: 0,
        running: 0,
        recent: 0,
        started: [{ key: FORGED, name: 'n' }],
        skipped: [{ key: FORGED, reason: FORGED }],
      },
      false,
      out,
    ),
  );
  expectNoForgedLine(reconcile);
});

test('table: a cell cannot add a row', () => {
  const text = table(['video', 'name'], [[FORGED, 'Amy']]);
  expect(text.split('\n')).toHaveLength(3);
  expectNoForgedLine(text);
});
