// Applying double-entry postings to a pool. A LedgerDraft copies what an event touches on
// first touch, applies position changes and postings to the copies, and commits them into a
// new state in one step; the state it started from is never modified. `decide` uses a draft to
// check margins after a trade, `evolve` commits one: the same code computes both, so what was
// checked is what is applied. The mutable pool book (domain/book) runs the same draft over its own
// maps and takes the draft's changes (`changes()`) instead of a persistent commit.

import type { LedgerAccount, Posting } from './events.js';
import { forEachTradePosting, type TradeFacts, type TradePostingSink, type TradeValueFlows } from './postings.js';
import { PersistentSet } from './persistent-map.js';
import { settledIndexOf, withOpenInterest, type Account, type ActivePool, type Market, type Position, type Tranche } from './state.js';

/** Mutable copies, private to one draft (mutation confined to the fold step). */
interface DraftPosition {
  readonly marketId: string;
  /** Whether the account held this position before the draft (for the index of holders). */
  readonly existed: boolean;
  size: bigint;
  entryNotional: bigint;
  /** The funding index it has settled up to (a new position starts at the market's). */
  fundingIndex: bigint;
}

/** A position as a draft changed it (read-only to the draft's readers). */
export type ChangedPosition = Readonly<Pick<DraftPosition, 'size' | 'entryNotional' | 'fundingIndex'>>;

const isOpen = (p: { readonly size: bigint; readonly entryNotional: bigint }): boolean => p.size !== 0n || p.entryNotional !== 0n;

interface DraftAccount {
  readonly accountId: string;
  collateral: bigint;
  /** The account's positions before this draft, shared, never modified. */
  readonly before: ReadonlyArray<Position>;
  /** Copies of the positions this draft changes (a trade touches one market per side). */
  readonly changed: DraftPosition[];
}

const isChanged = (changed: ReadonlyArray<DraftPosition>, marketId: string): boolean => {
  for (const c of changed) if (c.marketId === marketId) return true;
  return false;
};

/** The account's positions with the draft's changes, closed ones dropped. */
const positionsOf = (draft: DraftAccount): Position[] => {
  const positions: Position[] = [];
  for (const p of draft.before) if (!isChanged(draft.changed, p.marketId)) positions.push(p);
  // A position with size and basis both zero is closed; anything else stays visible.
  for (const c of draft.changed) {
    if (!isOpen(c)) continue;
    // The funding index key only when it is not zero (see Position.fundingIndex).
    positions.push(c.fundingIndex === 0n
      ? { marketId: c.marketId, size: c.size, entryNotional: c.entryNotional }
      : { marketId: c.marketId, size: c.size, entryNotional: c.entryNotional, fundingIndex: c.fundingIndex });
  }
  return positions;
};

type DraftTranche = { -readonly [K in keyof Tranche]: Tranche[K] };

/** What a draft reads: the pool's value-bearing parts, with accounts and markets by id. */
export interface LedgerBase {
  readonly accounts: { get(accountId: string): Account | undefined };
  readonly markets: { get(marketId: string): Market | undefined };
  readonly tranches: ReadonlyArray<Tranche>;
  readonly treasury: bigint;
  readonly externalIn: bigint;
  readonly externalOut: bigint;
  readonly badDebt: bigint;
  readonly openInterest: bigint;
}

/** A position opened (held) or closed (not held): a change to the index of holders, in the order made. */
export interface HolderChange {
  readonly marketId: string;
  readonly accountId: string;
  readonly held: boolean;
}

/** Everything a draft changed, as new values (untouched parts are not listed). */
export interface LedgerChanges {
  readonly accounts: ReadonlyArray<Account>;
  readonly markets: ReadonlyArray<Market>;
  /** The tranches, when a posting touched one. */
  readonly tranches: ReadonlyArray<Tranche> | undefined;
  readonly treasury: bigint;
  readonly externalIn: bigint;
  readonly externalOut: bigint;
  readonly badDebt: bigint;
  readonly openInterest: bigint;
  readonly holders: ReadonlyArray<HolderChange>;
}

