/**
 * Distributed Map states in local mode (infra/local/sfn/distributed-map.ts): the items read from the
 * local S3 server (ItemReader), batched (ItemBatcher), one child execution per batch running the
 * ItemProcessor on local functions, failures within or beyond the tolerance, the results written
 * to the local S3 as Step Functions writes them (ResultWriter), and the parent's history.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LocalFunction, type LambdaHandler } from '#infra/local/lambda/service.js';
import { LocalStepFunctions, type ExecutionRecord } from '#infra/local/sfn/service.js';
import { localS3, runExecution } from '#test/support/sfn-run.js';
import { tempDir } from '#test/support/videos.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const BUCKET = 'facerec-stage-1';
let s3: S3Client;
let closeS3: () => Promise<void>;

beforeAll(async () => {
  ({ s3, close: closeS3 } = await localS3());
});
afterAll(() => closeS3());

async function putJson(key: string, value: unknown) {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(value) }));
}
async function getJson(bucket: string, key: string): Promise<any> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await res.Body!.transformToString());
}

/** A worker function that records its inputs and the most it ran at once. */
function worker(impl: (event: any) => unknown = (e) => ({ n: e.Items?.length ?? 1 })) {
  const calls: any[] = [];
  let running = 0;
  let most = 0;
  const fn = new LocalFunction({
    name: 'facerec-worker',
    timeoutSeconds: 30,
    concurrency: 16,
    handler: (async (event: unknown) => {
      calls.push(event);
      running++;
      most = Math.max(most, running);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return await impl(event);
      } finally {
        running--;
      }
    }) as LambdaHandler,
  });
  return { fn, calls, most: () => most };
}

function distributedMap(fnArn: string, extra: Record<string, unknown> = {}) {
  return {
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.list.bucket', 'Key.$': '$.list.key' },
    },
    ItemBatcher: {
      MaxItemsPerBatchPath: '$.batchSize',
      BatchInput: { 'execution.$': '$$.Execution.Id', tag: 'fixed' },
    },
    MaxConcurrency: 2,
    Label: 'Frames',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: fnArn,
          Retry: [{ ErrorEquals: ['Transient'], MaxAttempts: 2, IntervalSeconds: 1 }],
          End: true,
        },
      },
    },
    ResultWriter: {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { 'Bucket.$': '$.list.bucket', Prefix: 'runs' },
    },
    ResultPath: '$.results',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'Caught' }],
    End: true,
    ...extra,
  };
}

function service(fn: LocalFunction, map: Record<string, unknown>) {
  return new LocalStepFunctions({
    definition: {
      StartAt: 'Fan out',
      States: { 'Fan out': map, Caught: { Type: 'Pass', End: true } },
    },
    name: 'facerec-pipeline',
    functions: [fn],
    retryIntervalMs: 0,
    s3: () => s3,
  });
}

const run = runExecution;

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `v/frame-${i}.jpg`, timeSec: i }));

