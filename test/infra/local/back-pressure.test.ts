/**
 * Issue 12, "300 uploads at concurrency 16: 103 split: States.Timeout": a burst queues for the
 * local functions' slots, and that wait must not count against a state's TimeoutSeconds nor the
 * execution's. Abandoned work (a state that timed out, an execution that ended) is cancelled.
 * The real ASL file, with its timeouts shortened so that a small burst exceeds them.
 */
import type { Context } from 'aws-lambda';
import { loadDefinition } from '#infra/local/sfn/load-definition.js';
import { PUT_EVENTS_RESOURCE } from '#infra/local/events.js';
import { LocalFunction, type LambdaHandler, type LocalContext } from '#infra/local/lambda/service.js';
import { LocalStepFunctions, type ExecutionRecord } from '#infra/local/sfn/service.js';
import { recognitionOutput, splitOutput, VIDEO } from '#test/statemachine/harness.js';

// The splitter's work takes this long (what makes a queue build up), not a wait for anything.
const work = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Impl = (event: any, context: LocalContext) => Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any

function service(
  impl: { splitter: Impl; recognition?: Impl; result?: Impl },
  opts: { splitTimeout?: number; executionTimeout?: number; splitterConcurrency?: number } = {},
) {
  const make = (name: string, concurrency: number, fn: Impl) =>
    new LocalFunction({
      name: `facerec-${name}`,
      timeoutSeconds: 30,
      concurrency,
      handler: ((e: unknown, c: Context) => fn(e, c as LocalContext)) as LambdaHandler,
    });
  const splitter = make('splitter', opts.splitterConcurrency ?? 1, impl.splitter);
  const recognition = make('recognition', 4, impl.recognition ?? (async (e) => recognitionOutput(e)));
  const result = make(
    'result',
    4,
    impl.result ??
      (async (e) =>
        'failure' in e
          ? { stage: e.failure.stage, error: e.failure.error, reason: 'r', bucket: 'o', errorKey: 'k' }
          : { name: 'Penny', people: [], faces: 1, frames: 1, framesFailed: 0, bucket: 'o', outputKey: 'k' }),
  );
  const definition = loadDefinition({
    SplitterFunctionArn: splitter.arn,
    RecognitionFunctionArn: recognition.arn,
    ResultFunctionArn: result.arn,
    MapMaxConcurrency: 4,
    EventBusName: 'default',
  }) as { TimeoutSeconds?: number; States: Record<string, { TimeoutSeconds?: number }> };
  if (opts.splitTimeout) definition.States['Split video into frames'].TimeoutSeconds = opts.splitTimeout;
  if (opts.executionTimeout) definition.TimeoutSeconds = opts.executionTimeout;
  const sfn = new LocalStepFunctions({
    definition,
    name: 'facerec-pipeline',
    functions: [splitter, recognition, result],
    services: { [PUT_EVENTS_RESOURCE]: () => Promise.resolve({ Entries: [], FailedEntryCount: 0 }) },
    retryIntervalMs: 0,
  });
  const finished: ExecutionRecord[] = [];
  sfn.on('finished', (r: ExecutionRecord) => finished.push(r));
  const start = (name: string) =>
    sfn.startExecution({
      stateMachineArn: sfn.stateMachineArn,
      name,
      input: JSON.stringify({ ...VIDEO, key: `${name}.mp4` }),
    });
  /** Resolves once `n` executions finished (the service's `finished` events). */
  const settled = (n: number) =>
    new Promise<ExecutionRecord[]>((resolve) => {
      const check = () => {
        if (finished.length < n) return;
        sfn.off('finished', check);
        resolve(finished);
      };
      sfn.on('finished', check);
      check();
    });
  return { sfn, splitter, start, settled };
}

