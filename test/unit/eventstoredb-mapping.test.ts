// The EventStoreDB adapter's translation, without a server.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError } from '@eventstore/db-client';
import { fromRecorded, isSystemEvent, toEventData, toExpectedRevision, toReadPosition, toStoreError } from '../../adapters/eventstoredb/mapping.js';

const metadata = {
  commandId: 'c1', correlationId: 'c1', causationId: 'c1', timestamp: 1, actor: 'a', schemaVersion: 1, prevHash: '0'.repeat(64), hash: 'a'.repeat(64),
};

describe('EventStoreDB mapping', () => {
  it('always sends an exact expected revision, never ANY', () => {
    expect(toExpectedRevision('no-stream')).toBe(NO_STREAM);
    expect(toExpectedRevision(41n)).toBe(41n);
  });

  it('maps positions to commit and prepare positions and back', () => {
    expect(toReadPosition('start')).toBe(START);
    expect(toReadPosition(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('sends our deterministic event id, type, JSON data and metadata', () => {
    const data = toEventData({ eventId: '5e2f2b1c-1111-5222-8333-444455556666', type: 'Deposited', data: { amount: '1.5' }, metadata });
    expect(data).toMatchObject({ id: '5e2f2b1c-1111-5222-8333-444455556666', type: 'Deposited', data: { amount: '1.5' }, metadata, contentType: 'application/json' });
  });

  it('reads recorded events into stored events, decoding their metadata', () => {
    const recorded = { streamId: 'pool-x', id: 'id-1', revision: 3n, type: 'Deposited', isJson: true, data: { amount: '1' }, metadata, position: { commit: 99n, prepare: 99n } };
    expect(fromRecorded(recorded)).toEqual(E.right({ streamId: 'pool-x', revision: 3n, position: 99n, eventId: 'id-1', type: 'Deposited', data: { amount: '1' }, metadata }));
    const badMetadata = fromRecorded({ ...recorded, metadata: { ...metadata, hash: 'nope' } });
    expect(E.isLeft(badMetadata) && badMetadata.left).toMatchObject({ kind: 'corrupt', position: 99n });
    expect(E.isLeft(fromRecorded({ ...recorded, isJson: false }))).toBe(true);
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
