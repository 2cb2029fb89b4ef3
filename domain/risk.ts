// Accounts nearest liquidation: the risk desk's watch list at current marks.

import { isLiquidatable, marginOf } from './margin.js';
import { floorDiv, formatDecimal, PPM } from './money.js';
import { marketsOf, type ActivePool } from './state.js';

export interface AccountAtRisk {
  readonly accountId: string;
  readonly equity: string;
  readonly maintenanceMargin: string;
  /** equity / maintenance in ppm, rounded down (below 1000000: liquidatable), as a decimal string. */
  readonly marginRatioPpm: string;
  readonly liquidatable: boolean;
  readonly positions: number;
}

/**
 * The `limit` accounts with positions whose equity is the smallest multiple of their maintenance
 * requirement, lowest first (compared exactly by cross-multiplying; ties by account id).
 */
export const accountsAtRisk = (pool: ActivePool, limit: number): AccountAtRisk[] => {
  const markets = marketsOf(pool);
  type Entry = { readonly id: string; readonly equity: bigint; readonly maintenance: bigint };
  const before = (a: Entry, b: Entry) => {
    const left = a.equity * b.maintenance;
    const right = b.equity * a.maintenance;
    return left < right || (left === right && a.id < b.id);
  };
  // The `limit` lowest so far, kept sorted (limit is small against the number of accounts).
  const lowest: Entry[] = [];
  for (const account of pool.accounts.values()) {
    if (account.positions.length === 0) continue;
    const { equity, requirement } = marginOf(account, markets, 'maintenance');
    if (requirement <= 0n) continue;
    const entry = { id: account.accountId, equity, maintenance: requirement };
    if (lowest.length === limit && !before(entry, lowest[limit - 1]!)) continue;
    let i = lowest.length;
    while (i > 0 && before(entry, lowest[i - 1]!)) i--;
    lowest.splice(i, 0, entry);
    if (lowest.length > limit) lowest.pop();
  }
  return lowest.map((e) => {
    const account = pool.accounts.get(e.id)!;
    return {
      accountId: e.id,
      equity: formatDecimal(e.equity),
      maintenanceMargin: formatDecimal(e.maintenance),
      marginRatioPpm: floorDiv(e.equity * PPM, e.maintenance).toString(),
      liquidatable: isLiquidatable(account, markets),
      positions: account.positions.length,
    };
  });
};
