// The EventStoreDB adapter's translation, without a server.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError } from '@eventstore/db-client';
import { fromRecorded, isSystemEvent, toEventData, toExpectedRevision, toReadPosition, toStoreError } from '../../adapters/eventstoredb/mapping.js';
import { eventIdOf, GENESIS_HASH, sealed } from '../../services/ledger/chain.js';

const metadata = { commandId: 'c1', correlationId: 'c1', causationId: 'c1', timestamp: 1, actor: 'a' };
const event = sealed(GENESIS_HASH, { type: 'Deposited', data: { amount: '1.5' }, metadata });

describe('EventStoreDB mapping', () => {
  it('always sends an exact expected revision, never ANY', () => {
    expect(toExpectedRevision('no-stream')).toBe(NO_STREAM);
    expect(toExpectedRevision(41n)).toBe(41n);
  });

  it('maps positions to commit and prepare positions and back', () => {
    expect(toReadPosition('start')).toBe(START);
    expect(toReadPosition(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('sends an id derived from the hash, the type, the stored text as the bytes and the hash as metadata', () => {
    const data = toEventData(event);
    expect(data).toMatchObject({ id: eventIdOf(event.hash), type: 'Deposited', metadata: { hash: event.hash }, contentType: 'application/octet-stream' });
    expect(Buffer.from(data.data as Uint8Array).toString('utf8')).toBe(event.text);
    expect(toEventData(event).id).toBe(data.id);
    expect(eventIdOf(event.hash)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reads recorded events into stored events, parsing their stored text', () => {
    const recorded = {
      streamId: 'pool-x', id: 'id-1', revision: 3n, type: 'Deposited', isJson: false, data: new Uint8Array(Buffer.from(event.text, 'utf8')),
      metadata: { hash: event.hash }, position: { commit: 99n, prepare: 99n },
    };
    expect(fromRecorded(recorded)).toEqual(E.right({ ...event, metadata: { ...metadata, schemaVersion: 1 }, streamId: 'pool-x', revision: 3n, position: 99n }));
    const badMetadata = fromRecorded({ ...recorded, data: new Uint8Array(Buffer.from(event.text.replace('"actor":"a"', '"actor":1'), 'utf8')) });
    expect(E.isLeft(badMetadata) && badMetadata.left).toMatchObject({ kind: 'corrupt', position: 99n });
    expect(E.isLeft(fromRecorded({ ...recorded, metadata: { hash: 'nope' } }))).toBe(true);
    expect(E.isLeft(fromRecorded({ ...recorded, isJson: true }))).toBe(true);
    expect(E.isLeft(fromRecorded({ ...recorded, type: 'Withdrawn' }))).toBe(true);
  });

  it('recognizes system events', () => {
    expect(isSystemEvent({ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' })).toBe(true);
    expect(isSystemEvent({ streamId: 'pool-x', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamId: 'pool-x', type: 'Deposited' })).toBe(false);
  });

  it('translates client errors onto the port', () => {
    const conflict = new WrongExpectedVersionError(undefined, { streamName: 'pool-x', expected: 3n, current: 5n });
    expect(toStoreError(conflict, 'pool-x', 3n)).toEqual({ kind: 'revision-conflict', streamId: 'pool-x', expected: 3n, actual: 5n });
    const noStream = new WrongExpectedVersionError(undefined, { streamName: 'pool-x', expected: 3n, current: NO_STREAM });
    expect(toStoreError(noStream, 'pool-x', 3n)).toMatchObject({ kind: 'revision-conflict', actual: 'no-stream' });
    expect(toStoreError(new StreamNotFoundError(undefined, 'pool-x'), 'pool-x', 0n)).toEqual({ kind: 'stream-not-found', streamId: 'pool-x' });
    expect(toStoreError(new Error('connect ECONNREFUSED'), 'pool-x', 0n)).toEqual({ kind: 'unavailable', message: 'Error: connect ECONNREFUSED' });
  });
});
