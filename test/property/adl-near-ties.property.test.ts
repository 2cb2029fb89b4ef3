// The cached ADL ranking at the float limit. Its score intervals (each position's float bounds)
// only choose which positions get exact figures; a bound that misses its score shows only when
// another score lies between the bound and the score: closer than about 1e-12 relative, yet not
// equal. The ranking properties beside this file draw exact ties and scores far apart; this one
// draws clusters of NEAR TIES: more positions than one batch of the ranking (32), all from one
// base position nudged by one ledger unit or by a relative 1e-17 to 1e-9 (about one unit in the
// last place of the score up to a thousand times the error margin), in collateral, entry or size.
// The cached order must equal the exact order (the reference sort here, and adlRankingUncached).
// A second property puts scores below 1e-290 (where the float shortcut of the comparator must
// not decide) beside an estimate that underflowed to zero.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  abs, adlOrder, adlRanking, adlRankingUncached, floorDiv, ONE,
  type Account, type ActivePool, type Position,
} from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { BTC, ETH, market, poolOf, prefix, referenceRanking, summary } from '../support/adl-pools.js';

/** Checks the cached ranking of both sides, first a prefix (a batch at a time), then whole, against the exact order. */
const checkBothSides = (pool: ActivePool, length: number): void => {
  for (const side of ['long', 'short'] as const) {
    const expected = referenceRanking(pool, BTC, side);
    expect(prefix(adlOrder(pool, BTC, side), length)).toEqual(expected.slice(0, length));
    expect(summary(adlRanking(pool, BTC, side))).toEqual(expected);
    expect(summary(adlRankingUncached(pool, BTC, side))).toEqual(expected);
  }
};

// --- near ties ------------------------------------------------------------------------------

/**
 * A nudge of a figure: none, a few ledger units (far below a float's resolution of a huge figure,
 * so a tie the floats cannot see), or k * base / 10^j for j from 9 to 17 (relative 1e-17, about
 * one unit in the last place, up to 1e-9, a thousand times the intervals' error margin).
 */
const nudge = fc.oneof(
  fc.constant({ units: 0n, k: 0n, j: 0 }),
  fc.record({ units: fc.bigInt({ min: -3n, max: 3n }), k: fc.constant(0n), j: fc.constant(0) }),
  fc.record({ units: fc.constant(0n), k: fc.bigInt({ min: -9n, max: 9n }), j: fc.integer({ min: 9, max: 17 }) }),
);
type Nudge = typeof nudge extends fc.Arbitrary<infer T> ? T : never;
const nudged = (base: bigint, n: Nudge): bigint => base + n.units + (n.j === 0 ? 0n : (abs(base) * n.k) / 10n ** BigInt(n.j));

const nearTieCase = fc.record({
  // The mark against the entry price: profits small or large against the notional, losses too.
  mark: fc.oneof(fc.constantFrom(30_000n * ONE, 27_000n * ONE, ONE), fc.bigInt({ min: 10n ** 12n, max: 10n ** 24n })),
  priceRatio: fc.oneof(fc.constantFrom(1001n, 1100n, 900n, 999n, 2000n, 500n, 10n), fc.bigInt({ min: 1n, max: 100_000n })),
  size: fc.oneof(fc.constantFrom(10n ** 17n, 10n ** 18n), fc.bigInt({ min: 10n ** 6n, max: 10n ** 26n })),
  // Collateral as a multiple (in thousandths) of the notional: equity small or large against it.
  leverage: fc.oneof(fc.constantFrom(1n, 100n, 1000n, 10_000n), fc.bigInt({ min: 0n, max: 10n ** 6n })),
  fundingIndex: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n })),
  /** One nudge of each figure per account; a few accounts also hold an ETH position (scored from exact figures). */
  accounts: fc.array(fc.record({ collateral: nudge, entry: nudge, size: nudge, settled: fc.boolean(), other: fc.boolean() }), { minLength: 33, maxLength: 110 }),
  read: fc.nat({ max: 120 }),
});
type NearTieCase = typeof nearTieCase extends fc.Arbitrary<infer T> ? T : never;

/** Nudges of a unit in the last place of a figure or a few (relative 1e-17 to 1e-15), or none. */
const ulpNudge = fc.oneof(
  fc.constant({ units: 0n, k: 0n, j: 0 }),
  fc.record({ units: fc.constant(0n), k: fc.bigInt({ min: -9n, max: 9n }), j: fc.integer({ min: 15, max: 17 }) }),
);

