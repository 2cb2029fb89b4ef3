// Given/when/then specifications of what a liquidation records beside its postings: the ADL
// measure (loss against the mark, deficit covered) for a bankrupt short and when ADL covers the
// whole deficit, the fund cap left only on a liquidation with a deficit, the draw's time only with
// a draw window, and the funding settlement of ADL counterparties. Hand-computed numbers.

import { describe, expect, it } from 'vitest';
import {
  checkWaterfall, positionIn, settledIndexOf, units, SCHEMA_VERSION,
  type Command, type Event, type InsuranceFundDrawn, type PositionLiquidated,
} from '../../domain/index.js';
import {
  active, apply, BTC, ctx, ETH, createPool, deposit, given, liquidate, listMarket, mark, POOL, stake, thenEvents, trade, when, type History,
} from '../support/builders.js';
import { accountOf, noFees, sane } from '../support/liquidation-checks.js';

const types = (events: ReadonlyArray<Event>) => events.map((e) => e.type);
const find = <T extends Event['type']>(events: ReadonlyArray<Event>, type: T) => events.find((e) => e.type === type) as Extract<Event, { type: T }>;
const after = (history: History, command: Command): History => {
  const decision = when(history, command);
  const next = sane(apply(history, decision));
  expect(checkWaterfall(active(history.state), thenEvents(decision), active(next.state))).toEqual([]);
  return next;
};
let counter = 0;
const funding = (fundingRatePpm: number, marketId = BTC): Command =>
  ({ type: 'ApplyFunding', schemaVersion: SCHEMA_VERSION, commandId: `measure-${++counter}`, poolId: POOL, marketId, fundingRatePpm });

describe('the ADL measure when the bankrupt account is short', () => {
  // alice short 1 BTC at 30000 against bob (long 0.5, collateral 5000) and carol (long 0.5,
  // 3000); junior holds 1950. BTC rises to 36000: alice E = E_q = 3100 - 6000 = -2900, p_b =
  // 36000 - 2900 = 33100. At 37000 D = 2900 + 1000 = 3900; the fund pays 1950, R = 1950, a =
  // 1 * 1950 / 3900 = 0.5: one of the two longs (the measure is the same for either).
  const shortCrash = () => given(createPool(), listMarket(noFees), stake('lp1', 'junior', '1950'),
    deposit('alice', '3100'), deposit('bob', '5000'), deposit('carol', '3000'), deposit('liq', '38000'),
    trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '0.5', price: '30000' }),
    trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '0.5', price: '30000' }),
    mark('36000'));

  it('a long selling 0.5 at p_b 33100 gets 16550 for what is worth 18000 at the mark: a loss of 1450, for 1950 of deficit covered', () => {
    // The liquidator buys 0.5 back for alice at 37000 (realizes -3500), the ADL fill another 0.5 at
    // 33100 (realizes -1550): her collateral 3100 - 5050 = -1950, so she needs 0 - (-1950) = 1950,
    // all from junior. Covered: D - needed = 3900 - 1950 = 1950.
    const history = shortCrash();
    const events = thenEvents(when(history, liquidate('alice', '37000')));
    expect(types(events)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated', 'PositionsAutoDeleveraged']);
    const adl = find(events, 'PositionsAutoDeleveraged');
    expect(adl.fills).toHaveLength(1);
    expect(adl.fills[0]).toMatchObject({ size: units('-0.5'), notional: units('16550'), lossAtMark: units('1450') });
    expect(adl).toMatchObject({ bankruptcyPrice: units('33100'), lossAtMark: units('1450'), deficitCovered: units('1950') });
    expect(find(events, 'InsuranceFundDrawn').amount).toBe(units('1950'));
    expect(accountOf(after(history, liquidate('alice', '37000')).state, 'alice').collateral).toBe(0n);
  });
});