test('items from S3, in batches with their BatchInput, one child per batch; results written to S3 as Step Functions writes them', async () => {
  await putJson('v/frames.json', items(23));
  const w = worker();
  const sfn = service(w.fn, distributedMap(w.fn.arn));
  const r = await run(sfn, { list: { bucket: BUCKET, key: 'v/frames.json' }, batchSize: 5 }, 'ok-1');
  expect(r.status).toBe('SUCCEEDED');

  // 23 items in batches of 5: 5 children, each given { Items, BatchInput }, at most 2 at once.
  expect(w.calls.map((c) => c.Items.length).sort()).toEqual([3, 5, 5, 5, 5]);
  expect(w.calls.flatMap((c) => c.Items.map((i: any) => i.key)).sort()).toEqual(
    items(23)
      .map((i) => i.key)
      .sort(),
  );
  for (const c of w.calls) expect(c.BatchInput).toEqual({ execution: r.executionArn, tag: 'fixed' });
  expect(w.most()).toBeLessThanOrEqual(2);

  // The state's result: where the results are.
  const out = JSON.parse(r.output!).results;
  expect(out.MapRunArn).toMatch(
    /^arn:aws:states:us-east-1:000000000000:mapRun:facerec-pipeline\/Frames:[0-9a-f-]{36}$/,
  );
  expect(out.ResultWriterDetails).toEqual({
    Bucket: BUCKET,
    Key: expect.stringMatching(/^runs\/[0-9a-f-]{36}\/manifest\.json$/),
  });
  const manifest = await getJson(BUCKET, out.ResultWriterDetails.Key);
  expect(manifest).toMatchObject({ DestinationBucket: BUCKET, MapRunArn: out.MapRunArn });
  expect(manifest.ResultFiles.FAILED).toEqual([]);
  expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
  const succeeded = await getJson(BUCKET, manifest.ResultFiles.SUCCEEDED[0].Key);
  expect(succeeded).toHaveLength(5);
  for (const e of succeeded) {
    expect(e).toMatchObject({
      Status: 'SUCCEEDED',
      ExecutionArn: expect.stringMatching(/:express:facerec-pipeline\/Frames:/),
      InputDetails: { Included: true },
      OutputDetails: { Included: true },
    });
    expect(JSON.parse(e.Output).n).toBe(JSON.parse(e.Input).Items.length);
  }

  // The parent's history: the Map and its Map Run, none of the children's events.
  const types = sfn.history(r.executionArn).map((e) => e.type);
  expect(types).toEqual([
    'ExecutionStarted',
    'MapStateEntered',
    'MapRunStarted',
    'MapRunSucceeded',
    'MapStateExited',
    'ExecutionSucceeded',
  ]);
  const started = sfn.history(r.executionArn).find((e) => e.type === 'MapRunStarted') as any;
  expect(started.mapRunStartedEventDetails.mapRunArn).toBe(out.MapRunArn);
  await sfn.close();
});

test('failed children: within ToleratedFailurePercentage the run succeeds and FAILED_0.json has them; beyond it, States.ExceedToleratedFailureThreshold', async () => {
  await putJson('v/ten.json', items(10));
  const failing = (e: any) => {
    if (e.Items.some((i: any) => i.timeSec === 3))
      throw Object.assign(new Error('bad frame'), { name: 'BadBatch' });
    return { ok: true };
  };
  const input = { list: { bucket: BUCKET, key: 'v/ten.json' }, batchSize: 2 };

  const tolerant = worker(failing);
  const sfnA = service(tolerant.fn, distributedMap(tolerant.fn.arn, { ToleratedFailurePercentage: 100 }));
  const a = await run(sfnA, input, 'tolerant');
  expect(a.status).toBe('SUCCEEDED');
  const manifest = await getJson(BUCKET, JSON.parse(a.output!).results.ResultWriterDetails.Key);
  const failed = await getJson(BUCKET, manifest.ResultFiles.FAILED[0].Key);
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'BadBatch' });
  expect(JSON.parse(failed[0].Input).Items.map((i: any) => i.timeSec)).toEqual([2, 3]);
  expect((await getJson(BUCKET, manifest.ResultFiles.SUCCEEDED[0].Key)).length).toBe(4);
  await sfnA.close();

  const strict = worker(failing);
  const sfnB = service(strict.fn, distributedMap(strict.fn.arn));
  const b = await run(sfnB, input, 'strict');
  expect(b.status).toBe('SUCCEEDED'); // the Catch took it
  const caught = JSON.parse(b.output!).caught;
  expect(caught.Error).toBe('States.ExceedToleratedFailureThreshold');
  expect(caught.Cause).toMatch(/1 of 5 child executions failed/);
  const types = sfnB.history(b.executionArn).map((e) => e.type);
  expect(types).toContain('MapRunFailed');
  expect(types).not.toContain('MapRunSucceeded');
  await sfnB.close();
});

test('ItemsPath and ItemSelector without a reader or writer: the outputs in item order', async () => {
  const w = worker((e) => e.value * 10);
  const sfn = service(
    w.fn,
    distributedMap(w.fn.arn, {
      ItemReader: undefined,
      ItemBatcher: undefined,
      ResultWriter: undefined,
      ItemsPath: '$.values',
      ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'run.$': '$.tag' },
      MaxConcurrency: 3,
    }),
  );
  const r = await run(sfn, { values: [5, 1, 4, 2, 3], tag: 't' }, 'inline-shape');
  expect(r.status).toBe('SUCCEEDED');
  expect(JSON.parse(r.output!).results).toEqual([50, 10, 40, 20, 30]);
  expect(w.calls.map((c) => [c.value, c.index, c.run]).sort()).toEqual([
    [1, 1, 't'],
    [2, 3, 't'],
    [3, 4, 't'],
    [4, 2, 't'],
    [5, 0, 't'],
  ]);
  expect(w.most()).toBeLessThanOrEqual(3);
  await sfn.close();
});