export class ChangeDraft {
  private readonly accounts = new Map<string, DraftAccount>();
  private readonly longSizeDelta = new Map<string, bigint>();
  /** Made on the first funding posting (most drafts have none: one Map fewer to make per draft). */
  private fundingBalanceDelta: Map<string, bigint> | undefined;
  private tranches: DraftTranche[] | undefined;
  private treasury: bigint;
  private externalIn: bigint;
  private externalOut: bigint;
  private badDebt: bigint;

  constructor(protected readonly base: LedgerBase) {
    this.treasury = base.treasury;
    this.externalIn = base.externalIn;
    this.externalOut = base.externalOut;
    this.badDebt = base.badDebt;
  }

  /** The draft copy of an account (an empty one if the pool has never seen it). */
  account(accountId: string): Pick<Account, 'accountId' | 'collateral' | 'positions'> {
    const draft = this.draftAccount(accountId);
    return { accountId, collateral: draft.collateral, positions: positionsOf(draft) };
  }

  private draftAccount(accountId: string): DraftAccount {
    let draft = this.accounts.get(accountId);
    if (draft === undefined) {
      const current = this.base.accounts.get(accountId);
      draft = { accountId, collateral: current?.collateral ?? 0n, before: current?.positions ?? [], changed: [] };
      this.accounts.set(accountId, draft);
    }
    return draft;
  }

  private draftPosition(accountId: string, marketId: string): DraftPosition {
    const account = this.draftAccount(accountId);
    for (const c of account.changed) if (c.marketId === marketId) return c;
    const existing = account.before.find((p) => p.marketId === marketId);
    const copy: DraftPosition = {
      marketId, existed: existing !== undefined, size: existing?.size ?? 0n, entryNotional: existing?.entryNotional ?? 0n,
      fundingIndex: existing !== undefined ? settledIndexOf(existing) : this.base.markets.get(marketId)?.fundingIndex ?? 0n,
    };
    account.changed.push(copy);
    return copy;
  }

  /** An account's collateral as the draft has it (the pool's, if the draft has not touched it). */
  collateralOf(accountId: string): bigint {
    return this.accounts.get(accountId)?.collateral ?? this.base.accounts.get(accountId)?.collateral ?? 0n;
  }

  /**
   * An account's position in one market as the draft has it, when it is the only position of the
   * account the draft changed (undefined otherwise): with the positions it did not change, read
   * before the draft, it is the account's every position (one that is not open is dropped).
   */
  soleChangedPosition(accountId: string, marketId: string): ChangedPosition | undefined {
    const changed = this.accounts.get(accountId)?.changed;
    if (changed === undefined || changed.length !== 1) return undefined;
    const position = changed[0]!;
    return position.marketId === marketId ? position : undefined;
  }

  /** Start from accounts the caller already looked up, sparing the draft a lookup each. */
  withAccounts(...accounts: ReadonlyArray<Account>): this {
    for (const a of accounts) this.accounts.set(a.accountId, { accountId: a.accountId, collateral: a.collateral, before: a.positions, changed: [] });
    return this;
  }

  /** Touch an account so that committing creates it even if nothing else changes it. */
  open(accountId: string): void {
    this.draftAccount(accountId);
  }

  /** Change a position's size (signed delta), keeping the market's open interest in step. */
  changeSize(accountId: string, marketId: string, delta: bigint): void {
    const position = this.draftPosition(accountId, marketId);
    const before = position.size;
    const after = before + delta;
    position.size = after;
    const longDelta = (after > 0n ? after : 0n) - (before > 0n ? before : 0n);
    if (longDelta !== 0n) this.longSizeDelta.set(marketId, (this.longSizeDelta.get(marketId) ?? 0n) + longDelta);
  }

  /** Record that a position has settled its funding up to `index` (its postings come separately). */
  settleFunding(accountId: string, marketId: string, index: bigint): void {
    this.draftPosition(accountId, marketId).fundingIndex = index;
  }

  post(posting: Posting): void {
    this.move(posting.from, posting.amount, false);
    this.move(posting.to, posting.amount, true);
  }