describe('ADL covering the whole deficit', () => {
  // No fund. alice (10000) long 3 BTC at 30000, 1 from each of bob, carol and dave. Mark 27000:
  // E = E_q = 10000 - 9000 = 1000 < maintenance 4050. At 26000 S = 1000 - 3000 = -2000: D = 2000,
  // nothing from the fund, so a = 3 * 2000 / 2000 = 3: all of it at p_b = 27000 - 1000 / 3.
  const threeShorts = () => given(createPool(), listMarket(noFees),
    deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '10000'), deposit('dave', '10000'), deposit('liq', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '1', price: '30000' }),
    trade({ taker: 'alice', maker: 'dave', side: 'buy', size: '1', price: '30000' }),
    mark('27000'));

  it('rounding each fill against its counterparty leaves alice 1 unit over: it goes to the treasury and the whole deficit counts as covered', () => {
    // Each short buys 1 back for 27000 - 1000 / 3 = 26666.666...6 rounded up (it pays):
    // 26666.666666666666666667, which is 333.333333333333333333 under the mark. alice sells 3 for
    // 3 times that, 80000.000000000000000001: realized -9999.999999999999999999, collateral
    // 0.000000000000000001 where she must keep E - E_q = 0. needed = -1 unit: the unit goes to
    // the treasury on the ADL event, and ADL covered all of D = 2000 (not 2000 plus a unit).
    const history = threeShorts();
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(types(events)).toEqual(['PositionLiquidated', 'PositionsAutoDeleveraged']);
    expect(find(events, 'PositionLiquidated')).toMatchObject({ liquidatorSize: 0n, deficit: units('2000'), equityShare: units('1000') });
    const adl = find(events, 'PositionsAutoDeleveraged');
    expect(adl.fills.map((f) => [f.accountId, f.size, f.notional, f.lossAtMark])).toEqual(['bob', 'carol', 'dave'].map((id) =>
      [id, units('1'), units('26666.666666666666666667'), -units('333.333333333333333333')]));
    expect(adl).toMatchObject({ lossAtMark: -units('999.999999999999999999'), deficitCovered: units('2000') });
    expect(adl.postings.at(-1)).toEqual({ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'treasury' }, amount: 1n });
    const next = after(history, liquidate('alice', '26000'));
    expect(accountOf(next.state, 'alice')).toEqual({ accountId: 'alice', collateral: 0n, positions: [] });
    expect(active(next.state).treasury).toBe(1n);
  });
});

