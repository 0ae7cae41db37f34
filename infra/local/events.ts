/**
 * The local stand-in for EventBridge's PutEvents as the state machine calls it
 * (`arn:aws:states:::events:putEvents`): the entries are kept (newest last) and emitted, so
 * `facerec up` can print them and tests can read them. The answer has the API's shape.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export const PUT_EVENTS_RESOURCE = 'arn:aws:states:::events:putEvents';

export interface BusEvent {
  id: string;
  time: string;
  eventBusName: string;
  source: string;
  detailType: string;
  detail: unknown;
}

interface Entry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  /** An object in the state machine's Parameters (Step Functions serializes it), or a string. */
  Detail?: unknown;
}

export class LocalEventBus extends EventEmitter {
  readonly events: BusEvent[] = [];

  readonly putEvents = async (input: unknown): Promise<unknown> => {
    const entries = ((input as { Entries?: Entry[] } | null)?.Entries ?? []).slice(0, 10);
    const out = entries.map((e) => {
      const event: BusEvent = {
        id: randomUUID(),
        time: new Date().toISOString(),
        eventBusName: e.EventBusName ?? 'default',
        source: e.Source ?? '',
        detailType: e.DetailType ?? '',
        detail: typeof e.Detail === 'string' ? (JSON.parse(e.Detail) as unknown) : e.Detail,
      };
      this.events.push(event);
      if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
      this.emit('event', event);
      return { EventId: event.id };
    });
    return { Entries: out, FailedEntryCount: 0 };
  };
}
