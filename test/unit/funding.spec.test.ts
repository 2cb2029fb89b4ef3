// Funding, maker rebates, per-market fund caps, governed fund payouts and the ADL measure: given /
// when / then with hand-computed numbers. BTC-PERP of the standard pool: lot 0.0001 (so the
// funding index moves in steps of 1e-14 per BTC), tick 0.01, IMR 10%, MMR 5%, taker 0.05%.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  approvalProblem, checkInvariants, checkWaterfall, decide, decodeCommand, equityOf, evolve, fundCapRemaining, fundingIndexDelta, initialState,
  liquidatableAccounts, marketsOf, positionIn, units, SCHEMA_VERSION,
  type Command, type Event, type FundPaidOut, type PayFromFund, type PoolState, type PositionLiquidated, type PositionsAutoDeleveraged,
} from '../../domain/index.js';
import { projectEvent, emptyModel, type FundHealthDocument, type AccountDocument } from '../../projections/read-models.js';
import {
  active, apply, BTC, changeParameters, createPool, ctx, deposit, given, listMarket, liquidate, mark, POOL, signed, stake, standardPool, thenError,
  thenEvents, trade, when, withdraw, type History,
} from '../support/builders.js';
import { exampleRootGovernors } from '../support/example-root.js';

let counter = 0;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: `fund-${++counter}`, poolId: POOL });
const funding = (ratePpm: number, marketId = BTC): Command => ({ ...envelope('ApplyFunding'), marketId, fundingRatePpm: ratePpm });
const settle = (accountId: string): Command => ({ ...envelope('SettleFunding'), accountId });
const payout = (fields: Partial<PayFromFund> & Pick<PayFromFund, 'recipient' | 'amount'>, governanceSeq = 2): PayFromFund => signed({
  ...envelope('PayFromFund'), reason: 'claim 7: stop order not executed in the crash', governanceRef: 'proposal-207', governanceSeq, signatures: [], ...fields,
});

const account = (state: PoolState, id: string) => active(state).accounts.get(id)!;
const market = (state: PoolState) => active(state).markets.get(BTC)!;
const equity = (state: PoolState, id: string) => equityOf(account(state, id), marketsOf(active(state)));
/** Every invariant after every event of the decision, and the history after it. */
const sane = (history: History, command: Command): History => {
  const events = thenEvents(when(history, command));
  let state = history.state;
  for (const event of events) {
    state = evolve(state, event);
    expect(checkInvariants(state, [new Map([[BTC, units('1')]]), new Map([[BTC, units('99999')]])])).toEqual([]);
  }
  return { state, events: [...history.events, ...events] };
};
const types = (events: ReadonlyArray<Event>) => events.map((e) => e.type);

