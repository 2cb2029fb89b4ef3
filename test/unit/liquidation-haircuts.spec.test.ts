// Given/when/then specifications of who pays a haircut, and of ADL's survival check when the
// bankrupt account is short, with hand-computed numbers. Fees are zero; every liquidation price is
// within 5% of the mark.

import { describe, expect, it } from 'vitest';
import { positionIn, summarizeLiquidation, units } from '../../domain/index.js';
import {
  active, apply, BTC, ETH, createPool, deposit, given, liquidate, listMarket, mark, stake, thenEvents, trade, when, withdraw,
} from '../support/builders.js';
import { accountOf, noFees, sane } from '../support/liquidation-checks.js';

const eth = { ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 };

describe('haircuts fall only on positive collateral', () => {
  it('an account whose collateral is negative pays nothing and does not shrink what the others can cover', () => {
    // No fund, no ADL. alice long 1 BTC at 30000 against bob (0.5) and carol (0.5, collateral 3000).
    // bob is long 10 ETH at 2000 against erin (2000). BTC falls to 10000, ETH to 1300; bob sells
    // his ETH back to erin at 1300: bob's collateral 5000 - 7000 = -2000 (his equity 8000 is in
    // his BTC short), erin's 2000 + 7000 = 9000. alice: E = 3100 - 20000 = -16900; at 9500
    // S = -16900 - 500 = -17400. The liquidator (2000) takes the whole position. Haircuts: carol
    // 3000, erin 9000, liq 2000 = 14000, all of it; bob's -2000 neither pays nor counts; bad debt
    // 17400 - 14000 = 3400.
    const history = given(createPool(), listMarket({ ...noFees, adlPolicy: 'none', maxMarkMovePpm: 700_000 }), listMarket(eth),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('erin', '2000'), deposit('liq', '2000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.5', price: '30000' }),
      trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'buy', size: '10', price: '2000' }),
      mark('10000'), mark('1300', ETH),
      trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'sell', size: '10', price: '1300' }));
    expect(accountOf(history.state, 'bob').collateral).toBe(units('-2000'));
    const decision = when(history, liquidate('alice', '9500'));
    const events = thenEvents(decision);
    expect(events.map((e) => e.type)).toEqual(['LossSocialized', 'BadDebtRecorded', 'PositionLiquidated']);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '1', deficit: '17400', socialized: '14000', badDebt: '3400',
      haircuts: [{ accountId: 'carol', amount: '3000' }, { accountId: 'erin', amount: '9000' }, { accountId: 'liq', amount: '2000' }],
    });
    const after = sane(apply(history, decision));
    expect(['alice', 'bob', 'carol', 'erin', 'liq'].map((id) => accountOf(after.state, id).collateral))
      .toEqual([0n, units('-2000'), 0n, 0n, 0n]);
    expect(active(after.state).badDebt).toBe(units('3400'));
  });

  it('a payer whose part rounds to nothing gets no posting', () => {
    // No ADL. alice 3100 long 1 BTC at 30000 against bob (10000); mark 27000: E = 100; at 26000
    // D = 900. junior holds 899.999999: 0.000001 (10^12 units) is left to socialize over bob
    // 10000, dave 0.000001 and liq 4000000 (T = 4010000.000001). Floors: bob 2493765586 units,
    // dave 10^12 * 10^12 / T < 1: 0, liq 997506234413; the one unit left goes to the largest
    // remainder, liq's (0.72 against dave's 0.25 and bob's 0.03). dave pays nothing and is not named.
    const history = given(createPool(), listMarket({ ...noFees, adlPolicy: 'none' }), stake('lp1', 'junior', '899.999999'),
      deposit('alice', '3100'), deposit('bob', '10000'), deposit('dave', '0.000001'), deposit('liq', '4000000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      mark('27000'));
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      deficit: '900', fundDraws: [{ trancheId: 'junior', amount: '899.999999', writtenOff: true }], socialized: '0.000001', badDebt: '0',
      haircuts: [{ accountId: 'bob', amount: '0.000000002493765586' }, { accountId: 'liq', amount: '0.000000997506234414' }],
    });
    const after = sane(apply(history, decision));
    expect(accountOf(after.state, 'dave').collateral).toBe(units('0.000001'));
  });

  it('when nobody else has positive collateral nothing is socialized: no LossSocialized, all bad debt, the liquidated account never pays itself', () => {
    // No fund, no ADL. alice (5000) long 1 BTC at 30000 against bob (3000) and short 10 ETH at 2000
    // to liq (2000). Marks BTC 27000, ETH 3300. bob (equity 6000, initial 2700) and liq (15000,
    // initial 3300) withdraw all their collateral. alice: E = 5000 - 3000 - 13000 = -11000,
    // maintenance 1350 + 1650 = 3000, E_q = -11000 * 1350 / 3000 = -4950. At 26000 S = -4950 - 1000
    // = -5950. liq takes 1 BTC (equity 13000 + 1000 against initial 3300 + 2700). alice keeps
    // collateral 5000 - 4000 = 1000 and her ETH short (-13000): equity -12000, so she must be
    // credited -11000 + 4950 + 12000 = 5950; bob and liq hold 0, and her own 1000 is not a payer.
    const history = given(createPool(), listMarket({ ...noFees, adlPolicy: 'none' }), listMarket(eth),
      deposit('alice', '5000'), deposit('bob', '3000'), deposit('liq', '2000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      trade({ marketId: ETH, taker: 'liq', maker: 'alice', side: 'buy', size: '10', price: '2000' }),
      mark('27000'), mark('3300', ETH), withdraw('bob', '3000'), withdraw('liq', '2000'));
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(events.map((e) => e.type)).toEqual(['BadDebtRecorded', 'PositionLiquidated']);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '1', deficit: '5950', socialized: '0', haircuts: [], badDebt: '5950',
    });
    expect(events.at(-1)).toMatchObject({ type: 'PositionLiquidated', equity: units('-11000'), equityShare: units('-4950') });
    const after = sane(apply(history, decision));
    expect(['alice', 'bob', 'liq'].map((id) => accountOf(after.state, id).collateral)).toEqual([units('6950'), 0n, 0n]);
  });
});

