// The state of one clearing pool: the aggregate behind stream `pool-<poolId>`.
// Large collections are persistent maps (structurally shared), so an event costs
// O(what it touches), and every earlier state stays valid after `evolve`.

import type { PersistentMap, PersistentSet } from './persistent-map.js';
import type { AdlPolicy, FeeShareParams, Governors } from './commands.js';
import type { Amount, Ppm, Price, Size } from './money.js';

export interface Position {
  readonly marketId: string;
  /** Signed: positive long, negative short. Never zero in state. */
  readonly size: Size;
  /** Signed sum of size * price paid for the open size. */
  readonly entryNotional: Amount;
}

export interface Account {
  readonly accountId: string;
  readonly collateral: Amount;
  /** At most one per market, in the order they were opened. */
  readonly positions: ReadonlyArray<Position>;
}

export interface Market {
  readonly marketId: string;
  readonly sizeDecimals: number;
  readonly priceDecimals: number;
  readonly initialMarginPpm: Ppm;
  readonly maintenanceMarginPpm: Ppm;
  readonly takerFeePpm: Ppm;
  readonly makerFeePpm: Ppm;
  readonly liquidationPenaltyPpm: Ppm;
  readonly penaltyFundSharePpm: Ppm;
  readonly adlPolicy: AdlPolicy;
  readonly mark: Price;
  /** Sum of long sizes (equal to the sum of short sizes): open interest in base units. */
  readonly longSize: Size;
}

export interface Tranche {
  readonly trancheId: string;
  readonly incomeWeight: number;
  readonly assets: Amount;
  readonly shares: bigint;
}

export interface UninitializedPool {
  readonly status: 'uninitialized';
}

export interface ActivePool {
  readonly status: 'active';
  readonly poolId: string;
  readonly quoteAsset: string;
  readonly quoteDecimals: number;
  readonly feeShare: FeeShareParams;
  readonly unstakeCooldownMs: number;
  readonly governors: Governors;
  readonly markets: PersistentMap<string, Market>;
  readonly accounts: PersistentMap<string, Account>;
  /** Junior first, senior last. */
  readonly tranches: ReadonlyArray<Tranche>;
  readonly treasury: Amount;
  /** Value that came into the pool from outside (deposits) and left it (withdrawals). */
  readonly externalIn: Amount;
  readonly externalOut: Amount;
  /** Loss that neither the fund, ADL nor socialization could cover. */
  readonly badDebt: Amount;
  readonly tradeIds: PersistentSet<string>;
}

export type PoolState = UninitializedPool | ActivePool;

export const initialState: PoolState = { status: 'uninitialized' };

export const positionIn = (account: Pick<Account, 'positions'>, marketId: string): Position | undefined => {
  for (const p of account.positions) if (p.marketId === marketId) return p;
  return undefined;
};

export const emptyAccount = (accountId: string): Account => ({ accountId, collateral: 0n, positions: [] });

export const fundAssets = (pool: ActivePool): Amount => pool.tranches.reduce((sum, t) => sum + t.assets, 0n);
