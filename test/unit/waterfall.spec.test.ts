// Given/when/then specifications of liquidation and the loss waterfall, with hand-computed
// numbers. Fees are zero in these markets so that every figure below is easy to follow.
//
// The common story: alice deposits 3100 and buys 1 BTC at 30000 (entry notional 30000). The
// mark falls to 28300: her equity is 3100 - 1700 = 1400, below maintenance 5% * 28300 = 1415,
// so she is liquidatable. Her only position is her whole equity: E_q = E = 1400, and the
// bankruptcy price is 28300 - 1400 = 26900.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  adlQueue, canonicalStateJson, decide, checkInvariants, evolveAll, initialState, positionIn, stakeOf, summarizeLiquidation, units,
  type Account, type AdlPolicy, type PoolState,
} from '../../domain/index.js';
import {
  active, apply, at, BTC, ctx, cancelUnstake, completeUnstake, createPool, deposit, ETH, given, liquidate, listMarket, mark, recapitalize,
  requestUnstake, stake, thenError, thenEvents, trade, when, withdraw, type History,
} from '../support/builders.js';

const noFees = { takerFeePpm: 0, makerFeePpm: 0 };
const account = (state: PoolState, id: string): Account => active(state).accounts.get(id) ?? { accountId: id, collateral: 0n, positions: [] };
const trancheAssets = (state: PoolState) => active(state).tranches.map((t) => t.assets);
const sane = (history: History): History => {
  expect(checkInvariants(history.state)).toEqual([]);
  expect(canonicalStateJson(evolveAll(initialState, history.events))).toBe(canonicalStateJson(history.state));
  return history;
};

interface Setup {
  readonly policy?: AdlPolicy;
  readonly junior?: string;
  readonly senior?: string;
  readonly bob?: string;
  readonly carol?: string;
  readonly liq?: string;
}

/** alice long 1 BTC at 30000 against bob (0.6) and carol (0.4), the fund staked, mark 28300. */
const crashed = ({ policy = 'ranked', junior, senior, bob = '2000', carol = '5000', liq = '38000' }: Setup = {}): History => given(
  createPool(),
  listMarket({ ...noFees, adlPolicy: policy }),
  ...(junior === undefined ? [] : [stake('lp1', 'junior', junior)]),
  ...(senior === undefined ? [] : [stake('lp2', 'senior', senior)]),
  deposit('alice', '3100'), deposit('bob', bob), deposit('carol', carol), deposit('liq', liq),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.6', price: '30000' }),
  trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.4', price: '30000' }),
  mark('28300'),
);

