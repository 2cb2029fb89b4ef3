// The ADL order's float shortcut never changes the order: compareAdlPriority agrees with the exact
// comparison of the rational scores uPnL * notional / (basis * equity), also for scores that are
// equal or one unit apart, where the float estimates cannot tell them apart.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareAdlPriority, scoreEstimate, type RankedPosition } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';

interface Figures { readonly accountId: string; readonly unrealizedPnl: bigint; readonly notional: bigint; readonly basis: bigint; readonly equity: bigint }

const ranked = (f: Figures): RankedPosition => ({
  ...f, size: 1n, account: undefined as never,
  approximateScore: scoreEstimate(f.unrealizedPnl, f.notional, f.basis, f.equity),
});

/** Deleveraged first: rankable before not; then the higher score; then the account id. */
const exactOrder = (a: Figures, b: Figures): number => {
  const ra = a.equity > 0n && a.basis > 0n;
  const rb = b.equity > 0n && b.basis > 0n;
  if (ra !== rb) return ra ? -1 : 1;
  if (ra) {
    const left = a.unrealizedPnl * a.notional * b.basis * b.equity;
    const right = b.unrealizedPnl * b.notional * a.basis * a.equity;
    if (left !== right) return left > right ? -1 : 1;
  }
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
};

const amount = fc.bigInt({ min: 0n, max: 10n ** 30n });
const figures = fc.record({ accountId: fc.constantFrom('a', 'b', 'c'), unrealizedPnl: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), notional: amount, basis: amount, equity: fc.bigInt({ min: -(10n ** 24n), max: 10n ** 30n }) });
// b's score equal to a's (every figure scaled by k), or nudged by one unit of uPnL.
const nearPair = fc.tuple(figures, fc.bigInt({ min: 1n, max: 10n ** 6n }), fc.constantFrom(-1n, 0n, 1n)).map(([a, k, nudge]): [Figures, Figures] => [
  a, { accountId: a.accountId === 'a' ? 'b' : 'a', unrealizedPnl: a.unrealizedPnl * k * k + nudge, notional: a.notional, basis: a.basis * k, equity: a.equity * k },
]);

// Figures at any scale up to beyond the float range (about 1.8e308), where a conversion gives Infinity.
const scaled = (max: number) => fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 6n }), fc.integer({ min: 0, max })).map(([digits, exponent]) => digits * 10n ** BigInt(exponent));
const hugeFigures = fc.record({
  accountId: fc.constantFrom('a', 'b', 'c'),
  unrealizedPnl: fc.tuple(scaled(320), fc.boolean()).map(([v, negative]) => (negative ? -v : v)),
  notional: scaled(320), basis: scaled(320), equity: scaled(320),
});

describe('ADL priority', () => {
  it('given an account whose equity is beyond the float range, when its exact score is higher, then it is deleveraged first', () => {
    // exact score 1e300 * 1e300 / (1 * 1e309) = 1e291, against a score of 1: the float estimate of the first is (1e300 / 1) * (1e300 / Infinity) = 0.
    const big: Figures = { accountId: 'b', unrealizedPnl: 10n ** 300n, notional: 10n ** 300n, basis: 1n, equity: 10n ** 309n };
    const one: Figures = { accountId: 'a', unrealizedPnl: 1n, notional: 1n, basis: 1n, equity: 1n };
    expect(compareAdlPriority(ranked(big), ranked(one))).toBe(-1);
    expect(compareAdlPriority(ranked(one), ranked(big))).toBe(1);
    expect(scoreEstimate(big.unrealizedPnl, big.notional, big.basis, big.equity)).toBeNaN();
  });

  it('orders exactly as the rational scores with figures at any scale, beyond the float range included', () => {
    fc.assert(fc.property(fc.tuple(hugeFigures, hugeFigures), ([a, b]) => {
      expect(Math.sign(compareAdlPriority(ranked(a), ranked(b)))).toBe(exactOrder(a, b));
    }), propertyParameters('ADL priority at any scale equals the exact order', 2_000));
  });


  it('orders exactly as the rational scores, whatever the float estimates say', () => {
    fc.assert(fc.property(fc.oneof(fc.tuple(figures, figures), nearPair), ([a, b]) => {
      expect(Math.sign(compareAdlPriority(ranked(a), ranked(b)))).toBe(exactOrder(a, b));
    }), propertyParameters('ADL priority equals the exact order', 2_000));
  });
});
