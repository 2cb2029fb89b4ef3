// The state of one clearing pool: the aggregate behind stream `pool-<poolId>`.
// Large collections are persistent maps (structurally shared), so an event costs
// O(what it touches), and every earlier state stays valid after `evolve`.

import type { PersistentMap, PersistentSet } from './persistent-map.js';
import type { AdlPolicy, FeeShareParams, Governors } from './commands.js';
import { notional, type Amount, type Ppm, type Price, type Size } from './money.js';

export interface Position {
  readonly marketId: string;
  /** Signed: positive long, negative short. Never zero in state. */
  readonly size: Size;
  /** Signed sum of size * price paid for the open size. */
  readonly entryNotional: Amount;
  /**
   * The market's cumulative funding index the position has settled up to; absent means 0 (the
   * key is left out then, so positions that never saw funding look as they always did).
   */
  readonly fundingIndex?: Amount;
}

/** The funding index a position has settled up to. */
export const settledIndexOf = (position: Pick<Position, 'fundingIndex'>): Amount => position.fundingIndex ?? 0n;

/** A position with its settled funding index (the key only when it is not zero). */
export const withSettledIndex = <P extends Omit<Position, 'fundingIndex'>>(position: P, index: Amount): P & Pick<Position, 'fundingIndex'> => {
  const { fundingIndex: _old, ...rest } = position as P & Pick<Position, 'fundingIndex'>;
  return (index === 0n ? rest : { ...rest, fundingIndex: index }) as P & Pick<Position, 'fundingIndex'>;
};

/** One draw of a market's liquidations on the fund, kept while it counts against a cap window. */
export interface FundDrawRecord {
  readonly at: number;
  readonly amount: Amount;
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
  /** A liquidator's price may lie at most this far (ppm of the mark) on the pool's side of the mark. */
  readonly maxLiquidationSpreadPpm: Ppm;
  /** One mark update may move the mark by at most this much (ppm of the current mark). */
  readonly maxMarkMovePpm: Ppm;
  readonly mark: Price;
  /** Sum of long sizes (equal to the sum of short sizes): open interest in base units. */
  readonly longSize: Size;
  /** longSize at mark, in ledger units; kept in step with every trade and mark. */
  readonly openInterest: Amount;
  /** The largest |rate| one funding update may apply. */
  readonly maxFundingRatePpm: Ppm;
  /**
   * Cumulative funding per unit of size, in ledger units: what a long held since the start has
   * paid (a short received). Always a multiple of 10^sizeDecimals, so that every position's
   * funding, size * index / 1e18, is a whole number of ledger units.
   */
  readonly fundingIndex: Amount;
  /** The market's funding clearing account: always the sum of its positions' unsettled funding. */
  readonly fundingBalance: Amount;
  /** The most this market's liquidations may draw from the fund (none: no cap). */
  readonly fundDrawCap?: Amount;
  /** 0: the cap counts every draw; above 0: only draws within the last fundDrawWindowMs. */
  readonly fundDrawWindowMs: number;
  /** Everything the market's liquidations have drawn from the fund. */
  readonly fundDrawnTotal: Amount;
  /** With a window: the draws recorded within it (pruned at every draw). */
  readonly recentFundDraws: ReadonlyArray<FundDrawRecord>;
}

export interface StakeHolding {
  /** Free shares (not locked in an unstake request), 18-decimal units. */
  readonly shares: bigint;
  /** The tranche epoch the shares belong to; shares of an earlier epoch were written off. */
  readonly epoch: number;
}

export interface Tranche {
  readonly trancheId: string;
  readonly incomeWeight: number;
  readonly assets: Amount;
  /** Shares outstanding (free and locked in requests), 18-decimal units like amounts. */
  readonly shares: bigint;
  /** Starts at 0 and grows by one each time a draw takes the tranche to zero and writes its shares off. */
  readonly epoch: number;
  readonly stakes: PersistentMap<string, StakeHolding>;
}

export interface UnstakeRequest {
  readonly requestId: string;
  readonly stakerId: string;
  readonly trancheId: string;
  readonly shares: bigint;
  /** Value of the shares when requested: the most the request can pay. */
  readonly value: Amount;
  readonly epoch: number;
  readonly requestedAt: number;
  readonly availableAt: number;
}

/** The staker id under which shares minted to the protocol (recapitalization, unowned assets) are held. */
export const PROTOCOL_STAKER = 'protocol';

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
  /** The last accepted governance command's sequence number (0: only the pool's creation). */
  readonly governanceSeq: number;
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
  /** Sum of the markets' open interest at mark: the denominator of fund coverage. */
  readonly openInterest: Amount;
  readonly unstakeRequests: PersistentMap<string, UnstakeRequest>;
  /** Per market, the accounts holding a position in it: where ADL looks for counterparties. */
  readonly positionHolders: PersistentMap<string, PersistentSet<string>>;
  /** Grows by one with every mark update: equity-dependent caches are valid within one epoch. */
  readonly markEpoch: number;
}

export type PoolState = UninitializedPool | ActivePool;

export const initialState: PoolState = { status: 'uninitialized' };

/** Look markets of the pool up by id (what margin arithmetic needs). */
export const marketsOf = (pool: { readonly markets: { get(marketId: string): Market | undefined } }) => (marketId: string): Market | undefined => pool.markets.get(marketId);

export const positionIn = (account: Pick<Account, 'positions'>, marketId: string): Position | undefined => {
  for (const p of account.positions) if (p.marketId === marketId) return p;
  return undefined;
};

export const emptyAccount = (accountId: string): Account => ({ accountId, collateral: 0n, positions: [] });

export const stakeOf = (tranche: Tranche, stakerId: string): bigint => {
  const holding = tranche.stakes.get(stakerId);
  return holding !== undefined && holding.epoch === tranche.epoch ? holding.shares : 0n;
};

export const trancheById = (pool: ActivePool, trancheId: string): Tranche | undefined => pool.tranches.find((t) => t.trancheId === trancheId);

export const fundAssets = (pool: Pick<ActivePool, 'tranches'>): Amount => {
  let total = 0n;
  for (const tranche of pool.tranches) total += tranche.assets;
  return total;
};

/** What a market's liquidations have drawn within its cap window at `now` (or in total without a window). */
export const fundDrawnInWindow = (market: Market, now: number): Amount => {
  if (market.fundDrawWindowMs === 0) return market.fundDrawnTotal;
  let drawn = 0n;
  for (const draw of market.recentFundDraws) if (draw.at > now - market.fundDrawWindowMs) drawn += draw.amount;
  return drawn;
};

/** What a market's liquidations may still draw from the fund at `now` (undefined: no cap). */
export const fundCapRemaining = (market: Market, now: number): Amount | undefined => {
  if (market.fundDrawCap === undefined) return undefined;
  const left = market.fundDrawCap - fundDrawnInWindow(market, now);
  return left > 0n ? left : 0n;
};

/** A market with a new long size or mark, its open interest recomputed from them. */
export const withOpenInterest = (market: Market, longSize: Size, mark: Price): Market => ({
  ...market, longSize, mark, openInterest: notional(longSize, mark),
});
