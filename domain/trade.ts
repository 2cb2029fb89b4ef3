// How a trade changes one side's position (docs/design.md section 5, "Positions").
// The buyer pays size * price from its position account to the seller's; a side that reduces
// or flips then realizes PnL from its position account into its collateral.

import { abs, ceilDiv, notional, type Amount, type Price, type Size } from './money.js';
import type { Posting } from './events.js';
import type { Position } from './state.js';

export interface Leg {
  readonly accountId: string;
  /** Signed change of this side's position. */
  readonly delta: Size;
}

/** Whether the change only makes the position smaller, without flipping it. */
export const onlyReduces = (before: Size, delta: Size): boolean =>
  before !== 0n && (before > 0n) !== (delta > 0n) && abs(delta) <= abs(before);

/**
 * PnL realized when `delta` (at `price`) reduces a position, rounded down so that rounding never
 * favours the account: x = ceil(entryNotional * closed / size) of the basis is released,
 * and closed * price - x is realized. Zero when the trade opens or extends.
 */
export const realizedPnl = (position: Pick<Position, 'size' | 'entryNotional'>, delta: Size, price: Price): Amount => {
  const { size, entryNotional } = position;
  if (size === 0n || (size > 0n) === (delta > 0n)) return 0n;
  // Signed like the position: the trade's size when it only reduces, the whole position when it
  // flips. Closing it all releases exactly the entry notional (the division is exact).
  const closed = onlyReduces(size, delta) ? -delta : size;
  return notional(closed, price) - ceilDiv(entryNotional * closed, size);
};

/** The postings of one trade: the notional from buyer to seller, then each side's realized PnL. */
export const tradePostings = (
  marketId: string,
  buyer: string,
  seller: string,
  size: Size,
  price: Price,
  realized: ReadonlyArray<{ readonly accountId: string; readonly amount: Amount }>,
): Posting[] => {
  const positionOf = (accountId: string) => ({ kind: 'position', accountId, marketId } as const);
  const collateralOf = (accountId: string) => ({ kind: 'collateral', accountId } as const);
  const postings: Posting[] = [{ from: positionOf(buyer), to: positionOf(seller), amount: notional(size, price) }];
  for (const { accountId, amount } of realized) {
    if (amount > 0n) postings.push({ from: positionOf(accountId), to: collateralOf(accountId), amount });
    else if (amount < 0n) postings.push({ from: collateralOf(accountId), to: positionOf(accountId), amount: -amount });
  }
  return postings;
};
