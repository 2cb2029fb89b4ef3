// Given/when/then specifications of auto-deleveraging, with hand-computed numbers. Fees are zero.
// Every liquidation price here is within 5% of the mark.
//
// The common story: alice deposits 3100 and buys 1 BTC at 30000. The mark falls to 27000: her
// equity is 3100 - 3000 = 100 < maintenance 1350. E_q = E = 100, the bankruptcy price is
// p_b = 27000 - 100 = 26900, and liquidated at 26000 the deficit is 100 + (26000 - 27000) = -900.
// With an empty fund R = D and the ADL target is the whole position.

import { describe, expect, it } from 'vitest';
import { adlQueue, positionIn, summarizeLiquidation, units } from '../../domain/index.js';
import {
  active, apply, BTC, ETH, createPool, deposit, given, liquidate, listMarket, mark, stake, thenEvents, trade, when, type History,
} from '../support/builders.js';
import { accountOf, noFees, sane } from '../support/liquidation-checks.js';
import type { AdlPolicy } from '../../domain/index.js';

const balances = (history: History, ids: string[]) => ids.map((id) => accountOf(history.state, id).collateral);

describe('ADL queue order', () => {
  it('comes from the score, uPnL / basis times notional / equity, not from the account id', () => {
    // Shorts at 30000, mark 27000 (uPnL / basis = 10% for each):
    //   a1 0.1, collateral 1000: uPnL 300, notional 2700, equity 1300 -> 0.1 * 2700 / 1300 = 0.2077
    //   b1 0.2, collateral 1000: uPnL 600, notional 5400, equity 1600 -> 0.1 * 5400 / 1600 = 0.3375
    //   c1 0.1, collateral 400:  uPnL 300, notional 2700, equity 700  -> 0.1 * 2700 / 700  = 0.3857
    // d1 short 0.1 at 27500 with collateral 400: uPnL 50, basis 2750, equity 450 -> 0.0182 * 6 = 0.1091.
    // So c1, b1, a1, d1: the reverse of the alphabet. Four entries: lights 5, 4, 3, 2.
    const history = given(createPool(), listMarket(noFees), deposit('whale', '100000'),
      deposit('a1', '1000'), deposit('b1', '1000'), deposit('c1', '400'), deposit('d1', '400'),
      trade({ taker: 'a1', maker: 'whale', side: 'sell', size: '0.1', price: '30000' }),
      trade({ taker: 'b1', maker: 'whale', side: 'sell', size: '0.2', price: '30000' }),
      trade({ taker: 'c1', maker: 'whale', side: 'sell', size: '0.1', price: '30000' }),
      mark('27500'),
      trade({ taker: 'd1', maker: 'whale', side: 'sell', size: '0.1', price: '27500' }),
      mark('27000'));
    const queue = adlQueue(active(history.state), BTC);
    expect(queue.short).toEqual([
      { accountId: 'c1', rank: 1, lights: 5 },
      { accountId: 'b1', rank: 2, lights: 4 },
      { accountId: 'a1', rank: 3, lights: 3 },
      { accountId: 'd1', rank: 4, lights: 2 },
    ]);
    // The whale lost on all four: it is listed, with nothing to rank by.
    expect(queue.long).toEqual([{ accountId: 'whale', rank: 1, lights: 5 }]);
  });
});

