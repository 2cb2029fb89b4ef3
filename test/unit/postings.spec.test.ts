// Rebuilding a compact value event's postings, and reading a trade's value flows off its postings,
// with every amount written out by hand: which side pays the notional, a realized loss and a gain,
// a maker rebate, fee parts of zero, a fee exactly covered by the tranches, and every reason the
// encoder must keep a trade's postings (a third account paying a tranche, an order or an account
// the rebuild would not give).

import { describe, expect, it } from 'vitest';
import {
  expandPostings, samePostings, tradePostingsOf, tradeValueFlows, units,
  type LedgerAccount, type Posting, type TradeExecuted, type TradeFacts, type TradeValueFlows,
} from '../../domain/index.js';

const M = 'M-PERP';
const c = (accountId: string): LedgerAccount => ({ kind: 'collateral', accountId });
const p = (accountId: string, marketId = M): LedgerAccount => ({ kind: 'position', accountId, marketId });
const tr = (trancheId: string): LedgerAccount => ({ kind: 'tranche', trancheId });
const treasury: LedgerAccount = { kind: 'treasury' };
const post = (from: LedgerAccount, to: LedgerAccount, amount: string): Posting => ({ from, to, amount: units(amount) });

// Taker t buys 2 at 10 from maker m: notional 20. t realizes a loss of 3, m a gain of 5; m gets a
// rebate of 1. Taker fee 4 (3 after the rebate): 1 to junior, 0 to senior, 2 to the treasury.
// Maker fee 2: 0.5 to junior, 0.25 to senior, 1.25 to the treasury.
const facts: TradeFacts = {
  marketId: M, taker: 't', maker: 'm', takerSide: 'buy', size: units('2'), price: units('10'),
  takerFee: units('4'), makerFee: units('2'), makerRebate: units('1'),
};
const flows: TradeValueFlows = {
  takerPnl: units('-3'), makerPnl: units('5'),
  fund: [['junior', units('1'), units('0.5')], ['senior', 0n, units('0.25')]],
};
const expected: Posting[] = [
  post(p('t'), p('m'), '20'),
  post(c('t'), p('t'), '3'),
  post(p('m'), c('m'), '5'),
  post(c('t'), c('m'), '1'),
  post(c('t'), tr('junior'), '1'),
  post(c('t'), treasury, '2'),
  post(c('m'), tr('junior'), '0.5'),
  post(c('m'), tr('senior'), '0.25'),
  post(c('m'), treasury, '1.25'),
];
const tradeEvent = (postings: Posting[], over: Partial<TradeExecuted> = {}): TradeExecuted =>
  ({ type: 'TradeExecuted', schemaVersion: 1, tradeId: 'x1', fundSharePpm: 250_000, ...facts, postings, ...over }) as TradeExecuted;

describe('tradePostingsOf: a trade\'s postings from its facts and value flows', () => {
  it('given a buying taker with a loss, a maker with a gain and a rebate, then notional, losses and gains, rebate, fees in that order', () => {
    expect(tradePostingsOf(facts, flows)).toEqual(expected);
  });

  it('given a selling taker, then the maker is the buyer and pays the notional; the taker\'s gain goes to its collateral', () => {
    const sold = tradePostingsOf({ ...facts, takerSide: 'sell', makerRebate: undefined }, { takerPnl: units('7'), makerPnl: units('-2'), fund: [] });
    expect(sold).toEqual([
      post(p('m'), p('t'), '20'),
      post(p('t'), c('t'), '7'),
      post(c('m'), p('m'), '2'),
      post(c('t'), treasury, '4'),
      post(c('m'), treasury, '2'),
    ]);
  });

  it('given no PnL, a rebate of zero and fees the tranches take whole, then no PnL, rebate or treasury posting', () => {
    const whole = tradePostingsOf({ ...facts, makerRebate: 0n, takerFee: units('1.5'), makerFee: units('0.75') }, {
      takerPnl: 0n, makerPnl: 0n, fund: [['junior', units('1'), units('0.5')], ['senior', units('0.5'), units('0.25')]],
    });
    expect(whole).toEqual([
      post(p('t'), p('m'), '20'),
      post(c('t'), tr('junior'), '1'),
      post(c('t'), tr('senior'), '0.5'),
      post(c('m'), tr('junior'), '0.5'),
      post(c('m'), tr('senior'), '0.25'),
    ]);
  });
});

