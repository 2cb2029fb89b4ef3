// Funding (DESIGN section 5, "Funding"). Each market keeps a cumulative funding index: what one
// unit of size held long since the listing has paid, in ledger units. A funding update moves the
// index only (O(1), however many positions there are); each position realizes its funding when it
// is next touched (a trade, a liquidation, its owner's withdrawal or stake, or SettleFunding), and
// until then its unsettled funding counts in the account's equity.
//
// Exactness: the index moves in multiples of the market's quantum 10^sizeDecimals ledger units
// (rate * mark rounded toward zero to it), and sizes are whole lots of 10^(18 - sizeDecimals), so
// every position's funding size * index / 1e18 is a whole number of ledger units. Nothing is
// rounded per position: what longs pay is exactly what shorts receive, and there is no residual.
// Settlement moves value between the account's collateral and the market's funding clearing
// account, whose balance is therefore always the sum of unsettled funding.

import * as E from 'fp-ts/lib/Either.js';
import { SCHEMA_VERSION, type ApplyFunding, type SettleFunding } from './commands.js';
import { fail, knownAccount, knownMarket, ok, type Decision } from './decision.js';
import { domainError } from './errors.js';
import type { Event, FundingRateApplied, FundingSettled, FundingSettlement, Posting } from './events.js';
import { evolveAll } from './evolve.js';
import { unsettledFunding } from './margin.js';
import { abs, PPM, pow10, type Amount, type Price } from './money.js';
import { settledIndexOf, type Account, type ActivePool, type Market } from './state.js';

/** rate * mark / 1e6 per unit of size, toward zero to a multiple of 10^sizeDecimals. */
export const fundingIndexDelta = (market: Pick<Market, 'sizeDecimals'>, mark: Price, ratePpm: number): Amount => {
  const quantum = pow10(market.sizeDecimals);
  const exact = (mark * BigInt(ratePpm)) / PPM; // bigint division truncates toward zero
  return (exact / quantum) * quantum;
};

export const applyFunding = (command: ApplyFunding, pool: ActivePool): Decision => {
  const found = knownMarket(pool, command.marketId);
  if (E.isLeft(found)) return found;
  const market = found.right;
  if (abs(BigInt(command.fundingRatePpm)) > BigInt(market.maxFundingRatePpm)) {
    return E.left(domainError('FUNDING_RATE_OUT_OF_BAND',
      `funding rate ${command.fundingRatePpm} ppm exceeds the market's bound of ${market.maxFundingRatePpm} ppm`, 'fundingRatePpm'));
  }
  const indexDelta = fundingIndexDelta(market, market.mark, command.fundingRatePpm);
  return ok({
    type: 'FundingRateApplied', schemaVersion: SCHEMA_VERSION, marketId: market.marketId, fundingRatePpm: command.fundingRatePpm,
    mark: market.mark, indexDelta, fundingIndex: market.fundingIndex + indexDelta,
  } satisfies FundingRateApplied);
};

/**
 * The event that settles an account's funding in every market where it has some outstanding
 * (undefined when there is none). `only` limits it to one market.
 */
export const fundingSettlement = (pool: ActivePool, account: Account | undefined, only?: string): FundingSettled | undefined => {
  if (account === undefined) return undefined;
  const settlements: FundingSettlement[] = [];
  const postings: Posting[] = [];
  for (const position of account.positions) {
    if (only !== undefined && position.marketId !== only) continue;
    const market = pool.markets.get(position.marketId);
    if (market === undefined || market.fundingIndex === settledIndexOf(position)) continue;
    const amount = unsettledFunding(position, market);
    settlements.push({ marketId: market.marketId, size: position.size, fundingIndex: market.fundingIndex, amount });
    const funding = { kind: 'funding', marketId: market.marketId } as const;
    const collateral = { kind: 'collateral', accountId: account.accountId } as const;
    if (amount > 0n) postings.push({ from: funding, to: collateral, amount });
    else if (amount < 0n) postings.push({ from: collateral, to: funding, amount: -amount });
  }
  if (settlements.length === 0) return undefined;
  return { type: 'FundingSettled', schemaVersion: SCHEMA_VERSION, accountId: account.accountId, settlements, postings };
};

/** Settlement events for these accounts (each once, in the order given), and the pool after them. */
export const settleAccounts = (pool: ActivePool, accountIds: ReadonlyArray<string>): { events: FundingSettled[]; pool: ActivePool } => {
  const events: FundingSettled[] = [];
  for (const accountId of new Set(accountIds)) {
    const event = fundingSettlement(pool, pool.accounts.get(accountId));
    if (event !== undefined) events.push(event);
  }
  if (events.length === 0) return { events, pool };
  return { events, pool: evolveAll(pool, events) as ActivePool };
};

/**
 * Run a decision on the pool after the touched accounts' funding is settled, with the settlements
 * first among its events. Settling does not change equity, so every check is the same either way.
 */
export const afterSettling = (pool: ActivePool, accountIds: ReadonlyArray<string>, decideOn: (settled: ActivePool) => Decision): Decision => {
  const settled = settleAccounts(pool, accountIds);
  if (settled.events.length === 0) return decideOn(pool);
  return E.map((events: ReadonlyArray<Event>) => [...settled.events, ...events])(decideOn(settled.pool));
};

export const settleFunding = (command: SettleFunding, pool: ActivePool): Decision => {
  const found = knownAccount(pool, command.accountId, 'accountId');
  if (E.isLeft(found)) return found;
  const event = fundingSettlement(pool, found.right);
  return event === undefined
    ? fail('NO_UNSETTLED_FUNDING', `account "${command.accountId}" has no unsettled funding`, 'accountId')
    : ok(event);
};
