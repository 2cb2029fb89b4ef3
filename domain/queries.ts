// Pure read-only questions about a pool's state.

import { adlQueue } from './adl.js';
import { liquidatableByIndex } from './liquidatable.js';
import { isLiquidatable, marginOf, unrealizedPnl } from './margin.js';
import { fundFeeShare } from './fees.js';
import { formatDecimal, PPM } from './money.js';
import { fundAssets, marketsOf, type Account, type ActivePool, type PoolState } from './state.js';

/**
 * Accounts that have a position and equity below maintenance at current marks, by account id
 * (from an index of the marks at which accounts become liquidatable: no scan of the whole pool).
 */
export const liquidatableAccounts = (state: PoolState): string[] => (state.status === 'active' ? liquidatableByIndex(state) : []);

/** The same by valuing every account: the reference the index must always equal. */
export const liquidatableAccountsScanned = (state: PoolState): string[] => {
  if (state.status !== 'active') return [];
  const markets = marketsOf(state);
  const result: string[] = [];
  for (const account of state.accounts.values()) {
    if (isLiquidatable(account, markets)) result.push(account.accountId);
  }
  return result.sort();
};

export interface PositionView {
  readonly marketId: string;
  readonly size: string;
  readonly entryNotional: string;
  readonly unrealizedPnl: string;
}

export interface AccountView {
  readonly accountId: string;
  readonly collateral: string;
  readonly equity: string;
  readonly initialMargin: string;
  readonly maintenanceMargin: string;
  readonly liquidatable: boolean;
  readonly positions: ReadonlyArray<PositionView>;
}

export interface PoolView {
  readonly poolId: string;
  readonly quoteAsset: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: string; readonly shares: string }>;
  readonly fundAssets: string;
  readonly treasury: string;
  readonly openInterest: string;
  readonly fundFeeSharePpm: number;
  readonly badDebt: string;
  readonly markets: ReadonlyArray<{ readonly marketId: string; readonly mark: string; readonly longSize: string }>;
  readonly accounts: ReadonlyArray<AccountView>;
}

/** A plain, JSON-ready view of the whole pool at current marks (amounts as decimal strings). */
export const poolView = (state: PoolState): PoolView | undefined => {
  if (state.status !== 'active') return undefined;
  const markets = marketsOf(state);
  const byId = <K extends string>(key: K) => <T extends Readonly<Record<K, string>>>(a: T, b: T) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0);
  return {
    poolId: state.poolId,
    quoteAsset: state.quoteAsset,
    tranches: state.tranches.map((t) => ({ trancheId: t.trancheId, assets: formatDecimal(t.assets), shares: formatDecimal(t.shares) })),
    fundAssets: formatDecimal(fundAssets(state)),
    treasury: formatDecimal(state.treasury),
    openInterest: formatDecimal(state.openInterest),
    fundFeeSharePpm: fundFeeShare(state),
    badDebt: formatDecimal(state.badDebt),
    markets: state.markets.values()
      .map((m) => ({ marketId: m.marketId, mark: formatDecimal(m.mark), longSize: formatDecimal(m.longSize) }))
      .sort(byId('marketId')),
    accounts: state.accounts.values().map((account): AccountView => {
      const initial = marginOf(account, markets, 'initial');
      const maintenance = marginOf(account, markets, 'maintenance');
      return {
        accountId: account.accountId,
        collateral: formatDecimal(account.collateral),
        equity: formatDecimal(initial.equity),
        initialMargin: formatDecimal(initial.requirement),
        maintenanceMargin: formatDecimal(maintenance.requirement),
        liquidatable: isLiquidatable(account, markets),
        positions: account.positions.map((p) => ({
          marketId: p.marketId,
          size: formatDecimal(p.size),
          entryNotional: formatDecimal(p.entryNotional),
          unrealizedPnl: formatDecimal(unrealizedPnl(p, markets(p.marketId)?.mark ?? 0n)),
        })),
      };
    }).sort(byId('accountId')),
  };
};

