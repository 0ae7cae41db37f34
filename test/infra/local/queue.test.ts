/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The local upload queue: SQS-shaped messages to the starter, in batches as the event source's
 * pollers hand them over, partial-batch failures delivered again, dead letters after
 * maxReceiveCount, as the AWS queue and event source do.
 */
import { AccountConcurrency, LocalFunction } from '#infra/local/lambda/service.js';
import { LocalQueue, type DeadLetter } from '#infra/local/queue.js';

const notification = {
  Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a.mp4' } } }],
};

function consumer(answer: (event: any, call: number) => unknown, concurrency = 1) {
  let calls = 0;
  const events: any[] = [];
  const fn = new LocalFunction({
    name: 'starter',
    timeoutSeconds: 5,
    concurrency,
    handler: async (event: any) => {
      events.push(event);
      return answer(event, ++calls);
    },
  });
  return { fn, events };
}

test('one SQS-shaped message per S3 event; a success is delivered once', async () => {
  const { fn, events } = consumer(() => ({ batchItemFailures: [] }));
  await new LocalQueue(fn).send(notification);
  expect(events).toHaveLength(1);
  const m = events[0].Records[0];
  expect(m).toMatchObject({ eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } });
  expect(JSON.parse(m.body)).toEqual(notification);
});

test('a message the starter reports as failed comes again; after maxReceiveCount it is a dead letter', async () => {
  const { fn, events } = consumer((e) => ({
    batchItemFailures: [{ itemIdentifier: e.Records[0].messageId }],
  }));
  const dead: DeadLetter[] = [];
  const q = new LocalQueue(fn, { maxReceiveCount: 3, retryDelayMs: 1, onDeadLetter: (l) => dead.push(l) });
  await q.send(notification);
  expect(events.map((e) => e.Records[0].attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
  expect(new Set(events.map((e) => e.Records[0].messageId)).size).toBe(1);
  expect(dead).toHaveLength(1);
  expect(dead[0]).toMatchObject({ receiveCount: 3, body: JSON.stringify(notification) });
  expect(q.deadLetters).toHaveLength(1);
});

test('a failed invocation fails the message; a later success ends it', async () => {
  const { fn, events } = consumer((_, call) => {
    if (call === 1) throw new Error('throttled');
    return { batchItemFailures: [] };
  });
  const dead: DeadLetter[] = [];
  await new LocalQueue(fn, { retryDelayMs: 1, onDeadLetter: (l) => dead.push(l) }).send(notification);
  expect(events).toHaveLength(2);
  expect(dead).toEqual([]);
});

/** An upload's notification, and the key a delivered record carries. */
const upload = (key: string) => ({
  Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key } } }],
});
const keyOf = (record: any): string => JSON.parse(record.body).Records[0].s3.object.key;
const keys = (n: number) => Array.from({ length: n }, (_, i) => `v${i}.mp4`);

/** A consumer whose first `held` invocations wait until `release()`. */
function heldConsumer(
  held: number,
  answer: (event: any, call: number) => unknown = () => ({}),
  concurrency = 1,
) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let running = 0;
  let mostAtOnce = 0;
  const c = consumer(async (event, call) => {
    mostAtOnce = Math.max(mostAtOnce, ++running);
    try {
      if (call <= held) await gate;
      return await answer(event, call);
    } finally {
      running--;
    }
  }, concurrency);
  return { ...c, release, mostAtOnce: () => mostAtOnce };
}

test('messages that wait while the poller is busy go together, at most batchSize at once, in order', async () => {
  const { fn, events, release } = heldConsumer(1);
  const q = new LocalQueue(fn, { batchSize: 10 });
  const sent = keys(25).map((k) => q.send(upload(k)));
  expect(q.pending).toBe(25);
  release();
  await Promise.all(sent);
  expect(events.map((e) => e.Records.length)).toEqual([1, 10, 10, 4]);
  expect(events.flatMap((e) => e.Records.map(keyOf))).toEqual(keys(25));
  expect(q.pending).toBe(0);
});

