// Auto-deleveraging: who gives up size when the fund cannot cover a deficit, and the ADL queue
// traders see as "lights" (docs/design.md section 5, step 2).
//
// score = (uPnL / |entryNotional|) * (|size * mark| / equity), highest first, ties by account id
// (BitMEX / Binance). Scores are compared exactly by cross-multiplication, never as floats.
// Only positions of accounts with positive equity can be ranked (leverage is undefined
// otherwise); they come last in the queue and are never auto-deleveraged.

import { largestRemainderSplit, pow10, abs, floorDiv, ONE } from './money.js';
import { unsettledFunding, type MarketLookup } from './margin.js';
import { HeldVersion } from './held-version.js';
import type { PersistentMap } from './persistent-map.js';
import { FloatSlotHeap } from './slot-heap.js';
import { positionIn, settledIndexOf, type Account, type ActivePool, type Market } from './state.js';

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
// conversions and three operations, so its relative error stays below 1e-15 while it stays clear
// of the float range's ends (below UNDERFLOW the relative error grows; past 1e308, Infinity or
// NaN). Scores further apart than this margin are ordered by their estimates; closer ones, and
// any outside the range, by exact bigint arithmetic.
const FLOAT_MARGIN = 1e-12;
/** Far above the smallest normal double (2.2e-308): an estimate that underflowed errs by less. */
const UNDERFLOW = 1e-290;

/**
 * The float estimate of the score (uPnL / basis) * (notional / equity); 0 when not rankable. NaN
 * when a figure is beyond the float range: it converts to Infinity, and the estimate could come
 * out finite yet wrong (an infinite equity gives 0), so every comparison with it is exact.
 */
export const scoreEstimate = (unrealizedPnl: bigint, notional: bigint, basis: bigint, equity: bigint): number => {
  if (equity <= 0n || basis <= 0n) return 0;
  const u = Number(unrealizedPnl);
  const n = Number(notional);
  const b = Number(basis);
  const e = Number(equity);
  return Number.isFinite(u) && Number.isFinite(n) && Number.isFinite(b) && Number.isFinite(e) ? (u / b) * (n / e) : NaN;
};

