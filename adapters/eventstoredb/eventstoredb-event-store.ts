// The EventStoreDB adapter: I/O only. Translation lives in mapping.ts (unit-tested); this class
// calls the client and handles the subscription's life: system events excluded, checkpoints
// taken from the events actually handled (never from filter checkpoints), and a resubscription
// with backoff after a drop.

import { EventStoreDBClient, excludeSystemEvents, FORWARDS, StreamNotFoundError } from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent, StoreError, StoredEvent, Subscription, SubscriptionOptions } from '../../services/ledger/event-store.js';
import { fromPosition, fromRecorded, isSystemEvent, toEventData, toExpectedRevision, toReadPosition, toStoreError } from './mapping.js';

export interface EventStoreDbOptions {
  /** First and largest wait before resubscribing after a dropped subscription, in ms. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();
  private readonly backoff: { readonly first: number; readonly max: number };

  constructor(connectionString: string, options: EventStoreDbOptions = {}) {
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.backoff = options.backoffMs ?? { first: 100, max: 5_000 };
  }

  async append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): Promise<E.Either<StoreError, AppendResult>> {
    try {
      const result = await this.client.appendToStream(streamId, events.map(toEventData), { expectedRevision: toExpectedRevision(expected) });
      return E.right({ revision: result.nextExpectedRevision, position: result.position === undefined ? -1n : fromPosition(result.position) });
    } catch (error) {
      return E.left(toStoreError(error, streamId, expected));
    }
  }

  async readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const events: StoredEvent[] = [];
      for await (const resolved of this.client.readStream(streamId, { fromRevision, maxCount, direction: FORWARDS })) {
        if (resolved.event === undefined) continue;
        const stored = fromRecorded(resolved.event);
        if (E.isLeft(stored)) return stored;
        events.push(stored.right);
      }
      return E.right(events);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return E.left({ kind: 'stream-not-found', streamId });
      return E.left(toStoreError(error, streamId, 'no-stream'));
    }
  }

  async readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const events: StoredEvent[] = [];
      // Reading from a position includes the event at it: ask for one more and drop it.
      for await (const resolved of this.client.readAll({ fromPosition: toReadPosition(after), maxCount: maxCount + 1, direction: FORWARDS })) {
        const recorded = resolved.event;
        if (recorded === undefined || isSystemEvent(recorded)) continue;
        const stored = fromRecorded(recorded);
        if (E.isLeft(stored)) return stored;
        if (after !== 'start' && stored.right.position <= after) continue;
        events.push(stored.right);
        if (events.length === maxCount) break;
      }
      return E.right(events);
    } catch (error) {
      return E.left(toStoreError(error, '$all', 'no-stream'));
    }
  }

  subscribeAll(options: SubscriptionOptions): Subscription {
    let stopped = false;
    let current: { unsubscribe(): Promise<void> } | undefined;
    const loop = (async () => {
      let after = options.after;
      let wait = this.backoff.first;
      while (!stopped) {
        try {
          const subscription = this.client.subscribeToAll({ fromPosition: toReadPosition(after), filter: excludeSystemEvents() });
          current = subscription;
          for await (const resolved of subscription) {
            if (stopped) break;
            const recorded = resolved.event;
            if (recorded === undefined || isSystemEvent(recorded)) continue;
            const stored = fromRecorded(recorded);
            if (E.isLeft(stored)) {
              options.onError?.(stored.left);
              stopped = true;
              break;
            }
            // Subscribing from a position includes the event at it.
            if (after !== 'start' && stored.right.position <= after) continue;
            try {
              await options.onEvent(stored.right);
            } catch (error) {
              options.onError?.(error instanceof Error ? error : new Error(String(error)));
              stopped = true;
              break;
            }
            after = stored.right.position; // the checkpoint: only events actually handled
            wait = this.backoff.first;
          }
        } catch (error) {
          if (stopped) break;
          options.onError?.(toStoreError(error, '$all', 'no-stream'));
        }
        if (!stopped) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          wait = Math.min(wait * 2, this.backoff.max);
        }
      }
    })();
    const handle: Subscription = {
      stop: async () => {
        stopped = true;
        await current?.unsubscribe().catch(() => undefined);
        this.subscriptions.delete(handle);
        await loop;
      },
    };
    this.subscriptions.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }
}
