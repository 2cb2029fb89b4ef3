// The cached ADL ranking (float score intervals, heaps, exact sort of the candidates, patches
// within a mark epoch) always equals a straightforward exact ranking: every position's figures
// in bigint, sorted by cross-multiplied scores, ties by account id. Pools are built directly, so
// the figures can be anything the arithmetic allows: ties (equal entry prices and leverage),
// values far beyond 2^53, negative and zero PnL, equity near zero (where the floats cannot
// decide rankability), accounts in two markets, funding not yet settled. Each case reads
// prefixes and whole rankings between changes of accounts and marks, and interleaves readers of
// two pool versions.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  adlOrder, adlRanking, adlRankingUncached, floorDiv, ONE, PersistentSet, unsettledFunding,
  type Account, type ActivePool, type Market, type Position, type RankedPosition,
} from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { BTC, ETH, market, poolOf, prefix, referenceRanking, summary } from '../support/adl-pools.js';

// --- pools built directly ------------------------------------------------------------------

const withAccount = (pool: ActivePool, account: Account): ActivePool => {
  const holders = (marketId: string) => {
    const set = pool.positionHolders.get(marketId) ?? PersistentSet.empty<string>();
    return account.positions.some((p) => p.marketId === marketId) ? set.add(account.accountId) : set.delete(account.accountId);
  };
  return {
    ...pool,
    accounts: pool.accounts.set(account.accountId, account),
    positionHolders: pool.positionHolders.set(BTC, holders(BTC)).set(ETH, holders(ETH)),
  };
};

const withMarks = (pool: ActivePool, btc: Market, eth: Market): ActivePool => ({
  ...pool, markets: pool.markets.set(BTC, btc).set(ETH, eth), markEpoch: pool.markEpoch + 1,
});

// --- generators: ties, huge values, zero and negative figures --------------------------------

const huge = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });
// Tiny figures too (a few ledger units), where the floors of value and funding matter more than float rounding.
const tiny = fc.bigInt({ min: 1n, max: 50n });
const markArb = fc.oneof(fc.constantFrom(30_000n * ONE, 27_000n * ONE, 33_000n * ONE), fc.bigInt({ min: 1n, max: 10n ** 28n }), tiny.map((k) => ONE / k + k));
const indexArb = fc.oneof(fc.constant(0n), fc.constantFrom(5n * 10n ** 15n, -(3n * 10n ** 14n)), huge);
const sizeArb = fc.oneof(
  fc.constantFrom(10n ** 14n, 2n * 10n ** 14n, 10n ** 17n, 10n ** 18n),
  fc.bigInt({ min: 1n, max: 10n ** 24n }),
  tiny,
).chain((s) => fc.constantFrom(s, -s));
const priceArb = fc.oneof(fc.constantFrom(30_000n * ONE, 27_500n * ONE, 0n), fc.bigInt({ min: 0n, max: 10n ** 26n }), tiny.map((k) => ONE / k));

/** A position, and how the account's collateral is chosen: freely, or to put equity within a few units of zero. */
const accountSpec = fc.record({
  size: sizeArb,
  price: priceArb,
  rawEntry: fc.option(huge, { freq: 4 }),
  settled: fc.option(indexArb, { freq: 2 }),
  collateral: fc.oneof(fc.constantFrom(0n, 1_000n * ONE, 100n * ONE), huge, tiny, fc.bigInt({ min: -3n, max: 3n }).map((d) => ({ nearZero: d }))),
  other: fc.option(fc.record({ size: sizeArb, price: priceArb }), { freq: 4 }),
});
type AccountSpec = typeof accountSpec extends fc.Arbitrary<infer T> ? T : never;

const accountOf = (id: string, spec: AccountSpec, btc: Market, eth: Market): Account => {
  const entry = spec.rawEntry ?? floorDiv(spec.size * spec.price, ONE);
  const position: Position = spec.settled === null ? { marketId: BTC, size: spec.size, entryNotional: entry } : { marketId: BTC, size: spec.size, entryNotional: entry, fundingIndex: spec.settled };
  const positions: Position[] = [position];
  if (spec.other !== null) positions.push({ marketId: ETH, size: spec.other.size, entryNotional: floorDiv(spec.other.size * spec.other.price, ONE) });
  let collateral: bigint;
  if (typeof spec.collateral === 'bigint') collateral = spec.collateral;
  else {
    // equity = collateral + sum of (value - entry + funding): put it at the nudge
    let rest = 0n;
    for (const p of positions) {
      const m = p.marketId === BTC ? btc : eth;
      rest += floorDiv(p.size * m.mark, ONE) - p.entryNotional + unsettledFunding(p, m);
    }
    collateral = spec.collateral.nearZero - rest;
  }
  return { accountId: id, collateral, positions };
};

