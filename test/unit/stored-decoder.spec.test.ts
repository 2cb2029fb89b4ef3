// The hand-written stored-event decoder against io-ts, exhaustively over a fixed table: every
// field of a stored compact trade (with a maker rebate and with realized PnL), deposit, withdrawal
// and mark deleted or replaced by each odd value, every fund part entry replaced, fund parts of
// every length, and unknown fields. Same acceptance, same values, every time.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, decodeStoredEvent, encodeEvent, fastDecodeEvent } from '../../domain/index.js';
import { deposit, listMarket, mark, standardPool, trade, withdraw, given, createPool } from '../support/builders.js';

type Json = Record<string, unknown>;
const stored = (u: unknown): Json => JSON.parse(JSON.stringify(u)) as Json;

const rebates = given(
  createPool(), listMarket({ makerFeePpm: -100 }),
  deposit('alice', '10000'), deposit('bob', '10000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'bob', maker: 'alice', side: 'buy', size: '0.5', price: '31000' }),
);
const plain = standardPool(deposit('carol', '5000'), deposit('dave', '5000'), withdraw('carol', '100'), mark('30100'),
  trade({ taker: 'carol', maker: 'dave', side: 'sell', size: '0.1', price: '30000' }));
const hot = [...rebates.events, ...plain.events].map((e) => stored(encodeEvent(e))).filter((e) => e.schemaVersion === 2 || e.type === 'MarkPriceUpdated');

const odd: unknown[] = [
  undefined, null, true, 0, -0, 1, -1, 1.5, 1_000_000, 1_000_001, 2 ** 53, Number.NaN, '', '0', '-0', '1', '-1', '01', '1.', '.5', '1.0', '-0.0',
  '0.000000000000000001', '0.0000000000000000001', '1e5', ' 1', '+1', '0x10', 'buy', 'sell', 'Buy', 'a.b', 'a b', '_a', 'a'.repeat(64), 'a'.repeat(65),
  '1'.repeat(65), '1000000000000000000000000', '1000000000000000000000001', '-1000000000000000000000001', [], {}, ['t', '1', '1'], [['t', '1', '0']],
  'TradeExecuted', 2,
];

const same = (input: unknown) => {
  const reference = decodeEvent(input);
  expect(decodeStoredEvent(input)).toEqual(reference);
  const own = fastDecodeEvent(input);
  if (own !== undefined) expect(reference).toEqual(E.right(own));
  return E.isRight(reference);
};

describe('hand-written stored-event decoder, field by field', () => {
  it('has compact trades with a rebate and with realized PnL, deposits, withdrawals and marks to work on', () => {
    expect(hot.some((e) => e.type === 'TradeExecuted' && e.makerRebate !== undefined)).toBe(true);
    expect(hot.some((e) => e.type === 'TradeExecuted' && e.takerPnl !== '0')).toBe(true);
    expect(new Set(hot.map((e) => e.type))).toEqual(new Set(['TradeExecuted', 'CollateralDeposited', 'CollateralWithdrawn', 'MarkPriceUpdated']));
    for (const e of hot) {
      expect(fastDecodeEvent(e)).toBeDefined();
      expect(same(e)).toBe(true);
    }
  });

  it('decides like io-ts with any field deleted or replaced, or an unknown field added', () => {
    let refused = 0;
    for (const e of hot) {
      for (const key of [...Object.keys(e), 'makerRebate', 'postings', 'extra']) {
        const { [key]: _dropped, ...rest } = e;
        if (!same(rest)) refused++;
        for (const value of odd) if (!same({ ...e, [key]: value })) refused++;
      }
      for (const version of [1, 2, 3, '2']) same({ ...e, schemaVersion: version });
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('decides like io-ts on every fund part entry replaced, and on fund parts of every length', () => {
    for (const e of hot.filter((x) => x.type === 'TradeExecuted')) {
      const fund = e.fund as unknown[][];
      fund.forEach((part, i) => {
        for (let j = 0; j < 3; j++) {
          for (const value of odd) {
            const changed = fund.map((p, k) => (k === i ? p.map((x, m) => (m === j ? value : x)) : p));
            same({ ...e, fund: changed });
          }
        }
        for (let length = 0; length <= 4; length++) {
          const changed = fund.map((p, k) => (k === i ? Array.from({ length }, (_, m) => part[m] ?? '1') : p));
          same({ ...e, fund: changed });
        }
      });
      same({ ...e, fund: [] });
      same({ ...e, fund: [...fund, ['extra', '0', '0']] });
    }
  });
});
