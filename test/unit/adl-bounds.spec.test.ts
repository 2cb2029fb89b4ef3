// The float bounds of the cached ADL ranking (each position's score interval), case by case. A
// bound that misses its score shows in the order only when a batch of the ranking (32) is cut
// between the two: so each ordering case below holds one position X whose figures stress one term
// of the bound, and 32 positions whose scores lie where a wrong bound of X would misplace it. A
// bound that is right but wider than it need be costs only exact figures; those cases count them
// (adlRankingStats) after reading the top of the queue. Every score is computed by hand: uPnL times
// notional over basis times equity, in ledger units (10^-18).

import { describe, expect, it } from 'vitest';
import {
  adlOrder, adlRanking, adlRankingStats, adlRankingUncached, compareAdlPriority, ONE, scoreEstimate,
  type Account, type ActivePool, type Position, type RankedPosition,
} from '../../domain/index.js';
import { BTC, ETH, market, poolOf, referenceRanking } from '../support/adl-pools.js';

const id = (prefix: string, i: number): string => `${prefix}${String(i).padStart(2, '0')}`;
const long = (size: bigint, entryNotional: bigint, settled?: bigint): Position =>
  (settled === undefined ? { marketId: BTC, size, entryNotional } : { marketId: BTC, size, entryNotional, fundingIndex: settled });
const account = (accountId: string, collateral: bigint, ...positions: Position[]): Account => ({ accountId, collateral, positions });
/** A second position that neither gains nor loses (1 ETH from 1 at mark 1): the account is scored from exact figures. */
const flatEth: Position = { marketId: ETH, size: ONE, entryNotional: ONE };

const ids = (ranking: Iterable<RankedPosition>): string[] => [...ranking].map((p) => p.accountId);
/** The cached order, read a batch at a time, must be `expected`; so must the uncached one and the reference. */
const expectOrder = (pool: ActivePool, expected: string[]): void => {
  expect(ids(adlOrder(pool, BTC, 'long'))).toEqual(expected);
  expect(ids(adlRankingUncached(pool, BTC, 'long'))).toEqual(expected);
  expect(referenceRanking(pool, BTC, 'long').map((line) => line.split(' ')[0])).toEqual(expected);
};

const stats = adlRankingStats;
const delta = (before: ReturnType<typeof adlRankingStats>) => {
  const now = stats();
  return { builds: now.builds - before.builds, patches: now.patches - before.patches, exactFigures: now.exactFigures - before.exactFigures };
};
/** Reads the first position of the long side and returns what that cost. */
const readTop = (pool: ActivePool): { first: string | undefined; cost: ReturnType<typeof delta> } => {
  const before = stats();
  const first = adlOrder(pool, BTC, 'long')[Symbol.iterator]().next().value?.accountId;
  return { first, cost: delta(before) };
};

