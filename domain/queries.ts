// Pure read-only questions about a pool's state.

import { isLiquidatable } from './margin.js';
import { marketsOf } from './decide.js';
import type { PoolState } from './state.js';

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
