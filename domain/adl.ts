// Auto-deleveraging: who gives up size when the fund cannot cover a deficit, and the ADL queue
// traders see as "lights" (docs/design.md section 5, step 2).
//
// score = (uPnL / |entryNotional|) * (|size * mark| / equity), highest first, ties by account id
// (BitMEX / Binance). Scores are compared exactly by cross-multiplication, never as floats.
// Only positions of accounts with positive equity can be ranked (leverage is undefined
// otherwise); they come last in the queue and are never auto-deleveraged.

import { largestRemainderSplit, pow10, abs, floorDiv, ONE } from './money.js';
import { unsettledFunding, type MarketLookup } from './margin.js';
import type { PersistentMap } from './persistent-map.js';
import type { Account, ActivePool, Market } from './state.js';

export type PositionSide = 'long' | 'short';

export interface RankedPosition {
  readonly accountId: string;
  /** Signed position size. */
  readonly size: bigint;
  readonly unrealizedPnl: bigint;
  /** |size * mark| */
  readonly notional: bigint;
  /** |entryNotional| */
  readonly basis: bigint;
  readonly equity: bigint;
  /** The account object the figures were computed from. */
  readonly account: Account;
  /**
   * The score as a float: only a shortcut for comparing scores that are clearly apart (see
   * compareAdlPriority); it never decides between scores closer than its error bound.
   */
  readonly approximateScore: number;
}

const rankable = (p: RankedPosition): boolean => p.equity > 0n && p.basis > 0n;

/** Whether ADL may ever take from the position: only ranked ones (positive equity, a cost basis). */
export const adlEligible = rankable;

// Each float conversion and operation errs by at most 2^-53 relative; the estimate takes four
// conversions and three operations, so its relative error stays below 1e-15. Scores further apart
// than this margin are ordered by their estimates; closer ones by exact bigint arithmetic.
const FLOAT_MARGIN = 1e-12;

/** The float estimate of the score uPnL * notional / (basis * equity); 0 when not rankable. */
export const scoreEstimate = (unrealizedPnl: bigint, notional: bigint, basis: bigint, equity: bigint): number =>
  equity > 0n && basis > 0n ? (Number(unrealizedPnl) * Number(notional)) / (Number(basis) * Number(equity)) : 0;

/** Negative when `a` is deleveraged before `b`. Exact: equal to comparing the rational scores. */
export const compareAdlPriority = (a: RankedPosition, b: RankedPosition): number => {
  const ra = rankable(a);
  const rb = rankable(b);
  if (ra !== rb) return ra ? -1 : 1;
  if (ra) {
    const da = a.approximateScore;
    const db = b.approximateScore;
    const difference = da - db;
    if (Math.abs(difference) > FLOAT_MARGIN * Math.max(Math.abs(da), Math.abs(db))) return difference > 0 ? -1 : 1;
    // a.u * a.n / (a.basis * a.equity) vs the same for b, all denominators positive
    const left = a.unrealizedPnl * a.notional * b.basis * b.equity;
    const right = b.unrealizedPnl * b.notional * a.basis * a.equity;
    if (left !== right) return left > right ? -1 : 1;
  }
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
};

/** One pass over the account's positions: equity, and the figures of its position in `market`. */
const rankedPosition = (account: Account, market: Market, markets: MarketLookup): RankedPosition | undefined => {
  let equity = account.collateral;
  let size = 0n;
  let value = 0n;
  let entryNotional = 0n;
  for (const position of account.positions) {
    const positionMarket = position.marketId === market.marketId ? market : markets(position.marketId);
    if (positionMarket === undefined) continue;
    const positionValue = floorDiv(position.size * positionMarket.mark, ONE);
    equity += positionValue - position.entryNotional + unsettledFunding(position, positionMarket);
    if (positionMarket === market) {
      size = position.size;
      value = positionValue;
      entryNotional = position.entryNotional;
    }
  }
  if (size === 0n) return undefined;
  const unrealizedPnl = value - entryNotional;
  const notional = abs(value);
  const basis = abs(entryNotional);
  return {
    accountId: account.accountId,
    size,
    unrealizedPnl,
    notional,
    basis,
    equity,
    account,
    approximateScore: scoreEstimate(unrealizedPnl, notional, basis, equity),
  };
};

const sideOf = (size: bigint): PositionSide => (size > 0n ? 'long' : 'short');

// The ranking of one side of one market is cached between liquidations. Within one mark epoch
// it stays valid except for accounts changed since it was built, which the rerooting account map
// lists exactly: their old entries are skipped and their new ones kept in a small sorted side
// list, merged with the main list on the fly. A new mark epoch re-sorts the previous order with
// fresh scores (nearly sorted input, which the built-in sort handles in near-linear time). It is
// a memo of a pure function: the ranking is always the one a fresh build would give (a property
// test checks it). The account map it was built from is held weakly, so the cache never keeps old
// versions of the pool alive; when that version is gone, the ranking is rebuilt.
interface RankingCache {
  readonly markEpoch: number;
  /** The version of the account map the cache is up to date with (held weakly). */
  accounts: WeakRef<PersistentMap<string, Account>>;
  /** Sorted when built; entries of superseded accounts are skipped. */
  readonly main: ReadonlyArray<RankedPosition>;
  /** main[0 .. head) are all superseded. */
  head: number;
  /** Accounts whose entry in `main` is out of date. Only grows within one cache. */
  readonly superseded: Set<string>;
  /** Current entries of the superseded accounts that still hold a position on this side, sorted. */
  readonly side: RankedPosition[];
}
const rankingCaches = new Map<string, RankingCache>();
const stats = { builds: 0, patches: 0 };