describe('deposits and withdrawals', () => {
  it('a deposit comes from outside into the collateral; a withdrawal goes the other way', () => {
    expect(expandPostings({ type: 'CollateralDeposited', schemaVersion: 2, accountId: 'a', amount: units('7') })).toEqual([post({ kind: 'external' }, c('a'), '7')]);
    expect(expandPostings({ type: 'CollateralWithdrawn', schemaVersion: 2, accountId: 'a', amount: units('7') })).toEqual([post(c('a'), { kind: 'external' }, '7')]);
  });
});

describe('tradeValueFlows: the flows read off a trade\'s postings', () => {
  it('given the postings the rebuild gives, then the flows they were built from: a loss read as negative, tranche parts by side', () => {
    expect(tradeValueFlows(tradeEvent(expected))).toEqual(flows);
    expect(expandPostings({ type: 'TradeExecuted', schemaVersion: 2, tradeId: 'x1', fundSharePpm: 250_000, ...facts, ...flows, fund: [...flows.fund] })).toEqual(expected);
  });

  it('given a tranche paid from a third account\'s collateral, then none (the postings are kept)', () => {
    const third = [...expected.slice(0, 4), post(c('x'), tr('junior'), '1'), ...expected.slice(5)];
    expect(tradeValueFlows(tradeEvent(third))).toBeUndefined();
  });

  it('given postings in an order, with an account or an amount the rebuild would not give, then none', () => {
    const swapped = [expected[0]!, expected[2]!, expected[1]!, ...expected.slice(3)];
    expect(tradeValueFlows(tradeEvent(swapped))).toBeUndefined();
    // The PnL of the taker booked in another market's position account: not this trade's PnL.
    const otherMarket = [expected[0]!, post(c('t'), p('t', 'N-PERP'), '3'), ...expected.slice(2)];
    expect(tradeValueFlows(tradeEvent(otherMarket))).toBeUndefined();
    const gainElsewhere = [expected[0]!, expected[1]!, post(p('m', 'N-PERP'), c('m'), '5'), ...expected.slice(3)];
    expect(tradeValueFlows(tradeEvent(gainElsewhere))).toBeUndefined();
    // A gain paid into another account's collateral, a loss paid from another's.
    expect(tradeValueFlows(tradeEvent([expected[0]!, expected[1]!, post(p('m'), c('t'), '5'), ...expected.slice(3)]))).toBeUndefined();
    expect(tradeValueFlows(tradeEvent([expected[0]!, post(c('m'), p('t'), '3'), ...expected.slice(2)]))).toBeUndefined();
    expect(tradeValueFlows(tradeEvent([...expected.slice(0, -1), post(c('m'), treasury, '1.24')]))).toBeUndefined();
    expect(tradeValueFlows(tradeEvent([...expected, post(c('m'), treasury, '1')]))).toBeUndefined();
  });
});

describe('samePostings: posting by posting, account by account', () => {
  const all: LedgerAccount[] = [
    { kind: 'external' }, { kind: 'treasury' }, { kind: 'badDebt' }, c('a'), c('b'), p('a'), p('b'), p('a', 'N-PERP'),
    tr('junior'), tr('senior'), { kind: 'funding', marketId: M }, { kind: 'funding', marketId: 'N-PERP' },
  ];
  it('given two postings that differ only in one account, then equal exactly when the accounts are the same', () => {
    all.forEach((x, i) => all.forEach((y, j) => {
      const other = c('z');
      expect(samePostings([{ from: x, to: other, amount: 1n }], [{ from: { ...y }, to: other, amount: 1n }])).toBe(i === j);
      expect(samePostings([{ from: other, to: x, amount: 1n }], [{ from: other, to: { ...y }, amount: 1n }])).toBe(i === j);
    }));
  });

  it('given lists of different lengths or amounts, then not the same', () => {
    const one = post(c('a'), treasury, '1');
    expect(samePostings([one], [one, one])).toBe(false);
    expect(samePostings([one, one], [one])).toBe(false);
    expect(samePostings([one], [post(c('a'), treasury, '2')])).toBe(false);
    expect(samePostings([], [])).toBe(true);
  });
});
