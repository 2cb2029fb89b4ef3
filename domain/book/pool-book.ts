// The pool book: the writer's mutable view of a pool (docs/design.md section 3, "The pool book").
//
// A book is a layer of changes over something below it: the bottom layer (the writer's committed
// book) lies over a persistent `ActivePool`; a batch's overlay lies over the committed book. Each
// layer holds new values (immutable `Account`, `Market`, `Tranche` objects, replaced, never edited)
// for what it changed, in plain Maps, and reads fall through to the layer below. So:
// - a hot command costs a Map write per touched entity instead of a persistent-map version, a
//   fresh `ActivePool` and a `tradeIds` version per trade;
// - an overlay's changes are invisible to readers of the committed book until `commit`, and
//   dropping an uncommitted overlay is simply forgetting it (nothing to undo);
// - `toPool()` writes a layer's changes into a persistent pool value (in the order they were made,
//   so maps and sets iterate as if every event had been evolved one by one): what readers,
//   snapshots and the cold commands' persistent decider see.

import type { Event } from '../events.js';
import { evolve } from '../evolve.js';
import { withHolderChanges, type HolderChange, type LedgerChanges } from '../ledger.js';
import type { Account, ActivePool, Market, PoolState, Tranche } from '../state.js';

/** The pool's running totals, kept as plain fields in every layer. */
export interface BookTotals {
  readonly treasury: bigint;
  readonly externalIn: bigint;
  readonly externalOut: bigint;
  readonly badDebt: bigint;
  readonly openInterest: bigint;
  readonly markEpoch: number;
}

/** What one hot command changes: the new values of what it touched (its delta). */
export interface BookDelta {
  readonly accounts: ReadonlyArray<Account>;
  readonly markets: ReadonlyArray<Market>;
  readonly tranches: ReadonlyArray<Tranche> | undefined;
  readonly holders: ReadonlyArray<HolderChange>;
  readonly totals: BookTotals;
  readonly tradeId?: string;
}

/** A delta from a ledger draft's changes (the draft ran over the book). */
export const deltaOfChanges = (changes: LedgerChanges, markEpoch: number, tradeId?: string): BookDelta => {
  const totals: BookTotals = {
    treasury: changes.treasury, externalIn: changes.externalIn, externalOut: changes.externalOut, badDebt: changes.badDebt,
    openInterest: changes.openInterest, markEpoch,
  };
  const { accounts, markets, tranches, holders } = changes;
  return tradeId === undefined ? { accounts, markets, tranches, holders, totals } : { accounts, markets, tranches, holders, totals, tradeId };
};

const totalsOf = (pool: BookTotals): BookTotals => ({
  treasury: pool.treasury, externalIn: pool.externalIn, externalOut: pool.externalOut, badDebt: pool.badDebt,
  openInterest: pool.openInterest, markEpoch: pool.markEpoch,
});

export class PoolBook {
  private readonly accountChanges = new Map<string, Account>();
  private readonly marketChanges = new Map<string, Market>();
  private trancheChanges: ReadonlyArray<Tranche> | undefined;
  private readonly newTradeIds = new Set<string>();
  private holderChanges: HolderChange[] = [];
  private totals: BookTotals;
  /** The bottom layer's persistent pool with this layer's changes, while nothing changed since. */
  private materialized: PoolState | undefined;

  private constructor(private below: PoolBook | PoolState) {
    this.totals = below instanceof PoolBook ? below.totals : below.status === 'active' ? totalsOf(below) : EMPTY_TOTALS;
  }

  /** A committed book over a pool state (loaded, or after a cold command). */
  static of(state: PoolState): PoolBook {
    return new PoolBook(state);
  }

  /** An overlay for a batch: sees this book, changes nothing in it until `commit`. */
  begin(): PoolBook {
    return new PoolBook(this);
  }

  // --- reads (a HotPoolView) -----------------------------------------------------------------

  /** The persistent state at the bottom (its pool-wide parameters are current: only cold commands change them). */
  private get bottom(): PoolState {
    return this.below instanceof PoolBook ? this.below.bottom : this.below;
  }

  get active(): ActivePool | undefined {
    const bottom = this.bottom;
    return bottom.status === 'active' ? bottom : undefined;
  }

  get poolId(): string { return this.active!.poolId; }
  get quoteDecimals(): number { return this.active!.quoteDecimals; }
  get feeShare(): ActivePool['feeShare'] { return this.active!.feeShare; }
  get treasury(): bigint { return this.totals.treasury; }
  get externalIn(): bigint { return this.totals.externalIn; }
  get externalOut(): bigint { return this.totals.externalOut; }
  get badDebt(): bigint { return this.totals.badDebt; }
  get openInterest(): bigint { return this.totals.openInterest; }
  get markEpoch(): number { return this.totals.markEpoch; }

  get tranches(): ReadonlyArray<Tranche> {
    return this.trancheChanges ?? (this.below instanceof PoolBook ? this.below.tranches : (this.below as ActivePool).tranches);
  }

  readonly accounts = {
    get: (accountId: string): Account | undefined => {
      const changed = this.accountChanges.get(accountId);
      if (changed !== undefined) return changed;
      return this.below instanceof PoolBook ? this.below.accounts.get(accountId) : (this.below as ActivePool).accounts.get(accountId);
    },
  };

  /**
   * Markets as this layer sees them, filled on first read: a trade reads every market its two
   * accounts hold (funding and margin), so one Map lookup beats walking the layers each time. What
   * lies below never changes while this layer reads it (an overlay's committed book is only
   * folded, and a rebase clears the cache).
   */
  private readonly marketsSeen = new Map<string, Market>();

