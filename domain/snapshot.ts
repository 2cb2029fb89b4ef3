// A canonical plain-JSON form of a pool's state: persistent maps become arrays sorted by id,
// bigints decimal strings. Two states are the same iff their canonical forms are byte-identical,
// which is how replays are compared with live state.

import { formatDecimal } from './money.js';
import type { PoolState } from './state.js';

const byId = <T>(entries: Iterable<[string, T]>): [string, T][] => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const canonicalState = (state: PoolState): unknown => {
  if (state.status !== 'active') return { status: state.status };
  return {
    status: state.status,
    poolId: state.poolId,
    quoteAsset: state.quoteAsset,
    quoteDecimals: state.quoteDecimals,
    feeShare: state.feeShare,
    unstakeCooldownMs: state.unstakeCooldownMs,
    governors: state.governors,
    treasury: formatDecimal(state.treasury),
    externalIn: formatDecimal(state.externalIn),
    externalOut: formatDecimal(state.externalOut),
    badDebt: formatDecimal(state.badDebt),
    openInterest: formatDecimal(state.openInterest),
    tranches: state.tranches.map((t) => ({
      trancheId: t.trancheId,
      incomeWeight: t.incomeWeight,
      assets: formatDecimal(t.assets),
      shares: formatDecimal(t.shares),
      epoch: t.epoch,
      stakes: byId(t.stakes.entries()).map(([stakerId, s]) => ({ stakerId, shares: formatDecimal(s.shares), epoch: s.epoch })),
    })),
    unstakeRequests: byId(state.unstakeRequests.entries()).map(([, r]) => ({ ...r, shares: formatDecimal(r.shares), value: formatDecimal(r.value) })),
    positionHolders: byId(state.positionHolders.entries()).map(([marketId, holders]) => ({ marketId, accounts: holders.values().sort() })),
    markEpoch: state.markEpoch,
    markets: byId(state.markets.entries()).map(([, m]) => ({ ...m, mark: formatDecimal(m.mark), longSize: formatDecimal(m.longSize), openInterest: formatDecimal(m.openInterest) })),
    accounts: byId(state.accounts.entries()).map(([, a]) => ({
      accountId: a.accountId,
      collateral: formatDecimal(a.collateral),
      positions: a.positions.map((p) => ({ marketId: p.marketId, size: formatDecimal(p.size), entryNotional: formatDecimal(p.entryNotional) })),
    })),
    tradeIds: state.tradeIds.values().sort(),
  };
};

export const canonicalStateJson = (state: PoolState): string => JSON.stringify(canonicalState(state));