describe('Funding: a cumulative index per market, settled when a position is touched', () => {
  // alice long 3 (2 from bob, 1 from carol) at 30000: the long side is one account, the short side two.
  const split = () => standardPool(
    deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '2', price: '30000' }),
    trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '1', price: '30000' }),
  );

  it('an update moves the index by rate * mark per unit of size and touches no account', () => {
    // 100 ppm of 30000 = 3 per BTC
    const events = thenEvents(when(split(), funding(100)));
    expect(events).toEqual([{ type: 'FundingRateApplied', schemaVersion: SCHEMA_VERSION, marketId: BTC, fundingRatePpm: 100, mark: units('30000'), indexDelta: units('3'), fundingIndex: units('3') }]);
  });

  it('longs pay exactly what shorts receive, split 2:1 between the shorts, with equity counting it before settlement', () => {
    let history = sane(split(), funding(100)); // index 3
    history = sane(history, mark('31000'));
    history = sane(history, funding(37)); // 31000 * 37 ppm = 1.147: index 4.147
    expect(market(history.state).fundingIndex).toBe(units('4.147'));
    const before = { alice: account(history.state, 'alice').collateral, bob: account(history.state, 'bob').collateral, carol: account(history.state, 'carol').collateral };
    // alice: collateral 9955 (fees 30 + 15) + uPnL 3 * 1000 - funding 3 * 4.147 = 12942.559
    expect(before.alice).toBe(units('9955'));
    expect(equity(history.state, 'alice')).toBe(units('12942.559'));

    // alice settles explicitly: 12.441 from her collateral into the market's funding account
    const settled = thenEvents(when(history, settle('alice')));
    expect(settled).toEqual([{
      type: 'FundingSettled', schemaVersion: SCHEMA_VERSION, accountId: 'alice',
      settlements: [{ marketId: BTC, size: units('3'), fundingIndex: units('4.147'), amount: -units('12.441') }],
      postings: [{ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'funding', marketId: BTC }, amount: units('12.441') }],
    }]);
    history = sane(history, settle('alice'));
    expect(account(history.state, 'alice').collateral).toBe(units('9942.559'));
    expect(equity(history.state, 'alice')).toBe(units('12942.559'));
    expect(market(history.state).fundingBalance).toBe(units('12.441'));

    // bob's withdrawal settles his 2 * 4.147 = 8.294 first
    const withdrawal = thenEvents(when(history, withdraw('bob', '100')));
    expect(types(withdrawal)).toEqual(['FundingSettled', 'CollateralWithdrawn']);
    history = sane(history, withdraw('bob', '100'));
    expect(account(history.state, 'bob').collateral).toBe(before.bob + units('8.294') - units('100'));
    // what is left in the funding account is exactly carol's unsettled 4.147
    expect(market(history.state).fundingBalance).toBe(units('4.147'));
    history = sane(history, settle('carol'));
    expect(account(history.state, 'carol').collateral).toBe(before.carol + units('4.147'));
    expect(market(history.state).fundingBalance).toBe(0n);
    // 8.294 + 4.147 = 12.441: the shorts received what the long paid, to the last unit
    thenError(when(history, settle('carol')), 'NO_UNSETTLED_FUNDING', 'accountId');
  });

  it('a stake settles the staker\'s funding first when the staker also trades, and nothing for a staker without positions', () => {
    // index 3: alice, long 3, owes 9; the stake itself comes from outside the ledger
    const history = sane(split(), funding(100));
    const events = thenEvents(when(history, stake('alice', 'junior', '100')));
    expect(types(events)).toEqual(['FundingSettled', 'Staked']);
    expect(events[0]).toEqual({
      type: 'FundingSettled', schemaVersion: SCHEMA_VERSION, accountId: 'alice',
      settlements: [{ marketId: BTC, size: units('3'), fundingIndex: units('3'), amount: -units('9') }],
      postings: [{ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'funding', marketId: BTC }, amount: units('9') }],
    });
    expect(account(sane(history, stake('alice', 'junior', '100')).state, 'alice').collateral).toBe(units('9955') - units('9'));
    expect(types(thenEvents(when(history, stake('lp', 'junior', '100'))))).toEqual(['Staked']);
  });

  it('a trade settles both sides before their positions change, and a new position starts at the current index', () => {
    let history = sane(split(), funding(-50)); // shorts pay longs 1.5 per BTC: index -1.5
    const events = thenEvents(when(history, trade({ taker: 'carol', maker: 'alice', side: 'buy', size: '1', price: '30000' })));
    // carol (short 1) pays 1.5, alice (long 3) receives 4.5; bob is not touched
    expect(types(events)).toEqual(['FundingSettled', 'FundingSettled', 'TradeExecuted']);
    expect(events.slice(0, 2).map((e) => e.type === 'FundingSettled' && [e.accountId, e.settlements[0]!.amount])).toEqual([['carol', -units('1.5')], ['alice', units('4.5')]]);
    history = sane(sane(history, deposit('dave', '5000')), trade({ taker: 'dave', maker: 'bob', side: 'buy', size: '0.5', price: '30000', tradeId: 'late' }));
    expect(positionIn(account(history.state, 'dave'), BTC)?.fundingIndex).toBe(-units('1.5'));
  });

  it('given 0.75% per update as the default bound, a larger rate is refused; governance can narrow it', () => {
    thenError(when(split(), funding(7_501)), 'FUNDING_RATE_OUT_OF_BAND', 'fundingRatePpm');
    thenError(when(split(), funding(-7_501)), 'FUNDING_RATE_OUT_OF_BAND', 'fundingRatePpm');
    const narrowed = sane(split(), signed(changeParameters({ markets: [{ marketId: BTC, maxFundingRatePpm: 50 }] })));
    thenError(when(narrowed, funding(51)), 'FUNDING_RATE_OUT_OF_BAND', 'fundingRatePpm');
    expect(E.isRight(when(narrowed, funding(-50)))).toBe(true);
  });

  it('rate * mark rounds toward zero to the index quantum 10^sizeDecimals, so every position funding is exact', () => {
    // lot 1e-10, mark 1.23456789, 3 ppm: 0.00000370370367 exactly, to a multiple of 1e-8: 0.0000037
    expect(fundingIndexDelta({ sizeDecimals: 10 }, units('1.23456789'), 3)).toBe(units('0.0000037'));
    expect(fundingIndexDelta({ sizeDecimals: 10 }, units('1.23456789'), -3)).toBe(-units('0.0000037'));
    expect(fundingIndexDelta({ sizeDecimals: 4 }, units('30000'), 100)).toBe(units('3'));
  });

  it('a funding payment makes an account liquidatable, and its equity share and bankruptcy price include it', () => {
    // alice long 1 at 30000 with 3100 (fee 15: collateral 3085). Mark 28400: equity 1485,
    // maintenance 1420: safe. Funding 0.25% of 28400 = 71: equity 1414 < 1420.
    let history = standardPool(deposit('alice', '3100'), deposit('bob', '10000'), deposit('liq', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28400'));
    expect(equity(history.state, 'alice')).toBe(units('1485'));
    thenError(when(history, liquidate('alice', '28400')), 'NOT_LIQUIDATABLE', 'accountId');
    history = sane(history, funding(2_500));
    expect(equity(history.state, 'alice')).toBe(units('1414'));
    expect(liquidatableAccounts(active(history.state))).toEqual(['alice']);

    const events = thenEvents(when(history, liquidate('alice', '28400')));
    expect(types(events)).toEqual(['FundingSettled', 'PositionLiquidated']);
    const liquidated = events[1] as PositionLiquidated;
    // E = E_q = 1414; p_b = 28400 - 1414 = 26986 (26915 without the funding); penalty 1% of 28400 = 284
    expect(liquidated).toMatchObject({ equity: units('1414'), equityShare: units('1414'), bankruptcyPrice: units('26986'), deficit: 0n, penalty: units('284'), penaltyToFund: units('142') });
    const after = sane(history, liquidate('alice', '28400'));
    // 3085 - 71 (funding) - 1600 (realized) - 284 (penalty) = 1130
    expect(account(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: units('1130'), positions: [] });
    // bob's 71 is still unsettled, and held by the market's funding account
    expect(market(after.state).fundingBalance).toBe(units('71'));
  });
});