test('as many batches in flight as the starter has concurrency', async () => {
  const { fn, events, release, mostAtOnce } = heldConsumer(2, () => ({}), 2);
  const q = new LocalQueue(fn, { batchSize: 10 });
  const sent = keys(12).map((k) => q.send(upload(k)));
  release();
  await Promise.all(sent);
  // The first two found a poller each; the ten that waited went in one batch.
  expect(events.map((e) => e.Records.length)).toEqual([1, 1, 10]);
  expect(mostAtOnce()).toBe(2);
  expect(new Set(events.flatMap((e) => e.Records.map(keyOf)))).toEqual(new Set(keys(12)));
});

test("a batch's failed message comes again, alone; the others are not delivered again", async () => {
  const { fn, events, release } = heldConsumer(1, (e) => ({
    batchItemFailures: e.Records.filter(
      (r: any) => keyOf(r) === 'v3.mp4' && r.attributes.ApproximateReceiveCount === '1',
    ).map((r: any) => ({ itemIdentifier: r.messageId })),
  }));
  const q = new LocalQueue(fn, { batchSize: 10, retryDelayMs: 1 });
  const sent = keys(5).map((k) => q.send(upload(k)));
  release();
  await Promise.all(sent);
  expect(events.map((e) => e.Records.map(keyOf))).toEqual([
    ['v0.mp4'],
    ['v1.mp4', 'v2.mp4', 'v3.mp4', 'v4.mp4'],
    ['v3.mp4'],
  ]);
  expect(events[2].Records[0].attributes.ApproximateReceiveCount).toBe('2');
  expect(events[2].Records[0].messageId).toBe(events[1].Records[2].messageId);
  expect(q.deadLetters).toEqual([]);
});

test('a failed invocation fails every message of its batch: all come again', async () => {
  const { fn, events, release } = heldConsumer(1, (_, call) => {
    if (call === 2) throw new Error('the starter crashed');
    return {};
  });
  const dead: DeadLetter[] = [];
  const q = new LocalQueue(fn, { batchSize: 10, retryDelayMs: 1, onDeadLetter: (l) => dead.push(l) });
  const sent = keys(5).map((k) => q.send(upload(k)));
  release();
  await Promise.all(sent);
  expect(events.map((e) => e.Records.length)).toEqual([1, 4, 4]);
  expect(events[2].Records.map((r: any) => r.attributes.ApproximateReceiveCount)).toEqual([
    '2',
    '2',
    '2',
    '2',
  ]);
  expect(events[2].Records.map(keyOf)).toEqual(['v1.mp4', 'v2.mp4', 'v3.mp4', 'v4.mp4']);
  expect(dead).toEqual([]);
});

test('a throttled starter (the account has no concurrency left) is tried again until it runs', async () => {
  // The account's one slot is held by another function until the starter has been refused once.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  class Account extends AccountConcurrency {
    override tryAcquire(): boolean {
      const ok = super.tryAcquire();
      if (!ok) release();
      return ok;
    }
  }
  const account = new Account(1);
  const other = new LocalFunction({
    name: 'splitter',
    timeoutSeconds: 5,
    concurrency: 1,
    accountConcurrency: account,
    handler: () => gate,
  });
  const events: any[] = [];
  const starter = new LocalFunction({
    name: 'starter',
    timeoutSeconds: 5,
    concurrency: 1,
    accountConcurrency: account,
    handler: async (event: any) => {
      events.push(event);
      return {};
    },
  });
  const holding = other.invoke({});
  const dead: DeadLetter[] = [];
  await new LocalQueue(starter, { batchSize: 10, onDeadLetter: (l) => dead.push(l) }).send(upload('v0.mp4'));
  await holding;
  expect(starter.throttled).toBeGreaterThan(0);
  expect(events.map((e) => e.Records.map(keyOf))).toEqual([['v0.mp4']]);
  // Refused invocations are not deliveries: the message came once.
  expect(events[0].Records[0].attributes.ApproximateReceiveCount).toBe('1');
  expect(dead).toEqual([]);
});