const step = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('change' as const), who: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), spec: fc.array(fc.option(accountSpec, { freq: 3 }), { minLength: 6, maxLength: 6 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('marks' as const), btc: markArb, eth: markArb, index: indexArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('read' as const), length: fc.nat({ max: 150 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('interleave' as const), length: fc.nat({ max: 60 }) }), weight: 1 },
);

const caseArb = fc.record({
  btcMark: markArb,
  ethMark: markArb,
  index: indexArb,
  accounts: fc.array(accountSpec, { minLength: 0, maxLength: 140 }),
  steps: fc.array(step, { minLength: 1, maxLength: 12 }),
});

describe('the cached ADL ranking', () => {
  it('equals the exact full ranking, whole and by prefixes, through changes within and across mark epochs', () => {
    fc.assert(fc.property(caseArb, (c) => {
      let btc = market(BTC, c.btcMark, c.index);
      let eth = market(ETH, c.ethMark, 0n);
      let pool = poolOf(c.accounts.map((spec, i) => accountOf(`a${String(i).padStart(3, '0')}`, spec, btc, eth)), btc, eth, 'adl-ranking');
      const ids = c.accounts.length;
      const check = (p: ActivePool, length?: number) => {
        for (const side of ['long', 'short'] as const) {
          const expected = referenceRanking(p, BTC, side);
          if (length === undefined) expect(summary(adlRanking(p, BTC, side))).toEqual(expected);
          else expect(prefix(adlOrder(p, BTC, side), length)).toEqual(expected.slice(0, length));
        }
      };
      for (const s of c.steps) {
        switch (s.kind) {
          case 'change': {
            s.who.forEach((w, i) => {
              const id = `a${String(ids === 0 ? w % 3 : w % (ids + 2)).padStart(3, '0')}`;
              const spec = s.spec[i] ?? null;
              pool = withAccount(pool, spec === null ? { accountId: id, collateral: 5n, positions: [] } : accountOf(id, spec, btc, eth));
            });
            check(pool, 40);
            break;
          }
          case 'marks':
            btc = market(BTC, s.btc, s.index);
            eth = market(ETH, s.eth, 0n);
            pool = withMarks(pool, btc, eth);
            break;
          case 'read':
            check(pool, s.length);
            break;
          case 'interleave': {
            // Two versions of the pool read in turns: each reader gets its own pool's ranking.
            const older = pool;
            const newer = withMarks(pool, market(BTC, btc.mark + ONE, btc.fundingIndex), eth);
            const a = adlOrder(older, BTC, 'short')[Symbol.iterator]();
            const b = adlOrder(newer, BTC, 'short')[Symbol.iterator]();
            const gotA: RankedPosition[] = [];
            const gotB: RankedPosition[] = [];
            for (let i = 0; i < s.length; i++) {
              const x = a.next();
              if (!x.done) gotA.push(x.value);
              const y = b.next();
              if (!y.done) gotB.push(y.value);
            }
            expect(summary(gotA)).toEqual(referenceRanking(older, BTC, 'short').slice(0, s.length));
            expect(summary(gotB)).toEqual(referenceRanking(newer, BTC, 'short').slice(0, s.length));
            break;
          }
          default: {
            const unreachable: never = s;
            throw new Error(`unknown step ${String(unreachable)}`);
          }
        }
      }
      check(pool);
      // The reference the domain keeps (a plain sort with the shared comparator) agrees too.
      expect(summary(adlRankingUncached(pool, BTC, 'long'))).toEqual(referenceRanking(pool, BTC, 'long'));
    }), propertyParameters('cached ADL ranking equals the exact ranking', 150));
  });

  it('ranks large pools of tied and nearly tied positions in the exact order, a batch at a time', () => {
    // Up to 600 shorts at one entry price with leverage from a few buckets: many exact ties, and scores one unit apart.
    fc.assert(fc.property(fc.array(fc.constantFrom(1_000n, 1_001n, 2_000n, 4_000n), { minLength: 1, maxLength: 600 }), fc.nat({ max: 660 }), (buckets, length) => {
      const btc = market(BTC, 27_000n * ONE, 0n);
      const eth = market(ETH, ONE, 0n);
      const size = -(10n ** 17n);
      const accounts = buckets.map((c, i): Account => ({
        accountId: `s${i}`, collateral: c * ONE + BigInt(i % 2), positions: [{ marketId: BTC, size, entryNotional: floorDiv(size * 30_000n * ONE, ONE) }],
      }));
      // And 60 accounts also in ETH with no PnL in BTC: scores of exactly zero, tied.
      for (let i = 0; i < 60; i++) {
        accounts.push({ accountId: `z${i}`, collateral: 500n * ONE, positions: [{ marketId: BTC, size, entryNotional: floorDiv(size * 27_000n * ONE, ONE) }, { marketId: ETH, size: ONE, entryNotional: ONE }] });
      }
      const pool = poolOf(accounts, btc, eth, 'adl-ranking');
      expect(prefix(adlOrder(pool, BTC, 'short'), length)).toEqual(referenceRanking(pool, BTC, 'short').slice(0, length));
      expect(summary(adlRanking(pool, BTC, 'short'))).toEqual(referenceRanking(pool, BTC, 'short'));
    }), propertyParameters('ADL ranking of tied positions', 20));
  });
  it('ranks positions of a few ledger units exactly, where the floors of value and funding decide', () => {
    const tinyPosition = fc.record({ size: fc.bigInt({ min: 1n, max: 30n }), entry: fc.bigInt({ min: 1n, max: 30n }), collateral: fc.bigInt({ min: -5n, max: 60n }), settled: fc.bigInt({ min: -40n, max: 40n }) });
    fc.assert(fc.property(fc.array(tinyPosition, { minLength: 1, maxLength: 150 }), fc.integer({ min: 1, max: 9 }), fc.bigInt({ min: 0n, max: 3n }), fc.bigInt({ min: -40n, max: 40n }), (positions, k, j, index) => {
      const btc = market(BTC, ONE / BigInt(k) + j, index * (ONE / 7n));
      const eth = market(ETH, ONE, 0n);
      const accounts = positions.map((p, i): Account => ({
        accountId: `t${i}`, collateral: p.collateral, positions: [{ marketId: BTC, size: -p.size, entryNotional: -p.entry, fundingIndex: p.settled * (ONE / 11n) }],
      }));
      const pool = poolOf(accounts, btc, eth, 'adl-ranking');
      expect(summary(adlRanking(pool, BTC, 'short'))).toEqual(referenceRanking(pool, BTC, 'short'));
    }), propertyParameters('ADL ranking of tiny positions', 100));
  });
  it('ranks figures too large for floats (products beyond 1e308) exactly', () => {
    const giant = fc.bigInt({ min: 10n ** 150n, max: 10n ** 200n });
    const spec = fc.record({ size: fc.oneof(giant, fc.bigInt({ min: 1n, max: 10n ** 20n })), entry: fc.oneof(giant, fc.bigInt({ min: 1n, max: 10n ** 24n })), collateral: fc.oneof(giant, fc.bigInt({ min: 0n, max: 10n ** 24n })), twoMarkets: fc.boolean() });
    fc.assert(fc.property(fc.array(spec, { minLength: 1, maxLength: 80 }), fc.oneof(giant, markArb), (specs, mark) => {
      const btc = market(BTC, mark, 0n);
      const eth = market(ETH, ONE, 0n);
      const accounts = specs.map((p, i): Account => ({
        accountId: `g${i}`, collateral: p.collateral,
        positions: [{ marketId: BTC, size: -p.size, entryNotional: -p.entry }, ...(p.twoMarkets ? [{ marketId: ETH, size: ONE, entryNotional: ONE }] : [])],
      }));
      const pool = poolOf(accounts, btc, eth, 'adl-ranking');
      expect(summary(adlRanking(pool, BTC, 'short'))).toEqual(referenceRanking(pool, BTC, 'short'));
    }), propertyParameters('ADL ranking of giant figures', 100));
  });
});