  readonly markets = {
    get: (marketId: string): Market | undefined => {
      const seen = this.marketsSeen.get(marketId);
      if (seen !== undefined) return seen;
      const market = this.marketChanges.get(marketId)
        ?? (this.below instanceof PoolBook ? this.below.markets.get(marketId) : (this.below as ActivePool).markets.get(marketId));
      if (market !== undefined) this.marketsSeen.set(marketId, market);
      return market;
    },
  };

  readonly tradeIds = {
    has: (tradeId: string): boolean =>
      this.newTradeIds.has(tradeId) || (this.below instanceof PoolBook ? this.below.tradeIds.has(tradeId) : (this.below as ActivePool).tradeIds.has(tradeId)),
  };

  // --- writes --------------------------------------------------------------------------------

  /** Record a hot command's delta in this layer. */
  apply(delta: BookDelta): void {
    for (const account of delta.accounts) this.accountChanges.set(account.accountId, account);
    for (const market of delta.markets) {
      this.marketChanges.set(market.marketId, market);
      this.marketsSeen.set(market.marketId, market);
    }
    if (delta.tranches !== undefined) this.trancheChanges = delta.tranches;
    for (const change of delta.holders) this.holderChanges.push(change);
    if (delta.tradeId !== undefined) this.newTradeIds.add(delta.tradeId);
    this.totals = delta.totals;
    this.materialized = undefined;
  }

  /** Apply a cold command's events with the persistent `evolve`; this layer then lies over the result. */
  evolveCold(events: ReadonlyArray<Event>): void {
    let state = this.toPool();
    for (const event of events) state = evolve(state, event);
    this.rebase(state);
  }

  /**
   * The overlay's changes become the committed book's (after a durable append). Returns the
   * committed book: the one below, or this layer itself when a cold command rebased it onto a
   * persistent state of its own (the committed book was never written to then).
   */
  commit(): PoolBook {
    const below = this.below;
    if (!(below instanceof PoolBook)) return this;
    for (const [id, account] of this.accountChanges) below.accountChanges.set(id, account);
    for (const [id, market] of this.marketChanges) {
      below.marketChanges.set(id, market);
      below.marketsSeen.set(id, market);
    }
    if (this.trancheChanges !== undefined) below.trancheChanges = this.trancheChanges;
    for (const change of this.holderChanges) below.holderChanges.push(change);
    for (const tradeId of this.newTradeIds) below.newTradeIds.add(tradeId);
    below.totals = this.totals;
    below.materialized = undefined;
    return below;
  }

  // --- persistent form -----------------------------------------------------------------------

  /**
   * The state this book holds, as a persistent pool value. The bottom layer folds its changes
   * into its base (no change of what it holds, so readers may call this at any time); an overlay
   * builds on the committed book's value without touching the committed book's contents.
   */
  toPool(): PoolState {
    if (this.materialized !== undefined) return this.materialized;
    // Folding the committed book below first keeps each fold to the changes made since the last.
    const under = this.below instanceof PoolBook ? this.below.toPool() : this.below;
    const state = under.status === 'active' ? this.withChanges(under) : under;
    if (this.below instanceof PoolBook) this.materialized = state;
    else this.rebase(state);
    return state;
  }

  /** The same value as `toPool`, built without folding anything (a look that leaves the book as it is). */
  view(): PoolState {
    if (this.materialized !== undefined) return this.materialized;
    const under = this.below instanceof PoolBook ? this.below.view() : this.below;
    return under.status === 'active' ? this.withChanges(under) : under;
  }

  private withChanges(pool: ActivePool): ActivePool {
    if (this.accountChanges.size === 0 && this.marketChanges.size === 0 && this.trancheChanges === undefined
      && this.holderChanges.length === 0 && this.newTradeIds.size === 0 && sameTotals(this.totals, pool)) {
      return pool;
    }
    const tradeIds = this.newTradeIds.size === 0 ? pool.tradeIds : pool.tradeIds.addAll(this.newTradeIds);
    return {
      ...pool,
      accounts: this.accountChanges.size === 0 ? pool.accounts : pool.accounts.setAll(this.accountChanges),
      markets: this.marketChanges.size === 0 ? pool.markets : pool.markets.setAll(this.marketChanges),
      tranches: this.trancheChanges ?? pool.tranches,
      positionHolders: withHolderChanges(pool.positionHolders, this.holderChanges),
      tradeIds,
      ...this.totals,
    };
  }

  /** This layer now lies directly over `state`, with no changes of its own. */
  private rebase(state: PoolState): void {
    this.below = state;
    this.accountChanges.clear();
    this.marketChanges.clear();
    this.marketsSeen.clear();
    this.trancheChanges = undefined;
    this.newTradeIds.clear();
    this.holderChanges = [];
    this.totals = state.status === 'active' ? totalsOf(state) : EMPTY_TOTALS;
    this.materialized = state;
  }
}

const EMPTY_TOTALS: BookTotals = { treasury: 0n, externalIn: 0n, externalOut: 0n, badDebt: 0n, openInterest: 0n, markEpoch: 0 };

const sameTotals = (a: BookTotals, b: BookTotals): boolean =>
  a.treasury === b.treasury && a.externalIn === b.externalIn && a.externalOut === b.externalOut && a.badDebt === b.badDebt
  && a.openInterest === b.openInterest && a.markEpoch === b.markEpoch;