describe('Maker rebates: a negative maker fee paid out of the taker fee', () => {
  it('given maker -0.01% and taker 0.05%, a 30000 trade pays the maker 3 of the taker 15, and the fund and treasury share the other 12', () => {
    const history = given(createPool(), listMarket({ makerFeePpm: -100 }), deposit('alice', '10000'), deposit('bob', '10000'));
    const events = thenEvents(when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    expect(events[0]).toMatchObject({
      type: 'TradeExecuted', takerFee: units('15'), makerFee: 0n, makerRebate: units('3'), fundSharePpm: 200_000,
      postings: [
        { from: { kind: 'position', accountId: 'alice', marketId: BTC }, to: { kind: 'position', accountId: 'bob', marketId: BTC }, amount: units('30000') },
        { from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'collateral', accountId: 'bob' }, amount: units('3') },
        // 20% of 12 = 2.4 to the fund, 3:1 by income weight; 9.6 to the treasury
        { from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('1.8') },
        { from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'tranche', trancheId: 'senior' }, amount: units('0.6') },
        { from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'treasury' }, amount: units('9.6') },
      ],
    });
    const after = apply(history, E.right(events));
    expect([account(after.state, 'alice').collateral, account(after.state, 'bob').collateral, active(after.state).treasury]).toEqual([units('9985'), units('10003'), units('9.6')]);
    expect(checkInvariants(after.state)).toEqual([]);
  });

  it('refuses a rebate above the taker fee, at listing and by a later change of either rate', () => {
    thenError(when(given(createPool()), listMarket({ makerFeePpm: -501 })), 'INVALID_PARAMETER', 'makerFeePpm');
    const history = given(createPool(), listMarket({ makerFeePpm: -100 }));
    thenError(when(history, signed(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 99 }] }))), 'INVALID_PARAMETER', 'markets.0.makerFeePpm');
    thenError(when(history, signed(changeParameters({ markets: [{ marketId: BTC, makerFeePpm: -501 }] }))), 'INVALID_PARAMETER', 'markets.0.makerFeePpm');
    expect(E.isRight(decodeCommand({ type: 'ApplyFunding', schemaVersion: 1, commandId: 'x', poolId: 'p', marketId: 'm', fundingRatePpm: -100 }))).toBe(true);
  });

  it('the wire accepts makerFeePpm -100 and names the field below -100%', () => {
    const wire = (makerFeePpm: number) => ({
      type: 'ListMarket', schemaVersion: 1, commandId: 'lm', poolId: 'p', marketId: 'm', sizeDecimals: 4, priceDecimals: 2, initialMarginPpm: 100_000,
      maintenanceMarginPpm: 50_000, takerFeePpm: 500, makerFeePpm, liquidationPenaltyPpm: 0, penaltyFundSharePpm: 0, adlPolicy: 'ranked', markPrice: '1',
      governanceSeq: 1, signatures: [],
    });
    expect(E.isRight(decodeCommand(wire(-100)))).toBe(true);
    const refused = decodeCommand(wire(-1_000_001));
    expect(E.isLeft(refused) && refused.left.errors.map((e) => e.path)).toEqual(['makerFeePpm']);
  });
});

