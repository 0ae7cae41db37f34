/**
 * The local stand-in for the upload queue between the input bucket and the starter (on AWS: an
 * SQS queue with a dead-letter queue and an SQS event source with ReportBatchItemFailures). Each
 * S3 event becomes one SQS-shaped message; the starter answers with the messages it could not
 * handle (`batchItemFailures`), which are delivered again after a delay, and after
 * `maxReceiveCount` deliveries go to the dead-letter list (`onDeadLetter`). A failed invocation
 * fails every message of the batch, as on AWS. A throttled invocation (the account's concurrency
 * is in use) is retried while the message stays invisible, as Lambda's SQS poller does.
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
  /** Deliveries before a message is dead-lettered (AWS: the redrive policy's maxReceiveCount). */
  maxReceiveCount?: number;
  /** Wait before a failed message is delivered again (AWS: the visibility timeout). */
  retryDelayMs?: number;
  /** How long a received message stays invisible: a throttled invocation (TooManyRequestsException)
   * is retried within it without counting as a delivery, as Lambda's SQS event source does.
   * Default: six times the consumer's timeout (the stack's visibility timeout). */
  visibilityTimeoutMs?: number;
  onDeadLetter?: (letter: DeadLetter) => void;
  region?: string;
  queueArn?: string;
}

export class LocalQueue {
  readonly deadLetters: DeadLetter[] = [];
  private inFlight = 0;

  constructor(
    private readonly consumer: LocalFunction,
    private readonly opts: LocalQueueOptions = {},
  ) {}

  /** Messages not yet handled or dead-lettered. */
  get pending(): number {
    return this.inFlight;
  }

  /** Enqueue one S3 event notification (as S3 would send it to SQS). */
  send(notification: unknown): Promise<void> {
    this.inFlight++;
    return this.deliver(randomUUID(), JSON.stringify(notification), Date.now(), 1).finally(
      () => this.inFlight--,
    );
  }

  private async deliver(
    messageId: string,
    body: string,
    sentAt: number,
    receiveCount: number,
  ): Promise<void> {
    const event = {
      Records: [
        toSqsRecord({
          messageId,
          body,
          receiveCount,
          sentAt,
          region: this.opts.region,
          queueArn: this.opts.queueArn,
        }),
      ],
    };
    let error: LambdaFunctionError | undefined;
    let failed: boolean;
    try {
      const visibleAgainMs = this.opts.visibilityTimeoutMs ?? this.consumer.spec.timeoutSeconds * 6 * 1000;
      const res = (await invokeUnthrottled(this.consumer, event, visibleAgainMs)) as {
        batchItemFailures?: Array<{ itemIdentifier: string }>;
      };
      failed = (res?.batchItemFailures ?? []).some((f) => f.itemIdentifier === messageId);
    } catch (err) {
      error = err as LambdaFunctionError;
      failed = true;
    }
    if (!failed) return;
    if (receiveCount >= (this.opts.maxReceiveCount ?? 3)) {
      const letter = { messageId, body, receiveCount, ...(error ? { error } : {}) };
      this.deadLetters.push(letter);
      this.opts.onDeadLetter?.(letter);
      return;
    }
    await new Promise((r) => setTimeout(r, this.opts.retryDelayMs ?? 1000 * receiveCount));
    return this.deliver(messageId, body, sentAt, receiveCount + 1);
  }
}
