// Cross-margin arithmetic for one account at current marks (docs/design.md section 5).
//   uPnL(mark)  = size * mark - entryNotional
//   funding     = -size * (market fundingIndex - position fundingIndex) / 1e18, unsettled (exact)
//   equity      = collateral + sum (uPnL + funding)
//   maintenance = sum ceil(|size * mark| * mmrPpm / 1e6); initial likewise with imrPpm
// The cost is O(positions of the account), never O(accounts).

import { ceilDiv, floorDiv, notional, ONE, PPM, type Amount } from './money.js';
import { settledIndexOf, type Account, type Market, type Position } from './state.js';

export type MarketLookup = (marketId: string) => Market | undefined;

export type Requirement = 'initial' | 'maintenance';

export interface MarginSummary {
  readonly equity: Amount;
  readonly requirement: Amount;
}

export const unrealizedPnl = (position: Position, mark: bigint): Amount => notional(position.size, mark) - position.entryNotional;

/**
 * The funding a position has accrued and not settled: received when positive, owed when negative.
 * Exact: the index only moves in multiples of 10^sizeDecimals and sizes are whole lots of
 * 10^(18 - sizeDecimals), so the product is a multiple of 1e18.
 */
export const unsettledFunding = (position: Pick<Position, 'size' | 'fundingIndex'>, market: Pick<Market, 'fundingIndex'>): Amount =>
  market.fundingIndex === settledIndexOf(position) ? 0n : floorDiv(-position.size * (market.fundingIndex - settledIndexOf(position)), ONE);

const rateOf = (market: Market, requirement: Requirement): bigint =>
  BigInt(requirement === 'initial' ? market.initialMarginPpm : market.maintenanceMarginPpm);

/** Equity and one margin requirement of an account, in one pass over its positions. */
export const marginOf = (
  account: Pick<Account, 'collateral' | 'positions'>,
  markets: MarketLookup,
  requirement: Requirement,
): MarginSummary => {
  let equity = account.collateral;
  let required = 0n;
  for (const position of account.positions) {
    const market = markets(position.marketId);
    // A position in a market the pool does not know cannot arise from `decide`; it has no mark, so
    // it is valued at its basis (uPnL 0) rather than inventing a price.
    if (market === undefined) continue;
    const value = position.size * market.mark;
    equity += floorDiv(value, ONE) - position.entryNotional + unsettledFunding(position, market);
    required += ceilDiv((value < 0n ? -value : value) * rateOf(market, requirement), ONE * PPM);
  }
  return { equity, requirement: required };
};

export const equityOf = (account: Pick<Account, 'collateral' | 'positions'>, markets: MarketLookup): Amount =>
  marginOf(account, markets, 'maintenance').equity;

/** Liquidatable iff the account has a position and equity < maintenance. */
export const isLiquidatable = (account: Pick<Account, 'collateral' | 'positions'>, markets: MarketLookup): boolean => {
  if (account.positions.length === 0) return false;
  const { equity, requirement } = marginOf(account, markets, 'maintenance');
  return equity < requirement;
};
