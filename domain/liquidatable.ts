// Which accounts are liquidatable at the current marks, without valuing every account at every
// mark. An account whose only position is in market M is liquidatable (equity < maintenance)
// only on one side of a safe mark it can be given exactly:
//   K = collateral - entryNotional + unsettled funding (fixed while the funding index is),
//   equity - maintenance = K + floor(s*m/1e18) - ceil(|s*m| * mmr / (1e18 * 1e6)),
//   > K - 2 + (s*m/1e18) * (1 - mmr/1e6)  for a long, > K - 2 - (|s|*m/1e18) * (1 + mmr/1e6) for a short,
// so a long is safe at every mark >= ceil((2 - K) * 1e18 * 1e6 / (s * (1e6 - mmr))) and a short at
// every mark <= floor((K - 2) * 1e18 * 1e6 / (|s| * (1e6 + mmr))). Per market, longs are kept in a
// heap by that mark (highest first) and shorts by its negation; a query visits only the accounts
// past their safe mark and confirms each with the exact isLiquidatable. Accounts with positions in
// several markets are confirmed at every query. Like the ADL ranking, the index is a memo of a pure
// function (a property test compares it with the full scan), kept up to date with the accounts
// changed since, which the rerooting account map lists; a change of a market's funding index or
// maintenance margin rebuilds it.

import { isLiquidatable, unsettledFunding } from './margin.js';
import { ceilDiv, floorDiv, ONE, PPM } from './money.js';
import { HeldVersion } from './held-version.js';
import type { PersistentMap } from './persistent-map.js';
import { SlotHeap } from './slot-heap.js';
import { marketsOf, type Account, type ActivePool, type Market } from './state.js';

interface MarketIndex {
  /** Longs by their safe mark, highest first: liquidatable only below it. */
  readonly longs: SlotHeap<bigint>;
  /** Shorts by the negation of their safe mark: liquidatable only above it. */
  readonly shorts: SlotHeap<bigint>;
}

/** The mark from which a lone long is safe, or up to which a lone short is; undefined when no such mark can be given. */
export const safeMark = (account: Account, market: Market): bigint | undefined => {
  const position = account.positions[0]!;
  const k = account.collateral - position.entryNotional + unsettledFunding(position, market);
  const rate = BigInt(market.maintenanceMarginPpm);
  if (position.size < 0n) return floorDiv((k - 2n) * ONE * PPM, -position.size * (PPM + rate));
  return rate < PPM ? ceilDiv((2n - k) * ONE * PPM, position.size * (PPM - rate)) : undefined;
};

const fingerprint = (pool: ActivePool): string =>
  pool.markets.values().map((m) => `${m.marketId} ${m.fundingIndex} ${m.maintenanceMarginPpm}`).sort().join('\n');

class LiquidatableIndex {
  private readonly accounts = new HeldVersion<PersistentMap<string, Account>>();
  private markets = '';
  private readonly byMarket = new Map<string, MarketIndex>();
  /** Accounts with positions that no safe mark covers: confirmed at every query. */
  private readonly always = new Set<string>();
  private readonly slotOf = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly keys: bigint[] = [];
  /** The market index a slot is in. */
  private readonly homes: (MarketIndex | undefined)[] = [];
  private readonly free: number[] = [];

  sync(pool: ActivePool): void {
    const before = this.accounts.get();
    if (before === pool.accounts && fingerprint(pool) === this.markets) return;
    const changed = before === undefined || fingerprint(pool) !== this.markets ? undefined : pool.accounts.keysChangedSince(before, Math.max(64, this.slotOf.size));
    if (changed === undefined) {
      this.markets = fingerprint(pool);
      this.byMarket.clear();
      this.always.clear();
      this.slotOf.clear();
      this.ids.length = 0;
      this.keys.length = 0;
      this.homes.length = 0;
      this.free.length = 0;
      for (const account of pool.accounts.values()) this.place(pool, account.accountId, account);
    } else for (const accountId of changed) this.place(pool, accountId, pool.accounts.get(accountId));
    this.accounts.set(pool.accounts);
  }

  /** Accounts that may be liquidatable at the pool's marks (a superset of those that are). */
  candidates(pool: ActivePool): string[] {
    const out = [...this.always];
    for (const [marketId, index] of this.byMarket) {
      const mark = pool.markets.get(marketId)!.mark;
      const visit = (slot: number) => out.push(this.ids[slot]!);
      index.longs.eachReaching((safe) => safe > mark, visit);
      index.shorts.eachReaching((negatedSafe) => negatedSafe > -mark, visit);
    }
    return out;
  }

  private marketIndex(marketId: string): MarketIndex {
    let index = this.byMarket.get(marketId);
    if (index === undefined) {
      index = { longs: new SlotHeap((slot) => this.keys[slot]!), shorts: new SlotHeap((slot) => this.keys[slot]!) };
      this.byMarket.set(marketId, index);
    }
    return index;
  }

  private place(pool: ActivePool, accountId: string, account: Account | undefined): void {
    const old = this.slotOf.get(accountId);
    if (old !== undefined) {
      this.homes[old]!.longs.remove(old);
      this.homes[old]!.shorts.remove(old);
      this.slotOf.delete(accountId);
      this.free.push(old);
    }
    this.always.delete(accountId);
    if (account === undefined || account.positions.length === 0) return;
    const market = account.positions.length === 1 ? pool.markets.get(account.positions[0]!.marketId) : undefined;
    const safe = market === undefined ? undefined : safeMark(account, market);
    if (safe === undefined) {
      this.always.add(accountId);
      return;
    }
    const slot = this.free.pop() ?? this.ids.length;
    const index = this.marketIndex(market!.marketId);
    const long = account.positions[0]!.size > 0n;
    this.slotOf.set(accountId, slot);
    this.ids[slot] = accountId;
    this.keys[slot] = long ? safe : -safe;
    this.homes[slot] = index;
    (long ? index.longs : index.shorts).push(slot);
  }
}

const indexes = new Map<string, LiquidatableIndex>();

/** Accounts that have a position and equity below maintenance at current marks, by account id. */
export const liquidatableByIndex = (pool: ActivePool): string[] => {
  let index = indexes.get(pool.poolId);
  if (index === undefined) {
    index = new LiquidatableIndex();
    indexes.set(pool.poolId, index);
  }
  index.sync(pool);
  const markets = marketsOf(pool);
  return index.candidates(pool).filter((accountId) => isLiquidatable(pool.accounts.get(accountId)!, markets)).sort();
};