/** Each account's long and short, both from the base position with the account's nudges. */
const nearTiePool = (c: NearTieCase): ActivePool => {
  const btc = market(BTC, c.mark, c.fundingIndex);
  const eth = market(ETH, ONE, 0n);
  const price = (c.mark * c.priceRatio) / 1000n;
  const accounts: Account[] = [];
  c.accounts.forEach((a, i) => {
    for (const sign of [1n, -1n]) {
      const size = sign * (nudged(c.size, a.size) === 0n ? 1n : abs(nudged(c.size, a.size)));
      const entry = nudged(floorDiv(size * price, ONE), a.entry);
      const collateral = nudged((abs(floorDiv(c.size * c.mark, ONE)) * c.leverage) / 1000n, a.collateral);
      const position: Position = a.settled ? { marketId: BTC, size, entryNotional: entry, fundingIndex: 0n } : { marketId: BTC, size, entryNotional: entry };
      const positions: Position[] = a.other ? [position, { marketId: ETH, size: ONE, entryNotional: ONE }] : [position];
      accounts.push({ accountId: `${sign > 0n ? 'l' : 's'}${String(i).padStart(3, '0')}`, collateral, positions });
    }
  });
  return poolOf(accounts, btc, eth, 'adl-near-ties');
};

// --- scores below the float range's normal end ------------------------------------------------

const tinyCase = fc.record({
  // Scores below 2/equity, with equity from 1e291 to 1e313: below the comparator's UNDERFLOW (1e-290).
  tiny: fc.array(fc.record({ exponent: fc.integer({ min: 291, max: 307 }), mantissa: fc.bigInt({ min: 1n, max: 10n ** 6n }), profit: fc.bigInt({ min: 1n, max: 5n }) }), { minLength: 1, maxLength: 40 }),
  // Positions whose equity is beyond 1.8e308: its float is Infinity, so the score has no float estimate (NaN: compared exactly).
  overflow: fc.array(fc.record({ exponent: fc.integer({ min: 309, max: 330 }), profit: fc.bigInt({ min: 1n, max: 10n ** 300n }) }), { minLength: 1, maxLength: 4 }),
});

describe('the cached ADL ranking at the float limit', () => {
  it('orders clusters of near ties (one unit, or 1e-17 to 1e-9 relative) exactly, past the first batch', () => {
    fc.assert(fc.property(nearTieCase, (c) => checkBothSides(nearTiePool(c), c.read)), propertyParameters('ADL ranking of near ties', 100));
  });

  it('orders near ties of accounts in two markets (scored from exact figures) within a few units in the last place', () => {
    // Their intervals are the float estimate plus or minus a margin; estimates this close can be in the wrong order.
    fc.assert(fc.property(nearTieCase, fc.array(ulpNudge, { minLength: 99, maxLength: 99 }), (c, nudges) => {
      const accounts = c.accounts.map((a, i) => ({ ...a, collateral: nudges[i]!, entry: nudges[(i + 33) % 99]!, size: nudges[(i + 66) % 99]!, other: true }));
      checkBothSides(nearTiePool({ ...c, accounts }), c.read);
    }), propertyParameters('ADL ranking of near ties from exact figures', 100));
  });

  it('orders scores below 1e-290 exactly, beside estimates that underflowed to zero', () => {
    fc.assert(fc.property(tinyCase, (c) => {
      const btc = market(BTC, ONE, 0n);
      const eth = market(ETH, ONE, 0n);
      // A short of size 2 entered at 2 + profit: uPnL = profit, notional 2, basis 2 + profit; score = 2 * profit / ((2 + profit) * equity).
      const short = (accountId: string, profit: bigint, equity: bigint): Account => ({
        accountId, collateral: equity - profit, positions: [{ marketId: BTC, size: -2n, entryNotional: -(2n + profit) }],
      });
      const accounts = [
        ...c.tiny.map((t, i) => short(`t${String(i).padStart(2, '0')}`, t.profit, t.mantissa * 10n ** BigInt(t.exponent))),
        // uPnL and notional huge, equity beyond the floats: no float estimate, for a score far above every tiny one.
        ...c.overflow.map((o, i): Account => ({ accountId: `o${i}`, collateral: 10n ** BigInt(o.exponent), positions: [{ marketId: BTC, size: -(10n ** 300n), entryNotional: -(10n ** 300n + o.profit) }] })),
      ];
      checkBothSides(poolOf(accounts, btc, eth, 'adl-near-ties'), accounts.length);
    }), propertyParameters('ADL ranking of scores below 1e-290', 100));
  });
});