/** Negative when `a` is deleveraged before `b`. Exact: equal to comparing the rational scores. */
export const compareAdlPriority = (a: RankedPosition, b: RankedPosition): number => {
  const ra = rankable(a);
  const rb = rankable(b);
  if (ra !== rb) return ra ? -1 : 1;
  if (ra) {
    const da = a.approximateScore;
    const db = b.approximateScore;
    const difference = da - db;
    const scale = Math.max(Math.abs(da), Math.abs(db));
    if (scale > UNDERFLOW && Math.abs(difference) > FLOAT_MARGIN * scale) return difference > 0 ? -1 : 1;
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

// --- the ranking of one side of one market ---------------------------------------------------
//
// Cached between liquidations: a memo of a pure function of the pool (it always equals the full
// exact sort, adlRankingUncached; a property test checks it). Per mark epoch (a fingerprint of
// every market's mark and funding index), each position gets an interval [low, high] that
// certainly holds its score, computed in floats from its figures kept in typed arrays. The
// ranking is then produced lazily, a batch at a time: quickselect finds the k-th largest `low`
// among the positions not yet ranked; only those whose `high` reaches it can be among the next k,
// so only they get exact (bigint) figures and are sorted with the exact comparator. Within an
// epoch, the accounts changed since (listed exactly by the rerooting account map) are re-scored
// and put back: into the exactly sorted prefix by binary search when they rank before its last
// entry, otherwise with the unsorted rest. Consumers read only the top of the queue, so the
// sorted prefix stays about as long as what they read.

/** Where a position is: not on this side, waiting unsorted, or in the exactly sorted prefix. */
const ABSENT = 0;
const WAITING = 1;
const RANKED = 2;

/**
 * Bound on the relative error of the float figures. Each bigint conversion and float operation
 * errs by at most 2^-53 relative; a figure is at most a dozen of them away from its inputs, so its
 * error stays below 1e-14 of the sum of the magnitudes that went into it. 1e-12 leaves room.
 */
const RELATIVE_ERROR = 1e-12;
/** Each floor division (value, funding) is off by less than one ledger unit; 4 covers both with room. */
const FLOOR_ERROR = 4;
/** The fewest positions sorted exactly at a time (then twice the sorted prefix). */
const BATCH = 32;

const stats = { builds: 0, patches: 0, exactFigures: 0 };

/**
 * How often rankings were re-scored for a new mark epoch, patched within one, and how many exact
 * figures they computed (for benchmarks and diagnostics).
 */
export const adlRankingStats = (): { readonly builds: number; readonly patches: number; readonly exactFigures: number } => ({ ...stats });

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

const sameMarks = (known: ReadonlyMap<string, Market>, pool: ActivePool): boolean => {
  const markets = pool.markets.values();
  return markets.length === known.size && markets.every((m) => {
    const k = known.get(m.marketId);
    return k !== undefined && k.mark === m.mark && k.fundingIndex === m.fundingIndex;
  });
};

const grown = <A extends Float64Array | Uint8Array>(array: A, capacity: number): A => {
  const next = new (array.constructor as new (n: number) => A)(capacity);
  next.set(array);
  return next;
};

/** What the floats decide of a lone position: not rankable, rankable (its interval written out), or nothing (exact figures needed). */
/** The float figures of a ranking's slots (see SideRanking). */
interface Figures {
  readonly size: Float64Array;
  readonly entry: Float64Array;
  readonly collateral: Float64Array;
  readonly settled: Float64Array;
}

const NOT_RANKABLE = 0;
const RANKABLE = 1;
const UNDECIDED = 2;

/**
 * The score interval of the slot's position, its account holding only this one, from the floats
 * of its figures, written to `out` as [low, high] when the floats decide rankability. Everything
 * comes in arrays (`market`: the mark and the funding index): a float passed as an argument to a
 * call that is not inlined would be boxed, one allocation per figure per slot at every new mark.
 */
const floatInterval = (figures: Figures, slot: number, market: Float64Array, out: Float64Array): number => {
  const size = figures.size[slot]!;
  const entry = figures.entry[slot]!;
  const collateral = figures.collateral[slot]!;
  const settled = figures.settled[slot]!;
  const mark = market[0]!;
  const fundingIndex = market[1]!;
  const value = (size * mark) / 1e18;
  const unrealized = value - entry;
  const equity = collateral + unrealized - (size * (fundingIndex - settled)) / 1e18;
  const basis = Math.abs(entry);
  const notional = Math.abs(value);
  // Every figure below is a sum of some of these magnitudes, each within RELATIVE_ERROR.
  const error = RELATIVE_ERROR * (Math.abs(collateral) + notional + basis + (Math.abs(size) * (Math.abs(fundingIndex) + Math.abs(settled))) / 1e18) + FLOOR_ERROR;
  if (basis === 0 || equity + error <= 0) return NOT_RANKABLE;
  if (!(equity - error > 0)) return UNDECIDED;
  // score = uPnL * notional / (basis * equity) over the box of the figures' bounds (notional >= 0, denominator > 0)
  const uLow = unrealized - error;
  const uHigh = unrealized + error;
  const nLow = Math.max(notional - error, 0);
  const nHigh = notional + error;
  const dLow = Math.max(basis - error, 1) * (equity - error);
  const dHigh = (basis + error) * (equity + error);
  const pLow = Math.min(uLow * nLow, uLow * nHigh);
  const pHigh = Math.max(uHigh * nLow, uHigh * nHigh);
  const low = pLow / (pLow < 0 ? dLow : dHigh);
  const high = pHigh / (pHigh < 0 ? dHigh : dLow);
  if (!(Number.isFinite(low) && Number.isFinite(high))) return UNDECIDED;
  out[0] = low - Math.abs(low) * RELATIVE_ERROR - UNDERFLOW;
  out[1] = high + Math.abs(high) * RELATIVE_ERROR + UNDERFLOW;
  return RANKABLE;
};

class SideRanking implements Figures {
  /** The exact top of the ranking, in order; every waiting position ranks after all of it. */
  readonly ranked: RankedPosition[] = [];
  /** Grows whenever the ranking changes other than by the sorted prefix growing at its end. */
  changes = 0;
  /** The account map version the ranking is up to date with (weakly once the job ends, so no old pool is kept alive). */
  private readonly accounts = new HeldVersion<PersistentMap<string, Account>>();
  /** The markets of the epoch: only their marks and funding indices are read. */
  private marketById: ReadonlyMap<string, Market> = new Map();
  private readonly lookup: MarketLookup = (id) => this.marketById.get(id);
  /** The epoch's mark and funding index, as floats. */
  private readonly market = new Float64Array(2);
  private readonly interval = new Float64Array(2);
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];
  private slots = 0;
  private readonly holders: (Account | undefined)[] = [];
  private readonly exact: (RankedPosition | undefined)[] = [];
  /** Struct of arrays by slot: the position's figures as floats, and its score interval. */
  // The float figures (read by floatInterval; the class is private to this module).
  size = new Float64Array(64);
  entry = new Float64Array(64);
  collateral = new Float64Array(64);
  settled = new Float64Array(64);
  private low = new Float64Array(64);
  private high = new Float64Array(64);
  /** 1 when the account's only position is this one: scored from the floats alone. */
  private single = new Uint8Array(64);
  private rankable = new Uint8Array(64);
  private where = new Uint8Array(64);
  /** Waiting rankable positions by the low and by the high end of their score interval. */
  private readonly byLow = new FloatSlotHeap(this.low);
  private readonly byHigh = new FloatSlotHeap(this.high);
  /** Waiting unrankable positions (each slot at most once, as `listed` says; stale ones are skipped). */
  private unrankable: number[] = [];
  private rankableSlots = new Int32Array(64);
  private listed = new Uint8Array(64);

  constructor(private readonly marketId: string, private readonly side: PositionSide) {}

  /** Brings the ranking up to date with `pool`. */
  sync(pool: ActivePool): void {
    const before = this.accounts.get();
    const newEpoch = !sameMarks(this.marketById, pool);
    if (before === pool.accounts && !newEpoch) return;
    const changed = before === undefined ? undefined : pool.accounts.keysChangedSince(before, Math.max(64, this.slotOf.size));
    if (newEpoch) this.marketById = new Map(pool.markets.entries());
    if (changed === undefined) {
      this.slotOf.clear();
      this.free.length = 0;
      this.slots = 0;
      for (const accountId of pool.positionHolders.get(this.marketId)?.values() ?? []) this.load(accountId, pool.accounts.get(accountId));
    } else if (newEpoch) {
      for (const accountId of changed) this.load(accountId, pool.accounts.get(accountId));
    } else {
      stats.patches++;
      this.changes++;
      for (const accountId of new Set(changed)) this.patch(accountId, pool.accounts.get(accountId));
    }
    if (changed === undefined || newEpoch) this.rescore();
    this.accounts.set(pool.accounts);
  }

  /** The position at `index` of the ranking (0 is deleveraged first), sorting more as needed. */
  at(index: number): RankedPosition | undefined {
    while (index >= this.ranked.length && this.extend());
    return this.ranked[index];
  }

  /** Takes the account's figures (or frees its slot when it has no position on this side); its slot or -1. */
  private load(accountId: string, account: Account | undefined): number {
    let slot = this.slotOf.get(accountId);
    const position = account === undefined ? undefined : positionIn(account, this.marketId);
    if (position === undefined || sideOf(position.size) !== this.side) {
      if (slot !== undefined) {
        this.slotOf.delete(accountId);
        this.where[slot] = ABSENT;
        this.holders[slot] = undefined;
        this.exact[slot] = undefined;
        this.free.push(slot);
      }
      return -1;
    }
    if (slot === undefined) {
      slot = this.free.pop() ?? this.newSlot();
      this.slotOf.set(accountId, slot);
    }
    this.holders[slot] = account;
    this.exact[slot] = undefined;
    this.single[slot] = account!.positions.length === 1 ? 1 : 0;
    this.size[slot] = Number(position.size);
    this.entry[slot] = Number(position.entryNotional);
    this.collateral[slot] = Number(account!.collateral);
    this.settled[slot] = Number(settledIndexOf(position));
    return slot;
  }

  private newSlot(): number {
    const slot = this.slots++;
    if (slot === this.size.length) {
      const capacity = 2 * slot;
      this.size = grown(this.size, capacity);
      this.entry = grown(this.entry, capacity);
      this.collateral = grown(this.collateral, capacity);
      this.settled = grown(this.settled, capacity);
      this.low = grown(this.low, capacity);
      this.high = grown(this.high, capacity);
      this.byLow.keys = this.low;
      this.byHigh.keys = this.high;
      this.single = grown(this.single, capacity);
      this.rankable = grown(this.rankable, capacity);
      this.where = grown(this.where, capacity);
      this.listed = grown(this.listed, capacity);
    }
    return slot;
  }

  /** A new epoch: every position re-scored and waiting. */
  private rescore(): void {
    stats.builds++;
    this.changes++;
    this.ranked.length = 0;
    this.unrankable = [];
    this.listed.fill(0);
    const market = this.marketById.get(this.marketId)!;
    this.market[0] = Number(market.mark);
    this.market[1] = Number(market.fundingIndex);
    // The rankable slots of the epoch, listed in a scratch array kept from one epoch to the next.
    if (this.rankableSlots.length < this.slots) this.rankableSlots = new Int32Array(this.size.length);
    const rankable = this.rankableSlots;
    let count = 0;
    this.exact.fill(undefined);
    // The slots in use by index (a free slot holds no account), not through the map's iterator.
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.holders[slot] === undefined) continue;
      this.score(slot);
      this.where[slot] = WAITING;
      if (this.rankable[slot] === 1) rankable[count++] = slot;
      else this.listUnrankable(slot);
    }
    this.byLow.reset(rankable, count);
    this.byHigh.reset(rankable, count);
  }

  /**
   * The slot's score interval and whether it is rankable. From the floats when the account holds
   * only this position and the floats decide rankability; otherwise from the exact figures.
   */
  private score(slot: number): void {
    if (this.single[slot] === 1) {
      const decided = floatInterval(this, slot, this.market, this.interval);
      if (decided === NOT_RANKABLE) {
        this.rankable[slot] = 0;
        return;
      }
      if (decided === RANKABLE) {
        this.rankable[slot] = 1;
        this.low[slot] = this.interval[0]!;
        this.high[slot] = this.interval[1]!;
        return;
      }
    }
    const exact = this.exactAt(slot);
    this.rankable[slot] = rankable(exact) ? 1 : 0;
    const margin = Math.abs(exact.approximateScore) * RELATIVE_ERROR + UNDERFLOW;
    const finite = Number.isFinite(margin);
    this.low[slot] = finite ? exact.approximateScore - margin : -Infinity;
    this.high[slot] = finite ? exact.approximateScore + margin : Infinity;
  }

  private exactAt(slot: number): RankedPosition {
    let exact = this.exact[slot];
    if (exact === undefined) {
      stats.exactFigures++;
      exact = rankedPosition(this.holders[slot]!, this.lookup(this.marketId)!, this.lookup)!;
      this.exact[slot] = exact;
    }
    return exact;
  }

  private wait(slot: number): void {
    this.where[slot] = WAITING;
    if (this.rankable[slot] === 1) {
      this.byLow.push(slot);
      this.byHigh.push(slot);
    } else this.listUnrankable(slot);
  }

  private listUnrankable(slot: number): void {
    if (this.listed[slot] === 0) {
      this.listed[slot] = 1;
      this.unrankable.push(slot);
    }
  }

  /** An account changed within the epoch: out of the ranking, then back in with its new figures. */
  private patch(accountId: string, account: Account | undefined): void {
    const old = this.slotOf.get(accountId);
    if (old !== undefined) {
      if (this.holders[old] === account) return;
      if (this.where[old] === RANKED) this.ranked.splice(insertionPoint(this.ranked, this.exact[old]!), 1);
      this.byLow.remove(old);
      this.byHigh.remove(old);
      this.where[old] = ABSENT;
    }
    const slot = this.load(accountId, account);
    if (slot < 0) return;
    this.score(slot);
    const exact = this.exactAt(slot);
    const last = this.ranked[this.ranked.length - 1];
    if (last !== undefined && compareAdlPriority(exact, last) < 0) {
      this.ranked.splice(insertionPoint(this.ranked, exact), 0, exact);
      this.where[slot] = RANKED;
    } else this.wait(slot);
  }

  /**
   * Sorts the next batch of waiting positions onto the ranked prefix; false when none is left.
   * Rankable ones first: with `cut` the k-th largest low, a position whose high is below it is
   * outranked by the k positions whose low reaches it, so the next k are among those whose high
   * reaches the cut. Those of them not taken wait again. Unrankable ones come after all of them,
   * all at once.
   */
  private extend(): boolean {
    const batch = Math.max(BATCH, this.ranked.length);
    const chosen: number[] = [];
    let cut = Infinity;
    while (chosen.length < batch && this.byLow.size > 0) {
      const slot = this.byLow.top()!;
      this.byLow.remove(slot);
      this.byHigh.remove(slot);
      cut = this.low[slot]!;
      chosen.push(slot);
    }
    while (this.byHigh.size > 0 && this.high[this.byHigh.top()!]! >= cut) {
      const slot = this.byHigh.top()!;
      this.byHigh.remove(slot);
      this.byLow.remove(slot);
      chosen.push(slot);
    }
    if (chosen.length === 0) {
      for (const slot of this.unrankable) {
        this.listed[slot] = 0;
        if (this.where[slot] === WAITING) chosen.push(slot);
      }
      this.unrankable = [];
    }
    for (const slot of chosen) this.exactAt(slot);
    chosen.sort((a, b) => compareAdlPriority(this.exact[a]!, this.exact[b]!));
    const take = Math.min(batch, chosen.length);
    for (let i = 0; i < chosen.length; i++) {
      if (i < take || this.rankable[chosen[i]!] === 0) {
        this.ranked.push(this.exact[chosen[i]!]!);
        this.where[chosen[i]!] = RANKED;
      } else this.wait(chosen[i]!);
    }
    return chosen.length > 0;
  }
}

