// The event store port: what the command side, the projection runner and the audit need from
// an event store. Implemented by the embedded SQLite adapter and the EventStoreDB adapter, and
// checked against both by one contract suite (test/contract).
//
// Store reads decode metadata with io-ts (decodeMetadata); event data is decoded by its users
// (decodeEvent), since only they know which events they expect.
// Revisions count events within a stream from 0; positions order events across all streams.
// Both are bigints. Positions are exclusive wherever one is given as a starting point.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith, integerIn } from '../../domain/index.js';

/** Metadata every ledger event carries (docs/design.md sections 6 and 7). */
export interface EventMetadata {
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** The command's timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly actor: string;
  readonly schemaVersion: number;
  /** Hash of the previous event of the stream (64 zeros for the first). */
  readonly prevHash: string;
  /** sha256(prevHash + canonical JSON of this event without its hash). */
  readonly hash: string;
  /**
   * The fingerprint of the command the event records (sha256 of its canonical wire JSON): on
   * every event the pool writer appends; absent on snapshots and on events written before
   * fingerprints were recorded. Covered by the hash like the rest of the metadata.
   */
  readonly fingerprint?: string;
}

const Hash = new t.Type<string, string, unknown>(
  'Hash',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[0-9a-f]{64}$/.test(u) ? t.success(u) : t.failure(u, c, 'expected a sha256 hash (64 lowercase hex digits)')),
  t.identity,
);

/** Metadata as read from a store: decoded, like everything read from outside. */
export const EventMetadataCodec = t.intersection([
  t.type({
    commandId: t.string,
    correlationId: t.string,
    causationId: t.string,
    timestamp: integerIn('Timestamp', 0, 8_640_000_000_000_000),
    actor: t.string,
    schemaVersion: integerIn('SchemaVersion', 1, 1_000),
    prevHash: Hash,
    hash: Hash,
  }),
  t.partial({ fingerprint: Hash }),
], 'EventMetadata');

/** A log position or stream revision on the wire: a non-negative integer as a decimal string. */
export const logIndex = (name: string) => new t.Type<bigint, string, unknown>(name, (u): u is bigint => typeof u === 'bigint',
  (u, c) => (typeof u === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(u) ? t.success(BigInt(u)) : t.failure(u, c, `expected a ${name.toLowerCase()}: a non-negative integer`)), String);

/** A stored event's metadata, or the reason it is not one. */
export const decodeMetadata = (raw: unknown, position: bigint): E.Either<StoreError, EventMetadata> =>
  E.mapLeft((error: { readonly message: string }): StoreError => ({ kind: 'corrupt', position, message: `metadata: ${error.message}` }))(decodeWith(EventMetadataCodec)(raw));

/** An event to append: its data is the encoded (JSON-safe, decimal-string) form. */
export interface NewEvent {
  /** A UUID, derived deterministically from the command id and the event's index. */
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface StoredEvent extends NewEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/** What the writer expects the stream to hold: nothing yet, or exactly up to this revision. */
export type ExpectedRevision = 'no-stream' | bigint;

export type StoreError =
  | { readonly kind: 'revision-conflict'; readonly streamId: string; readonly expected: ExpectedRevision; readonly actual: bigint | 'no-stream' }
  | { readonly kind: 'stream-not-found'; readonly streamId: string }
  | { readonly kind: 'unavailable'; readonly message: string }
  /** A stored event that is not what the ledger writes (tampering, or another writer's data). */
  | { readonly kind: 'corrupt'; readonly position: bigint; readonly message: string };

export interface AppendResult {
  /** Revision of the last event appended. */
  readonly revision: bigint;
  /** Position of the last event appended. */
  readonly position: bigint;
}

/**
 * Where a handled command's events are in its stream: the first revision, how many, and the
 * fingerprint they carry (undefined for events recorded before fingerprints were).
 */
export interface CommandRecord {
  readonly firstRevision: bigint;
  readonly count: number;
  readonly fingerprint: string | undefined;
}

export interface Subscription {
  /** Stop delivering events; resolves once the handler is no longer running. */
  stop(): Promise<void>;
}

export interface SubscriptionOptions {
  /** Deliver events with a position after this one ('start' for all). */
  readonly after: bigint | 'start';
  /** Called for each event, strictly one after another: the next waits for the previous promise. */
  readonly onEvent: (event: StoredEvent) => Promise<void>;
  /** Called when the subscription gives up (after its own retries), or the handler throws. */
  readonly onError?: (error: StoreError | Error) => void;
}

export interface EventStore {
  /** Append atomically, only if the stream is exactly at `expected`. */
  append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): Promise<E.Either<StoreError, AppendResult>>;
  /** Events of a stream from `fromRevision` (inclusive), at most `maxCount`. */
  readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>>;
  /** Events of all streams with a position after `after`, at most `maxCount`, in order. */
  readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>>;
  /**
   * The commands among `commandIds` that have events in the stream, and where (the index of
   * handled commands: kept by the store so that the writer need not hold every id in memory).
   */
  findCommands(streamId: string, commandIds: ReadonlyArray<string>): Promise<E.Either<StoreError, Map<string, CommandRecord>>>;
  /** Catch up from `after`, then follow live appends. */
  subscribeAll(options: SubscriptionOptions): Subscription;
  close(): Promise<void>;
}

export const describeStoreError = (error: StoreError): string => {
  switch (error.kind) {
    case 'revision-conflict':
      return `stream ${error.streamId} is at ${String(error.actual)}, expected ${String(error.expected)}`;
    case 'stream-not-found':
      return `stream ${error.streamId} does not exist`;
    case 'unavailable':
      return `event store unavailable: ${error.message}`;
    case 'corrupt':
      return `corrupt event at position ${error.position}: ${error.message}`;
    default: {
      const unreachable: never = error;
      return unreachable;
    }
  }
};
