// The EventStoreDB adapter: I/O only. Translation lives in mapping.ts (unit-tested); this class
// calls the client and handles the subscription's life: system events excluded, checkpoints
// taken from the events actually handled (never from filter checkpoints), and a resubscription
// with backoff after a drop.
//
// The index of handled commands is derived from the log: the adapter reads each stream's new
// events on every lookup and keeps where each command's events are. (It holds every id of the
// streams it was asked about in memory; a server-side projection would bound that.) Fencing:
// every append names the exact expected revision, so a second writer's stale decision fails with
// a conflict, and the writer catches up and decides again before any answer is final.

import { EventStoreDBClient, excludeSystemEvents, FORWARDS, StreamNotFoundError } from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import type { AppendResult, CommandRecord, EventStore, ExpectedRevision, NewEvent, StoreError, StoredEvent, Subscription, SubscriptionOptions } from '../../services/ledger/event-store.js';
import { fromPosition, fromRecorded, isSystemEvent, toEventData, toExpectedRevision, toReadPosition, toStoreError } from './mapping.js';

export interface EventStoreDbOptions {
  /** First and largest wait before resubscribing after a dropped subscription, in ms. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();
  private readonly backoff: { readonly first: number; readonly max: number };
  private readonly commandIndex = new Map<string, { next: bigint; readonly records: Map<string, CommandRecord> }>();

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

  async findCommands(streamId: string, commandIds: ReadonlyArray<string>): Promise<E.Either<StoreError, Map<string, CommandRecord>>> {
    let index = this.commandIndex.get(streamId);
    if (index === undefined) {
      index = { next: 0n, records: new Map() };
      this.commandIndex.set(streamId, index);
    }
    for (;;) {
      const page = await this.readStream(streamId, index.next, 1000);
      if (E.isLeft(page)) {
        if (page.left.kind === 'stream-not-found') break;
        return page;
      }
      for (const event of page.right) {
        const known = index.records.get(event.metadata.commandId);
        if (known === undefined) index.records.set(event.metadata.commandId, { firstRevision: event.revision, count: 1, fingerprint: event.metadata.fingerprint });
        else if (known.firstRevision + BigInt(known.count) === event.revision) index.records.set(event.metadata.commandId, { ...known, count: known.count + 1 });
        index.next = event.revision + 1n;
      }
      if (page.right.length < 1000) break;
    }
    const found = new Map<string, CommandRecord>();
    for (const id of commandIds) {
      const record = index.records.get(id);
      if (record !== undefined) found.set(id, record);
    }
    return E.right(found);
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