  postAll(postings: ReadonlyArray<Posting>): void {
    for (const p of postings) this.post(p);
  }

  /**
   * A trade's postings, straight from its facts and value flows: the same moves, in the same
   * order, as `postAll(tradePostingsOf(trade, flows))`, without making the postings.
   */
  postTrade(trade: TradeFacts, flows: TradeValueFlows): void {
    forEachTradePosting(trade, flows, new DraftTradePostings(this));
  }

  /**
   * Move `amount` into (`into`) or out of an account: the same sums as adding a signed delta,
   * without making the negated amount of every posting's source (a bigint each).
   */
  private move(account: LedgerAccount, amount: bigint, into: boolean): void {
    switch (account.kind) {
      case 'external':
        // Value leaving `external` came in; value arriving there went out (a negative amount the other way).
        if (into ? amount < 0n : amount > 0n) this.externalIn += into ? -amount : amount;
        else this.externalOut += into ? amount : -amount;
        return;
      case 'collateral': {
        const draft = this.draftAccount(account.accountId);
        draft.collateral = into ? draft.collateral + amount : draft.collateral - amount;
        return;
      }
      case 'position': {
        // A position account's balance is -entryNotional.
        const position = this.draftPosition(account.accountId, account.marketId);
        position.entryNotional = into ? position.entryNotional - amount : position.entryNotional + amount;
        return;
      }
      case 'tranche': {
        const tranches = (this.tranches ??= this.base.tranches.map((t) => ({ ...t })));
        const tranche = tranches.find((t) => t.trancheId === account.trancheId);
        // An unknown tranche cannot come from `decide`; the audit's conservation check reports it.
        if (tranche !== undefined) tranche.assets = into ? tranche.assets + amount : tranche.assets - amount;
        return;
      }
      case 'treasury':
        this.treasury = into ? this.treasury + amount : this.treasury - amount;
        return;
      case 'badDebt':
        // The account's balance is minus the outstanding bad debt.
        this.badDebt = into ? this.badDebt - amount : this.badDebt + amount;
        return;
      case 'funding': {
        const deltas = (this.fundingBalanceDelta ??= new Map());
        const delta = into ? amount : -amount;
        deltas.set(account.marketId, (deltas.get(account.marketId) ?? 0n) + delta);
        return;
      }
      default: {
        const unreachable: never = account;
        return unreachable;
      }
    }
  }

  // The moves of a trade's postings one by one, for `postTrade`: each the sum `move` makes for
  // that kind of ledger account (property-tested against `postAll` of the rebuilt postings).

  /** Value into (delta > 0) or out of an account's collateral. */
  moveCollateral(accountId: string, delta: bigint): void {
    this.draftAccount(accountId).collateral += delta;
  }

  /** Value into or out of a position account, whose balance is -entryNotional. */
  movePosition(accountId: string, marketId: string, delta: bigint): void {
    this.draftPosition(accountId, marketId).entryNotional -= delta;
  }

  moveTranche(trancheId: string, delta: bigint): void {
    const tranches = (this.tranches ??= this.base.tranches.map((t) => ({ ...t })));
    const tranche = tranches.find((t) => t.trancheId === trancheId);
    if (tranche !== undefined) tranche.assets += delta;
  }

  moveTreasury(delta: bigint): void {
    this.treasury += delta;
  }

  /** Markets whose long size or funding balance changed, each once, long sizes' first. */
  private touchedMarkets(): Iterable<string> {
    if (this.fundingBalanceDelta === undefined || this.fundingBalanceDelta.size === 0) return this.longSizeDelta.keys();
    return new Set([...this.longSizeDelta.keys(), ...this.fundingBalanceDelta.keys()]);
  }

