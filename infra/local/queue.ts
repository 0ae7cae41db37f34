/**
 * The local stand-in for the upload queue between the input bucket and the starter (on AWS: an
 * SQS queue with a dead-letter queue and an SQS event source with ReportBatchItemFailures). Each
 * S3 event becomes one SQS-shaped message. Messages go to the starter in batches, as the event
 * source's pollers hand them over: up to `batchSize` at once, with as many invocations in flight as
 * the starter's concurrency. A message that finds a poller free goes at once, alone (AWS's
 * batching window, which waits up to a second to fill a batch, is not imitated: it would only
 * delay every upload here); those that arrive while every poller is busy wait and go together.
 * The starter answers with the messages it could not handle (`batchItemFailures`), which are
 * delivered again after a delay, and after `maxReceiveCount` deliveries go to the dead-letter list
 * (`onDeadLetter`). A failed invocation fails every message of the batch, as on AWS. A throttled
 * invocation (the account's concurrency is in use) is retried while the messages stay invisible,
 * as Lambda's SQS poller does.
 */
import { randomUUID, createHash } from 'node:crypto';
import { invokeUnthrottled, type LambdaFunctionError, type LocalFunction } from './lambda/service.js';
import { DEFAULT_REGION } from '../../functions/core/facts.js';

/** One message as Lambda's SQS event source hands it to a function (every field AWS sends: the
 * starter validates the record with Powertools' SQS schema). */
export function toSqsRecord(m: {
  messageId: string;
  body: string;
  receiveCount?: number;
  /** When the message was sent and first received (epoch ms; default: now). */
  sentAt?: number;
  firstReceivedAt?: number;
  region?: string;
  queueArn?: string;
}): Record<string, unknown> {
  const region = m.region ?? DEFAULT_REGION;
  const receiveCount = m.receiveCount ?? 1;
  const sentAt = m.sentAt ?? Date.now();
  return {
    messageId: m.messageId,
    receiptHandle: `local-${m.messageId}-${receiveCount}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(m.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: m.queueArn ?? `arn:aws:sqs:${region}:000000000000:uploads`,
    awsRegion: region,
  };
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  /** The starter's error when the invocation failed; else it reported the message as failed. */
  error?: LambdaFunctionError;
}

export interface LocalQueueOptions {
  /** Messages handed to one invocation at most (AWS: the event source's BatchSize). Default 1. */
  batchSize?: number;
  /** Deliveries before a message is dead-lettered (AWS: the redrive policy's maxReceiveCount). */
  maxReceiveCount?: number;
  /** Wait before a failed message is delivered again (AWS: the visibility timeout). */
  retryDelayMs?: number;
  /** How long a received message stays invisible: a throttled invocation (TooManyRequestsException)
   * is retried within it without counting as a delivery, as Lambda's SQS event source does.
   * Default: six times the consumer's timeout (the stack's visibility timeout). */
  visibilityTimeoutMs?: number;
  onDeadLetter?: (letter: DeadLetter) => void;
  /** Each response of the consumer (an invocation that did not fail). */
  onResponse?: (response: unknown) => void;
  region?: string;
  queueArn?: string;
}

/** A message waiting for a delivery, or being delivered. */
interface Message {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  /** Its end: handled, or dead-lettered. */
  settle: () => void;
}

export class LocalQueue {
  readonly deadLetters: DeadLetter[] = [];
  private inFlight = 0;
  /** Messages visible now, oldest first. */
  private readonly visible: Message[] = [];
  /** Invocations of the consumer in flight. */
  private polling = 0;

  constructor(
    private readonly consumer: LocalFunction,
    private readonly opts: LocalQueueOptions = {},
  ) {}

  /** Messages not yet handled or dead-lettered. */
  get pending(): number {
    return this.inFlight;
  }

  /** Enqueue one S3 event notification (as S3 would send it to SQS); settles when the message was
   * handled or dead-lettered. */
  send(notification: unknown): Promise<void> {
    this.inFlight++;
    return new Promise<void>((settle) => {
      const message = { messageId: randomUUID(), body: JSON.stringify(notification), sentAt: Date.now() };
      this.visible.push({ ...message, receiveCount: 1, settle });
      this.poll();
    }).finally(() => this.inFlight--);
  }

  /** Hands the visible messages to free pollers, a batch each. */
  private poll(): void {
    const pollers = Math.max(1, this.consumer.spec.concurrency);
    const batchSize = Math.max(1, this.opts.batchSize ?? 1);
    while (this.visible.length > 0 && this.polling < pollers) {
      const batch = this.visible.splice(0, batchSize);
      this.polling++;
      void this.deliver(batch).finally(() => {
        this.polling--;
        this.poll();
      });
    }
  }

  private async deliver(batch: Message[]): Promise<void> {
    const event = {
      Records: batch.map((m) =>
        toSqsRecord({
          messageId: m.messageId,
          body: m.body,
          receiveCount: m.receiveCount,
          sentAt: m.sentAt,
          region: this.opts.region,
          queueArn: this.opts.queueArn,
        }),
      ),
    };
    let error: LambdaFunctionError | undefined;
    let failed: Set<string>;
    try {
      const visibleAgainMs = this.opts.visibilityTimeoutMs ?? this.consumer.spec.timeoutSeconds * 6 * 1000;
      const res = (await invokeUnthrottled(this.consumer, event, visibleAgainMs)) as {
        batchItemFailures?: Array<{ itemIdentifier: string }>;
      };
      this.opts.onResponse?.(res);
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      error = err as LambdaFunctionError;
      failed = new Set(batch.map((m) => m.messageId));
    }
    const again = new Map<number, Message[]>();
    for (const m of batch) {
      if (!failed.has(m.messageId)) m.settle();
      else if (m.receiveCount >= (this.opts.maxReceiveCount ?? 3)) this.deadLetter(m, error);
      else {
        const delayMs = this.opts.retryDelayMs ?? 1000 * m.receiveCount;
        again.set(delayMs, [...(again.get(delayMs) ?? []), { ...m, receiveCount: m.receiveCount + 1 }]);
      }
    }
    // A batch's failed messages become visible again together (one batch again, not one each).
    for (const [delayMs, messages] of again)
      setTimeout(() => {
        this.visible.push(...messages);
        this.poll();
      }, delayMs);
  }

  private deadLetter(m: Message, error: LambdaFunctionError | undefined): void {
    const letter = {
      messageId: m.messageId,
      body: m.body,
      receiveCount: m.receiveCount,
      ...(error ? { error } : {}),
    };
    this.deadLetters.push(letter);
    this.opts.onDeadLetter?.(letter);
    m.settle();
  }
}