describe('the ADL target and the fund draw', () => {
  it('the target is rounded up to whole lots: the fund keeps less than a lot\'s worth', () => {
    // junior holds 300: R = 900 - 300 = 600, a = 1 * 600 / 900 = 0.6666... -> 0.6667 (lot 0.0001).
    // bob gives his 0.6 (16140), carol 0.0667 at 26900 (1794.23); the liquidator takes 0.3333 at
    // 26000. alice: 100 - 0.6667 * 100 - 0.3333 * 1000 = -299.97: junior is drawn 299.97 and keeps 0.03.
    const history = given(createPool(), listMarket(noFees), stake('lp1', 'junior', '300'),
      deposit('alice', '3100'), deposit('bob', '2000'), deposit('carol', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.4', price: '30000' }),
      mark('27000'));
    const decision = when(history, liquidate('alice', '26000'));
    expect(summarizeLiquidation(thenEvents(decision))).toMatchObject({
      liquidatorSize: '0.3333', deficit: '900',
      fundDraws: [{ trancheId: 'junior', amount: '299.97', writtenOff: false }],
      adlFills: [{ accountId: 'bob', size: '0.6', notional: '16140' }, { accountId: 'carol', size: '0.0667', notional: '1794.23' }],
      socialized: '0',
    });
    const after = sane(apply(history, decision));
    expect(active(after.state).tranches.map((t) => t.assets)).toEqual([units('0.03'), 0n]);
    expect(balances(after, ['alice'])).toEqual([0n]);
  });

  it('an empty junior tranche is skipped: the draw starts at the first tranche with assets', () => {
    // Only senior holds 1000: it covers the deficit 900 alone; there is no draw of zero from junior.
    const history = given(createPool(), listMarket(noFees), stake('lp2', 'senior', '1000'),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      mark('27000'));
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(events[0]).toMatchObject({
      type: 'InsuranceFundDrawn', amount: units('900'), draws: [{ trancheId: 'senior', amount: units('900'), writtenOff: false }],
      postings: [{ from: { kind: 'tranche', trancheId: 'senior' }, to: { kind: 'collateral', accountId: 'alice' }, amount: units('900') }],
    });
  });
});

/** alice long 1 at 30000 against bob (0.6, collateral 2000) and carol (0.4, 5000); mark 27000. */
const spill = (policy: AdlPolicy): History => given(createPool(), listMarket({ ...noFees, adlPolicy: policy }),
  deposit('alice', '3100'), deposit('bob', '2000'), deposit('carol', '5000'), deposit('liq', '38000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
  trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.4', price: '30000' }),
  mark('27000'));

describe('ranked ADL', () => {
  it('never takes more than a counterparty holds: the rest spills to the next in the queue', () => {
    // bob: equity 2000 + 1800 = 3800, notional 16200 (4.26x); carol: 6200, 10800 (1.74x): bob first.
    // Target 1: bob gives all his 0.6 at 26900 (16140, realizes 18000 - 16140 = 1860), carol the
    // other 0.4 (10760, realizes 12000 - 10760 = 1240). The liquidator takes nothing; alice closes
    // everything at p_b and ends with E - E_q = 0 without any draw.
    const history = spill('ranked');
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(events.map((e) => e.type)).toEqual(['PositionLiquidated', 'PositionsAutoDeleveraged']);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '0', bankruptcyPrice: '26900', deficit: '900',
      adlFills: [{ accountId: 'bob', size: '0.6', notional: '16140' }, { accountId: 'carol', size: '0.4', notional: '10760' }],
      socialized: '0', badDebt: '0',
    });
    // The fills settle exactly at p_b: nothing is left over for the treasury, not even a posting of zero.
    expect(events.flatMap((e) => ('postings' in e ? e.postings : [])).filter((p) => p.to.kind === 'treasury' || p.amount <= 0n)).toEqual([]);
    const after = sane(apply(history, decision));
    expect(balances(after, ['alice', 'bob', 'carol', 'liq'])).toEqual([0n, units('3860'), units('6240'), units('38000')]);
    // Events of no liquidation summarize to nothing.
    expect(summarizeLiquidation(events.slice(1))).toBeUndefined();
    expect(['alice', 'bob', 'carol', 'liq'].map((id) => accountOf(after.state, id).positions)).toEqual([[], [], [], []]);
  });
});

/**
 * alice long 1 at 30000 against bob (0.6, collateral 2140) and the liquidator itself (0.4, 2400).
 * At mark 27000 dave sells 0.5 to erin at 26900 (uPnL -50) and frank 0.2 at 27000 (uPnL 0):
 * neither profits, so neither may be deleveraged.
 */
