// The event store port: what the command side, the projection runner and the audit need from
// an event store. Implemented by the embedded SQLite adapter and the EventStoreDB adapter, and
// checked against both by one contract suite (test/contract).
//
// Events are appended sealed (chain.ts): their stored text (canonical JSON of type, data and
// compact metadata) and their chain hash, which stores keep as given. Store reads parse the text
// once and decode its metadata (parseStoredText: io-ts, or by hand for the usual shape); event data is decoded by its users
// (decodeEvent), since only they know which events they expect.
// Revisions count events within a stream from 0; positions order events across all streams.
// Both are bigints. Positions are exclusive wherever one is given as a starting point.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith, integerIn, type InvalidInput } from '../../domain/index.js';
import type { ChainsAt } from './chain.js';

/** Metadata every ledger event carries (docs/design.md sections 6 and 7). */
export interface EventMetadata {
  readonly commandId: string;
  /** Stored only when it differs from commandId; readers fill it in. */
  readonly correlationId: string;
  /** Stored only when it differs from commandId; readers fill it in. */
  readonly causationId: string;
  /** The command's timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly actor: string;
  /**
   * The fingerprint of the command the event records (sha256 of its canonical wire JSON): on
   * every event the pool writer appends; absent on snapshots and checkpoints. Covered by the
   * hash like the rest of the stored text.
   */
  readonly fingerprint?: string;
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;
export const Hash = new t.Type<string, string, unknown>(
  'Hash',
  (u): u is string => typeof u === 'string' && HASH_PATTERN.test(u),
  (u, c) => (typeof u === 'string' && HASH_PATTERN.test(u) ? t.success(u) : t.failure(u, c, 'expected a sha256 hash (64 lowercase hex digits)')),
  t.identity,
);

/** Metadata as stored (compact): decoded, like everything read from outside. */
export const StoredMetadataCodec = t.exact(t.intersection([
  t.type({
    commandId: t.string,
    timestamp: integerIn('Timestamp', 0, 8_640_000_000_000_000),
    actor: t.string,
  }),
  t.partial({ correlationId: t.string, causationId: t.string, fingerprint: Hash }),
]), 'StoredMetadata');

/** Metadata as readers see it: every field present. */
export const EventMetadataCodec = t.intersection([
  t.type({ commandId: t.string, correlationId: t.string, causationId: t.string, timestamp: integerIn('Timestamp', 0, 8_640_000_000_000_000), actor: t.string }),
  t.partial({ fingerprint: Hash }),
], 'EventMetadata');

/** Stored (compact) metadata with the implied ids filled in. */
export const expandMetadata = (stored: t.TypeOf<typeof StoredMetadataCodec>): EventMetadata => ({
  commandId: stored.commandId,
  correlationId: stored.correlationId ?? stored.commandId,
  causationId: stored.causationId ?? stored.commandId,
  timestamp: stored.timestamp,
  actor: stored.actor,
  ...(stored.fingerprint === undefined ? {} : { fingerprint: stored.fingerprint }),
});

/** A log position or stream revision on the wire: a non-negative integer as a decimal string. */
export const logIndex = (name: string) => new t.Type<bigint, string, unknown>(name, (u): u is bigint => typeof u === 'bigint',
  (u, c) => (typeof u === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(u) ? t.success(BigInt(u)) : t.failure(u, c, `expected a ${name.toLowerCase()}: a non-negative integer`)), String);

const corrupt = (position: bigint, message: string): StoreError => ({ kind: 'corrupt', position, message });

/**
 * A stored event's type, data and metadata from its stored text, or the reason it is not one of
 * the ledger's. The text is parsed once; its metadata is decoded with io-ts.
 */
export const parseStoredText = (text: string, position: bigint): E.Either<StoreError, { readonly type: string; readonly data: unknown; readonly metadata: ReadMetadata }> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return E.left(corrupt(position, `the stored event is not JSON: ${(error as Error).message}`));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return E.left(corrupt(position, 'the stored event is not a JSON object'));
  const { type, data, metadata } = parsed as Record<string, unknown>;
  if (typeof type !== 'string') return E.left(corrupt(position, 'the stored event has no type'));
  if (data === undefined) return E.left(corrupt(position, 'the stored event has no data'));
  const read = readStoredMetadata(data, metadata);
  if (E.isLeft(read)) return E.left(corrupt(position, `metadata: ${read.left.message}`));
  return E.right({ type, data, metadata: read.right });
};

/**
 * Stored metadata as readers see it (decoded with StoredMetadataCodec, expanded, with the data's
 * schema version). Every event read goes through here, so the usual shape (a plain object whose
 * fields have the codec's types) is written out without io-ts, in the key order the io-ts path
 * gives; anything else goes to io-ts, which decides and names the fault. Like io-ts (an exact
 * type), it keeps only the codec's keys.
 */
export const readStoredMetadata = (data: unknown, metadata: unknown): E.Either<InvalidInput, ReadMetadata> => {
  const fast = fastReadMetadata(data, metadata);
  if (fast !== undefined) return E.right(fast);
  const decoded = decodeWith(StoredMetadataCodec)(metadata);
  return E.isLeft(decoded) ? decoded : E.right(readMetadataOf(data, expandMetadata(decoded.right)));
};

