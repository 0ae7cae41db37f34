/**
 * Issue 20 point 2 and issue 21 finding 4: a stopped or killed service leaves no RUNNING execution
 * behind it, its next start redrives what it had not finished, and the history reads as AWS writes
 * one: the aborted attempt, ExecutionAborted, ExecutionRedriven, then only what ran again. The
 * journal stays within its limit while the service runs, and a start reads only its tail.
 */
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ExecutionJournal } from '#infra/local/sfn/journal.js';
import {
  LocalStepFunctions,
  STACK_STOPPED_ERROR,
  type ExecutionRecord,
  type HistoryEvent,
} from '#infra/local/sfn/service.js';
import { harness, recognitionOutput, splitOutput, VIDEO } from '#test/statemachine/harness.js';
import { tempDir } from '#test/support/videos.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Impl = Record<'splitter' | 'recognition' | 'result', (e: any) => unknown>;

/** The pipeline's state machine over stand-in functions, journaled in `dir`. */
function service(dir: string, impl: Impl, extra: { maxJournalBytes?: number } = {}) {
  const h = harness(impl, { journalDir: dir, ...extra });
  return {
    sfn: h.sfn,
    get calls() {
      return {
        splitter: h.calls('splitter').length,
        recognition: h.calls('recognition').length,
        result: h.calls('result').length,
      };
    },
  };
}

const result = () => ({
  name: 'Penny',
  people: [],
  faces: 1,
  frames: 2,
  framesFailed: 0,
  bucket: 'o',
  outputKey: 'k',
});
const finished = (sfn: LocalStepFunctions, arn: string) =>
  new Promise<ExecutionRecord>((resolve) => {
    const on = (r: ExecutionRecord) => {
      if (r.executionArn !== arn) return;
      sfn.off('finished', on);
      resolve(r);
    };
    sfn.on('finished', on);
  });

/** Each Lambda attempt, in the history's order: Scheduled, Started, then one result. */
function checkAttempts(events: HistoryEvent[]): void {
  const open = new Map<string, string[]>();
  for (const e of events) {
    if (!e.type.startsWith('LambdaFunction')) continue;
    const visit = `${String(e.stateName)}/${String(e.mapIndex ?? '')}`;
    const seq = open.get(visit) ?? [];
    seq.push(e.type);
    open.set(visit, seq);
  }
  for (const [visit, seq] of open) {
    // Attempts: Scheduled Started (result)?; an attempt without result only before an abort.
    const text = seq.join(' ');
    expect([visit, text]).toEqual([
      visit,
      expect.stringMatching(
        /^(LambdaFunctionScheduled LambdaFunctionStarted( LambdaFunction(Succeeded|Failed|TimedOut))? ?)+$/,
      ),
    ]);
    expect([visit, text]).not.toEqual([visit, expect.stringMatching(/Failed LambdaFunctionSucceeded/)]);
  }
}

test('a stop mid-Map: ABORTED (not RUNNING), no task failure recorded; the next start redrives it and records only what ran again', async () => {
  const dir = tempDir('facerec-redrive-');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const reached = new Promise<void>((r) => (entered = r));
  const first = service(dir, {
    // The first batch is answered, the second is in flight at the stop.
    splitter: () => splitOutput([['f0', 'f1'], ['f2']]),
    recognition: async (e) => {
      if (e.batch === 1) {
        entered();
        await held; // until the stop cancels it
      }
      return recognitionOutput(e);
    },
    result,
  });
  const { executionArn } = first.sfn.startExecution({
    stateMachineArn: first.sfn.stateMachineArn,
    name: 'stopped',
    input: JSON.stringify(VIDEO),
  });
  await reached;
  // Batch 0 has finished (its success is history, its output journaled) before the stop.
  for (;;) {
    const h = first.sfn.history(executionArn);
    if (h.some((e) => e.type === 'MapIterationSucceeded' && e.mapIterationSucceededEventDetails)) break;
    await new Promise((r) => setImmediate(r));
  }
  await first.sfn.close(0);
  release();
  const stopped = first.sfn.describeExecution(executionArn);
  expect(stopped).toMatchObject({ status: 'ABORTED', error: STACK_STOPPED_ERROR });
  const before = first.sfn.history(executionArn).map((e) => e.type);
  expect(before.at(-1)).toBe('ExecutionAborted');
  expect(before).not.toContain('LambdaFunctionFailed');
  expect(before).not.toContain('MapIterationFailed');

  // The next service on the same journal: redriven, the finished tasks answered from the journal.
  const second = service(dir, {
    splitter: () => {
      throw new Error('the splitter ran again');
    },
    recognition: (e) => recognitionOutput(e),
    result,
  });
  expect(second.sfn.listExecutions().find((r) => r.executionArn === executionArn)?.status).toBe('ABORTED');
  const done = finished(second.sfn, executionArn);
  expect(second.sfn.resumeInterrupted().map((r) => r.name)).toEqual(['stopped']);
  const r = await done;
  expect(r).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  expect(second.calls).toEqual({ splitter: 0, recognition: 1, result: 1 });
  const h = second.sfn.history(executionArn);
  const types = h.map((e) => e.type);
  expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
  expect(types.filter((t) => t === 'TaskStateEntered' && true)).toBeDefined();
  const aborted = types.indexOf('ExecutionAborted');
  const redriven = types.indexOf('ExecutionRedriven');
  expect(aborted).toBeGreaterThan(0);
  expect(redriven).toBe(aborted + 1);
  // After the redrive: batch 1 again (a new attempt), then the Map's end, the result, success.
  const after = h.slice(redriven + 1);
  expect(
    after.map((e) => [e.type, e.stateName ?? (e as any).stateEnteredEventDetails?.name, e.mapIndex]),
  ).toEqual(
    expect.arrayContaining([
      ['LambdaFunctionScheduled', 'Recognize faces', 1],
      ['LambdaFunctionStarted', 'Recognize faces', 1],
      ['LambdaFunctionSucceeded', 'Recognize faces', 1],
    ]),
  );
  expect(after.some((e) => e.stateName === 'Split video into frames')).toBe(false);
  expect(after.some((e) => e.mapIndex === 0)).toBe(false);
  expect(after.filter((e) => e.type === 'MapStateEntered')).toHaveLength(0);
  expect(types.filter((t) => t === 'MapStateEntered')).toHaveLength(1);
  expect(types.filter((t) => t === 'MapStateExited')).toHaveLength(1);
  expect(types.at(-1)).toBe('ExecutionSucceeded');
  // Every state entered once, exited once.
  for (const t of ['TaskStateEntered', 'TaskStateExited']) {
    const names = h
      .filter((e) => e.type === t)
      .map(
        (e) =>
          `${(e as any)[t === 'TaskStateEntered' ? 'stateEnteredEventDetails' : 'stateExitedEventDetails'].name}/${e.mapIndex ?? ''}`,
      );
    expect(new Set(names).size).toBe(names.length);
  }
  checkAttempts(h);
  await second.sfn.close(0);
}, 60_000);