const onlyProfitable = (policy: AdlPolicy): History => given(createPool(), listMarket({ ...noFees, adlPolicy: policy }),
  deposit('alice', '3100'), deposit('bob', '2140'), deposit('liq', '2400'),
  deposit('dave', '2000'), deposit('frank', '2000'), deposit('erin', '4000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
  trade({ taker: 'alice', maker: 'liq', side: 'buy', size: '0.4', price: '30000' }),
  mark('27000'),
  trade({ taker: 'dave', maker: 'erin', side: 'sell', size: '0.5', price: '26900' }),
  trade({ taker: 'frank', maker: 'erin', side: 'sell', size: '0.2', price: '27000' }));

describe('ADL takes only from profitable positions of others than the liquidator', () => {
  // Target 1 (no fund), but only bob's 0.6 qualifies: the liquidator is excluded, dave loses and
  // frank is flat. bob gives 0.6 at 26900 (16140; realizes 1860, collateral 4000). The liquidator
  // takes the other 0.4 at 26000, closing its own short 0.4 (realizes 12000 - 10400 = 1600,
  // collateral 4000). alice: 100 + 0.6 * (26900 - 27000) + 0.4 * (26000 - 27000) = -360. No fund,
  // so the 360 is socialized over bob 4000, liq 4000, dave 2000, frank 2000, erin 4000 (16000):
  // 2.25% each = 90, 90, 45, 45, 90.
  for (const policy of ['ranked', 'pro-rata'] as const) {
    it(`${policy}: capacity below the target, what is left goes on down the waterfall`, () => {
      const history = onlyProfitable(policy);
      const decision = when(history, liquidate('alice', '26000'));
      const events = thenEvents(decision);
      expect(events.map((e) => e.type)).toEqual(['LossSocialized', 'PositionLiquidated', 'PositionsAutoDeleveraged']);
      expect(summarizeLiquidation(events)).toMatchObject({
        liquidatorSize: '0.4', deficit: '900', socialized: '360', badDebt: '0',
        adlFills: [{ accountId: 'bob', size: '0.6', notional: '16140' }],
        haircuts: [
          { accountId: 'bob', amount: '90' }, { accountId: 'liq', amount: '90' }, { accountId: 'dave', amount: '45' },
          { accountId: 'frank', amount: '45' }, { accountId: 'erin', amount: '90' },
        ],
      });
      const after = sane(apply(history, decision));
      expect(balances(after, ['alice', 'bob', 'liq', 'dave', 'frank', 'erin']))
        .toEqual([0n, units('3910'), units('3910'), units('1955'), units('1955'), units('3910')]);
      expect(positionIn(accountOf(after.state, 'liq'), BTC)).toBeUndefined();
      expect(positionIn(accountOf(after.state, 'dave'), BTC)).toMatchObject({ size: units('-0.5') });
      expect(positionIn(accountOf(after.state, 'frank'), BTC)).toMatchObject({ size: units('-0.2') });
    });
  }
});

describe('ADL never auto-deleverages the liquidator in its own liquidation', () => {
  it('even when the liquidator heads the queue', () => {
    // bob short 0.5 (collateral 3000): equity 4500, notional 13500 (3x); liq short 0.5 (2000):
    // equity 3500 (3.86x): the liquidator is first in the queue. junior holds 450: R = 450,
    // target 1 * 450 / 900 = 0.5. bob gives 0.5 at 26900 (13450; realizes 1550, collateral 4550);
    // the liquidator takes 0.5 at 26000, closing its short (realizes 2000, collateral 4000).
    // alice: 100 - 50 - 500 = -450, which is exactly the junior tranche.
    const history = given(createPool(), listMarket(noFees), stake('lp1', 'junior', '450'),
      deposit('alice', '3100'), deposit('bob', '3000'), deposit('liq', '2000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
      trade({ taker: 'alice', maker: 'liq', side: 'buy', size: '0.5', price: '30000' }),
      mark('27000'));
    expect(adlQueue(active(history.state), BTC).short.map((e) => e.accountId)).toEqual(['liq', 'bob']);
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '0.5', deficit: '900',
      fundDraws: [{ trancheId: 'junior', amount: '450', writtenOff: true }],
      adlFills: [{ accountId: 'bob', size: '0.5', notional: '13450' }],
      socialized: '0',
    });
    const after = sane(apply(history, decision));
    expect(balances(after, ['alice', 'bob', 'liq'])).toEqual([0n, units('4550'), units('4000')]);
  });
});