/** How often rankings were built from scratch and patched (for benchmarks and diagnostics). */
export const adlRankingStats = (): { readonly builds: number; readonly patches: number } => ({ ...stats });

/** Binary search for where `entry` belongs in a sorted ranking. */
const insertionPoint = (ranking: ReadonlyArray<RankedPosition>, entry: RankedPosition): number => {
  let lo = 0;
  let hi = ranking.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareAdlPriority(ranking[mid]!, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

function* merged(cache: RankingCache): Generator<RankedPosition> {
  const { main, side, superseded } = cache;
  while (cache.head < main.length && superseded.has(main[cache.head]!.accountId)) cache.head++;
  let i = cache.head;
  let j = 0;
  for (;;) {
    while (i < main.length && superseded.has(main[i]!.accountId)) i++;
    if (i >= main.length && j >= side.length) return;
    if (j >= side.length || (i < main.length && compareAdlPriority(main[i]!, side[j]!) <= 0)) yield main[i++]!;
    else yield side[j++]!;
  }
}

const onSide = (ranked: RankedPosition | undefined, side: PositionSide): RankedPosition | undefined =>
  ranked !== undefined && sideOf(ranked.size) === side ? ranked : undefined;

const rankedIn = (pool: ActivePool, market: Market, side: PositionSide, markets: MarketLookup) => (accountId: string): RankedPosition | undefined => {
  const account = pool.accounts.get(accountId);
  return account === undefined ? undefined : onSide(rankedPosition(account, market, markets), side);
};

/**
 * A fresh ranking. With a previous ranking of the same pool and the list of accounts changed since
 * it, unchanged accounts are re-scored from the account objects it already holds, in its order.
 */
const build = (
  pool: ActivePool,
  market: Market,
  side: PositionSide,
  markets: MarketLookup,
  previous: RankingCache | undefined,
  changedSincePrevious: ReadonlyArray<string> | undefined,
): RankedPosition[] => {
  stats.builds++;
  const ranking: RankedPosition[] = [];
  if (previous !== undefined && changedSincePrevious !== undefined) {
    const changed = new Set(changedSincePrevious);
    for (const p of merged(previous)) {
      if (changed.has(p.accountId)) continue;
      const ranked = onSide(rankedPosition(p.account, market, markets), side);
      if (ranked !== undefined) ranking.push(ranked);
    }
    const score = rankedIn(pool, market, side, markets);
    for (const accountId of changed) {
      const ranked = score(accountId);
      if (ranked !== undefined) ranking.push(ranked);
    }
  } else {
    const score = rankedIn(pool, market, side, markets);
    for (const accountId of pool.positionHolders.get(market.marketId)?.values() ?? []) {
      const ranked = score(accountId);
      if (ranked !== undefined) ranking.push(ranked);
    }
  }
  // Nearly sorted when it starts from the previous order: the built-in sort is adaptive.
  return ranking.sort(compareAdlPriority);
};

/** The cached ranking of one side of a market, brought up to date with the pool. */
const currentRanking = (pool: ActivePool, market: Market, side: PositionSide): RankingCache => {
  const markets: MarketLookup = (id) => pool.markets.get(id);
  const key = `${pool.poolId}\u0000${market.marketId}\u0000${side}`;
  const cached = rankingCaches.get(key);
  const builtFrom = cached?.accounts.deref();
  const sameEpoch = cached !== undefined && cached.markEpoch === pool.markEpoch;
  // Past a few changes per eight ranked positions, rebuilding is as cheap as patching.
  const budget = cached === undefined ? 0 : Math.max(64, cached.main.length >>> 3);
  const changed = builtFrom === undefined ? undefined : pool.accounts.keysChangedSince(builtFrom, sameEpoch ? budget : cached!.main.length);
  if (cached !== undefined && sameEpoch && changed !== undefined && cached.side.length + changed.length <= budget) {
    if (changed.length > 0) {
      stats.patches++;
      for (const accountId of new Set(changed)) {
        cached.superseded.add(accountId);
        const old = cached.side.findIndex((p) => p.accountId === accountId);
        if (old >= 0) cached.side.splice(old, 1);
        const ranked = onSide(pool.accounts.get(accountId) === undefined ? undefined : rankedPosition(pool.accounts.get(accountId)!, market, markets), side);
        if (ranked !== undefined) cached.side.splice(insertionPoint(cached.side, ranked), 0, ranked);
      }
      cached.accounts = new WeakRef(pool.accounts);
    }
    return cached;
  }
  const next: RankingCache = {
    markEpoch: pool.markEpoch,
    accounts: new WeakRef(pool.accounts),
    main: build(pool, market, side, markets, cached, changed),
    head: 0,
    superseded: new Set(),
    side: [],
  };
  rankingCaches.set(key, next);
  return next;
};

/** Positions on one side of a market in ADL order (first is deleveraged first), lazily. */
export const adlOrder = (pool: ActivePool, marketId: string, side: PositionSide): Iterable<RankedPosition> => {
  const market = pool.markets.get(marketId);
  return market === undefined ? [] : merged(currentRanking(pool, market, side));
};

/** All positions on one side of a market, in ADL order (first is deleveraged first). */
export const adlRanking = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => [...adlOrder(pool, marketId, side)];

/** Ranking without any cache: the reference the cached one must always equal. */
export const adlRankingUncached = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => {
  const market = pool.markets.get(marketId);
  if (market === undefined) return [];
  const score = rankedIn(pool, market, side, (id) => pool.markets.get(id));
  const ranking: RankedPosition[] = [];
  for (const accountId of pool.positionHolders.get(marketId)?.values() ?? []) {
    const ranked = score(accountId);
    if (ranked !== undefined) ranking.push(ranked);
  }
  return ranking.sort(compareAdlPriority);
};

export interface AdlQueueEntry {
  readonly accountId: string;
  /** 1 is deleveraged first; null when the ADL rules make the position ineligible. */
  readonly rank: number | null;
  /** 5 for the top fifth of the eligible queue down to 1 for the bottom fifth; 0 when ineligible. */
  readonly lights: 0 | 1 | 2 | 3 | 4 | 5;
}

/** The ADL queue of both sides of a market, with each position's rank and quintile. */
export const adlQueue = (pool: ActivePool, marketId: string): { readonly long: AdlQueueEntry[]; readonly short: AdlQueueEntry[] } => {
  const queue = (side: PositionSide): AdlQueueEntry[] => {
    const ranking = adlRanking(pool, marketId, side);
    // Eligible positions come first in the ranking, so their index is their rank among them.
    const eligible = ranking.filter(rankable).length;
    return ranking.map((p, i) => (rankable(p)
      ? { accountId: p.accountId, rank: i + 1, lights: (5 - Math.floor((5 * i) / eligible)) as AdlQueueEntry['lights'] }
      : { accountId: p.accountId, rank: null, lights: 0 }));
  };
  return { long: queue('long'), short: queue('short') };
};

/** Positions ADL may take from, in ranking order (lazily). */
export function* adlCandidates(
  pool: ActivePool,
  marketId: string,
  side: PositionSide,
  exclude: ReadonlySet<string>,
  eligible: (position: RankedPosition) => boolean,
  ranking: (pool: ActivePool, marketId: string, side: PositionSide) => Iterable<RankedPosition> = adlOrder,
): Generator<RankedPosition> {
  for (const p of ranking(pool, marketId, side)) {
    if (rankable(p) && p.unrealizedPnl > 0n && !exclude.has(p.accountId) && eligible(p)) yield p;
  }
}

export interface AdlAllocation {
  readonly accountId: string;
  /** Unsigned size the account gives up. */
  readonly size: bigint;
  readonly position: RankedPosition;
}

/**
 * Who gives up how much of `target` (unsigned, whole lots) on `side`: profitable positions of
 * accounts with positive equity that `eligible` accepts, except those in `exclude`. `ranked` takes from the top of the
 * queue, each min(remaining, |size|); `pro-rata` splits across all of them by size, in lots,
 * largest remainder; `none` takes nothing.
 */
export const allocateAdl = (
  pool: ActivePool,
  market: Market,
  side: PositionSide,
  target: bigint,
  policy: Market['adlPolicy'],
  exclude: ReadonlySet<string>,
  eligible: (position: RankedPosition) => boolean = () => true,
): AdlAllocation[] => {
  if (target <= 0n || policy === 'none') return [];
  if (policy === 'ranked') {
    const fills: AdlAllocation[] = [];
    let remaining = target;
    for (const position of adlCandidates(pool, market.marketId, side, exclude, eligible)) {
      if (remaining === 0n) break;
      const size = abs(position.size) < remaining ? abs(position.size) : remaining;
      fills.push({ accountId: position.accountId, size, position });
      remaining -= size;
    }
    return fills;
  }
  const candidates = [...adlCandidates(pool, market.marketId, side, exclude, eligible)];
  const lot = pow10(18 - market.sizeDecimals);
  const total = candidates.reduce((sum, p) => sum + abs(p.size), 0n);
  if (total <= target) return candidates.map((position) => ({ accountId: position.accountId, size: abs(position.size), position }));
  const lots = largestRemainderSplit(target / lot, candidates.map((p) => ({ key: p.accountId, weight: abs(p.size) })));
  return candidates
    .map((position, i) => ({ accountId: position.accountId, size: lots[i]! * lot, position }))
    .filter((fill) => fill.size > 0n);
};
