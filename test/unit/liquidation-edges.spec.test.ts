// Given/when/then specifications of the edges of liquidation, with hand-computed numbers. Fees are
// zero; every liquidation price is within 5% of the mark.

import { describe, expect, it } from 'vitest';
import { liquidatableAccounts, poolView, summarizeLiquidation, units } from '../../domain/index.js';
import {
  active, apply, BTC, ETH, createPool, deposit, given, liquidate, listMarket, mark, stake, thenError, thenEvents, trade, when, type History,
} from '../support/builders.js';
import { accountOf, noFees, sane } from '../support/liquidation-checks.js';

/** alice deposits `collateral` and buys 1 BTC at 30000 from bob; then the mark moves to `markPrice`. */
const aliceLong = (collateral: string, markPrice: string, ...more: Parameters<typeof given>): History => given(
  createPool(), listMarket(noFees), ...more,
  deposit('alice', collateral), deposit('bob', '10000'), deposit('liq', '38000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
  mark(markPrice));

describe('liquidatable means strictly below maintenance', () => {
  it('an account exactly at maintenance is not liquidatable; a cent of mark lower it is', () => {
    // 3400 at mark 28000: equity 3400 - 2000 = 1400 = maintenance 5% * 28000.
    const exactly = aliceLong('3400', '28000');
    expect(liquidatableAccounts(exactly.state)).toEqual([]);
    expect(thenError(when(exactly, liquidate('alice', '27900')), 'NOT_LIQUIDATABLE', 'accountId').message)
      .toBe('equity 1400 is not below maintenance margin 1400');
    expect(thenError(when(exactly, liquidate('bob', '27900', 'alice')), 'NOT_LIQUIDATABLE', 'accountId').message)
      .toBe('equity 12000 is not below maintenance margin 1400');
    expect(thenError(when(exactly, liquidate('liq', '27900')), 'SELF_LIQUIDATION', 'liquidatorId').message).toBe('an account cannot liquidate itself');
    expect(thenError(when(exactly, liquidate('liq', '27900', 'alice')), 'NO_POSITION', 'marketId').message).toBe('account "liq" has no position in "BTC-PERP"');
    // At 27999.99: equity 1399.99 < maintenance 1399.9995.
    const below = aliceLong('3400', '27999.99');
    expect(liquidatableAccounts(below.state)).toEqual(['alice']);
    // At 27900: S = 1399.99 - 99.99 = 1300, penalty min(279, 1300) = 279, 139.5 of it to the fund.
    const [event] = thenEvents(when(below, liquidate('alice', '27900')));
    expect(event).toMatchObject({ type: 'PositionLiquidated', equity: units('1399.99'), penalty: units('279'), penaltyToFund: units('139.5') });
  });
});

describe('the liquidator\'s margin after the takeover', () => {
  // alice 3100 long 1 at 30000 against bob 0.6 and carol 0.4; mark 28300: E = 1400. At 28200 the
  // liquidator earns the penalty 282, 141 of it (the rest goes to the fund). It then holds 1 BTC at
  // 28200 worth 28300 (+100), and needs initial margin 10% * 28300 = 2830.
  const crashed = (liquidatorCollateral: string) => given(createPool(), listMarket({ ...noFees, liquidationPenaltyPpm: 10_000 }),
    deposit('alice', '3100'), deposit('bob', '2000'), deposit('carol', '5000'), deposit('poor', liquidatorCollateral),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
    trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.4', price: '30000' }),
    mark('28300'));

  it('above bankruptcy: a liquidator left exactly at initial margin is accepted, one unit less is refused', () => {
    // 2589 + 141 + 100 = 2830: exactly the initial margin.
    const exactly = crashed('2589');
    const decision = when(exactly, liquidate('alice', '28200', 'poor'));
    expect(thenEvents(decision)[0]).toMatchObject({ liquidatorSize: units('1'), penalty: units('282'), penaltyToFund: units('141') });
    const after = sane(apply(exactly, decision));
    expect(accountOf(after.state, 'poor')).toEqual({
      accountId: 'poor', collateral: units('2730'), positions: [{ marketId: BTC, size: units('1'), entryNotional: units('28200') }],
    });
    const error = thenError(when(crashed('2588.999999'), liquidate('alice', '28200', 'poor')), 'LIQUIDATOR_INSUFFICIENT_MARGIN', 'liquidatorId');
    expect(error.message).toBe('liquidator "poor" equity 2829.999999 would be below 2830 after the takeover');
  });

  it('below bankruptcy: the liquidator\'s margin is checked too', () => {
    // alice 3100 at mark 27000: E = 100, p_b = 26900. At 26000 the deficit 900 is the junior
    // tranche's 1000's to cover: no ADL, the liquidator takes all of 1 BTC at 26000, worth 27000
    // (+1000), and needs 2700: 1700 of collateral is enough, 1699.999999 is not.
    const withLiquidator = (collateral: string) => given(createPool(), listMarket(noFees), stake('lp1', 'junior', '1000'),
      deposit('alice', '3100'), deposit('bob', '10000'), deposit('poor', collateral),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      mark('27000'));
    thenError(when(withLiquidator('1699.999999'), liquidate('alice', '26000', 'poor')), 'LIQUIDATOR_INSUFFICIENT_MARGIN', 'liquidatorId');
    const enough = withLiquidator('1700');
    const decision = when(enough, liquidate('alice', '26000', 'poor'));
    const events = thenEvents(decision);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '1', deficit: '900', fundDraws: [{ trancheId: 'junior', amount: '900', writtenOff: false }], adlFills: [],
    });
    const after = sane(apply(enough, decision));
    expect(accountOf(after.state, 'poor')).toEqual({
      accountId: 'poor', collateral: units('1700'), positions: [{ marketId: BTC, size: units('1'), entryNotional: units('26000') }],
    });
    expect(accountOf(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: 0n, positions: [] });
  });
});