const rankings = new Map<string, SideRanking>();

/** The cached ranking of one side of a market, brought up to date with the pool. */
const rankingOf = (pool: ActivePool, marketId: string, side: PositionSide): SideRanking => {
  const key = `${pool.poolId}\u0000${marketId}\u0000${side}`;
  let ranking = rankings.get(key);
  if (ranking === undefined) {
    ranking = new SideRanking(marketId, side);
    rankings.set(key, ranking);
  }
  ranking.sync(pool);
  return ranking;
};

function* ordered(pool: ActivePool, marketId: string, side: PositionSide): Generator<RankedPosition> {
  let ranking = rankingOf(pool, marketId, side);
  let seen = ranking.changes;
  for (let i = 0; ; i++) {
    // Brought back to this pool if another version was ranked meanwhile: the i-th entry is a function of the pool.
    if (ranking.changes !== seen) {
      ranking = rankingOf(pool, marketId, side);
      seen = ranking.changes;
    }
    const next = ranking.at(i);
    if (next === undefined) return;
    yield next;
  }
}

/** Positions on one side of a market in ADL order (first is deleveraged first), lazily. */
export const adlOrder = (pool: ActivePool, marketId: string, side: PositionSide): Iterable<RankedPosition> =>
  pool.markets.get(marketId) === undefined ? [] : ordered(pool, marketId, side);

/** All positions on one side of a market, in ADL order (first is deleveraged first). */
export const adlRanking = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => [...adlOrder(pool, marketId, side)];

/** Ranking without any cache: the full exact sort the cached one must always equal. */
export const adlRankingUncached = (pool: ActivePool, marketId: string, side: PositionSide): ReadonlyArray<RankedPosition> => {
  const market = pool.markets.get(marketId);
  if (market === undefined) return [];
  const markets: MarketLookup = (id) => pool.markets.get(id);
  const ranking: RankedPosition[] = [];
  for (const accountId of pool.positionHolders.get(marketId)?.values() ?? []) {
    const account = pool.accounts.get(accountId);
    const ranked = account === undefined ? undefined : rankedPosition(account, market, markets);
    if (ranked !== undefined && sideOf(ranked.size) === side) ranking.push(ranked);
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