describe('Per-market fund caps: past the cap the waterfall goes on to ADL', () => {
  // The fund: junior 1500 (lp1), senior 1000 (lp2), plus 4.2 of fee income. alice long 1 from
  // bob at 30000 with 3100; mark 28300: equity 1385 < maintenance 1415. At 26000: deficit 915.
  const crashed = (cap: Partial<Parameters<typeof listMarket>[0]>) => given(
    createPool(), listMarket(cap), stake('lp1', 'junior', '1500'), stake('lp2', 'senior', '1000'),
    deposit('alice', '3100'), deposit('bob', '10000'), deposit('liq', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28300'),
  );

  it('without a cap the fund covers the 915 and nobody is deleveraged', () => {
    const history = crashed({});
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(types(events)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated']);
    expect(events[0]).toMatchObject({ amount: units('915') });
  });

  it('given a cap of 100, the market draws 99.918 and ADL covers 815.082 while the fund still holds 2404.282', () => {
    const history = crashed({ fundDrawCap: units('100') });
    const events = thenEvents(when(history, liquidate('alice', '26000')));
    expect(types(events)).toEqual(['InsuranceFundDrawn', 'PositionLiquidated', 'PositionsAutoDeleveraged']);
    // R = 915 - 100 = 815; a = ceil_lot(815 / 915) = 0.8908 at p_b = 26915; the liquidator takes
    // 0.1092 at 26000, which costs 0.1092 * 915 = 99.918, drawn from junior
    expect(events[0]).toMatchObject({ amount: units('99.918'), draws: [{ trancheId: 'junior', amount: units('99.918'), writtenOff: false }] });
    expect(events[1]).toMatchObject({ liquidatorSize: units('0.1092'), deficit: units('915'), fundCapRemaining: units('100') });
    // bob buys back 0.8908 at 26915 for 23975.882, which is 1233.758 less than at the mark 28300
    expect(events[2]).toMatchObject({
      fills: [{ accountId: 'bob', size: units('0.8908'), notional: units('23975.882'), lossAtMark: -units('1233.758') }],
      lossAtMark: -units('1233.758'), deficitCovered: units('815.082'),
    });
    const after = sane(history, liquidate('alice', '26000'));
    expect(checkWaterfall(active(history.state), events, active(after.state))).toEqual([]);
    expect(account(after.state, 'alice')).toEqual({ accountId: 'alice', collateral: 0n, positions: [] });
    // bob: 9994 + 30000 * 0.8908 - 23975.882 realized = 12742.118, short 0.1092 left
    expect(account(after.state, 'bob').collateral).toBe(units('12742.118'));
    expect(active(after.state).tranches.map((t) => t.assets)).toEqual([units('1403.232'), units('1001.05')]);
    expect(market(after.state).fundDrawnTotal).toBe(units('99.918'));
    expect(fundCapRemaining(market(after.state), ctx.now)).toBe(units('0.082'));

    // the invariant refuses ADL while the fund has assets when the cap was not reached
    const { fundCapRemaining: _cap, ...uncapped } = events[1] as PositionLiquidated;
    expect(checkWaterfall(active(history.state), [events[0]!, uncapped, events[2]!], active(after.state)).map((v) => v.message).join()).toMatch(/ADL with a deficit of 915/);

    // fund health shows the market's use of its cap
    const health = project(after.events).get('fund-health') as FundHealthDocument;
    expect(health.marketCaps).toEqual([{ marketId: BTC, fundDrawCap: '100', fundDrawWindowMs: 0, drawnTotal: '99.918', drawnInWindow: '99.918', capRemaining: '0.082' }]);
    expect(health.adl).toMatchObject({ lossAtMark: '-1233.758', deficitCovered: '815.082', ratioPpm: '-1513661' });
  });

  it('with a window, draws older than the window no longer count', () => {
    const history = crashed({ fundDrawCap: units('100'), fundDrawWindowMs: 3_600_000 });
    const after = sane(history, liquidate('alice', '26000'));
    expect(fundCapRemaining(market(after.state), ctx.now + 3_599_999)).toBe(units('0.082'));
    expect(fundCapRemaining(market(after.state), ctx.now + 3_600_000)).toBe(units('100'));
  });
});

const project = (events: ReadonlyArray<Event>): Map<string, unknown> => {
  const model = emptyModel();
  const latest = new Map<string, unknown>();
  events.forEach((event, i) => {
    for (const doc of projectEvent(model, POOL, BigInt(i), ctx.now, event)) latest.set(doc.collection === 'fund-health' ? 'fund-health' : doc.id, doc.body);
  });
  return latest;
};

describe('Governed fund payouts', () => {
  const funded = () => standardPool(stake('lp1', 'junior', '1000'), stake('lp2', 'senior', '500'), deposit('claimant', '1'));

  it('pays 1200 junior first to an account, recorded with its reason and governance reference', () => {
    const history = funded();
    const command = payout({ recipient: { kind: 'account', accountId: 'claimant' }, amount: units('1200') });
    const events = thenEvents(when(history, command));
    expect(events).toEqual([{
      type: 'FundPaidOut', schemaVersion: SCHEMA_VERSION, recipient: { kind: 'account', accountId: 'claimant' }, amount: units('1200'),
      reason: 'claim 7: stop order not executed in the crash', governanceRef: 'proposal-207',
      draws: [{ trancheId: 'junior', amount: units('1000'), writtenOff: true }, { trancheId: 'senior', amount: units('200'), writtenOff: false }],
      postings: [
        { from: { kind: 'tranche', trancheId: 'junior' }, to: { kind: 'collateral', accountId: 'claimant' }, amount: units('1000') },
        { from: { kind: 'tranche', trancheId: 'senior' }, to: { kind: 'collateral', accountId: 'claimant' }, amount: units('200') },
      ],
      governanceSeq: 2, signedCommand: command,
    } satisfies FundPaidOut]);
    // the audit re-verifies it like any governance event
    expect(approvalProblem(events[0]!, history.state, command.commandId)).toBeUndefined();
    expect(approvalProblem({ ...(events[0] as FundPaidOut), reason: 'something else' }, history.state, command.commandId)).toMatch(/not the event its signed command gives/);

    const after = sane(history, command);
    expect(account(after.state, 'claimant').collateral).toBe(units('1201'));
    expect(active(after.state).tranches.map((t) => [t.assets, t.shares, t.epoch])).toEqual([[0n, 0n, 1], [units('300'), units('500'), 0]]);
    // then 300 out of the pool from the senior tranche by name
    const out = sane(after, payout({ recipient: { kind: 'external' }, trancheId: 'senior', amount: units('300') }, 3));
    expect(active(out.state).externalOut).toBe(units('300'));

    const health = project(out.events).get('fund-health') as FundHealthDocument;
    expect(health.payouts).toMatchObject({ count: 2, total: '1500', history: [
      { amount: '1200', recipient: 'claimant', reason: 'claim 7: stop order not executed in the crash', governanceRef: 'proposal-207', draws: [{ trancheId: 'junior', amount: '1000' }, { trancheId: 'senior', amount: '200' }] },
      { amount: '300', recipient: 'external', governanceRef: 'proposal-207' },
    ] });
    const claimant = project(out.events).get(`${POOL}/claimant`) as AccountDocument;
    expect(claimant.history).toMatchObject([{ kind: 'payout', amount: '1200', marketId: 'proposal-207' }]);
  });

  it('refuses more than the fund or the tranche holds, an unknown tranche, no signatures, and a stale sequence', () => {
    const history = funded();
    thenError(when(history, payout({ recipient: { kind: 'external' }, amount: units('1500.000001') })), 'INSUFFICIENT_FUND', 'amount');
    thenError(when(history, payout({ recipient: { kind: 'external' }, trancheId: 'senior', amount: units('501') })), 'INSUFFICIENT_FUND', 'amount');
    thenError(when(history, payout({ recipient: { kind: 'external' }, trancheId: 'mezzanine', amount: units('1') })), 'UNKNOWN_TRANCHE', 'trancheId');
    thenError(when(history, { ...payout({ recipient: { kind: 'external' }, amount: units('1') }), signatures: [] }), 'MISSING_SIGNATURES');
    thenError(when(history, payout({ recipient: { kind: 'external' }, amount: units('1') }, 1)), 'GOVERNANCE_SEQUENCE_MISMATCH', 'governanceSeq');
    expect(E.isLeft(decodeCommand({ ...JSON.parse(JSON.stringify({ type: 'PayFromFund', schemaVersion: 1, commandId: 'x', poolId: 'p', recipient: { kind: 'external' }, amount: '1', reason: '', governanceRef: 'r', governanceSeq: 2, signatures: [] })) }))).toBe(true);
  });
});

describe('ADL measured on examples/waterfall.jsonl', () => {
  it('bob gave up 0.7222 at 26915, 1000.247 better than the mark, for 660.813 of deficit covered: ratio -1.513661', () => {
    let state: PoolState = initialState;
    const events: Event[] = [];
    for (const line of readFileSync('examples/waterfall.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '')) {
      const command = decodeCommand(JSON.parse(line));
      if (E.isLeft(command)) continue;
      const decision = decide(command.right, state, { ...ctx, rootGovernors: exampleRootGovernors });
      if (E.isLeft(decision)) continue;
      for (const event of decision.right) { state = evolve(state, event); events.push(event); }
    }
    const adl = events.find((e): e is PositionsAutoDeleveraged => e.type === 'PositionsAutoDeleveraged')!;
    // loss at mark: 19438.013 - 0.7222 * 28300 = -1000.247; covered: 915 - 254.187 = 660.813
    expect(adl).toMatchObject({ lossAtMark: -units('1000.247'), deficitCovered: units('660.813'), fills: [{ accountId: 'bob', lossAtMark: -units('1000.247') }] });
    // loss - covered = 0.7222 * (26000 - 28300) = -1661.06: the deficit came from the liquidator's
    // price 2300 below the mark, not from alice's equity (1385 > 0), and ADL at p_b spared bob it
    expect(adl.lossAtMark! - adl.deficitCovered!).toBe(-units('1661.06'));
    const health = project(events).get('fund-health') as FundHealthDocument;
    expect(health.adl).toMatchObject({ count: 1, lossAtMark: '-1000.247', deficitCovered: '660.813', ratioPpm: '-1513661' });
    const alice = project(events).get(`${POOL}/alice`) as AccountDocument;
    expect(alice.history).toMatchObject([{ kind: 'liquidation', adlLossAtMark: '-1000.247', adlDeficitCovered: '660.813' }]);
  });
});