describe('the float bound of a score: each error term is needed', () => {
  it('the notional term: a position whose notional is 10^13 times its basis', () => {
    // Mark 10000. x: long 1 from a basis of 10^9 units (a 10^-9 price), no collateral: uPnL 10^22 - 10^9,
    // notional 10^22, equity = uPnL, so its score is exactly notional / basis = 10^13: first.
    // o00..o31: the same position with collateral 10^22: equity 2 * 10^22 - 10^9, score just under 5 * 10^12.
    // The notional's share of x's error is 10^-12 of 10^22 = 10^10, ten times x's basis: only a bound that
    // counts it keeps x's top above the others' lows (subtracted, x's top would fall to about 10^12).
    const mark = 10_000n * ONE;
    const accounts = [
      account('x', 0n, long(ONE, 10n ** 9n)),
      ...Array.from({ length: 32 }, (_, i) => account(id('o', i), 10n ** 22n, long(ONE, 10n ** 9n))),
    ];
    expectOrder(poolOf(accounts, market(BTC, mark, 0n), market(ETH, ONE, 0n), 'adl-bounds-notional'),
      ['x', ...Array.from({ length: 32 }, (_, i) => id('o', i))]);
  });

  it('the equity term on both sides of the denominator: an equity of 8 units, twice the floor error', () => {
    // Mark 1000 units per unit. x: long 1 from 2000 units with collateral 1008: uPnL -1000, notional 1000,
    // basis 2000, equity 8: score -1000 * 1000 / (2000 * 8) = -62.5.
    // a00..a31: long 1000 from 2 * 10^6 units (uPnL -10^6, notional 10^6), equity 8100 + 100i:
    // score -5 * 10^5 / (8100 + 100i), from -61.73 (a00) to -44.64 (a31): all before x.
    // b00..b31: the same with equity 4300 + 100i: from -116.28 (b00) to -67.57 (b31): all after x.
    // x's equity is known to within 4 (two floor divisions): its score lies in [-126.25, -41.25]. With the
    // equity's error on the wrong side, x's low would be -42.08 (x would be sorted before a00) or its
    // high -123.75 (x would be left after every b).
    const accounts = [
      account('x', 1008n, long(ONE, 2000n)),
      ...Array.from({ length: 32 }, (_, i) => account(id('a', i), 8100n + 100n * BigInt(i) + 10n ** 6n, long(1000n * ONE, 2n * 10n ** 6n))),
      ...Array.from({ length: 32 }, (_, i) => account(id('b', i), 4300n + 100n * BigInt(i) + 10n ** 6n, long(1000n * ONE, 2n * 10n ** 6n))),
    ];
    const downFrom31 = (prefix: string) => Array.from({ length: 32 }, (_, i) => id(prefix, 31 - i));
    expectOrder(poolOf(accounts, market(BTC, 1000n, 0n), market(ETH, ONE, 0n), 'adl-bounds-equity'), [...downFrom31('a'), 'x', ...downFrom31('b')]);
  });

  it('the funding term: indices near 10^17, where a double is 16 units apart', () => {
    // The market's index is 10^17 + 7 (a double: 10^17); x settled at 10^17 + 9 (a double: 10^17 + 16).
    // x: long 1 from 2000 units at mark 1000, collateral 1006, and receives floor(-1 * -2) = 2 of funding:
    // equity 1006 - 1000 + 2 = 8, score -62.5, as above. In doubles the funding is 16, not 2: the figures
    // of x are bounded only with the funding term's own error, 10^-12 of |index| + |settled| each.
    // a00..a31 as above, settled at the market's index (nothing to fund): all before x.
    const index = 10n ** 17n + 7n;
    const accounts = [
      account('x', 1006n, long(ONE, 2000n, 10n ** 17n + 9n)),
      ...Array.from({ length: 32 }, (_, i) => account(id('a', i), 8100n + 100n * BigInt(i) + 10n ** 6n, long(1000n * ONE, 2n * 10n ** 6n, index))),
    ];
    expectOrder(poolOf(accounts, market(BTC, 1000n, index), market(ETH, ONE, 0n), 'adl-bounds-funding-rounding'),
      [...Array.from({ length: 32 }, (_, i) => id('a', 31 - i)), 'x']);
  });

  it('a position settled at a large funding index: its error counts |index| + |settled|, not their difference', () => {
    // Index 40000 per unit, every position settled at it (nothing unsettled). Mark 27000, each long 0.1 from 30000:
    // uPnL -300, notional 2700, basis 3000. b: collateral 1000, equity 700, score -270 / 700 = -0.386.
    // x: collateral 300 + 10^-15 (1000 units): equity 1000 units, score -2.7 * 10^17; a: collateral 100: equity
    // -200, cannot be ranked. The funding term of x's error sum, 0.1 * (40000 + 40000) = 8000, exceeds the rest of the
    // sum (300 + 2700 + 3000 = 6000): subtracted instead of added, the error would be negative and x would look
    // unrankable (ordered by id after a).
    const index = 40_000n * ONE;
    const size = ONE / 10n;
    const position = long(size, 3_000n * ONE, index);
    const pool = poolOf([account('a', 100n * ONE, position), account('b', 1_000n * ONE, position), account('x', 300n * ONE + 1000n, position)],
      market(BTC, 27_000n * ONE, index), market(ETH, ONE, 0n), 'adl-bounds-settled-index');
    // Reading the top re-scores once; exact figures only for x (its floats cannot tell its equity from zero) and
    // for b (drawn with x into the first batch). a is unrankable by its floats alone: no exact figures.
    expect(readTop(pool)).toEqual({ first: 'b', cost: { builds: 1, patches: 0, exactFigures: 2 } });
    expectOrder(pool, ['b', 'x', 'a']);
  });

  it('a losing position with a notional below its error: the top of its interval is zero, not the product of the tops', () => {
    // Mark 3 units per unit. x: long 1 from 30000 (3 * 10^22 units), collateral 3 * 10^22 + 10^12: uPnL 3 - 3 * 10^22,
    // notional 3, equity 10^12 + 3: score about -3 * 10^-12, first. Its notional (3) is below its error
    // (10^-12 of 6 * 10^22), so the notional may be 0: the interval's top is 0.
    // o00..o31: long 10^6 from 3 * 10^7 units: uPnL -2.7 * 10^7, notional 3 * 10^6, basis 3 * 10^7,
    // collateral 2.97 * 10^8: equity 2.7 * 10^8, score exactly -0.01. (uHigh / nLow for uHigh * nLow would
    // put x's top at about -0.057: x would be ranked after them.)
    const accounts = [
      account('x', 3n * 10n ** 22n + 10n ** 12n, long(ONE, 3n * 10n ** 22n)),
      ...Array.from({ length: 32 }, (_, i) => account(id('o', i), 297n * 10n ** 6n, long(10n ** 6n * ONE, 3n * 10n ** 7n))),
    ];
    expectOrder(poolOf(accounts, market(BTC, 3n, 0n), market(ETH, ONE, 0n), 'adl-bounds-small-notional'),
      ['x', ...Array.from({ length: 32 }, (_, i) => id('o', i))]);
  });
});

