// A command's fingerprint is the sha256 of the canonical JSON of its wire form: the same request
// however it is written, another one as soon as anything it asks for differs. A refusal is
// recorded as a CommandRejected event that changes no state.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  checkInvariants, commandFingerprint, commandRejected, decodeCommand, decodeEvent, encodeEvent, evolve, recordedError, type Command,
} from '../../domain/index.js';
import { deposit, standardPool, thenError, when, withdraw } from '../support/builders.js';

const decoded = (wire: unknown): Command => {
  const command = decodeCommand(wire);
  if (E.isLeft(command)) throw new Error(command.left.message);
  return command.right;
};

const wire = { type: 'Deposit', schemaVersion: 1, commandId: 'c1', poolId: 'main', accountId: 'alice', amount: '100.5' };

describe('the fingerprint of a command', () => {
  it('is the sha256 (hex) of its canonical wire JSON: keys sorted, no whitespace', () => {
    const canonical = '{"accountId":"alice","amount":"100.5","commandId":"c1","poolId":"main","schemaVersion":1,"type":"Deposit"}';
    expect(commandFingerprint(decoded(wire))).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
  });

  it('is the same however the request is written (key order, trailing zeros)', () => {
    const reordered = { amount: '100.500', poolId: 'main', accountId: 'alice', commandId: 'c1', schemaVersion: 1, type: 'Deposit' };
    expect(commandFingerprint(decoded(reordered))).toBe(commandFingerprint(decoded(wire)));
  });

  it.each([
    ['the amount', { ...wire, amount: '100.6' }],
    ['the account', { ...wire, accountId: 'mallory' }],
    ['the type', { ...wire, type: 'Withdraw' }],
    ['the pool', { ...wire, poolId: 'other' }],
  ])('differs when %s differs', (_what, other) => {
    expect(commandFingerprint(decoded(other))).not.toBe(commandFingerprint(decoded(wire)));
  });
});

describe('a recorded refusal', () => {
  const pool = standardPool(deposit('alice', '100'));
  const refused = withdraw('alice', '500');
  const error = thenError(when(pool, refused), 'INSUFFICIENT_COLLATERAL', 'amount');
  const event = commandRejected(refused, commandFingerprint(refused), error);

  it('names the command type, its fingerprint and the error, and gives the error back as decide gave it', () => {
    expect(event).toEqual({
      type: 'CommandRejected', schemaVersion: 1, commandType: 'Withdraw', fingerprint: commandFingerprint(refused),
      error: { code: 'INSUFFICIENT_COLLATERAL', message: 'amount 500 exceeds collateral 100', field: 'amount' },
    });
    expect(recordedError(event)).toEqual(error);
  });

  it('round-trips through its codec, with or without a field', () => {
    expect(decodeEvent(encodeEvent(event))).toEqual(E.right(event));
    const noField = commandRejected(refused, commandFingerprint(refused), { code: 'POOL_ALREADY_EXISTS', message: 'exists' });
    expect(decodeEvent(encodeEvent(noField))).toEqual(E.right(noField));
    expect(recordedError(noField)).toEqual({ code: 'POOL_ALREADY_EXISTS', message: 'exists' });
  });

  it('refuses to decode an unknown error code or a malformed fingerprint', () => {
    const encoded = encodeEvent(event) as Record<string, unknown>;
    expect(E.isLeft(decodeEvent({ ...encoded, error: { code: 'MADE_UP', message: 'x' } }))).toBe(true);
    expect(E.isLeft(decodeEvent({ ...encoded, fingerprint: 'abc' }))).toBe(true);
  });

  it('changes no state, and the invariants still hold', () => {
    const after = evolve(pool.state, event);
    expect(after).toBe(pool.state);
    expect(checkInvariants(after)).toEqual([]);
  });
});
