// Applying double-entry postings to a pool. A LedgerDraft copies what an event touches on
// first touch, applies position changes and postings to the copies, and commits them into a
// new state in one step; the state it started from is never modified. `decide` uses a draft
// it throws away (to check margins after a trade), `evolve` one it commits: the same code
// computes both, so what was checked is what is applied.

import { max } from './money.js';
import type { LedgerAccount, Posting } from './events.js';
import { withOpenInterest, type Account, type ActivePool, type Market, type Position, type Tranche } from './state.js';

interface DraftAccount {
  readonly accountId: string;
  collateral: bigint;
  positions: Position[];
}

export class LedgerDraft {
  private readonly accounts = new Map<string, DraftAccount>();
  private readonly longSizeDelta = new Map<string, bigint>();
  private tranches: Tranche[] | undefined;
  private treasury: bigint;
  private externalIn: bigint;
  private externalOut: bigint;

  constructor(private readonly base: ActivePool) {
    this.treasury = base.treasury;
    this.externalIn = base.externalIn;
    this.externalOut = base.externalOut;
  }

  /** The draft copy of an account (an empty one if the pool has never seen it). */
  account(accountId: string): Readonly<DraftAccount> {
    return this.draftAccount(accountId);
  }

  private draftAccount(accountId: string): DraftAccount {
    let draft = this.accounts.get(accountId);
    if (draft === undefined) {
      const current = this.base.accounts.get(accountId);
      draft = current === undefined
        ? { accountId, collateral: 0n, positions: [] }
        : { accountId, collateral: current.collateral, positions: current.positions.slice() };
      this.accounts.set(accountId, draft);
    }
    return draft;
  }

  /** Touch an account so that committing creates it even if nothing else changes it. */
  open(accountId: string): void {
    this.draftAccount(accountId);
  }

  private updatePosition(accountId: string, marketId: string, change: (p: Position) => Position): void {
    const account = this.draftAccount(accountId);
    const index = account.positions.findIndex((p) => p.marketId === marketId);
    const current = index >= 0 ? account.positions[index]! : { marketId, size: 0n, entryNotional: 0n };
    const next = change(current);
    if (index >= 0) account.positions[index] = next;
    else account.positions.push(next);
  }

  /** Change a position's size (signed delta), keeping the market's open interest in step. */
  changeSize(accountId: string, marketId: string, delta: bigint): void {
    this.updatePosition(accountId, marketId, (p) => {
      const size = p.size + delta;
      const longDelta = max(size, 0n) - max(p.size, 0n);
      if (longDelta !== 0n) this.longSizeDelta.set(marketId, (this.longSizeDelta.get(marketId) ?? 0n) + longDelta);
      return { ...p, size };
    });
  }

  post(posting: Posting): void {
    this.move(posting.from, -posting.amount);
    this.move(posting.to, posting.amount);
  }

  postAll(postings: ReadonlyArray<Posting>): void {
    for (const p of postings) this.post(p);
  }

  private move(account: LedgerAccount, delta: bigint): void {
    switch (account.kind) {
      case 'external':
        // Value leaving `external` came in; value arriving there went out.
        if (delta < 0n) this.externalIn -= delta;
        else this.externalOut += delta;
        return;
      case 'collateral':
        this.draftAccount(account.accountId).collateral += delta;
        return;
      case 'position':
        // A position account's balance is -entryNotional.
        this.updatePosition(account.accountId, account.marketId, (p) => ({ ...p, entryNotional: p.entryNotional - delta }));
        return;
      case 'tranche': {
        const tranches = (this.tranches ??= this.base.tranches.slice());
        const index = tranches.findIndex((t) => t.trancheId === account.trancheId);
        if (index >= 0) tranches[index] = { ...tranches[index]!, assets: tranches[index]!.assets + delta };
        // An unknown tranche cannot come from `decide`; the audit's conservation check reports it.
        return;
      }
      case 'treasury':
        this.treasury += delta;
        return;
      default: {
        const unreachable: never = account;
        return unreachable;
      }
    }
  }

  /** The new state: touched accounts replaced (closed positions dropped), everything else shared. */
  commit(changes: Partial<Pick<ActivePool, 'tradeIds'>> = {}): ActivePool {
    const accounts = this.accounts.size === 0
      ? this.base.accounts
      : this.base.accounts.setAll([...this.accounts.values()].map((draft): [string, Account] => [draft.accountId, {
        accountId: draft.accountId,
        collateral: draft.collateral,
        // A position with size and basis both zero is closed; anything else stays visible.
        positions: draft.positions.filter((p) => p.size !== 0n || p.entryNotional !== 0n),
      }]));
    let openInterest = this.base.openInterest;
    const markets = this.longSizeDelta.size === 0
      ? this.base.markets
      : this.base.markets.setAll([...this.longSizeDelta].flatMap(([marketId, delta]): [string, Market][] => {
        const market = this.base.markets.get(marketId);
        if (market === undefined) return [];
        const next = withOpenInterest(market, market.longSize + delta, market.mark);
        openInterest += next.openInterest - market.openInterest;
        return [[marketId, next]];
      }));
    return {
      ...this.base,
      accounts,
      markets,
      tranches: this.tranches ?? this.base.tranches,
      treasury: this.treasury,
      externalIn: this.externalIn,
      externalOut: this.externalOut,
      openInterest,
      ...changes,
    };
  }
}