describe('the work of the float bounds (exact figures only where the floats cannot decide)', () => {
  // Mark 1. o00..o31: long 1 from 0.5, collateral 1 + i / 1000: equity 1.5 + i / 1000, score 1 / (1.5 + i / 1000),
  // from 0.667 (o00) down. m: the same long with collateral 0.1 and a flat ETH position: equity 0.6, score
  // 1 / 0.6 = 1.667, first; scored from its exact figures (two markets). x: long 1 unit (10^-18) from 10^200 units,
  // collateral 10^200 + 10^195: uPnL 1 - 10^200, notional 1, equity 10^195 + 1, score about -10^-195, last.
  // x's float bound overflows below (-10^200 times its notional's error, 2 * 10^188), so x too is scored
  // from exact figures: its interval is then about -10^-195, far below the others.
  const accounts = [
    account('m', ONE / 10n, long(ONE, ONE / 2n), flatEth),
    ...Array.from({ length: 32 }, (_, i) => account(id('o', i), ONE + BigInt(i) * 10n ** 15n, long(ONE, ONE / 2n))),
    account('x', 10n ** 200n + 10n ** 195n, long(1n, 10n ** 200n)),
  ];
  const expected = ['m', ...Array.from({ length: 32 }, (_, i) => id('o', i)), 'x'];

  it('exact figures for the two positions scored from them, and for the 31 drawn with m into the first batch', () => {
    const pool = poolOf(accounts, market(BTC, ONE, 0n), market(ETH, ONE, 0n), 'adl-bounds-work');
    // m's and x's exact figures (computed once each), then the first batch: m and the 31 highest lows of the rest.
    // o31's interval is below o30's (scores 4 * 10^-4 apart, intervals about 10^-11 wide): it waits.
    expect(readTop(pool)).toEqual({ first: 'm', cost: { builds: 1, patches: 0, exactFigures: 33 } });
    expectOrder(pool, expected);
    expect(ids(adlRanking(pool, BTC, 'long'))).toEqual(expected);
  });

  it('the padding of each bound by 10^-12 of it: a near tie just below the cut is drawn into the batch', () => {
    // Mark 27000, each a long of 0.1 from 30000 (uPnL -300, notional 2700, basis 3000). h00..h30: collateral 2000 + i,
    // score -270 / (1700 + i), far above. k: collateral 1000, equity 700, score -0.38571428571429; p: 5.2 * 10^-8
    // less collateral, score -270 / (700 - 5.2 * 10^-8) = -0.38571428574294, 7.4 * 10^-11 of it below k.
    // Each figure is bounded to within 10^-12 of 6700 (6.7 * 10^9 units), so each interval is about 3.65 * 10^-11 of
    // the score to either side: p's top and k's low meet to within 10^-12 of the score, and the padding of each
    // bound by 10^-12 makes them overlap. The first batch is h00..h30 and k, cut at k's low: p's top reaches it, so p
    // is drawn into the batch too (one more exact figure), and waits, being 33rd.
    const size = ONE / 10n;
    const position = long(size, 3_000n * ONE);
    const accounts = [
      ...Array.from({ length: 31 }, (_, i) => account(id('h', i), (2_000n + BigInt(i)) * ONE, position)),
      account('k', 1_000n * ONE, position),
      account('p', 1_000n * ONE - 52_000_000_000n, position),
    ];
    const pool = poolOf(accounts, market(BTC, 27_000n * ONE, 0n), market(ETH, ONE, 0n), 'adl-bounds-padding');
    expect(readTop(pool)).toEqual({ first: 'h30', cost: { builds: 1, patches: 0, exactFigures: 33 } });
    expectOrder(pool, [...Array.from({ length: 31 }, (_, i) => id('h', 30 - i)), 'k', 'p']);
  });

  it('a position whose float equity is exactly minus its error bound is unrankable without exact figures', () => {
    // Mark 1 unit. u: long 999999999801993152 units (just under 1) from 101 units, collateral 96: its value is
    // floor(0.9999999998) = 0, equity 96 - 101 = -5. In doubles its value is 0.9999999998019932 and its equity
    // -4.000000000198, which is exactly minus its error bound 4 + 10^-12 * (96 + 0.99999 + 101): unrankable.
    // r: long 10^12 units from 5 * 10^11, collateral 10^12: equity 1.5 * 10^12, score 2/3.
    const pool = poolOf([account('r', 10n ** 12n, long(10n ** 30n, 5n * 10n ** 11n)), account('u', 96n, long(999_999_999_801_993_152n, 101n))],
      market(BTC, 1n, 0n), market(ETH, ONE, 0n), 'adl-bounds-equity-at-error');
    expect(readTop(pool)).toEqual({ first: 'r', cost: { builds: 1, patches: 0, exactFigures: 1 } });
    expectOrder(pool, ['r', 'u']);
  });

  it('a lone losing position with a tiny notional: the top of its interval is the underflow margin above zero', () => {
    // Mark 1. q: long 1 unit from 1000 units, collateral 2000: notional 1, uPnL -999, equity 1001, score
    // -999 / (1000 * 1001); its notional is below its error (4), so the top of its interval is 0, padded to 10^-290.
    // p00..p31: long 2 units from 1 unit (uPnL 1, notional 2, basis 1) with a flat ETH position, equity
    // 1.3 * 10^290: score 2 / (1.3 * 10^290) = 1.54 * 10^-290, from exact figures, so each interval is that plus or
    // minus 10^-290. The first batch's cut is the lowest of their lows, 0.54 * 10^-290: q's top, 10^-290, reaches
    // it, so q gets exact figures too (a top of 0 or -10^-290 would not).
    const equity = 13n * 10n ** 289n;
    const pool = poolOf([
      account('q', 2000n, long(1n, 1000n)),
      ...Array.from({ length: 32 }, (_, i) => account(id('p', i), equity - 1n, long(2n, 1n), flatEth)),
    ], market(BTC, ONE, 0n), market(ETH, ONE, 0n), 'adl-bounds-underflow-margin');
    expect(readTop(pool)).toEqual({ first: 'p00', cost: { builds: 1, patches: 0, exactFigures: 33 } });
    expectOrder(pool, [...Array.from({ length: 32 }, (_, i) => id('p', i)), 'q']);
  });
});

