// Given/when/then specifications of the fund's fee share and of fund income, with hand-computed
// numbers. The standard pool: base share 20%, maximum 50%, target coverage 5%; tranches junior
// (income weight 3) and senior (1). One BTC long at 30000 is an open interest of 30000, so the
// target is a fund of 1500.

import { describe, expect, it } from 'vitest';
import { feePostings, fundFeeShare, fundIncomePostings, units, type ActivePool } from '../../domain/index.js';
import { active, createPool, deposit, given, listMarket, stake, trade, type History } from '../support/builders.js';

const noFees = { takerFeePpm: 0, makerFeePpm: 0 };

/** A pool whose fund holds `junior` (staked, no fees ever paid) with 1 BTC of open interest at 30000. */
const withFund = (junior: string, feeShare?: { baseFundSharePpm: number; maxFundSharePpm: number; targetCoveragePpm: number }): ActivePool => active(given(
  createPool(feeShare === undefined ? {} : { feeShare }), listMarket(noFees), stake('lp1', 'junior', junior),
  deposit('alice', '10000'), deposit('bob', '10000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
).state);

describe('the fund\'s share of fees', () => {
  it('is the base share at exactly the target coverage and above it', () => {
    // 1500 / 30000 = 5% = target; 3000 / 30000 = 10%, twice the target: still the base, never less.
    expect(fundFeeShare(withFund('1500'))).toBe(200_000);
    expect(fundFeeShare(withFund('3000'))).toBe(200_000);
    expect(fundFeeShare(withFund('100000'))).toBe(200_000);
  });

  it('rises linearly to the maximum at zero coverage, rounded up toward the fund', () => {
    // 750: half the target -> 50% - 30% * 1/2 = 35%.
    expect(fundFeeShare(withFund('750'))).toBe(350_000);
    // 1000.000001: discount 300000 * 1000.000001 / 1500 = 200000.0002 -> floor 200000, share 300000
    // (the exact 299999.9998 rounded up).
    expect(fundFeeShare(withFund('1000.000001'))).toBe(300_000);
    // 1499.999999: discount 299999.9998 -> 299999, share 200001, one ppm above the base.
    expect(fundFeeShare(withFund('1499.999999'))).toBe(200_001);
    // An empty fund: the maximum.
    const empty = active(given(createPool(), listMarket(noFees), deposit('alice', '10000'), deposit('bob', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })).state);
    expect(fundFeeShare(empty)).toBe(500_000);
  });

  it('is the base share without open interest, without a target, or when the maximum is not above the base', () => {
    const noOpenInterest = active(given(createPool(), listMarket(noFees)).state);
    expect(fundFeeShare(noOpenInterest)).toBe(200_000);
    expect(fundFeeShare(withFund('0.000001', { baseFundSharePpm: 200_000, maxFundSharePpm: 500_000, targetCoveragePpm: 0 }))).toBe(200_000);
    expect(fundFeeShare(withFund('0.000001', { baseFundSharePpm: 300_000, maxFundSharePpm: 300_000, targetCoveragePpm: 50_000 }))).toBe(300_000);
  });
});

describe('fund income and fee postings', () => {
  const pool = (history: History) => active(history.state);
  const standard = pool(given(createPool(), listMarket()));
  const alice = { kind: 'collateral', accountId: 'alice' } as const;

  it('fund income is split 3:1 by income weight, the leftover unit to the larger remainder', () => {
    // 10 units by 3:1: 7.5 and 2.5, floors 7 + 2, the tie of remainders goes to "junior".
    expect(fundIncomePostings(standard, alice, 10n)).toEqual([
      { from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: 8n },
      { from: alice, to: { kind: 'tranche', trancheId: 'senior' }, amount: 2n },
    ]);
    // 1 unit: 0.75 and 0.25, junior gets it; senior gets no zero posting.
    expect(fundIncomePostings(standard, alice, 1n)).toEqual([{ from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: 1n }]);
    expect(fundIncomePostings(standard, alice, 0n)).toEqual([]);
  });

  it('with no tranche to receive it, fund income goes to the treasury rather than vanish', () => {
    expect(fundIncomePostings({ ...standard, tranches: [] }, alice, units('4.2'))).toEqual([{ from: alice, to: { kind: 'treasury' }, amount: units('4.2') }]);
    expect(fundIncomePostings({ ...standard, tranches: [] }, alice, 0n)).toEqual([]);
  });

  it('a fee is split between the fund (its share, rounded down) and the treasury (the rest)', () => {
    // 15 at 20%: 3 to the fund (2.25 junior, 0.75 senior), 12 to the treasury.
    expect(feePostings(standard, 'alice', units('15'), 200_000)).toEqual([
      { from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('2.25') },
      { from: alice, to: { kind: 'tranche', trancheId: 'senior' }, amount: units('0.75') },
      { from: alice, to: { kind: 'treasury' }, amount: units('12') },
    ]);
    // 9 units at 20%: 1.8 -> 1 unit to the fund (junior), 8 to the treasury.
    expect(feePostings(standard, 'alice', 9n, 200_000)).toEqual([
      { from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: 1n },
      { from: alice, to: { kind: 'treasury' }, amount: 8n },
    ]);
    // All of it to the fund: no zero posting to the treasury.
    expect(feePostings(standard, 'alice', 4n, 1_000_000)).toEqual([
      { from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: 3n },
      { from: alice, to: { kind: 'tranche', trancheId: 'senior' }, amount: 1n },
    ]);
    expect(feePostings(standard, 'alice', 0n, 200_000)).toEqual([]);
  });
});
