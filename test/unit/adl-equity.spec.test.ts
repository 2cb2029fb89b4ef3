// Given/when/then specifications of ADL and accounts without positive equity, and of pro-rata
// lots, with hand-computed numbers. Fees are zero; every liquidation price is within 5% of the mark.

import { describe, expect, it } from 'vitest';
import { adlQueue, positionIn, summarizeLiquidation, units } from '../../domain/index.js';
import {
  active, apply, BTC, ETH, createPool, deposit, given, liquidate, listMarket, mark, stake, thenEvents, trade, when, type History,
} from '../support/builders.js';
import { accountOf, noFees, sane } from '../support/liquidation-checks.js';

/**
 * alice long 1 BTC at 30000 against bob (0.5, collateral 5000) and carol (0.5, 3000); bob is also
 * long 10 ETH at 2000 against erin. junior holds 1950. Marks: BTC 24000, ETH as given.
 */
const losingEth = (ethMark: string): History => given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 }),
  stake('lp1', 'junior', '1950'),
  deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('erin', '10000'), deposit('liq', '38000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
  trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.5', price: '30000' }),
  trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'buy', size: '10', price: '2000' }),
  mark('24000'), mark(ethMark, ETH));

describe('the ADL queue and accounts without positive equity', () => {
  it('puts a profitable position of an account without positive equity last, and never deleverages it', () => {
    // alice long 1 BTC at 30000 against bob (0.5) and carol (0.5); bob is also long 10 ETH at 2000.
    // Marks BTC 24000, ETH 1200: bob has 5000 + 3000 - 8000 = 0, carol 3000 + 3000 = 6000.
    // bob's short is profitable but cannot be ranked (leverage is undefined at zero equity).
    const history = losingEth('1200');
    expect(adlQueue(active(history.state), BTC).short.map((e) => e.accountId)).toEqual(['carol', 'bob']);
    // At 1300 bob has 1000 and the most leverage: first.
    expect(adlQueue(active(losingEth('1300').state), BTC).short.map((e) => e.accountId)).toEqual(['bob', 'carol']);
    // Liquidated at 23000 (D = 3900, fund 1950, target 0.5): carol is deleveraged, not bob.
    const events = thenEvents(when(history, liquidate('alice', '23000')));
    expect(summarizeLiquidation(events)?.adlFills).toEqual([{ accountId: 'carol', size: '0.5', notional: '13450' }]);
  });
});

describe('pro-rata ADL', () => {
  it('splits whole lots by size; a counterparty whose share rounds to no lot gives nothing', () => {
    // junior holds 899.99: R = 0.01, a = 1 * 0.01 / 900 -> one lot, 0.0001. Split 0.6 : 0.4, the
    // lot goes to bob (remainder 0.6 over 0.4); carol's share is no lot and she has no fill. The
    // liquidator takes 0.9999 at 26000. alice: 100 - 0.0001 * 100 - 0.9999 * 1000 = -899.91, drawn
    // from junior, which keeps 0.08.
    const history = given(createPool(), listMarket({ ...noFees, adlPolicy: 'pro-rata' }), stake('lp1', 'junior', '899.99'),
      deposit('alice', '3100'), deposit('bob', '2000'), deposit('carol', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.4', price: '30000' }),
      mark('27000'));
    const decision = when(history, liquidate('alice', '26000'));
    expect(summarizeLiquidation(thenEvents(decision))).toMatchObject({
      liquidatorSize: '0.9999', fundDraws: [{ trancheId: 'junior', amount: '899.91', writtenOff: false }],
      adlFills: [{ accountId: 'bob', size: '0.0001', notional: '2.69' }],
    });
    const after = sane(apply(history, decision));
    expect(active(after.state).tranches[0]!.assets).toBe(units('0.08'));
  });
});

describe('ADL takes only from accounts with positive equity', () => {
  it('even when that account would survive the fill', () => {
    // alice long 1 BTC at 30000 against bob (0.5, collateral 5000) and carol (0.5, 3000); bob is also
    // long 10 ETH at 2000. Marks BTC 27000, ETH 1350: bob has 5000 + 1500 - 6500 = 0, a profitable
    // short, and the fill at 26900 (below the mark) would even raise his equity; but he cannot be
    // ranked. No fund: target 1. carol gives her 0.5 at 26900 (13450, realizes 1550: 4550); the
    // liquidator takes 0.5 at 26000. alice: 100 - 50 - 500 = -450, socialized over bob 5000,
    // carol 4550, erin 10000 and liq 25450 (45000): 1% each.
    const history = given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 }),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('erin', '10000'), deposit('liq', '25450'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.5', price: '30000' }),
      trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'buy', size: '10', price: '2000' }),
      mark('27000'), mark('1350', ETH));
    const decision = when(history, liquidate('alice', '26000'));
    expect(summarizeLiquidation(thenEvents(decision))).toMatchObject({
      liquidatorSize: '0.5', adlFills: [{ accountId: 'carol', size: '0.5', notional: '13450' }], socialized: '450',
      haircuts: [{ accountId: 'bob', amount: '50' }, { accountId: 'carol', amount: '45.5' }, { accountId: 'erin', amount: '100' }, { accountId: 'liq', amount: '254.5' }],
    });
    const after = sane(apply(history, decision));
    expect(positionIn(accountOf(after.state, 'bob'), BTC)).toMatchObject({ size: units('-0.5') });
  });
});
