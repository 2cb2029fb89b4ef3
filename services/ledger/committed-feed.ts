// The committed-events feed: a store that appends on this process's behalf can tell, after each
// durable append and in log order, exactly which events it stored, with their positions. The
// projection runner and the NATS event forwarder take events from it in process, instead of
// reading back, parsing and decoding what was just written. A store without a feed (EventStoreDB,
// whose positions only the server knows) is followed by subscription as before.

import type { EventStore, StoredEvent } from './event-store.js';

/** Told of every durable append, in log order, once: the events as stored. */
export type CommittedListener = (events: ReadonlyArray<StoredEvent>) => void;

export interface CommittedFeed {
  /** Listen from now on; returns the function that stops listening. */
  onCommitted(listener: CommittedListener): () => void;
}

/** The store's feed of committed events, if it keeps one. */
export const committedFeedOf = (store: EventStore): CommittedFeed | undefined =>
  typeof (store as Partial<CommittedFeed>).onCommitted === 'function' ? (store as unknown as CommittedFeed) : undefined;