describe('ADL never makes a counterparty bankrupt: the bankrupt account is short', () => {
  // alice short 1 BTC at 30000 against bob (long 0.5, collateral 5000) and carol (long 0.5, 3000);
  // bob is also short 10 ETH at 2000 against erin. junior holds 1950. BTC rises to 36000: alice
  // E = 3100 - 6000 = -2900, p_b = 36000 - 2900 = 33100, below the mark: a long selling there
  // gets 0.5 * 2900 = 1450 less than its 0.5 is worth. At 37000 D = 2900 + 1000 = 3900, the fund
  // 1950, target 0.5. bob (short ETH) ranks first.
  const shortCrash = (ethMark: string) => given(createPool(), listMarket(noFees), listMarket(eth), stake('lp1', 'junior', '1950'),
    deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('erin', '10000'), deposit('liq', '38000'),
    trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '0.5', price: '30000' }),
    trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '0.5', price: '30000' }),
    trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'sell', size: '10', price: '2000' }),
    mark('36000'), mark(ethMark, ETH));

  it('skips a long that the fill would leave below zero', () => {
    // ETH 2700: bob 5000 + 3000 - 7000 = 1000 would end at -450; carol (6000) sells 0.5 at 33100
    // (16550, realizes 1550: 4550).
    const history = shortCrash('2700');
    const decision = when(history, liquidate('alice', '37000'));
    expect(summarizeLiquidation(thenEvents(decision))).toMatchObject({
      liquidatorSize: '-0.5', bankruptcyPrice: '33100', deficit: '3900',
      fundDraws: [{ trancheId: 'junior', amount: '1950', writtenOff: true }],
      adlFills: [{ accountId: 'carol', size: '-0.5', notional: '16550' }],
    });
    const after = sane(apply(history, decision));
    expect(['alice', 'bob', 'carol'].map((id) => accountOf(after.state, id).collateral)).toEqual([0n, units('5000'), units('4550')]);
    expect(positionIn(accountOf(after.state, 'bob'), BTC)).toMatchObject({ size: units('0.5') });
  });

  it('takes a long that the fill leaves at exactly zero equity', () => {
    // ETH 2655: bob 5000 + 3000 - 6550 = 1450, exactly what the fill costs him against the mark.
    // He sells 0.5 at 33100 (realizes 1550: collateral 6550) and is left at equity 6550 - 6550 = 0.
    const history = shortCrash('2655');
    const decision = when(history, liquidate('alice', '37000'));
    expect(summarizeLiquidation(thenEvents(decision))).toMatchObject({
      liquidatorSize: '-0.5', adlFills: [{ accountId: 'bob', size: '-0.5', notional: '16550' }],
    });
    const after = sane(apply(history, decision));
    expect(['alice', 'bob', 'carol'].map((id) => accountOf(after.state, id).collateral)).toEqual([0n, units('6550'), units('3000')]);
    expect(positionIn(accountOf(after.state, 'bob'), BTC)).toBeUndefined();
  });
});