describe('back-pressure instead of timeouts (local Step Functions)', () => {
  test('a burst queued behind one slot finishes: waiting is not charged to the Task TimeoutSeconds (1 s)', async () => {
    let calls = 0;
    const s = service(
      {
        splitter: async (e) => {
          calls++;
          await work(150);
          return splitOutput([['f0']], e.video.key);
        },
      },
      { splitTimeout: 1 },
    );
    // 12 x 150 ms behind one slot: the last waits ~1.7 s, longer than the state's 1 s.
    for (let i = 0; i < 12; i++) s.start(`burst-${i}`);
    const done = await s.settled(12);
    await s.sfn.close();
    expect(done.map((r) => `${r.name}: ${r.status} ${r.error ?? ''}`.trim()).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `burst-${i}: SUCCEEDED`).sort(),
    );
    expect(calls).toBe(12);
  });

  test('the execution TimeoutSeconds (1 s) is not charged while it only waits for a slot', async () => {
    const s = service(
      {
        splitter: async (e) => {
          await work(150);
          return splitOutput([['f0']], e.video.key);
        },
      },
      { executionTimeout: 1 },
    );
    for (let i = 0; i < 12; i++) s.start(`exec-${i}`);
    const done = await s.settled(12);
    await s.sfn.close();
    expect(done.filter((r) => r.status !== 'SUCCEEDED').map((r) => `${r.name}: ${r.status}`)).toEqual([]);
  });

  test('a state that runs past its TimeoutSeconds still times out, and its invocation is cancelled', async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((r) => (aborted = r));
    const s = service(
      {
        splitter: async (e, context) => {
          if (e.video.key === 'slow.mp4') {
            await new Promise<void>((resolve) =>
              context.abortSignal.addEventListener('abort', () => resolve()),
            );
            aborted();
            throw new Error('aborted');
          }
          return splitOutput([['f0']], e.video.key);
        },
      },
      { splitTimeout: 1 },
    );
    s.start('slow');
    const [r] = await s.settled(1);
    await s.sfn.close();
    expect(r).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    await sawAbort; // the timed-out invocation is cancelled
    const h = s.sfn.history(r.executionArn);
    expect(h.some((e) => e.type === 'LambdaFunctionTimedOut')).toBe(true);
  });

  test('an execution past its own TimeoutSeconds ends TIMED_OUT and its running work is cancelled', async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((r) => (aborted = r));
    const s = service(
      {
        splitter: async (_e, context) => {
          await new Promise<void>((resolve) =>
            context.abortSignal.addEventListener('abort', () => resolve()),
          );
          aborted();
          throw new Error('aborted');
        },
      },
      { executionTimeout: 1 },
    );
    s.start('forever');
    const [r] = await s.settled(1);
    await s.sfn.close();
    expect(r).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    // The invocation sees its abort (a splitter that never did would hold this test to its timeout).
    await sawAbort;
    expect(s.sfn.history(r.executionArn).at(-1)?.type).toBe('ExecutionTimedOut');
  });

  test('a stopped execution leaves the line: its queued invocation never runs (no orphan frames)', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let firstRuns!: () => void;
    const firstRunning = new Promise<void>((r) => (firstRuns = r));
    const s = service({
      splitter: async (e) => {
        ran.push(e.video.key);
        if (e.video.key === 'first.mp4') {
          firstRuns();
          await gate;
        }
        return splitOutput([['f0']], e.video.key);
      },
    });
    // The second execution's invocation of the splitter: it settles when it leaves the line.
    // (Wrapped: a promise resolved with a promise would wait for that one to settle.)
    let secondInvoked!: (invoked: { invocation: Promise<unknown> }) => void;
    const secondInvocation = new Promise<{ invocation: Promise<unknown> }>((r) => (secondInvoked = r));
    const invoke = s.splitter.invoke.bind(s.splitter);
    s.splitter.invoke = (payload, opts) => {
      const invocation = invoke(payload, opts);
      if ((payload as { video: { key: string } }).video.key === 'second.mp4') secondInvoked({ invocation });
      return invocation;
    };
    s.start('first');
    await firstRunning; // first holds the one slot
    const second = s.start('second');
    const queued = (await secondInvocation).invocation;
    expect(s.splitter.waiting).toBe(1);
    s.sfn.stopExecution(second.executionArn);
    await expect(queued).rejects.toBeDefined();
    expect(s.splitter.waiting).toBe(0);
    release();
    const done = await s.settled(2);
    await s.sfn.close();
    expect(ran).toEqual(['first.mp4']);
    expect(Object.fromEntries(done.map((r) => [r.name, r.status]))).toEqual({
      first: 'SUCCEEDED',
      second: 'ABORTED',
    });
  });
});