describe('what the fund draw and the takeover record about the market cap', () => {
  // The fund: junior 1500. alice (3100) long 1 from bob at 30000; mark 28300: E = 1400 (no fees)
  // < maintenance 1415.
  const crashed = (cap: Partial<Parameters<typeof listMarket>[0]>) => given(createPool(), listMarket({ ...noFees, ...cap }),
    stake('lp1', 'junior', '1500'), deposit('alice', '3100'), deposit('bob', '10000'), deposit('liq', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28300'));

  it('a takeover above the bankruptcy price leaves no deficit and records no fund cap, even in a capped market', () => {
    // At 28300 S = 1400 >= 0: penalty 1% of 28300 = 283, nothing drawn.
    const event = thenEvents(when(crashed({ fundDrawCap: units('100') }), liquidate('alice', '28300')))[0] as PositionLiquidated;
    expect(event).toMatchObject({ type: 'PositionLiquidated', deficit: 0n, penalty: units('283') });
    expect(event).not.toHaveProperty('fundCapRemaining');
  });

  it('with a deficit, an uncapped market records no fund cap and a market without a draw window records no draw time', () => {
    // At 26000 D = 2300 - 1400 = 900, all of it from junior.
    const events = thenEvents(when(crashed({}), liquidate('alice', '26000')));
    expect(types(events)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated']);
    expect(events[0]).toMatchObject({ amount: units('900') });
    expect(events[0]).not.toHaveProperty('at');
    expect(events[1]).toMatchObject({ deficit: units('900') });
    expect(events[1]).not.toHaveProperty('fundCapRemaining');
  });

  it('a capped market without a draw window records the cap left before the draw but no draw time; with a window, the time', () => {
    const capped = thenEvents(when(crashed({ fundDrawCap: units('1000') }), liquidate('alice', '26000')));
    expect(capped[1]).toMatchObject({ deficit: units('900'), fundCapRemaining: units('1000') });
    expect(capped[0]).toMatchObject({ amount: units('900') });
    expect(capped[0]).not.toHaveProperty('at');
    const windowed = thenEvents(when(crashed({ fundDrawCap: units('1000'), fundDrawWindowMs: 60_000 }), liquidate('alice', '26000')));
    expect((windowed[0] as InsuranceFundDrawn).at).toBe(ctx.now);
  });
});

describe('ADL counterparties settle their funding first, in the liquidation market only', () => {
  it('bob, short and owed 2.83 of funding, is settled before ADL shrinks his position; his ETH funding stays unsettled', () => {
    // The fund: junior 1500, capped at 100 for BTC. alice (3100) long 1 from bob at 30000; mark
    // 28300, then funding 100 ppm of 28300 = 2.83 per BTC: alice owes 2.83, bob is owed 2.83. bob
    // is also long 1 ETH from erin at 2000, and ETH funding 100 ppm of 2000 = 0.2: bob owes 0.2.
    // Liquidating alice at 26000 settles her first (E = 1400 - 2.83 = 1397.17, D = 2300 - 1397.17
    // = 902.83). The cap leaves R = 802.83 to ADL: a = ceil_lot(802.83 / 902.83 = 0.88922...) =
    // 0.8893 of bob's short, who is settled in BTC (+2.83, not his ETH -0.2) before his position
    // shrinks, the settlements first among the events. The liquidator's 0.1107 costs
    // 0.1107 * 902.83 = 99.943281 of fund.
    const history = given(createPool(), listMarket({ ...noFees, fundDrawCap: units('100') }),
      listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }),
      stake('lp1', 'junior', '1500'), deposit('alice', '3100'), deposit('bob', '10000'), deposit('erin', '1000'), deposit('liq', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      trade({ marketId: ETH, taker: 'bob', maker: 'erin', side: 'buy', size: '1', price: '2000' }),
      mark('28300'), funding(100), funding(100, ETH));
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(types(events)).toEqual(['FundingSettled', 'FundingSettled', 'InsuranceFundDrawn', 'PositionLiquidated', 'PositionsAutoDeleveraged']);
    expect(events.slice(0, 2).map((e) => e.type === 'FundingSettled' && [e.accountId, e.settlements.map((s) => [s.marketId, s.amount])]))
      .toEqual([['alice', [[BTC, -units('2.83')]]], ['bob', [[BTC, units('2.83')]]]]);
    expect(find(events, 'PositionLiquidated')).toMatchObject({ equity: units('1397.17'), deficit: units('902.83') });
    expect(find(events, 'InsuranceFundDrawn').amount).toBe(units('99.943281'));
    expect(find(events, 'PositionsAutoDeleveraged').fills.map((f) => [f.accountId, f.size])).toEqual([['bob', units('0.8893')]]);
    const next = after(history, liquidate('alice', '26000'));
    // Nothing is left unsettled in BTC: bob's remaining short carries the current index; his
    // ETH long still owes its 0.2.
    expect(active(next.state).markets.get(BTC)!.fundingBalance).toBe(0n);
    const bob = accountOf(next.state, 'bob');
    expect(positionIn(bob, BTC)).toMatchObject({ size: -units('0.1107'), fundingIndex: units('2.83') });
    expect(settledIndexOf(positionIn(bob, ETH)!)).toBe(0n);
    expect(active(next.state).markets.get(ETH)!.fundingIndex).toBe(units('0.2'));
  });
});