test('a caught failure before the stop is replayed on the redrive (same path), not retried into a success', async () => {
  const dir = tempDir('facerec-redrive-caught-');
  let entered!: () => void;
  const reached = new Promise<void>((r) => (entered = r));
  const first = service(dir, {
    splitter: () => {
      const e = new Error('not a video');
      e.name = 'Facerec.BadInput';
      throw e;
    },
    recognition: (e) => recognitionOutput(e),
    // The failure writer (Catch path) is in flight at the stop.
    result: async () => {
      entered();
      return new Promise(() => undefined);
    },
  });
  const { executionArn } = first.sfn.startExecution({
    stateMachineArn: first.sfn.stateMachineArn,
    name: 'caught',
    input: JSON.stringify(VIDEO),
  });
  await reached;
  await first.sfn.close(0);
  const second = service(dir, {
    splitter: () => splitOutput([['f0']]), // would succeed now: must not be asked
    recognition: (e) => recognitionOutput(e),
    result: () => ({
      errorKey: 'errors/test_00.json',
      stage: 'split',
      error: 'Facerec.BadInput',
      reason: 'not a video',
    }),
  });
  const done = finished(second.sfn, executionArn);
  second.sfn.resumeInterrupted();
  const r = await done;
  expect(second.calls.splitter).toBe(0);
  expect(r.status).toBe('FAILED');
  const h = second.sfn.history(executionArn);
  expect(h.filter((e) => e.type === 'LambdaFunctionFailed')).toHaveLength(1);
  expect(
    h.some((e) => e.type === 'LambdaFunctionSucceeded' && e.stateName === 'Split video into frames'),
  ).toBe(false);
  checkAttempts(h);
  await second.sfn.close(0);
}, 60_000);

test('the journal stays within its limit while the service runs; a start reads only its tail', async () => {
  const dir = tempDir('facerec-journal-');
  const limit = 256 * 1024;
  const s = service(
    dir,
    { splitter: () => splitOutput([['f0']]), recognition: (e) => recognitionOutput(e), result },
    {
      maxJournalBytes: limit,
    },
  );
  const pad = 'x'.repeat(8 * 1024);
  for (let i = 0; i < 120; i++) {
    const { executionArn } = s.sfn.startExecution({
      stateMachineArn: s.sfn.stateMachineArn,
      name: `e${i}`,
      input: JSON.stringify({ ...VIDEO, key: `v${i}.mp4`, pad }),
    });
    await finished(s.sfn, executionArn);
    expect(statSync(path.join(dir, 'journal.ndjson')).size).toBeLessThan(limit + 128 * 1024);
  }
  const kept = s.sfn.listExecutions();
  expect(kept.length).toBeLessThan(120);
  expect(kept[0].name).toBe('e119'); // the newest kept
  await s.sfn.close(0);

  // An older version's journal, much larger than the limit: only its tail is read.
  const big = path.join(tempDir('facerec-journal-big-'), 'journal.ndjson');
  const line = (i: number) =>
    JSON.stringify({
      k: 'exec',
      r: {
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:old-${i}`,
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:facerec-pipeline',
        name: `old-${i}`,
        status: 'SUCCEEDED',
        startDate: 1_000_000 + i,
        stopDate: 1_000_001 + i,
        input: JSON.stringify({ ...VIDEO, pad: 'y'.repeat(900) }),
        events: [],
      },
    });
  writeFileSync(big, Array.from({ length: 20_000 }, (_, i) => line(i)).join('\n') + '\n'); // ~20 MB
  const journal = new ExecutionJournal(path.dirname(big), { maxBytes: limit, maxExecutions: 10_000 });
  const state = journal.load();
  journal.close();
  expect(state.executions.length).toBeGreaterThan(0);
  expect(state.executions.length).toBeLessThan(300);
  expect(state.executions.at(-1)!.name).toBe('old-19999');
  expect(statSync(big).size).toBeLessThanOrEqual(limit);
}, 120_000);