describe('a liquidator that already holds a position', () => {
  it('realizes PnL on the part of the takeover that closes its own position', () => {
    // alice 3100 long 1 at 30000 against bob (0.5) and the liquidator (short 0.5, collateral 2000).
    // Mark 27000: E = 100, p_b = 26900. At 26950: S = 100 - 50 = 50, penalty min(269.5, 50) = 50,
    // 25 to the fund. The liquidator buys 1 at 26950: its short 0.5 closes (realizes 15000 - 13475
    // = 1525) and it is left long 0.5 at 13475. Collateral 2000 + 1525 + 25 = 3550.
    // alice: 3100 + (26950 - 30000) - 50 = 0 = E - E_q + S - P.
    const history = given(createPool(), listMarket({ ...noFees, liquidationPenaltyPpm: 10_000 }),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '2000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.5', price: '30000' }),
      trade({ taker: 'alice', maker: 'liq', side: 'buy', size: '0.5', price: '30000' }),
      mark('27000'));
    const decision = when(history, liquidate('alice', '26950'));
    const [event] = thenEvents(decision);
    expect(event).toMatchObject({ type: 'PositionLiquidated', liquidatorSize: units('1'), penalty: units('50'), penaltyToFund: units('25'), deficit: 0n });
    const after = sane(apply(history, decision));
    expect(accountOf(after.state, 'liq')).toEqual({
      accountId: 'liq', collateral: units('3550'), positions: [{ marketId: BTC, size: units('0.5'), entryNotional: units('13475') }],
    });
    expect(accountOf(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: 0n, positions: [] });
    expect(active(after.state).tranches.map((t) => t.assets)).toEqual([units('18.75'), units('6.25')]);
  });
  it('a liquidator that only reduces its own position needs no initial margin, only non-negative equity', () => {
    // liq (8000) holds 10 ETH long at 2000 and 2 BTC short at 30000 (sold to alice and dave). Marks
    // BTC 27000, ETH 950: liq's equity 8000 + 6000 - 10500 = 3500. Taking alice's 1 BTC over at
    // 26950 (S = 50, penalty 50, 25 of it to liq) closes half of its short: it realizes
    // 30000 - 26950 = 3050 and keeps short 1 at 30000. Equity after 11075 + 3000 - 10500 = 3575,
    // below its initial margin 2700 + 950 = 3650, but the takeover only reduced its position.
    const history = given(createPool(), listMarket({ ...noFees, liquidationPenaltyPpm: 10_000 }),
      listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 }),
      deposit('alice', '3100'), deposit('dave', '5000'), deposit('erin', '10000'), deposit('liq', '8000'),
      trade({ marketId: ETH, taker: 'liq', maker: 'erin', side: 'buy', size: '10', price: '2000' }),
      trade({ taker: 'alice', maker: 'liq', side: 'buy', size: '1', price: '30000' }),
      trade({ taker: 'dave', maker: 'liq', side: 'buy', size: '1', price: '30000' }),
      mark('27000'), mark('950', ETH));
    const decision = when(history, liquidate('alice', '26950'));
    const after = sane(apply(history, decision));
    expect(accountOf(after.state, 'liq')).toEqual({
      accountId: 'liq', collateral: units('11075'), positions: [
        { marketId: ETH, size: units('10'), entryNotional: units('20000') },
        { marketId: BTC, size: units('-1'), entryNotional: units('-30000') },
      ],
    });
    expect(poolView(after.state)?.accounts.find((a) => a.accountId === 'liq')).toMatchObject({ equity: '3575', initialMargin: '3650' });
  });
});
