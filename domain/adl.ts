// Auto-deleveraging: who gives up size when the fund cannot cover a deficit, and the ADL queue
// traders see as "lights" (DESIGN section 5, step 2).
//
// score = (uPnL / |entryNotional|) * (|size * mark| / equity), highest first, ties by account id
// (BitMEX / Binance). Scores are compared exactly by cross-multiplication, never as floats.
// Only positions of accounts with positive equity can be ranked (leverage is undefined
// otherwise); they come last in the queue and are never auto-deleveraged.

import { largestRemainderSplit, pow10, abs, floorDiv, ONE } from './money.js';
import { marginOf, type MarketLookup } from './margin.js';
import type { PersistentMap } from './persistent-map.js';
import { positionIn, type Account, type ActivePool, type Market } from './state.js';

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
  /** The account object the figures were computed from (identity tells whether they are current). */
  readonly account: Account;
}

const rankable = (p: RankedPosition): boolean => p.equity > 0n && p.basis > 0n;

/** Negative when `a` is deleveraged before `b`. */
export const compareAdlPriority = (a: RankedPosition, b: RankedPosition): number => {
  const ra = rankable(a);
  const rb = rankable(b);
  if (ra !== rb) return ra ? -1 : 1;
  if (ra) {
    // a.u * a.n / (a.basis * a.equity) vs the same for b, all denominators positive
    const left = a.unrealizedPnl * a.notional * b.basis * b.equity;
    const right = b.unrealizedPnl * b.notional * a.basis * a.equity;
    if (left !== right) return left > right ? -1 : 1;
  }
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
};

const rankedPosition = (account: Account, market: Market, markets: MarketLookup): RankedPosition | undefined => {
  const position = positionIn(account, market.marketId);
  if (position === undefined || position.size === 0n) return undefined;
  const value = floorDiv(position.size * market.mark, ONE);
  return {
    accountId: account.accountId,
    size: position.size,
    unrealizedPnl: value - position.entryNotional,
    notional: abs(value),
    basis: abs(position.entryNotional),
    equity: marginOf(account, markets, 'maintenance').equity,
    account,
  };
};

const sideOf = (size: bigint): PositionSide => (size > 0n ? 'long' : 'short');

// The ranking of one side of one market is cached between liquidations: it stays valid while the
// marks do not move, except for accounts changed since, which the rerooting account map lists
// exactly. A memo of a pure function: a fresh ranking would be identical (a property test checks
// it). The account map it was built from is held weakly, so the cache never keeps old versions
// of the pool alive; when that version is gone, the ranking is rebuilt.
interface RankingCache {
  readonly markEpoch: number;
  readonly accounts: WeakRef<PersistentMap<string, Account>>;
  readonly ranking: ReadonlyArray<RankedPosition>;
}
const rankingCaches = new Map<string, RankingCache>();

const buildRanking = (pool: ActivePool, market: Market, side: PositionSide, markets: MarketLookup): RankedPosition[] => {
  const ranking: RankedPosition[] = [];
  for (const accountId of pool.positionHolders.get(market.marketId)?.values() ?? []) {
    const account = pool.accounts.get(accountId);
    const ranked = account === undefined ? undefined : rankedPosition(account, market, markets);
    if (ranked !== undefined && sideOf(ranked.size) === side) ranking.push(ranked);
  }
  return ranking.sort(compareAdlPriority);
};

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

/** All positions on one side of a market, in ADL order (first is deleveraged first). */
export const adlRanking = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => {
  const market = pool.markets.get(marketId);
  if (market === undefined) return [];
  const markets: MarketLookup = (id) => pool.markets.get(id);
  const key = `${pool.poolId}\u0000${marketId}\u0000${side}`;
  const cached = rankingCaches.get(key);
  let ranking: RankedPosition[];
  const builtFrom = cached !== undefined && cached.markEpoch === pool.markEpoch ? cached.accounts.deref() : undefined;
  // Past a few changes per eight ranked positions, rebuilding is as cheap as patching.
  const changed = cached === undefined || builtFrom === undefined
    ? undefined
    : pool.accounts.keysChangedSince(builtFrom, Math.max(64, cached.ranking.length >>> 3));
  if (cached === undefined || changed === undefined) {
    ranking = buildRanking(pool, market, side, markets);
  } else {
    const stale = new Set(changed);
    ranking = cached.ranking.filter((p) => !stale.has(p.accountId));
    for (const accountId of stale) {
      const account = pool.accounts.get(accountId);
      const ranked = account === undefined ? undefined : rankedPosition(account, market, markets);
      if (ranked !== undefined && sideOf(ranked.size) === side) ranking.splice(insertionPoint(ranking, ranked), 0, ranked);
    }
  }
  rankingCaches.set(key, { markEpoch: pool.markEpoch, accounts: new WeakRef(pool.accounts), ranking });
  return ranking;
};

/** Ranking without any cache: the reference the cached one must always equal. */
export const adlRankingUncached = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => {
  const market = pool.markets.get(marketId);
  return market === undefined ? [] : buildRanking(pool, market, side, (id) => pool.markets.get(id));
};

export interface AdlQueueEntry {
  readonly accountId: string;
  /** 1 is deleveraged first. */
  readonly rank: number;
  /** 5 for the top fifth of the queue down to 1 for the bottom fifth. */
  readonly lights: 1 | 2 | 3 | 4 | 5;
}

/** The ADL queue of both sides of a market, with each position's rank and quintile. */
export const adlQueue = (pool: ActivePool, marketId: string): { readonly long: AdlQueueEntry[]; readonly short: AdlQueueEntry[] } => {
  const queue = (side: PositionSide): AdlQueueEntry[] => {
    const ranking = adlRanking(pool, marketId, side);
    return ranking.map((p, i) => ({
      accountId: p.accountId,
      rank: i + 1,
      lights: (5 - Math.floor((5 * i) / ranking.length)) as AdlQueueEntry['lights'],
    }));
  };
  return { long: queue('long'), short: queue('short') };
};

/** Positions ADL may take from, in ranking order. */
export const adlCandidates = (
  pool: ActivePool,
  marketId: string,
  side: PositionSide,
  exclude: ReadonlySet<string>,
  eligible: (position: RankedPosition) => boolean,
  ranking: (pool: ActivePool, marketId: string, side: PositionSide) => ReadonlyArray<RankedPosition> = adlRanking,
): RankedPosition[] =>
  ranking(pool, marketId, side).filter((p) => rankable(p) && p.unrealizedPnl > 0n && !exclude.has(p.accountId) && eligible(p));

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
  const candidates = adlCandidates(pool, market.marketId, side, exclude, eligible);
  if (policy === 'ranked') {
    const fills: AdlAllocation[] = [];
    let remaining = target;
    for (const position of candidates) {
      if (remaining === 0n) break;
      const size = abs(position.size) < remaining ? abs(position.size) : remaining;
      fills.push({ accountId: position.accountId, size, position });
      remaining -= size;
    }
    return fills;
  }
  const lot = pow10(18 - market.sizeDecimals);
  const total = candidates.reduce((sum, p) => sum + abs(p.size), 0n);
  if (total <= target) return candidates.map((position) => ({ accountId: position.accountId, size: abs(position.size), position }));
  const lots = largestRemainderSplit(target / lot, candidates.map((p) => ({ key: p.accountId, weight: abs(p.size) })));
  return candidates
    .map((position, i) => ({ accountId: position.accountId, size: lots[i]! * lot, position }))
    .filter((fill) => fill.size > 0n);
};