describe('ADL never makes a counterparty bankrupt', () => {
  it('skips a profitable short whose account would fall below zero at the bankruptcy price', () => {
    // alice long 1 BTC at 30000 against bob (0.5) and carol (0.5). bob is also long 10 ETH at 2000.
    // Marks: BTC 24000, ETH 1300. alice: E = 3100 - 6000 = -2900, p_b = 24000 + 2900 = 26900, above
    // the mark. bob: 5000 + 3000 (BTC) - 7000 (ETH) = 1000 (12x, first in the queue); buying back
    // 0.5 at 26900 would cost him 0.5 * 2900 = 1450 more than it is worth: he would end at -450.
    // carol: 3000 + 3000 = 6000 (2x) survives it. At 23000: D = 2900 + 1000 = 3900, the fund 1950,
    // target 0.5. carol gives 0.5 at 26900 (13450; realizes 15000 - 13450 = 1550); the liquidator
    // takes 0.5 at 23000. alice: -2900 + 0.5 * 2900 - 0.5 * 1000 = -1950: the fund, exactly.
    const history = given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 }),
      stake('lp1', 'junior', '1950'),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('erin', '10000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.5', price: '30000' }),
      trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'buy', size: '10', price: '2000' }),
      mark('24000'), mark('1300', ETH));
    expect(adlQueue(active(history.state), BTC).short.map((e) => e.accountId)).toEqual(['bob', 'carol']);
    const decision = when(history, liquidate('alice', '23000'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '0.5', bankruptcyPrice: '26900', deficit: '3900',
      fundDraws: [{ trancheId: 'junior', amount: '1950', writtenOff: true }],
      adlFills: [{ accountId: 'carol', size: '0.5', notional: '13450' }],
      socialized: '0', badDebt: '0',
    });
    const after = sane(apply(history, decision));
    expect(balances(after, ['alice', 'bob', 'carol'])).toEqual([0n, units('5000'), units('4550')]);
    expect(positionIn(accountOf(after.state, 'bob'), BTC)).toMatchObject({ size: units('-0.5') });
  });
});

describe('the ADL fill rounds against the counterparty; what that leaves over goes to the treasury', () => {
  // alice deposits 9100 and holds 3 BTC at 30000 against bob (1, collateral 5000) and carol (2,
  // 12000). Its E = 100 on a position of 3: E_q / q = 33.333... does not divide evenly.
  it('a bankrupt long: the shorts buy back at the fill rounded up', () => {
    // Mark 27000: p_b = 27000 - floor(100 / 3) = 26966.666666666666666667. At 26000, D = 2900, no
    // fund: all 3 go to ADL. bob (27000 / 8000 = 3.375x) before carol (54000 / 18000 = 3x).
    // bob pays ceil(27000 - 33.333...) = 26966.666666666666666667, carol ceil(54000 - 66.666...) =
    // 53933.333333333333333334: 80900.000000000000000001 in all, one unit more than alice's exact
    // 81000 - 100. She would keep that unit over E - E_q = 0: it goes to the treasury.
    const history = given(createPool(), listMarket(noFees),
      deposit('alice', '9100'), deposit('bob', '5000'), deposit('carol', '12000'), deposit('liq', '100000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '2', price: '30000' }),
      mark('27000'));
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '0', bankruptcyPrice: '26966.666666666666666667', deficit: '2900', fundDraws: [], socialized: '0', badDebt: '0',
      adlFills: [{ accountId: 'bob', size: '1', notional: '26966.666666666666666667' }, { accountId: 'carol', size: '2', notional: '53933.333333333333333334' }],
    });
    const deleveraged = events.find((e) => e.type === 'PositionsAutoDeleveraged')!;
    expect(deleveraged.postings.at(-1)).toEqual({ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'treasury' }, amount: 1n });
    const after = sane(apply(history, decision));
    expect(balances(after, ['alice', 'bob', 'carol'])).toEqual([0n, units('8033.333333333333333333'), units('18066.666666666666666666')]);
    expect(active(after.state).treasury).toBe(1n);
  });

  it('a bankrupt short: the longs sell at the fill rounded down', () => {
    // The mirror: alice short 3 at 30000, mark 33000: E = 100, p_b = 33000 + 33.333333333333333334.
    // At 34000, D = 2900. bob receives floor(33000 + 33.333...) = 33033.333333333333333333, carol
    // floor(66000 + 66.666...) = 66066.666666666666666666: one unit less than alice's exact 99100.
    const history = given(createPool(), listMarket(noFees),
      deposit('alice', '9100'), deposit('bob', '5000'), deposit('carol', '12000'), deposit('liq', '100000'),
      trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '1', price: '30000' }),
      trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '2', price: '30000' }),
      mark('33000'));
    const decision = when(history, liquidate('alice', '34000'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '0', bankruptcyPrice: '33033.333333333333333334', deficit: '2900',
      adlFills: [{ accountId: 'bob', size: '-1', notional: '33033.333333333333333333' }, { accountId: 'carol', size: '-2', notional: '66066.666666666666666666' }],
    });
    const after = sane(apply(history, decision));
    expect(balances(after, ['alice', 'bob', 'carol'])).toEqual([0n, units('8033.333333333333333333'), units('18066.666666666666666666')]);
    expect(active(after.state).treasury).toBe(1n);
  });
});
