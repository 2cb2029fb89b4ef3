// The pure half of the EventStoreDB adapter: translation between the port and the client's
// types, unit-tested without a server.

import {
  binaryEvent, NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError,
  type AppendExpectedRevision, type EventData, type Position, type ReadPosition,
} from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import { Hash, parseStoredText, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent } from '../../services/ledger/event-store.js';
import { eventIdOf } from '../../services/ledger/chain.js';

/**
 * The event as the client sends it: an id derived from its hash (deterministic: the same events
 * at the same revision have the same ids), its stored text as the event's bytes, exactly as the
 * chain hash covers them, and the hash as metadata. The bytes are sent as binary so that the
 * server hands them back unchanged (a JSON event comes back re-parsed).
 */
export const toEventData = (event: NewEvent): EventData =>
  binaryEvent({ id: eventIdOf(event.hash), type: event.type, data: Buffer.from(event.text, 'utf8'), metadata: { hash: event.hash } });

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A recorded event as the port's StoredEvent: its stored text parsed, its hash as recorded. */
export const fromRecorded = (recorded: RecordedLike): E.Either<StoreError, StoredEvent> => {
  const position = recorded.position === undefined ? -1n : fromPosition(recorded.position);
  const corrupt = (message: string): E.Either<StoreError, never> => E.left({ kind: 'corrupt', position, message: `event ${recorded.id}: ${message}` });
  if (recorded.isJson || !(recorded.data instanceof Uint8Array)) return corrupt('not the ledger\'s stored text (binary, canonical JSON)');
  const hash = (recorded.metadata as { hash?: unknown } | undefined)?.hash;
  if (!Hash.is(hash)) return corrupt('its metadata has no chain hash');
  let text: string;
  try {
    text = utf8.decode(recorded.data);
  } catch {
    return corrupt('its bytes are not UTF-8');
  }
  const parsed = parseStoredText(text, position);
  if (E.isLeft(parsed)) return parsed;
  if (parsed.right.type !== recorded.type) return corrupt(`recorded as ${recorded.type}, its text says ${parsed.right.type}`);
  return E.right({ streamId: recorded.streamId, revision: recorded.revision, position, ...parsed.right, text, hash });
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
