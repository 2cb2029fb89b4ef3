// The log's integrity: deterministic event ids and the hash chain (docs/design.md sections 6 and 7).
//   eventId = a UUID made from sha256(poolId / commandId / index), so a retried command produces
//             the same ids and EventStoreDB's idempotent append recognizes them
//   hash    = sha256(prevHash + canonical JSON of the event without its hash)

import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/governance.js';
import type { EventMetadata, NewEvent, StoredEvent } from './event-store.js';

export const GENESIS_HASH = '0'.repeat(64);

/** A version-5-shaped UUID derived from the command id and the event's index within the command. */
export const eventIdFor = (poolId: string, commandId: string, index: number): string => {
  const bytes = createHash('sha256').update(`${poolId}/${commandId}/${index}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

type Unhashed = Omit<NewEvent, 'metadata'> & { readonly metadata: Omit<EventMetadata, 'hash'> };

/** The hash of an event given everything but its hash (its metadata names prevHash). */
export const hashOf = (event: Unhashed): string =>
  createHash('sha256')
    .update(event.metadata.prevHash)
    .update(canonicalJson({ eventId: event.eventId, type: event.type, data: event.data, metadata: event.metadata }))
    .digest('hex');

/** Seal an event: fill in its hash. */
export const sealed = (event: Unhashed): NewEvent => ({ ...event, metadata: { ...event.metadata, hash: hashOf(event) } });

export type ChainBreak = {
  readonly position: bigint;
  readonly revision: bigint;
  readonly reason: 'prevHash does not match the previous event' | 'hash does not match the event';
};

/**
 * Check a run of one stream's events, in revision order, given the hash before the first.
 * Returns the first break, naming its position, or the hash after the last event.
 */
export const verifyChain = (events: Iterable<StoredEvent>, previousHash = GENESIS_HASH): { readonly ok: true; readonly lastHash: string } | ({ readonly ok: false } & ChainBreak) => {
  let last = previousHash;
  for (const event of events) {
    if (event.metadata.prevHash !== last) return { ok: false, position: event.position, revision: event.revision, reason: 'prevHash does not match the previous event' };
    const { hash, ...rest } = event.metadata;
    if (hashOf({ eventId: event.eventId, type: event.type, data: event.data, metadata: rest }) !== hash) {
      return { ok: false, position: event.position, revision: event.revision, reason: 'hash does not match the event' };
    }
    last = hash;
  }
  return { ok: true, lastHash: last };
};
