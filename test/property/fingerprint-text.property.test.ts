// The fingerprint's text: the flat commands' shortcut (trades, marks, deposits, withdrawals written
// field by field) gives the reference text (the command's wire form, canonicalized) byte for byte,
// so the fingerprint's value is the one stored with every command handled before; a command of
// another shape takes the reference path.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand, type Command } from '../../domain/index.js';
import { commandText, referenceCommandText } from '../../domain/idempotency.js';
import { propertyParameters } from '../support/property.js';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/);
/** Decimal strings as a producer may write them: trailing zeros, up to 18 decimals, large wholes. */
const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 24n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }), fc.integer({ min: 0, max: 18 }), fc.integer({ min: 0, max: 3 }))
  .map(([whole, fraction, digits, zeros]) => {
    const fractionText = digits === 0 ? '' : (fraction % 10n ** BigInt(digits)).toString().padStart(digits, '0');
    const text = fractionText === '' ? `${whole}` : `${whole}.${fractionText}${'0'.repeat(zeros)}`;
    return text.replace(/\.(\d{19,})$/, (_m, f: string) => `.${f.slice(0, 18)}`);
  })
  .filter((text) => /[1-9]/.test(text));

const envelope = { schemaVersion: fc.constant(1), commandId: id, poolId: id };
const wire = fc.oneof(
  fc.record({ type: fc.constant('ExecuteTrade'), ...envelope, tradeId: id, marketId: id, taker: id, maker: id, takerSide: fc.constantFrom('buy', 'sell'), size: decimal, price: decimal }),
  fc.record({ type: fc.constant('UpdateMarkPrice'), ...envelope, marketId: id, price: decimal }),
  fc.record({ type: fc.constantFrom('Deposit', 'Withdraw'), ...envelope, accountId: id, amount: decimal }),
  fc.record({ type: fc.constant('SettleFunding'), ...envelope, accountId: id }),
  fc.record({ type: fc.constant('Stake'), ...envelope, stakerId: id, trancheId: id, amount: decimal }),
);

const decoded = (input: unknown): Command => {
  const command = decodeCommand(input);
  if (E.isLeft(command)) throw new Error(`${command.left.message}: ${JSON.stringify(input)}`);
  return command.right;
};

describe('the text a fingerprint covers', () => {
  it('is the reference canonical wire JSON for every decoded command, byte for byte', () => {
    fc.assert(fc.property(wire, (input) => {
      const command = decoded(input);
      expect(commandText(command)).toBe(referenceCommandText(command));
    }), propertyParameters('fingerprint text of decoded commands', 500));
  });

  it('takes the reference path for a command not of its flat shape (an extra key, a string to escape)', () => {
    const trade = decoded({ type: 'ExecuteTrade', schemaVersion: 1, commandId: 'c1', poolId: 'main', tradeId: 't1', marketId: 'BTC', taker: 'a', maker: 'b', takerSide: 'buy', size: '1.50', price: '100' });
    expect(commandText(trade)).toBe('{"commandId":"c1","maker":"b","marketId":"BTC","poolId":"main","price":"100","schemaVersion":1,"size":"1.5","taker":"a","takerSide":"buy","tradeId":"t1","type":"ExecuteTrade"}');
    for (const odd of [
      { ...trade, note: 'x' },
      { ...trade, taker: 'a"b\\c\u0001' },
      { ...trade, maker: '😀' },
    ] as unknown as Command[]) {
      expect(commandText(odd)).toBe(referenceCommandText(odd));
    }
    const missing = { ...trade, note: 'x' } as Record<string, unknown>;
    delete missing.maker;
    expect(commandText(missing as unknown as Command)).toBe(referenceCommandText(missing as unknown as Command));
  });
});