const MAX_TIMESTAMP = 8_640_000_000_000_000;
const isOptionalString = (u: unknown): u is string | undefined => u === undefined || typeof u === 'string';

const fastReadMetadata = (data: unknown, metadata: unknown): ReadMetadata | undefined => {
  if (typeof metadata !== 'object' || metadata === null || Object.getPrototypeOf(metadata) !== Object.prototype) return undefined;
  const { commandId, timestamp, actor, correlationId, causationId, fingerprint } = metadata as Record<string, unknown>;
  if (typeof commandId !== 'string' || typeof actor !== 'string' || !isOptionalString(correlationId) || !isOptionalString(causationId)) return undefined;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP) return undefined;
  if (fingerprint !== undefined && !Hash.is(fingerprint)) return undefined;
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  const schemaVersion = typeof version === 'number' ? version : 1;
  // Written out in both shapes (no spread of an optional field: V8 builds those on a slow path).
  return fingerprint === undefined
    ? { commandId, correlationId: correlationId ?? commandId, causationId: causationId ?? commandId, timestamp, actor, schemaVersion }
    : { commandId, correlationId: correlationId ?? commandId, causationId: causationId ?? commandId, timestamp, actor, fingerprint, schemaVersion };
};

/** Metadata as readers see it: with the schema version its data names (1 for data that names none). */
export const readMetadataOf = (data: unknown, metadata: EventMetadata): ReadMetadata => {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  return { ...metadata, schemaVersion: typeof version === 'number' ? version : 1 };
};

/** An event to append, sealed (services/ledger/chain.ts): its stored text and its chain hash. */
export interface NewEvent {
  readonly type: string;
  /** The encoded (JSON-safe, decimal-string) form. */
  readonly data: unknown;
  readonly metadata: EventMetadata;
  /** What the store keeps: canonical JSON of type, data and compact metadata. */
  readonly text: string;
  /** sha256(previous event's hash, as 64 hex digits ‖ text), as 64 hex digits. */
  readonly hash: string;
}

/** Metadata as read: with the event's schema version (its data's, 1 for data that names none). */
export interface ReadMetadata extends EventMetadata {
  readonly schemaVersion: number;
}

export interface StoredEvent extends NewEvent {
  readonly metadata: ReadMetadata;
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/** A stored event as its hash chain sees it: the text as stored, not parsed (verification only). */
export type StoredLink = Pick<StoredEvent, 'streamId' | 'revision' | 'position' | 'text' | 'hash'>;

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

/** A page of the log read for some streams only: their events, and the last position looked at. */
export interface StreamPage {
  readonly events: StoredEvent[];
  readonly last: bigint | undefined;
}

/** `readAllOf` of a store, or `readAll` filtered where the store has no such read. */
export const readAllOf = async (store: EventStore, prefix: string, after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StreamPage>> => {
  if (store.readAllOf !== undefined) return store.readAllOf(prefix, after, maxCount);
  const page = await store.readAll(after, maxCount);
  if (E.isLeft(page)) return page;
  return E.right({ events: page.right.filter((event) => event.streamId.startsWith(prefix)), last: page.right[page.right.length - 1]?.position });
};

export interface EventStore {
  /** Append atomically, only if the stream is exactly at `expected`. */
  append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): Promise<E.Either<StoreError, AppendResult>>;
  /** Events of a stream from `fromRevision` (inclusive), at most `maxCount`. */
  readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>>;
  /** Events of all streams with a position after `after`, at most `maxCount`, in order. */
  readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>>;
  /**
   * Optional, for readers of some streams only (the projection reads the pools'): `readAll`'s
   * page of `maxCount` positions after `after`, keeping only the events of streams whose id starts
   * with `prefix` (the others, such as snapshots, are neither returned nor parsed), and the last
   * position the page covered (undefined: nothing after `after`). A store without it is read with
   * `readAll` and the events filtered.
   */
  readAllOf?(prefix: string, after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StreamPage>>;
  /**
   * Optional: the same events as readAll, as stored links (text and hash, nothing parsed): what
   * verifying the chain needs, at a fraction of the cost. Without it, readAll is used. With
   * `textOf`, only events of streams whose id starts with it carry their text (the others an
   * empty one: their place in the log, without reading what is not to be checked).
   */
  readLinks?(after: bigint | 'start', maxCount: number, textOf?: string): Promise<E.Either<StoreError, StoredLink[]>>;
  /**
   * Optional: verifyChainsTo (chain.ts) over this log's links, run on another thread, so that the
   * caller's does other work meanwhile (a start verifies the chains while it decodes its
   * read-model checkpoint). `signal` stops it when the answer is no longer wanted.
   */
  verifyChainsElsewhere?(prefix: string, position: bigint, signal?: AbortSignal): Promise<E.Either<StoreError, ChainsAt>>;
  /**
   * Optional: the revision of a stream's newest event, or 'no-stream', read without reading any
   * event (the writer finds its newest snapshot so: snapshots are large). Without it, the stream
   * is paged through as links.
   */
  streamHead?(streamId: string): Promise<E.Either<StoreError, bigint | 'no-stream'>>;
  /** Optional: the same events as readStream, as stored links. */
  readStreamLinks?(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredLink[]>>;
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
