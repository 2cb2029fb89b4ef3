// Pure read-only questions about a pool's state.

import { isLiquidatable, marginOf, unrealizedPnl } from './margin.js';
import { fundFeeShare } from './fees.js';
import { formatDecimal } from './money.js';
import { fundAssets, marketsOf, type PoolState } from './state.js';

/** Accounts that have a position and equity below maintenance at current marks, by account id. */
export const liquidatableAccounts = (state: PoolState): string[] => {
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