export interface AccountRisk {
  readonly accountId: string;
  readonly collateral: bigint;
  readonly equity: bigint;
  readonly maintenanceMargin: bigint;
  /** maintenance / equity in integer ppm; null when equity is not positive (past any ratio). */
  readonly marginRatioPpm: bigint | null;
  readonly liquidatable: boolean;
  readonly positions: number;
}

/** An account's margin figures at current marks. */
export const accountRisk = (pool: ActivePool, account: Account): AccountRisk => {
  const { equity, requirement } = marginOf(account, marketsOf(pool), 'maintenance');
  return {
    accountId: account.accountId, collateral: account.collateral, equity, maintenanceMargin: requirement,
    marginRatioPpm: equity > 0n ? (requirement * PPM) / equity : null,
    liquidatable: account.positions.length > 0 && equity < requirement,
    positions: account.positions.length,
  };
};

const byAccountId = (a: { readonly accountId: string }, b: { readonly accountId: string }) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0);

/**
 * Nearness to liquidation, nearest first: non-positive equity with a position, then the highest
 * maintenance / equity ratio; accounts without positions last. Ties by account id.
 */
export const compareNearestLiquidation = (a: AccountRisk, b: AccountRisk): number => {
  const exposure = (r: AccountRisk) => (r.positions === 0 ? 2 : r.marginRatioPpm === null ? 0 : 1);
  if (exposure(a) !== exposure(b)) return exposure(a) - exposure(b);
  if (a.marginRatioPpm !== null && b.marginRatioPpm !== null && a.marginRatioPpm !== b.marginRatioPpm) return a.marginRatioPpm > b.marginRatioPpm ? -1 : 1;
  return byAccountId(a, b);
};

/** Accounts holding a position, nearest liquidation first, at most `limit`. */
export const accountsAtRisk = (state: PoolState, limit: number): AccountRisk[] => {
  if (state.status !== 'active') return [];
  const risks: AccountRisk[] = [];
  for (const account of state.accounts.values()) if (account.positions.length > 0) risks.push(accountRisk(state, account));
  return risks.sort(compareNearestLiquidation).slice(0, limit);
};

/** Each account's best (lowest) ADL rank across the markets it holds; ineligible positions have none. */
export const bestAdlRanks = (pool: ActivePool): Map<string, number> => {
  const best = new Map<string, number>();
  for (const market of pool.markets.values()) {
    const queue = adlQueue(pool, market.marketId);
    for (const entry of [...queue.long, ...queue.short]) {
      const current = best.get(entry.accountId);
      if (entry.rank !== null && (current === undefined || entry.rank < current)) best.set(entry.accountId, entry.rank);
    }
  }
  return best;
};

export type AccountSort = 'marginRatio' | 'equity' | 'adlRank';

/**
 * Every account of the pool in the order asked: marginRatio (nearest liquidation first), equity
 * (largest first) or adlRank (deleveraged first; accounts without an eligible position last).
 */
export const sortedAccounts = (state: PoolState, sort: AccountSort): Array<AccountRisk & { readonly adlRank: number | null }> => {
  if (state.status !== 'active') return [];
  const ranks = bestAdlRanks(state);
  const rows = state.accounts.values().map((account) => ({ ...accountRisk(state, account), adlRank: ranks.get(account.accountId) ?? null }));
  switch (sort) {
    case 'marginRatio':
      return rows.sort(compareNearestLiquidation);
    case 'equity':
      return rows.sort((a, b) => (a.equity !== b.equity ? (a.equity > b.equity ? -1 : 1) : byAccountId(a, b)));
    case 'adlRank':
      return rows.sort((a, b) => (a.adlRank !== b.adlRank ? (a.adlRank === null ? 1 : b.adlRank === null ? -1 : a.adlRank - b.adlRank) : byAccountId(a, b)));
    default: {
      const unreachable: never = sort;
      return unreachable;
    }
  }
};
