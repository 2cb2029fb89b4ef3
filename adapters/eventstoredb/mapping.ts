// The pure half of the EventStoreDB adapter: translation between the port and the client's
// types, unit-tested without a server.

import {
  jsonEvent, NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError,
  type AppendExpectedRevision, type EventData, type JSONType, type Position, type ReadPosition,
} from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import { decodeMetadata, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent } from '../../services/ledger/event-store.js';

/** The event as the client sends it: our deterministic id, JSON data and metadata. */
export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({ id: event.eventId, type: event.type, data: event.data as JSONType, metadata: event.metadata as unknown as JSONType });

/**
 * Always an exact expectation, never ANY: EventStoreDB only recognizes a repeated append of the
 * same event ids as idempotent when the expected revision is exact.
 */
export const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => (expected === 'no-stream' ? NO_STREAM : expected);

/**
 * Our positions are the commit positions of the transaction file. For events written without
 * explicit transactions (all of ours) the prepare position equals the commit position.
 */
export const toReadPosition = (after: bigint | 'start'): ReadPosition => (after === 'start' ? START : { commit: after, prepare: after });

export const fromPosition = (position: Position): bigint => position.commit;

interface RecordedLike {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
}

/** A recorded event as the port's StoredEvent, its metadata decoded. */
export const fromRecorded = (recorded: RecordedLike): E.Either<StoreError, StoredEvent> => {
  const position = recorded.position === undefined ? -1n : fromPosition(recorded.position);
  if (!recorded.isJson) return E.left({ kind: 'corrupt', position, message: `event ${recorded.id} is not JSON` });
  const metadata = decodeMetadata(recorded.metadata, position);
  if (E.isLeft(metadata)) return metadata;
  return E.right({
    streamId: recorded.streamId, revision: recorded.revision, position, eventId: recorded.id, type: recorded.type,
    data: recorded.data, metadata: metadata.right,
  });
};

/** System streams and events ($-prefixed) are EventStoreDB's own, never the ledger's. */
export const isSystemEvent = (recorded: Pick<RecordedLike, 'streamId' | 'type'>): boolean => recorded.streamId.startsWith('$') || recorded.type.startsWith('$');

/** A client error as the port's error. */
export const toStoreError = (error: unknown, streamId: string, expected: ExpectedRevision): StoreError => {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return { kind: 'revision-conflict', streamId, expected, actual: typeof actual === 'bigint' ? actual : 'no-stream' };
  }
  if (error instanceof StreamNotFoundError) return { kind: 'stream-not-found', streamId };
  return { kind: 'unavailable', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
};