describe('Liquidate: who may be liquidated, and by whom', () => {
  it('rejects an account that is not below maintenance, with no position, or liquidating itself', () => {
    const history = given(createPool(), listMarket(noFees), deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28400'));
    // at 28400: equity 1500 >= maintenance 1420
    thenError(when(history, liquidate('alice', '28400')), 'NOT_LIQUIDATABLE', 'accountId');
    thenError(when(history, liquidate('liq', '28400', 'alice')), 'NO_POSITION', 'marketId');
    thenError(when(history, liquidate('alice', '28400', 'alice')), 'SELF_LIQUIDATION', 'liquidatorId');
    thenError(when(history, liquidate('alice', '28400', 'nobody')), 'UNKNOWN_ACCOUNT', 'liquidatorId');
    thenError(when(history, liquidate('alice', '28400.001')), 'PRECISION_EXCEEDED', 'price');
  });

  it('rejects a liquidator that would fall below initial margin by taking the position over', () => {
    // poor takes 1 BTC at 28200 with 2000 of collateral: equity 2100 < initial 2830
    const history = apply(crashed(), when(crashed(), deposit('poor', '2000')));
    thenError(when(history, liquidate('alice', '28200', 'poor')), 'LIQUIDATOR_INSUFFICIENT_MARGIN', 'liquidatorId');
  });
});

describe('Liquidate above the bankruptcy price: surplus and penalty', () => {
  it('the liquidator takes the whole position and earns the penalty, half of it to the fund', () => {
    // At 28200: S = 1400 + 1 * (28200 - 28300) = 1300 >= 0.
    // Penalty = min(ceil(28200 * 1%), 1300) = 282; the fund takes ceil(282 * 50%) = 141
    // (junior 3/4 = 105.75, senior 35.25), the liquidator 141.
    // alice: 3100 + realized (28200 - 30000) - 282 = 1018 = S - P.
    const history = crashed();
    const events = thenEvents(when(history, liquidate('alice', '28200')));
    expect(events.map((e) => e.type)).toEqual(['PositionLiquidated']);
    expect(events[0]).toMatchObject({
      size: units('1'), liquidatorSize: units('1'), equity: units('1400'), equityShare: units('1400'),
      bankruptcyPrice: units('26900'), deficit: 0n, penalty: units('282'), penaltyToFund: units('141'),
    });
    const after = sane(apply(history, when(history, liquidate('alice', '28200'))));
    expect(account(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: units('1018'), positions: [] });
    expect(account(after.state, 'liq')).toEqual({
      accountId: 'liq', collateral: units('38141'), positions: [{ marketId: BTC, size: units('1'), entryNotional: units('28200') }],
    });
    expect(trancheAssets(after.state)).toEqual([units('105.75'), units('35.25')]);
  });

  it('the penalty never takes more than the surplus', () => {
    // At 26910: S = 1400 - 1390 = 10; the penalty would be 269.1 but is capped at 10.
    const [event] = thenEvents(when(crashed(), liquidate('alice', '26910')));
    expect(event).toMatchObject({ penalty: units('10'), penaltyToFund: units('5'), deficit: 0n });
  });
});

describe('Liquidate below the bankruptcy price: the waterfall', () => {
  it('the fund covers the deficit alone: junior first, nothing beyond it', () => {
    // At 26000: S = 1400 - 2300 = -900, deficit 900. The fund (junior 1000, senior 1000) covers it
    // from the junior tranche, which keeps 100. alice ends with E - E_q = 0.
    const history = crashed({ junior: '1000', senior: '1000' });
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(events.map((e) => e.type)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated']);
    expect(events[0]).toMatchObject({ amount: units('900'), draws: [{ trancheId: 'junior', amount: units('900'), writtenOff: false }] });
    const after = sane(apply(history, when(history, liquidate('alice', '26000'))));
    expect(account(after.state, 'alice').collateral).toBe(0n);
    expect(trancheAssets(after.state)).toEqual([units('100'), units('1000')]);
  });

  it('the fund runs out, then ranked ADL closes the rest at the bankruptcy price against the most levered profitable short', () => {
    // Fund 300 + 150 = 450 < deficit 900: R = 450, so a = 1 * 450 / 900 = 0.5 is auto-deleveraged.
    // Shorts at 28300: bob 0.6 (uPnL 1020, equity 3020), carol 0.4 (uPnL 680, equity 5680).
    // Same uPnL / basis, so leverage decides: bob (16980 / 3020) before carol (11320 / 5680).
    // bob buys back 0.5 at 26900 for 13450 and realizes 15000 - 13450 = 1550.
    // The liquidator takes the other 0.5 at 26000. Both tranches are drawn to zero and written off.
    // alice: 1400 + 0.5 * (26000 - 28300) + 0.5 * (26900 - 28300) = -450 before the fund's 450.
    const history = crashed({ junior: '300', senior: '150' });
    const decision = when(history, liquidate('alice', '26000'));
    const events = thenEvents(decision);
    expect(events.map((e) => e.type)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated', 'PositionsAutoDeleveraged']);
    expect(summarizeLiquidation(events)).toEqual({
      accountId: 'alice', marketId: BTC, liquidatorId: 'liq', liquidatorSize: '0.5', price: '26000', bankruptcyPrice: '26900', deficit: '900', penalty: '0',
      fundDraws: [{ trancheId: 'junior', amount: '300', writtenOff: true }, { trancheId: 'senior', amount: '150', writtenOff: true }],
      adlFills: [{ accountId: 'bob', size: '0.5', notional: '13450' }],
      socialized: '0', haircuts: [], badDebt: '0',
    });
    const after = sane(apply(history, decision));
    expect(account(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: 0n, positions: [] });
    expect(account(after.state, 'bob')).toEqual({
      accountId: 'bob', collateral: units('3550'), positions: [{ marketId: BTC, size: units('-0.1'), entryNotional: units('-3000') }],
    });
    expect(positionIn(account(after.state, 'liq'), BTC)).toEqual({ marketId: BTC, size: units('0.5'), entryNotional: units('13000') });
    expect(active(after.state).tranches.map((t) => [t.assets, t.shares, t.epoch])).toEqual([[0n, 0n, 1], [0n, 0n, 1]]);
  });

  it('pro-rata ADL takes from every profitable short by size', () => {
    // a = 0.5 split 0.6 : 0.4 -> bob 0.3 (8070 at 26900, realizes 9000 - 8070 = 930),
    // carol 0.2 (5380, realizes 6000 - 5380 = 620).
    const history = crashed({ junior: '300', senior: '150', policy: 'pro-rata' });
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(summarizeLiquidation(events)?.adlFills).toEqual([
      { accountId: 'bob', size: '0.3', notional: '8070' },
      { accountId: 'carol', size: '0.2', notional: '5380' },
    ]);
    const after = sane(apply(history, when(history, liquidate('alice', '26000'))));
    expect(account(after.state, 'bob').collateral).toBe(units('2930'));
    expect(account(after.state, 'carol').collateral).toBe(units('5620'));
    expect(account(after.state, 'alice').collateral).toBe(0n);
  });

  it('with ADL policy none, what the fund cannot cover is socialized over everyone else\'s collateral', () => {
    // Fund 450, deficit 900: the liquidator takes the whole position at 26000 and the other 450 is
    // shared by bob 2000, carol 5000, liq 38000 (total 45000): 1% each = 20, 50, 380.
    const history = crashed({ junior: '300', senior: '150', policy: 'none' });
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(events.map((e) => e.type)).toEqual(['InsuranceFundDrawn', 'LossSocialized', 'PositionLiquidated']);
    expect(summarizeLiquidation(events)).toMatchObject({
      liquidatorSize: '1', socialized: '450', badDebt: '0',
      haircuts: [{ accountId: 'bob', amount: '20' }, { accountId: 'carol', amount: '50' }, { accountId: 'liq', amount: '380' }],
    });
    const after = sane(apply(history, when(history, liquidate('alice', '26000'))));
    expect([account(after.state, 'bob').collateral, account(after.state, 'carol').collateral, account(after.state, 'liq').collateral])
      .toEqual([units('1980'), units('4950'), units('37620')]);
    expect(account(after.state, 'alice').collateral).toBe(0n);
  });

  it('socialization that runs out becomes bad debt: withdrawals stop until governance recapitalizes', () => {
    // No fund. alice long 1 at 30000 against bob; the mark falls to 10000: E = 3100 - 20000 = -16900.
    // At 9000: S = -16900 - 1000 = -17900. Everyone else's collateral (bob 3100, liq 4000) covers
    // 7100; 10800 is bad debt. alice ends with E - E_q = 0.
    // (The mark falls 2/3 in one update: the market allows it explicitly.)
    const history = given(createPool(), listMarket({ ...noFees, adlPolicy: 'none', maxMarkMovePpm: 700_000 }),
      deposit('alice', '3100'), deposit('bob', '3100'), deposit('liq', '4000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('10000'));
    const events = thenEvents(when(history, liquidate('alice', '9000')));
    expect(events.map((e) => e.type)).toEqual(['LossSocialized', 'BadDebtRecorded', 'PositionLiquidated']);
    expect(summarizeLiquidation(events)).toMatchObject({ deficit: '17900', socialized: '7100', badDebt: '10800' });
    const insolvent = sane(apply(history, when(history, liquidate('alice', '9000'))));
    expect(active(insolvent.state).badDebt).toBe(units('10800'));
    expect(account(insolvent.state, 'alice').collateral).toBe(0n);

    const funded = apply(insolvent, when(insolvent, deposit('dave', '100')));
    thenError(when(funded, withdraw('dave', '50')), 'WITHDRAWALS_GATED');
    // 12000 of new capital: 10800 repays the bad debt, 1200 goes into the junior tranche as
    // protocol shares (1:1, the tranche being empty). Withdrawals work again.
    const [recap] = thenEvents(when(funded, recapitalize('junior', '12000')));
    expect(recap).toMatchObject({ badDebtRepaid: units('10800'), sharesMinted: units('1200') });
    const solvent = sane(apply(funded, when(funded, recapitalize('junior', '12000'))));
    expect(active(solvent.state).badDebt).toBe(0n);
    expect(stakeOf(active(solvent.state).tranches[0]!, 'protocol')).toBe(units('1200'));
    thenEvents(when(solvent, withdraw('dave', '50')));
  });

  it('a multi-position account is liquidated market by market, each position carrying its share of equity', () => {
    // alice 5000: long 1 BTC at 30000 and 10 ETH at 2000. Marks 28000 and 1850: equity 1500,
    // maintenance 1400 + 925 = 2325. BTC's share E_q = ceil(1500 * 1400 / 2325) = 903.2258...
    // At 27500: S = E_q - 500 > 0, penalty min(275, S) = 275: equity 1500 - 500 - 275 = 725,
    // still below ETH's 925. Then ETH alone: E_q = 725, at 1800 S = 725 - 500 = 225, penalty
    // min(180, 225) = 180: alice ends with 45 and no position.
    const history = given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }),
      deposit('alice', '5000'), deposit('bob', '20000'), deposit('liq', '100000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      trade({ marketId: ETH, taker: 'alice', maker: 'bob', side: 'buy', size: '10', price: '2000' }),
      mark('28000'), mark('1850', ETH));
    const [btc] = thenEvents(when(history, liquidate('alice', '27500')));
    expect(btc).toMatchObject({ equity: units('1500'), equityShare: units('903.225806451612903226'), penalty: units('275') });
    const afterBtc = sane(apply(history, when(history, liquidate('alice', '27500'))));
    expect(account(afterBtc.state, 'alice').collateral).toBe(units('725') + units('1500'));
    const [eth] = thenEvents(when(afterBtc, liquidate('alice', '1800', 'liq', ETH)));
    expect(eth).toMatchObject({ equity: units('725'), equityShare: units('725'), penalty: units('180') });
    const done = sane(apply(afterBtc, when(afterBtc, liquidate('alice', '1800', 'liq', ETH))));
    expect(account(done.state, 'alice')).toEqual({ accountId: 'alice', collateral: units('45'), positions: [] });
  });
});

describe('Tranches and staking', () => {
  const DAY = 24 * 3600 * 1000;
  const t0 = Date.UTC(2026, 0, 1);

  it('mints 1:1 into an empty tranche and pro rata after, and shares income by weight', () => {
    // lp1 stakes 1000 into junior: 1000 shares. A 1 BTC trade at 30000 with default fees pays
    // the fund 3 + 1.2 (junior 3.15). lp2's 1003.15 then buys 1000 shares.
    const history = given(createPool(), listMarket(), stake('lp1', 'junior', '1000'), deposit('alice', '10000'), deposit('bob', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), stake('lp2', 'junior', '1003.15'));
    const junior = active(history.state).tranches[0]!;
    expect([junior.assets, junior.shares, stakeOf(junior, 'lp1'), stakeOf(junior, 'lp2')])
      .toEqual([units('2006.3'), units('2000'), units('1000'), units('1000')]);
  });

  it('unstaking waits for the cooldown and pays the value at request when the tranche gained since', () => {
    const history = given(createPool(), listMarket(), stake('lp1', 'junior', '1000'), deposit('alice', '10000'), deposit('bob', '10000'));
    const requested = at(t0, history, requestUnstake('r1', 'lp1', 'junior', '400'));
    expect(active(requested.state).unstakeRequests.get('r1')).toMatchObject({ value: units('400'), availableAt: t0 + 7 * DAY });
    thenError(when(requested, requestUnstake('r2', 'lp1', 'junior', '600.000001')), 'INSUFFICIENT_SHARES', 'shares');
    const early = { ...requested };
    expect(E.isLeft(decideAt(t0 + 7 * DAY - 1, early, completeUnstake('r1')))).toBe(true);
    // Fees raise the junior tranche to 1003.15: 400 shares are now worth 401.26, the request pays 400.
    const gained = at(t0 + DAY, requested, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));
    const done = sane(at(t0 + 7 * DAY, gained, completeUnstake('r1')));
    const junior = active(done.state).tranches[0]!;
    expect([junior.assets, junior.shares, stakeOf(junior, 'lp1')]).toEqual([units('603.15'), units('600'), units('600')]);
    expect(active(done.state).externalOut).toBe(units('400'));
  });

  it('a loss during the cooldown still bites: the request pays the value now', () => {
    // lp1 and lp2 stake 1000 each into junior (the only fund). lp1 asks for all 1000 shares
    // (worth 1000). A liquidation then draws 900 from junior: 1100 for 2000 shares, so lp1 gets 550.
    const history = given(createPool(), listMarket(noFees), stake('lp1', 'junior', '1000'), stake('lp2', 'junior', '1000'),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28300'));
    const requested = at(t0, history, requestUnstake('r1', 'lp1', 'junior', '1000'));
    const drawn = at(t0 + DAY, requested, liquidate('alice', '26000'));
    expect(trancheAssets(drawn.state)[0]).toBe(units('1100'));
    const [completed] = thenEvents(decideAt(t0 + 7 * DAY, drawn, completeUnstake('r1')));
    expect(completed).toMatchObject({ payout: units('550'), shares: units('1000') });
  });

  it('a draw to zero writes the tranche\'s shares off: pending requests pay nothing, fresh stakes start at 1:1', () => {
    // junior 500 (lp1), senior 1000 (lp2); deficit 900 takes junior to zero (written off) and 400 of senior.
    const history = given(createPool(), listMarket(noFees), stake('lp1', 'junior', '500'), stake('lp2', 'senior', '1000'),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28300'));
    const requested = at(t0, history, requestUnstake('r1', 'lp1', 'junior', '200'));
    const drawn = sane(at(t0 + DAY, requested, liquidate('alice', '26000')));
    const [junior, senior] = active(drawn.state).tranches;
    expect([junior!.assets, junior!.shares, junior!.epoch, stakeOf(junior!, 'lp1')]).toEqual([0n, 0n, 1, 0n]);
    expect([senior!.assets, senior!.shares]).toEqual([units('600'), units('1000')]);
    const [completed] = thenEvents(decideAt(t0 + 8 * DAY, drawn, completeUnstake('r1')));
    expect(completed).toMatchObject({ payout: 0n, shares: 0n });
    const fresh = sane(at(t0 + 2 * DAY, drawn, stake('lp3', 'junior', '200')));
    expect([active(fresh.state).tranches[0]!.shares, stakeOf(active(fresh.state).tranches[0]!, 'lp3')]).toEqual([units('200'), units('200')]);
    thenError(when(fresh, requestUnstake('r2', 'lp1', 'junior', '1')), 'INSUFFICIENT_SHARES', 'shares');
  });

  it('a cancelled request gives the shares back; unknown tranches and requests are rejected', () => {
    const history = at(t0, given(createPool(), stake('lp1', 'junior', '100')), requestUnstake('r1', 'lp1', 'junior', '100'));
    const cancelled = sane(apply(history, when(history, cancelUnstake('r1'))));
    expect(stakeOf(active(cancelled.state).tranches[0]!, 'lp1')).toBe(units('100'));
    expect(active(cancelled.state).unstakeRequests.size).toBe(0);
    thenError(when(cancelled, cancelUnstake('r1')), 'UNKNOWN_REQUEST', 'requestId');
    thenError(when(cancelled, stake('lp1', 'mezzanine', '1')), 'UNKNOWN_TRANCHE', 'trancheId');
    thenError(when(history, requestUnstake('r1', 'lp1', 'junior', '1')), 'DUPLICATE_REQUEST', 'requestId');
  });
});

describe('ADL queue', () => {
  it('ranks each side by score and shows quintile lights', () => {
    // Five shorts of 0.1 at 30000 with collateral 1000..5000; at 28000 all have the same
    // uPnL / basis, so the least collateral (highest leverage) is deleveraged first.
    const shorts = ['s1', 's2', 's3', 's4', 's5'];
    const history = given(createPool(), listMarket(noFees), deposit('whale', '100000'),
      ...shorts.map((id, i) => deposit(id, String(1000 * (i + 1)))),
      ...shorts.map((id) => trade({ taker: id, maker: 'whale', side: 'sell', size: '0.1', price: '30000' })),
      mark('28000'));
    const queue = adlQueue(active(history.state), BTC);
    expect(queue.short).toEqual(shorts.map((accountId, i) => ({ accountId, rank: i + 1, lights: 5 - i })));
    expect(queue.long).toEqual([{ accountId: 'whale', rank: 1, lights: 5 }]);
  });
});

/** Decide at a given time (the builders' `when` uses a fixed clock). */
function decideAt(now: number, history: History, command: Parameters<typeof when>[1]) {
  return decide(command, history.state, { ...ctx, now });
}
