/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The local upload queue: SQS-shaped messages to the starter, partial-batch failures delivered
 * again, dead letters after maxReceiveCount, as the AWS queue and event source do.
 */
import { LocalFunction } from '#infra/local/lambda/service.js';
import { LocalQueue, type DeadLetter } from '#infra/local/queue.js';

const notification = {
  Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a.mp4' } } }],
};

function consumer(answer: (event: any, call: number) => unknown) {
  let calls = 0;
  const events: any[] = [];
  const fn = new LocalFunction({
    name: 'starter',
    timeoutSeconds: 5,
    concurrency: 1,
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