  /** What the draft changed: touched accounts (closed positions dropped), markets, tranches, totals. */
  changes(): LedgerChanges {
    const accounts: Account[] = [];
    const holders: HolderChange[] = [];
    for (const draft of this.accounts.values()) {
      accounts.push({ accountId: draft.accountId, collateral: draft.collateral, positions: positionsOf(draft) });
      for (const c of draft.changed) {
        if (c.existed === isOpen(c)) continue;
        holders.push({ marketId: c.marketId, accountId: draft.accountId, held: !c.existed });
      }
    }
    let openInterest = this.base.openInterest;
    const markets: Market[] = [];
    for (const marketId of this.touchedMarkets()) {
      const market = this.base.markets.get(marketId);
      if (market === undefined) continue;
      const fundingDelta = this.fundingBalanceDelta?.get(marketId);
      const funded = fundingDelta === undefined ? market : { ...market, fundingBalance: market.fundingBalance + fundingDelta };
      const next = withOpenInterest(funded, market.longSize + (this.longSizeDelta.get(marketId) ?? 0n), market.mark);
      openInterest += next.openInterest - market.openInterest;
      markets.push(next);
    }
    return {
      accounts, markets, tranches: this.tranches, holders, openInterest,
      treasury: this.treasury, externalIn: this.externalIn, externalOut: this.externalOut, badDebt: this.badDebt,
    };
  }
}

/** A trade's postings applied to a draft as they come: each is `post` of that posting, from then to. */
class DraftTradePostings implements TradePostingSink {
  constructor(private readonly draft: ChangeDraft) {}
  notional(buyer: string, seller: string, marketId: string, amount: bigint): void {
    this.draft.movePosition(buyer, marketId, -amount);
    this.draft.movePosition(seller, marketId, amount);
  }
  gain(accountId: string, marketId: string, amount: bigint): void {
    this.draft.movePosition(accountId, marketId, -amount);
    this.draft.moveCollateral(accountId, amount);
  }
  loss(accountId: string, marketId: string, amount: bigint): void {
    this.draft.moveCollateral(accountId, -amount);
    this.draft.movePosition(accountId, marketId, amount);
  }
  rebate(taker: string, maker: string, amount: bigint): void {
    this.draft.moveCollateral(taker, -amount);
    this.draft.moveCollateral(maker, amount);
  }
  feeToTranche(accountId: string, trancheId: string, amount: bigint): void {
    this.draft.moveCollateral(accountId, -amount);
    this.draft.moveTranche(trancheId, amount);
  }
  feeToTreasury(accountId: string, amount: bigint): void {
    this.draft.moveCollateral(accountId, -amount);
    this.draft.moveTreasury(amount);
  }
}

/** The index of holders after some changes (applied in order). */
export const withHolderChanges = (
  positionHolders: ActivePool['positionHolders'],
  changes: ReadonlyArray<HolderChange>,
): ActivePool['positionHolders'] => {
  let next = positionHolders;
  for (const { marketId, accountId, held } of changes) {
    const holders = next.get(marketId) ?? PersistentSet.empty<string>();
    next = next.set(marketId, held ? holders.add(accountId) : holders.delete(accountId));
  }
  return next;
};

const accountIdOf = (account: Account): string => account.accountId;
const marketIdOf = (market: Market): string => market.marketId;

/** A draft over a persistent pool, committed into a new pool value. */
export class LedgerDraft extends ChangeDraft {
  constructor(private readonly pool: ActivePool) {
    super(pool);
  }

  /** The new state: touched accounts replaced (closed positions dropped), everything else shared. */
  commit(extra: Partial<Pick<ActivePool, 'tradeIds'>> = {}): ActivePool {
    const changes = this.changes();
    const pool = this.pool;
    return {
      ...pool,
      // Each account and market once (the draft keeps them by id).
      accounts: pool.accounts.setDistinct(changes.accounts, accountIdOf),
      markets: pool.markets.setDistinct(changes.markets, marketIdOf),
      tranches: changes.tranches ?? pool.tranches,
      treasury: changes.treasury,
      externalIn: changes.externalIn,
      externalOut: changes.externalOut,
      badDebt: changes.badDebt,
      openInterest: changes.openInterest,
      positionHolders: withHolderChanges(pool.positionHolders, changes.holders),
      ...extra,
    };
  }
}
