// The hand-written stored-event decoder at the edges of what io-ts accepts: a well-formed hot
// event whose field sits exactly on a bound (the largest magnitude, 18 fractional digits, the
// longest decimal string, fund shares of 0 and 1,000,000 ppm, size times price of exactly one
// ledger unit) takes the hand-written path and gives io-ts's value; one step past the bound it
// leaves the decision to io-ts, which refuses it.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, decodeStoredEvent, fastDecodeEvent } from '../../domain/index.js';

type Json = Record<string, unknown>;

const trade: Json = {
  type: 'TradeExecuted', schemaVersion: 2, tradeId: 'trade-6', marketId: 'BTC-PERP', taker: 'carol', maker: 'dave', takerSide: 'sell',
  size: '0.1', price: '30000', takerFee: '1.5', makerFee: '0.6', fundSharePpm: 200000, takerPnl: '0', makerPnl: '0',
  fund: [['junior', '0.225', '0.09'], ['senior', '0.075', '0.03']],
};
const deposit: Json = { type: 'CollateralDeposited', schemaVersion: 2, accountId: 'carol', amount: '5000' };
const withdrawal: Json = { type: 'CollateralWithdrawn', schemaVersion: 2, accountId: 'carol', amount: '100' };
const mark: Json = { type: 'MarkPriceUpdated', schemaVersion: 1, marketId: 'BTC-PERP', price: '30100' };

/** io-ts accepts it, and the hand-written path gives the same event. */
const takesOwnPath = (input: Json) => {
  const reference = decodeEvent(input);
  expect(E.isRight(reference)).toBe(true);
  expect(fastDecodeEvent(input)).toEqual(E.isRight(reference) ? reference.right : undefined);
  expect(decodeStoredEvent(input)).toEqual(reference);
};

/** io-ts refuses it, and so does the stored decoder, with io-ts's error. */
const refused = (input: Json) => {
  const reference = decodeEvent(input);
  expect(E.isLeft(reference)).toBe(true);
  expect(fastDecodeEvent(input)).toBeUndefined();
  expect(decodeStoredEvent(input)).toEqual(reference);
};

/** The refusal's message, which the stored decoder takes from io-ts. */
const thenRefusal = (input: Json): string => {
  const decoded = decodeStoredEvent(input);
  return E.isLeft(decoded) ? decoded.left.message : 'accepted';
};

const MAX = '1000000000000000000000000'; // MAX_MAGNITUDE: 10^24 whole units

describe('hand-written stored-event decoder at the bounds', () => {
  it('given amounts on the bounds, when a deposit or withdrawal is decoded, then the hand-written path gives io-ts value', () => {
    for (const amount of [
      MAX, '999999999999999999999999.999999999999999999', '0.000000000000000001', '0.0000000000000000010', `1.${'0'.repeat(62)}`,
      '9', '10', '90.09', '1234567890.0987654321',
    ]) {
      takesOwnPath({ ...deposit, amount });
      takesOwnPath({ ...withdrawal, amount });
    }
    expect(fastDecodeEvent({ ...deposit, amount: MAX })).toMatchObject({ amount: 10n ** 42n });
    expect(fastDecodeEvent({ ...deposit, amount: `1.${'0'.repeat(62)}` })).toMatchObject({ amount: 10n ** 18n });
    expect(fastDecodeEvent({ ...withdrawal, amount: '0.0000000000000000010' })).toMatchObject({ amount: 1n });
  });

  it('given amounts one step past the bounds, when decoded, then io-ts decides and refuses', () => {
    for (const amount of [
      '1000000000000000000000000.000000000000000001', '0.0000000000000000001', `1.${'0'.repeat(63)}`, '0', '-1', '0.', '1.x', '1.5x', '1.0x', '1x', '01', '-',
    ]) {
      refused({ ...deposit, amount });
      refused({ ...withdrawal, amount });
    }
  });

  it('given a trade with fund share 0 or 1,000,000 ppm, negative or signed-zero PnL, zero fees and a rebate, then the hand-written path takes it', () => {
    takesOwnPath({ ...trade, fundSharePpm: 0 });
    takesOwnPath({ ...trade, fundSharePpm: 1_000_000 });
    takesOwnPath({ ...trade, takerPnl: '-12.5', makerPnl: '12.5' });
    takesOwnPath({ ...trade, takerPnl: `-${MAX}`, makerPnl: MAX });
    takesOwnPath({ ...trade, takerPnl: '-0', makerPnl: '-0.0' });
    takesOwnPath({ ...trade, takerFee: '0', makerFee: '0', fund: [] });
    takesOwnPath({ ...trade, takerSide: 'buy', makerRebate: '0.1' });
    takesOwnPath({ ...trade, fund: [['junior', '0', '0']] });
    takesOwnPath({ ...trade, tradeId: 'a'.repeat(64) });
  });

  it('given size times price of exactly one ledger unit, then it is taken; one unit less of size, then io-ts refuses it', () => {
    takesOwnPath({ ...trade, size: '0.000000001', price: '0.000000001', takerFee: '0', makerFee: '0', fund: [] });
    refused({ ...trade, size: '0.000000000999999999', price: '0.000000001', takerFee: '0', makerFee: '0', fund: [] });
  });

  it('given a trade past a bound, then io-ts decides and refuses', () => {
    refused({ ...trade, fundSharePpm: -1 });
    refused({ ...trade, fundSharePpm: 1_000_001 });
    refused({ ...trade, takerPnl: `-${MAX}.000000000000000001` });
    refused({ ...trade, size: '0' });
    refused({ ...trade, makerRebate: '0' });
    refused({ ...trade, makerRebate: undefined, extra: 1 });
  });

  it('given a mark on the bounds, then the hand-written path takes it', () => {
    takesOwnPath({ ...mark, price: MAX });
    takesOwnPath({ ...mark, price: '0.000000000000000001' });
    refused({ ...mark, price: '0' });
  });

  it('given a deposit, withdrawal or mark with one extra field, whatever its name, then io-ts decides and refuses it', () => {
    // Deposits, withdrawals and marks have no optional field: an extra one, even of the one name a
    // mutant of their empty optional list would allow, is refused as io-ts refuses it.
    for (const name of ['Stryker was here', 'makerRebate', 'extra']) {
      for (const event of [deposit, withdrawal, mark]) {
        refused({ ...event, [name]: '1' });
        refused({ ...event, [name]: undefined });
      }
    }
    expect(thenRefusal({ ...deposit, 'Stryker was here': '1' })).toBe('Stryker was here: unknown field "Stryker was here"');
    expect(thenRefusal({ ...mark, 'Stryker was here': '1' })).toBe('Stryker was here: unknown field "Stryker was here"');
  });

  it('given input that is not a plain object, when decoded, then io-ts decides and refuses it without a throw', () => {
    for (const input of [undefined, null, 0, 'CollateralDeposited', true, [], [deposit], () => deposit]) {
      expect(fastDecodeEvent(input)).toBeUndefined();
      expect(decodeStoredEvent(input)).toEqual(decodeEvent(input));
      expect(E.isLeft(decodeStoredEvent(input))).toBe(true);
    }
  });

  it('given a fund part that is a three-character string of an id and two digits, then io-ts decides and refuses it', () => {
    refused({ ...trade, fund: ['t11'] });
    refused({ ...trade, fund: [['junior', '0.225', '0.09'], 't11'] });
    refused({ ...trade, fund: 't11' });
  });
});
