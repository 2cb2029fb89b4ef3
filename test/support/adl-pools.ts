// Pools built directly for the ADL ranking properties (the figures can be anything the arithmetic
// allows), and the reference they are checked against: exact figures of every position on a side,
// sorted by cross-multiplied scores, ties by account id, written out here without the code it checks.

import {
  abs, floorDiv, ONE, PersistentMap, PersistentSet, unsettledFunding,
  type Account, type ActivePool, type Market, type Position, type RankedPosition,
} from '../../domain/index.js';

export const BTC = 'BTC';
export const ETH = 'ETH';

interface Figures { readonly accountId: string; readonly size: bigint; readonly u: bigint; readonly n: bigint; readonly b: bigint; readonly e: bigint }

/** The reference: exact figures of every position on the side, fully sorted. */
export const referenceRanking = (pool: ActivePool, marketId: string, side: 'long' | 'short'): string[] => {
  const figures: Figures[] = [];
  for (const account of pool.accounts.values()) {
    let e = account.collateral;
    let mine: Position | undefined;
    for (const p of account.positions) {
      const market = pool.markets.get(p.marketId)!;
      e += floorDiv(p.size * market.mark, ONE) - p.entryNotional + unsettledFunding(p, market);
      if (p.marketId === marketId) mine = p;
    }
    if (mine === undefined || (mine.size > 0n) !== (side === 'long')) continue;
    const value = floorDiv(mine.size * pool.markets.get(marketId)!.mark, ONE);
    figures.push({ accountId: account.accountId, size: mine.size, u: value - mine.entryNotional, n: abs(value), b: abs(mine.entryNotional), e });
  }
  const ranks = (f: Figures) => f.e > 0n && f.b > 0n;
  figures.sort((a, b) => {
    if (ranks(a) !== ranks(b)) return ranks(a) ? -1 : 1;
    if (ranks(a)) {
      const left = a.u * a.n * b.b * b.e;
      const right = b.u * b.n * a.b * a.e;
      if (left !== right) return left > right ? -1 : 1;
    }
    return a.accountId < b.accountId ? -1 : 1;
  });
  return figures.map((f) => [f.accountId, f.size, f.u, f.n, f.b, f.e].join(' '));
};

export const summary = (ranking: Iterable<RankedPosition>): string[] =>
  [...ranking].map((p) => [p.accountId, p.size, p.unrealizedPnl, p.notional, p.basis, p.equity].join(' '));

export const prefix = (ranking: Iterable<RankedPosition>, length: number): string[] => {
  const out: RankedPosition[] = [];
  for (const p of ranking) {
    if (out.length === length) break;
    out.push(p);
  }
  return summary(out);
};

export const market = (marketId: string, mark: bigint, fundingIndex: bigint): Market => ({ marketId, mark, fundingIndex }) as unknown as Market;

export const holdersOf = (accounts: PersistentMap<string, Account>, marketId: string): PersistentSet<string> => {
  let set = PersistentSet.empty<string>();
  for (const a of accounts.values()) if (a.positions.some((p) => p.marketId === marketId)) set = set.add(a.accountId);
  return set;
};

let poolCounter = 0;
/** A pool of these accounts in BTC and ETH; `label` names it (the ADL caches are per pool id, so each pool gets a new one). */
export const poolOf = (accounts: Account[], btc: Market, eth: Market, label: string): ActivePool => {
  const map = PersistentMap.of(accounts.map((a) => [a.accountId, a] as const));
  return {
    status: 'active', poolId: `${label}-${++poolCounter}`,
    markets: PersistentMap.of([[BTC, btc], [ETH, eth]]),
    accounts: map,
    positionHolders: PersistentMap.of([[BTC, holdersOf(map, BTC)], [ETH, holdersOf(map, ETH)]]),
    markEpoch: 0,
  } as unknown as ActivePool;
};
