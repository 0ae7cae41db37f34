import { readFileSync } from 'node:fs';
import { ASL_PATH, loadDefinition, substitute } from '#infra/local/sfn/load-definition.js';
import { jsonBytes, PAYLOAD_BUDGET, toBatches, framesWithinBudget } from '#functions/core/batches.js';
import { STATE_PAYLOAD_LIMIT } from '#functions/core/facts.js';
import { fnError, harness, recognitionOutput, splitOutput, VIDEO } from './harness.js';
import { worstCaseBatch, worstCaseFrame } from '#test/support/worst-case.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const ok = {
  name: 'Penny',
  people: [],
  faces: 1,
  frames: 1,
  framesFailed: 0,
  bucket: 'facerec-output',
  outputKey: 'test_00.txt',
};
const resultFn = (event: any) =>
  event.failure
    ? {
        stage: event.failure.stage,
        error: event.failure.error,
        reason: 'r',
        bucket: 'facerec-output',
        errorKey: 'errors/test_00.json',
      }
    : ok;

describe('the ASL file', () => {
  test('uses exactly the deployment substitutions and the facts, and is valid ASL once substituted', () => {
    const text = readFileSync(ASL_PATH, 'utf8');
    const names = [...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
    expect(new Set(names)).toEqual(
      new Set([
        'SplitterFunctionArn',
        'RecognitionFunctionArn',
        'ResultFunctionArn',
        'MapMaxConcurrency',
        'EventBusName',
        'SplitterTaskTimeoutSeconds',
        'RecognitionTaskTimeoutSeconds',
        'ResultTaskTimeoutSeconds',
        'LambdaTaskRetry',
        'AnnounceTaskRetry',
      ]),
    );
    const def = loadDefinition({
      SplitterFunctionArn: 'arn:aws:lambda:us-east-1:1:function:s',
      RecognitionFunctionArn: 'arn:aws:lambda:us-east-1:1:function:r',
      ResultFunctionArn: 'arn:aws:lambda:us-east-1:1:function:o',
      MapMaxConcurrency: 7,
      EventBusName: 'default',
    }) as any;
    expect(def.States['Recognize faces in frame batches'].MaxConcurrency).toBe(7);
    expect(() => substitute(text, { SplitterFunctionArn: 'a' } as any)).toThrow(/no value/);
  });

  test('retries only throttling, transient and Lambda service errors, with backoff and jitter', () => {
    const def = loadDefinition({
      SplitterFunctionArn: 'a',
      RecognitionFunctionArn: 'b',
      ResultFunctionArn: 'c',
      MapMaxConcurrency: 1,
      EventBusName: 'default',
    }) as any;
    // Every Lambda Task, at any depth (the inline and Distributed Maps' item processors too).
    const tasks: any[] = [];
    const collect = (states: Record<string, any>) => {
      for (const s of Object.values(states)) {
        if (s.Type === 'Task' && ['a', 'b', 'c'].includes(s.Resource)) tasks.push(s);
        if (s.ItemProcessor) collect(s.ItemProcessor.States);
      }
    };
    collect(def.States);
    expect(tasks.length).toBeGreaterThanOrEqual(7);
    for (const t of tasks) {
      // First: throttling (the account's Lambda concurrency in use) waits minutes for a slot, alone.
      const [throttled, ...others] = t.Retry;
      expect(throttled).toMatchObject({
        ErrorEquals: ['Lambda.TooManyRequestsException'],
        JitterStrategy: 'FULL',
      });
      expect(throttled.MaxAttempts * Math.min(throttled.MaxDelaySeconds, 10)).toBeGreaterThanOrEqual(300);
      for (const r of others) {
        expect(r.ErrorEquals).not.toContain('Lambda.TooManyRequestsException');
        expect(r.ErrorEquals).not.toContain('States.ALL');
        expect(r.ErrorEquals).not.toContain('Facerec.BadInput');
        expect(r.ErrorEquals).toContain('Facerec.Transient');
        expect(r.ErrorEquals).toContain('Lambda.ServiceException');
        expect(r).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL' });
      }
      expect(t.TimeoutSeconds).toBeGreaterThan(0);
    }
  });
});

describe('state machine behaviour (interpreter)', () => {
  test('an EventBridge event per finished video: the video, the result with its output keys, the execution', async () => {
    const h = harness({
      splitter: () => splitOutput([['f0']]),
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('SUCCEEDED');
    expect(JSON.parse(r.output!)).toEqual(ok); // the execution's output is still the result
    expect(h.events.events).toHaveLength(1);
    expect(h.events.events[0]).toMatchObject({
      eventBusName: 'default',
      source: 'facerec',
      detailType: 'Video processed',
      detail: { status: 'SUCCEEDED', video: VIDEO, result: ok, execution: r.executionArn },
    });
  });

  test('an EventBridge event per failed video: stage, error and the failure record', async () => {
    const h = harness({
      splitter: () => {
        throw fnError('Facerec.BadInput', 'truncated');
      },
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Facerec.BadInput');
    expect(h.events.events.map((e) => e.detailType)).toEqual(['Video failed']);
    expect(h.events.events[0].detail).toMatchObject({
      status: 'FAILED',
      video: VIDEO,
      failure: { stage: 'split', error: 'Facerec.BadInput' },
      record: { bucket: 'facerec-output', errorKey: 'errors/test_00.json' },
      execution: r.executionArn,
    });
  });

  test('events that cannot be sent change no outcome; a record that could not be written is announced as such', async () => {
    const ok1 = harness(
      { splitter: () => splitOutput([['f0']]), recognition: (e) => recognitionOutput(e), result: resultFn },
      { putEvents: () => Promise.reject(fnError('EventBridge.AccessDeniedException')) },
    );
    expect((await ok1.run(VIDEO)).status).toBe('SUCCEEDED');
    const failing = harness({
      splitter: () => {
        throw fnError('Facerec.BadInput', 'truncated');
      },
      recognition: (e) => recognitionOutput(e),
      result: (e: any) => {
        if (e.failure) throw fnError('Facerec.Config', 'AccessDenied');
        return ok;
      },
    });
    const r = await failing.run(VIDEO);
    expect(r).toMatchObject({ status: 'FAILED', error: 'Facerec.BadInput' });
    expect(failing.events.events[0].detail).toMatchObject({ record: { Error: 'Facerec.Config' } });
  });

  test('happy path: Split -> Map over batches -> Result, the results replace the batches', async () => {
    const h = harness({
      splitter: () => splitOutput([['f0', 'f1'], ['f2']]),
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('SUCCEEDED');
    expect(JSON.parse(r.output!)).toEqual(ok);
    expect(h.calls('splitter')[0]).toEqual({ video: VIDEO, execution: r.executionArn });
    expect(h.calls('recognition')).toHaveLength(2);
    expect(h.calls('recognition')).toContainEqual({
      bucket: 'facerec-stage-1',
      keys: ['f2'],
      batch: 1,
      video: 'test_00.mp4',
      execution: r.executionArn,
    });
    const resultInput = h.calls('result')[0] as any;
    expect(resultInput.execution).toBe(r.executionArn);
    expect(resultInput.startedAt).toEqual(expect.any(String));
    expect(resultInput.video).toEqual({ bucket: 'facerec-input', key: 'test_00.mp4', stem: 'test_00' });
    expect(resultInput.batches.map((b: any) => b.frames.map((f: any) => f.key))).toEqual([
      ['f0', 'f1'],
      ['f2'],
    ]);
    const types = h.sfn.history(r.executionArn).map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toContain('MapIterationStarted');
    expect(types).toContain('LambdaFunctionScheduled');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
  });

  test('transient errors are retried until they pass', async () => {
    let n = 0;
    const h = harness({
      splitter: () => {
        if (n++ < 2) throw fnError('Facerec.Transient', 'SlowDown: slow down');
        return splitOutput([['f0']]);
      },
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('SUCCEEDED');
    expect(h.calls('splitter')).toHaveLength(3);
  });

  test('Lambda service errors are retried, at most 4 times, then the failure is recorded', async () => {
    const h = harness({
      splitter: () => {
        throw fnError('Lambda.ServiceException', 'service unavailable');
      },
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect(h.calls('splitter')).toHaveLength(5);
    expect(r.error).toBe('Lambda.ServiceException');
  });

  test('bad input is never retried: the failure record is written, then the execution fails', async () => {
    const h = harness({
      splitter: () => {
        throw fnError('Facerec.BadInput', 'not a video: moov atom not found');
      },
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(h.calls('splitter')).toHaveLength(1);
    expect(h.calls('recognition')).toHaveLength(0);
    const record = h.calls('result')[0] as any;
    expect(record.failure.stage).toBe('split');
    expect(record.failure.error).toBe('Facerec.BadInput');
    expect(JSON.parse(record.failure.cause)).toMatchObject({
      errorType: 'Facerec.BadInput',
      errorMessage: 'not a video: moov atom not found',
    });
    expect(record.video).toEqual(VIDEO);
    expect(record.execution).toBe(r.executionArn);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Facerec.BadInput');
    expect(JSON.parse(r.cause!).errorMessage).toBe('not a video: moov atom not found');
  });

  test('per-item Catch: a failing batch does not sink the video', async () => {
    const h = harness({
      splitter: () => splitOutput([['f0'], ['bad'], ['f2']]),
      recognition: (e) => {
        if (e.keys[0] === 'bad') throw fnError('Facerec.Internal', 'boom');
        return recognitionOutput(e);
      },
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('SUCCEEDED');
    const batches = (h.calls('result')[0] as any).batches;
    expect(batches[1]).toMatchObject({ batch: 1, keys: ['bad'], failed: true, error: 'Facerec.Internal' });
    expect(JSON.parse(batches[1].cause).errorMessage).toBe('boom');
    expect(batches[0].frames).toHaveLength(1);
  });

  test('a transient batch failure is retried inside the Map', async () => {
    const seen = new Map<number, number>();
    const h = harness({
      splitter: () => splitOutput([['f0'], ['f1']]),
      recognition: (e) => {
        seen.set(e.batch, (seen.get(e.batch) ?? 0) + 1);
        if (e.batch === 1 && seen.get(1)! < 3) throw fnError('Facerec.Transient', 'throttled');
        return recognitionOutput(e);
      },
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('SUCCEEDED');
    expect(seen.get(0)).toBe(1);
    expect(seen.get(1)).toBe(3);
    expect((h.calls('result')[0] as any).batches.every((b: any) => !b.failed)).toBe(true);
  });

  test('a failing result writes a record with stage "result"', async () => {
    const h = harness({
      splitter: () => splitOutput([['f0']]),
      recognition: (e) => recognitionOutput(e),
      result: (e) => {
        if (!e.failure) throw fnError('Facerec.BadInput', 'none of the 1 frames could be analysed');
        return resultFn(e);
      },
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect((h.calls('result')[1] as any).failure.stage).toBe('result');
  });

  test('a function timeout (Sandbox.Timedout) is caught, recorded, not retried', async () => {
    const h = harness(
      {
        splitter: () => new Promise(() => undefined),
        recognition: (e) => recognitionOutput(e),
        result: resultFn,
      },
      { timeoutSeconds: { splitter: 0.3 } },
    );
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Sandbox.Timedout');
    expect(h.calls('splitter')).toHaveLength(1);
    expect((h.calls('result')[0] as any).failure.stage).toBe('split');
  });

  test('when even the failure record cannot be written, the execution still fails (never hangs)', async () => {
    const h = harness({
      splitter: () => {
        throw fnError('Facerec.BadInput', 'bad');
      },
      recognition: (e) => recognitionOutput(e),
      result: () => {
        throw fnError('Facerec.Transient', 'S3 down');
      },
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Facerec.BadInput');
    expect(h.calls('result')).toHaveLength(5);
  });

  test('MaxConcurrency bounds the batches in flight', async () => {
    let active = 0;
    let peak = 0;
    const h = harness(
      {
        splitter: () =>
          splitOutput(
            toBatches(
              Array.from({ length: 12 }, (_, i) => `f${i}`),
              1,
            ),
          ),
        recognition: async (e) => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          return recognitionOutput(e);
        },
        result: resultFn,
      },
      { mapMaxConcurrency: 2 },
    );
    expect((await h.run(VIDEO)).status).toBe('SUCCEEDED');
    expect(peak).toBe(2);
  });

  test('payload sizes: the worst case of a capped video stays far under 256 KB in every state', async () => {
    const key = `${'long-folder-name/'.repeat(10)}video`;
    const keyBytes = Buffer.byteLength(`${key}/frame-0000.jpg`);
    const n = Math.min(100, framesWithinBudget(keyBytes, 5));
    const keys = Array.from({ length: n }, (_, i) => `${key}/frame-${String(i).padStart(4, '0')}.jpg`);
    const h = harness({
      splitter: () => splitOutput(toBatches(keys, 5), `${key}.mp4`),
      recognition: (e) => worstCaseBatch(e.batch, e.keys.map(worstCaseFrame)),
      result: resultFn,
    });
    const r = await h.run({ ...VIDEO, key: `${key}.mp4` });
    expect(r.status).toBe('SUCCEEDED');
    let largest = 0;
    for (const e of h.sfn.history(r.executionArn)) {
      for (const [k, v] of Object.entries(e)) {
        if (!k.endsWith('EventDetails') || !v || typeof v !== 'object') continue;
        for (const field of ['input', 'output'] as const) {
          const text = (v as Record<string, unknown>)[field];
          if (typeof text === 'string') largest = Math.max(largest, Buffer.byteLength(text));
        }
      }
    }
    expect(largest).toBeGreaterThan(50_000);
    expect(largest).toBeLessThan(PAYLOAD_BUDGET + 8 * 1024);
    expect(largest).toBeLessThan(STATE_PAYLOAD_LIMIT * 0.75);
    expect(jsonBytes((h.calls('result')[0] as any).batches)).toBeLessThan(PAYLOAD_BUDGET);
  });

  test('a state output over 256 KB fails the execution (States.DataLimitExceeded cannot be caught)', async () => {
    const h = harness({
      splitter: () => ({ ...splitOutput([['f0']]), padding: 'x'.repeat(STATE_PAYLOAD_LIMIT + 1) }),
      recognition: (e) => recognitionOutput(e),
      result: resultFn,
    });
    const r = await h.run(VIDEO);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.DataLimitExceeded');
    expect(h.calls('result')).toHaveLength(0);
  });
});