describe('the float estimate of a score and the comparator, for any figures', () => {
  const ranked = (accountId: string, unrealizedPnl: bigint, notional: bigint, basis: bigint, equity: bigint): RankedPosition => ({
    accountId, size: 1n, unrealizedPnl, notional, basis, equity,
    account: { accountId, collateral: equity, positions: [] },
    approximateScore: scoreEstimate(unrealizedPnl, notional, basis, equity),
  });

  it('a basis beyond the range of doubles gives no estimate, not an estimate of zero', () => {
    // a: uPnL and notional 10^300, basis 10^309 (Infinity as a double), equity 1: score 10^291. b: every figure 1,
    // score 1. (10^300 / Infinity) * 10^300 would be 0, below b's estimate of 1.
    const a = ranked('a', 10n ** 300n, 10n ** 300n, 10n ** 309n, 1n);
    const b = ranked('b', 1n, 1n, 1n, 1n);
    expect(a.approximateScore).toBeNaN();
    expect([compareAdlPriority(a, b), compareAdlPriority(b, a)]).toEqual([-1, 1]);
  });

  it('estimates in the subnormal range are not compared: two scores just above 2^-1075 that round apart the wrong way', () => {
    // b: uPnL 17 * 241 * 61681 and notional 4562284561 (their product 2^60 + 1), basis 2^567, equity 2^568: score
    // (2^60 + 1) / 2^1135, just above 2^-1075, so its estimate rounds up to 2^-1074 (the smallest double).
    // a: uPnL 3 * 2^60 + 4, notional 1, basis 3 * 2^567, equity 2^568: score (2^60 + 4/3) / 2^1135, above b's. But
    // 3 * 2^60 + 4 is 3 * 2^60 as a double, so a's estimate is exactly 2^-1075, which rounds to even: 0.
    const b = ranked('b', 17n * 241n * 61681n, 4_562_284_561n, 2n ** 567n, 2n ** 568n);
    const a = ranked('a', 3n * 2n ** 60n + 4n, 1n, 3n * 2n ** 567n, 2n ** 568n);
    expect([a.approximateScore, b.approximateScore]).toEqual([0, 2 ** -1074]);
    expect([compareAdlPriority(a, b), compareAdlPriority(b, a)]).toEqual([-1, 1]);
  });
});
