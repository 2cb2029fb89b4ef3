// Given/when/then specifications of the certified float filter in front of the trade margin rule,
// with hand-computed numbers: where the floats' rounding (or the exact rule's floor and ceiling)
// would make a pass wrong, the filter's error bound keeps it at "not certain".

import { describe, expect, it } from 'vitest';
import { marginOf, ONE, withSettledIndex, type Account, type Market, type Position } from '../../domain/index.js';
import { certainlyMeetsTradeMargin } from '../../domain/book/margin-filter.js';
import { active, BTC, standardPool } from '../support/builders.js';

const btc = active(standardPool().state).markets.get(BTC)!;
const market = (overrides: Partial<Market>): Market => ({ ...btc, ...overrides });
const lookupOf = (...markets: Market[]) => (id: string) => markets.find((m) => m.marketId === id);
const exactlyMeets = (account: Account, lookup: (id: string) => Market | undefined, reducedOnly: boolean): boolean => {
  const { equity, requirement } = marginOf(account, lookup, 'initial');
  return equity >= (reducedOnly ? 0n : requirement);
};
const position = (marketId: string, size: bigint, entryNotional: bigint): Position => ({ marketId, size, entryNotional });

describe('the certified margin filter', () => {
  it('given unsettled funding, it leaves even a clear pass to the exact rule', () => {
    // 1 unit long at mark 1 with 1000 collateral meets any margin; but the market's funding index
    // has moved from the position's settled one, so only the exact rule may say so.
    const m = market({ mark: ONE, fundingIndex: 5n });
    const account: Account = { accountId: 'a', collateral: 1000n * ONE, positions: [withSettledIndex(position(BTC, ONE, ONE), 0n)] };
    expect(exactlyMeets(account, lookupOf(m), false)).toBe(true);
    expect(certainlyMeetsTradeMargin(account, lookupOf(m), false)).toBe(false);
    expect(certainlyMeetsTradeMargin(account, lookupOf(m), true)).toBe(false);
    // Settled at the market's index, the same account is a certain pass.
    const settled: Account = { ...account, positions: [withSettledIndex(position(BTC, ONE, ONE), 5n)] };
    expect(certainlyMeetsTradeMargin(settled, lookupOf(m), false)).toBe(true);
  });

  it('given a position in a market the lookup does not know, it skips it as the exact rule does', () => {
    const account: Account = { accountId: 'a', collateral: 1000n * ONE, positions: [position('UNLISTED', ONE, ONE)] };
    expect(exactlyMeets(account, lookupOf(btc), false)).toBe(true);
    expect(certainlyMeetsTradeMargin(account, lookupOf(btc), false)).toBe(true);
  });

  it('given a value whose requirement is 100% of it, the rounding of the requirement counts in the bound', () => {
    // size 1.036440084176951062 at mark 8857.93069137: value 9180.714431397121118040315734940 units,
    // so equity floor = ...118040 and the 100% requirement ceil = ...118041 ledger units: one short.
    // In doubles the value is ~9.18e21 (one ulp is 2^20) and the requirement's round trip through
    // *1e6/1e6 lands one ulp below it, so equity - requirement computes as +1048576: the bound
    // (about 1.5e8 here, from a magnitude of value + requirement) is what says "not certain".
    const m = market({ mark: 8857930691370000000000n, initialMarginPpm: 1_000_000 });
    const account: Account = { accountId: 'a', collateral: 0n, positions: [position(BTC, 1036440084176951062n, 0n)] };
    expect(marginOf(account, lookupOf(m), 'initial')).toEqual({ equity: 9180714431397121118040n, requirement: 9180714431397121118041n });
    expect(certainlyMeetsTradeMargin(account, lookupOf(m), false)).toBe(false);
  });

  it('given entry and collateral that round apart, their magnitudes count in the bound', () => {
    // A short of 4 ledger units at mark 1 (value -4) that received E = 2^132 + 2^79 + 1 and owes
    // C = 2^132 + 2^79 - 1: exact equity -C - 4 + E = -2, refused even when only reducing. In
    // doubles E rounds up to 2^132 + 2^80 and C down to 2^132, so the equity computes as +2^80;
    // the bound, from a magnitude of C + 4 + E (about 2^133), is 72 * 2^80 and keeps it uncertain.
    const A = 2n ** 132n;
    const account: Account = { accountId: 'a', collateral: -(A + 2n ** 79n - 1n), positions: [position(BTC, -4n, -(A + 2n ** 79n + 1n))] };
    const m = market({ mark: ONE });
    expect(marginOf(account, lookupOf(m), 'initial').equity).toBe(-2n);
    expect(certainlyMeetsTradeMargin(account, lookupOf(m), true)).toBe(false);
  });

  it('given fractions the exact rule rounds against the account, the bound covers 2 ledger units per position', () => {
    // One position worth 0.5 ledger units (size 0.5 at a mark of one ledger unit: 5e17 * 1 / 1e18)
    // at 1 ppm: equity floor(0.5) = 0, requirement ceil(5e-7) = 1, refused by one; the doubles give
    // 0.4999995, which only the constant part of the bound (2n + 2 = 4) keeps uncertain.
    const m = market({ mark: 1n, initialMarginPpm: 1 });
    const one: Account = { accountId: 'a', collateral: 0n, positions: [position(BTC, ONE / 2n, 0n)] };
    expect(marginOf(one, lookupOf(m), 'initial')).toEqual({ equity: 0n, requirement: 1n });
    expect(certainlyMeetsTradeMargin(one, lookupOf(m), false)).toBe(false);
    // Three such positions, each worth 0.999999999999999999 (size 1e18 - 1 at mark 1) at 1 ppm, and
    // collateral 2: equity 2 + 3 * 0 = 2, requirement 3 * ceil(~1e-6) = 3, refused by one. The doubles
    // give 2 + 3 * (1 - 1e-6) = 4.999997 (1e18 - 1 rounds to 1e18), kept uncertain only by the bound's 2n + 2 = 8.
    const markets = ['X', 'Y', 'Z'].map((marketId) => market({ marketId, mark: 1n, initialMarginPpm: 1 }));
    const three: Account = { accountId: 'a', collateral: 2n, positions: markets.map((mk) => position(mk.marketId, ONE - 1n, 0n)) };
    expect(marginOf(three, lookupOf(...markets), 'initial')).toEqual({ equity: 2n, requirement: 3n });
    expect(certainlyMeetsTradeMargin(three, lookupOf(...markets), false)).toBe(false);
  });
});