test('a missing item list is States.ItemReaderFailed (caught), and no child runs', async () => {
  const w = worker();
  const sfn = service(w.fn, distributedMap(w.fn.arn));
  const r = await run(sfn, { list: { bucket: BUCKET, key: 'v/none.json' }, batchSize: 5 }, 'missing');
  expect(JSON.parse(r.output!).caught.Error).toBe('States.ItemReaderFailed');
  expect(w.calls).toHaveLength(0);
  await sfn.close();
});

test('s3:listObjectsV2 reader: one item per object under the prefix', async () => {
  for (const k of ['a', 'b', 'c']) await putJson(`listed/${k}.json`, {});
  const w = worker();
  const sfn = service(
    w.fn,
    distributedMap(w.fn.arn, {
      ItemReader: {
        Resource: 'arn:aws:states:::s3:listObjectsV2',
        Parameters: { Bucket: BUCKET, Prefix: 'listed/' },
      },
      ItemBatcher: undefined,
      ResultWriter: undefined,
    }),
  );
  const r = await run(sfn, {}, 'listing');
  expect(r.status).toBe('SUCCEEDED');
  expect(w.calls.map((c) => c.Key).sort()).toEqual(['listed/a.json', 'listed/b.json', 'listed/c.json']);
  expect(w.calls[0]).toMatchObject({ Size: 2, Etag: expect.any(String) });
  await sfn.close();
});

test('a Map Run interrupted by a stop resumes with the next service: the same Map Run, finished batches not run again', async () => {
  await putJson('v/resume.json', items(20));
  const journalDir = tempDir('facerec-dmap-journal-');
  const service2 = (fn: LocalFunction) =>
    new LocalStepFunctions({
      definition: {
        StartAt: 'Fan out',
        States: { 'Fan out': distributedMap(fn.arn), Caught: { Type: 'Pass', End: true } },
      },
      name: 'facerec-pipeline',
      functions: [fn],
      retryIntervalMs: 0,
      s3: () => s3,
      journalDir,
    });
  const input = { list: { bucket: BUCKET, key: 'v/resume.json' }, batchSize: 5 };

  // First service: batches with items 10.. wait until released; the service stops while both
  // wait (two at once: batches 0 and 5 finished, and were journaled, before they started).
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((r) => (release = r));
  let bothWaiting: () => void = () => undefined;
  const waiting = new Promise<void>((r) => (bothWaiting = r));
  let waitingCount = 0;
  const first = worker(async (e) => {
    if (e.Items[0].timeSec >= 10) {
      if (++waitingCount === 2) bothWaiting();
      await blocked;
    }
    return { n: e.Items.length };
  });
  const sfnA = service2(first.fn);
  const { executionArn } = sfnA.startExecution({
    stateMachineArn: sfnA.stateMachineArn,
    name: 'resumed',
    input: JSON.stringify(input),
  });
  await waiting;
  expect(first.calls.map((c) => c.Items[0].timeSec).sort((a, b) => a - b)).toEqual([0, 5, 10, 15]);
  await sfnA.close();
  release();

  // Second service on the same journal: the execution runs again, answering the finished batches.
  const second = worker();
  const sfnB = service2(second.fn);
  const finished = new Promise<ExecutionRecord>((resolve) =>
    sfnB.on('finished', (r: ExecutionRecord) => r.executionArn === executionArn && resolve(r)),
  );
  expect(sfnB.resumeInterrupted().map((r) => r.executionArn)).toEqual([executionArn]);
  const r = await finished;
  expect(r.status).toBe('SUCCEEDED');
  expect(second.calls.map((c) => c.Items[0].timeSec).sort((a, b) => a - b)).toEqual([10, 15]);
  const runs = sfnB.history(executionArn).filter((e) => e.type === 'MapRunStarted') as any[];
  expect(new Set(runs.map((e) => e.mapRunStartedEventDetails.mapRunArn)).size).toBe(1);
  const manifest = await getJson(BUCKET, JSON.parse(r.output!).results.ResultWriterDetails.Key);
  expect((await getJson(BUCKET, manifest.ResultFiles.SUCCEEDED[0].Key)).length).toBe(4);
  await sfnB.close();
});
