// Ids become parts of NATS subjects and stream names, where '.' separates tokens and '*' and '>'
// are wildcards: a pool "x.y" would wedge the event forwarder. Ids keep to a safe character set.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand } from '../../domain/index.js';

const deposit = { type: 'Deposit', schemaVersion: 1, commandId: 'c-1', poolId: 'main', accountId: 'alice', amount: '10' };

describe('ids', () => {
  it.each([
    ['poolId', 'x.y'],
    ['accountId', 'a*'],
    ['commandId', 'a>b'],
    ['accountId', 'a b'],
    ['accountId', 'a\tb'],
    ['poolId', 'a\u0000b'],
  ])('refuses %s = %j, naming the field', (field, value) => {
    const decoded = decodeCommand({ ...deposit, [field]: value });
    expect(E.isLeft(decoded) && decoded.left.errors).toEqual([{ path: field, message: expect.stringContaining('expected an id') }]);
  });

  it('accepts letters, digits, "_", ":" and "-"', () => {
    expect(E.isRight(decodeCommand({ ...deposit, poolId: 'Pool_1:eu-west', accountId: 'acct-0' }))).toBe(true);
  });
});
