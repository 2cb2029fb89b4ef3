// Liquidation and the loss waterfall (docs/design.md section 5, "Liquidation").
//
// The liquidator offers to take over the whole position q of a liquidatable account at `price`.
//   E    = the account's equity at marks; mm_q, mm_total its maintenance for q and in all
//   E_q  = ceil(E * mm_q / mm_total)         the position's share of equity
//   S(p) = E_q + q * (p - mark)              what closing q at p leaves of that share
//   p_b  = mark - E_q / q                    the bankruptcy price, where S = 0
// S(price) >= 0: the liquidator takes all of q at price and earns the penalty (its fund share
// to the tranches). S(price) < 0: deficit D = -S runs down the waterfall:
//   fund draw     junior tranche first, each down to zero (written off at zero)
//   ADL           a = |q| * R / D, rounded up to whole lots, at p_b against opposite profitable
//                 positions, where R is what the fund could not cover; the liquidator takes the
//                 rest at price. (Rounding up, the fund may keep less than a lot's worth: rounding
//                 down would leave a sub-lot remainder to socialize over every account instead.)
//   socialized    haircuts pro rata over everyone else's positive collateral
//   bad debt      what is left; withdrawals stop until governance recapitalizes
// Each step is its own event, all in one append. The credits to the bankrupt account are booked
// first and the position is closed last: InsuranceFundDrawn, LossSocialized, BadDebtRecorded,
// PositionLiquidated, PositionsAutoDeleveraged. So even between the events of one liquidation no
// account is ever without a position and below zero (invariant 3 holds at every event).
// The bankrupt account ends with exactly E - E_q: the amount it is credited is computed from the
// postings themselves, so no rounding anywhere creates or destroys value.

import * as E from 'fp-ts/lib/Either.js';
import { SCHEMA_VERSION, type Liquidate } from './commands.js';
import { allocateAdl, type AdlAllocation, type RankedPosition } from './adl.js';
import { fail, knownAccount, knownMarket, precisionError, type Decision } from './decision.js';
import { domainError, type DomainError } from './errors.js';
import type { AdlFill, BadDebtRecorded, Event, InsuranceFundDrawn, LossSocialized, Posting, PositionLiquidated, PositionsAutoDeleveraged, TrancheDraw } from './events.js';
import { applyValueEvent } from './evolve.js';
import { fundIncomePostings } from './fees.js';
import { LedgerDraft } from './ledger.js';
import { afterSettling, fundingSettlement } from './funding.js';
import { marginOf, type MarketLookup } from './margin.js';
import {
  abs, ceilDiv, floorDiv, formatDecimal, largestRemainderSplit, min, notional, ONE, PPM, pow10, ppmOfNotionalCeil, sign,
  type Amount,
} from './money.js';
import { fundAssets, fundCapRemaining, marketsOf, positionIn, type ActivePool, type Market, type Position } from './state.js';
import { onlyReduces, realizedPnl, tradePostings } from './trade.js';

// Events are written out field by field, never spread from a small header object: V8 (Node 20)
// builds an object spread from a small one and then given more properties on a slow path, some
// microseconds each, which on a crash's tens of thousands of liquidations was a tenth of the
// time. The fields keep their order (the events' JSON is the same either way).

const collateral = (accountId: string) => ({ kind: 'collateral', accountId } as const);
const positionAccount = (accountId: string, marketId: string) => ({ kind: 'position', accountId, marketId } as const);

/** A signed amount paid from one ledger account to another, as a posting in the right direction. */
const pay = (from: Posting['from'], to: Posting['to'], amount: Amount): Posting[] =>
  amount > 0n ? [{ from, to, amount }] : amount < 0n ? [{ from: to, to: from, amount: -amount }] : [];

/**
 * PnL realized when a position closes `closed` (signed like the position) for a signed notional:
 * the basis released is rounded up so that realized PnL rounds down (as for trades).
 */
const realizedFor = (position: Pick<Position, 'size' | 'entryNotional'>, closed: bigint, closedNotional: Amount): Amount => {
  const released = closed === position.size ? position.entryNotional : ceilDiv(position.entryNotional * closed, position.size);
  return closedNotional - released;
};

/** The liquidator's part: the trade legs between account and liquidator for `size` at `price`. */
const takeoverPostings = (market: Market, accountId: string, before: Position, liquidatorId: string, liquidatorBefore: Pick<Position, 'size' | 'entryNotional'>, size: bigint, price: bigint): Posting[] => {
  if (size === 0n) return [];
  // The account sells a long to the liquidator, or buys a short back from it.
  const [buyer, seller] = size > 0n ? [liquidatorId, accountId] : [accountId, liquidatorId];
  return tradePostings(market.marketId, buyer, seller, abs(size), price, [
    { accountId, amount: realizedPnl(before, -size, price) },
    { accountId: liquidatorId, amount: realizedPnl(liquidatorBefore, size, price) },
  ]);
};

/**
 * size * p_b = size * mark - size * E_q / q for an ADL fill of `size` (unsigned), rounded against
 * the counterparty: up when it pays (the bankrupt account was long), down when it receives.
 */
export const adlFillNotional = (mark: bigint, q: bigint, equityShare: Amount, size: bigint): Amount => {
  const numerator = size * mark * q - size * equityShare * ONE;
  const denominator = ONE * q;
  return q > 0n ? ceilDiv(numerator, denominator) : floorDiv(numerator, denominator);
};

/**
 * ADL takes profit, it never makes a counterparty bankrupt: when the bankrupt account's equity
 * share is negative, p_b lies beyond the mark and closing there costs the counterparty more than
 * its position is worth at mark. A position qualifies only if its account keeps non-negative
 * equity even when the whole position is closed at p_b (a choice of this ledger; what ADL cannot
 * place goes on down the waterfall).
 */
export const survivesAdl = (mark: bigint, q: bigint, equityShare: Amount): ((position: RankedPosition) => boolean) => {
  // A certain pass without the exact figures: the fill and the value at the mark are each within
  // a unit of their exact quotients, whose difference is size * E_q / |q|, so the change below
  // exceeds size * E_q / |q| - 2, and equity + size * E_q / |q| >= 2 is enough. Checked in floats
  // with room for their error (relative 1e-15 here; 1e-12 allowed) and a few units more; a figure
  // beyond the float range gives NaN or Infinity, which never passes. Otherwise: exactly.
  const perUnit = Number(equityShare) / Math.abs(Number(q));
  return (position: RankedPosition): boolean => {
    const equity = Number(position.equity);
    const shift = Number(abs(position.size)) * perUnit;
    if (equity + shift - 1e-12 * (Math.abs(equity) + Math.abs(shift)) - 4 >= 0 && Number.isFinite(equity + shift)) return true;
    const size = abs(position.size);
    const fill = adlFillNotional(mark, q, equityShare, size);
    const atMark = notional(size, mark);
    // A short buys back (pays the fill for what is worth atMark); a long sells (gets the fill).
    const change = q > 0n ? atMark - fill : fill - atMark;
    return position.equity + change >= 0n;
  };
};

/**
 * The ADL fills at the bankruptcy price. The bankrupt account's side of every fill is exactly
 * what the counterparty pays or gets (adlFillNotional).
 */
const adlLegs = (
  market: Market,
  accountId: string,
  q: bigint,
  equityShare: Amount,
  fills: ReadonlyArray<AdlAllocation>,
  draft: LedgerDraft,
): { fills: AdlFill[]; postings: Posting[] } => {
  const out: AdlFill[] = [];
  const postings: Posting[] = [];
  let bankruptNotional = 0n;
  for (const fill of fills) {
    const fillNotional = adlFillNotional(market.mark, q, equityShare, fill.size);
    const counterpartyDelta = sign(q) * fill.size; // buys back a short when the account was long
    const counterparty = positionIn(draft.account(fill.accountId), market.marketId)!;
    // The buyer pays the notional into the seller's position account.
    postings.push(...(q > 0n
      ? pay(positionAccount(fill.accountId, market.marketId), positionAccount(accountId, market.marketId), fillNotional)
      : pay(positionAccount(accountId, market.marketId), positionAccount(fill.accountId, market.marketId), fillNotional)));
    const closed = -counterpartyDelta;
    postings.push(...pay(positionAccount(fill.accountId, market.marketId), collateral(fill.accountId), realizedFor(counterparty, closed, sign(closed) * fillNotional)));
    out.push({ accountId: fill.accountId, size: counterpartyDelta, notional: fillNotional });
    bankruptNotional += fillNotional;
  }
  // The bankrupt account closes what is left of its position against all fills together.
  const rest = positionIn(draft.account(accountId), market.marketId);
  if (rest !== undefined && out.length > 0) {
    postings.push(...pay(positionAccount(accountId, market.marketId), collateral(accountId), realizedFor(rest, rest.size, sign(rest.size) * bankruptNotional)));
  }
  return { fills: out, postings };
};

/** Draws `amount` from the tranches, junior first, each down to zero. */
const fundDraws = (pool: ActivePool, accountId: string, amount: Amount): { draws: TrancheDraw[]; postings: Posting[] } => {
  const draws: TrancheDraw[] = [];
  const postings: Posting[] = [];
  let left = amount;
  for (const tranche of pool.tranches) {
    if (left === 0n) break;
    const take = min(left, tranche.assets);
    if (take === 0n) continue;
    draws.push({ trancheId: tranche.trancheId, amount: take, writtenOff: take === tranche.assets });
    postings.push({ from: { kind: 'tranche', trancheId: tranche.trancheId }, to: collateral(accountId), amount: take });
    left -= take;
  }
  return { draws, postings };
};

/** Haircuts over every other account's positive collateral, pro rata, largest remainder (ties by id). */
const haircuts = (pool: ActivePool, draft: LedgerDraft, accountId: string, amount: Amount): { taken: Amount; postings: Posting[] } => {
  const payers: { key: string; weight: bigint }[] = [];
  let total = 0n;
  for (const other of pool.accounts.keys()) {
    if (other === accountId) continue;
    const balance = draft.collateralOf(other);
    if (balance > 0n) {
      payers.push({ key: other, weight: balance });
      total += balance;
    }
  }
  const taken = min(amount, total);
  const parts = taken === total ? payers.map((p) => p.weight) : largestRemainderSplit(taken, payers);
  const postings: Posting[] = [];
  payers.forEach((payer, i) => {
    const part = parts[i]!;
    if (part > 0n) postings.push({ from: collateral(payer.key), to: collateral(accountId), amount: part });
  });
  return { taken, postings };
};

/**
 * A liquidator's price must lie within the market's spread of the mark on the side that protects
 * the pool: a long (which the liquidator buys) at no less than mark * (1 - spread), a short at no
 * more than mark * (1 + spread). Compared exactly; the bound shown is rounded in the pool's favour.
 */
export const liquidationBandError = (market: Market, positionSize: bigint, price: bigint): DomainError | undefined => {
  const spread = BigInt(market.maxLiquidationSpreadPpm);
  const long = positionSize > 0n;
  const scaled = market.mark * (long ? PPM - spread : PPM + spread);
  const inBand = long ? price * PPM >= scaled : price * PPM <= scaled;
  if (inBand) return undefined;
  const bound = long ? ceilDiv(scaled, PPM) : floorDiv(scaled, PPM);
  return domainError('LIQUIDATION_PRICE_OUT_OF_BAND',
    `a ${long ? 'long' : 'short'} is taken over at ${long ? 'no less' : 'no more'} than ${formatDecimal(bound)} (mark ${formatDecimal(market.mark)}, spread ${market.maxLiquidationSpreadPpm} ppm); price ${formatDecimal(price)}`,
    'price');
};

/**
 * What an ADL fill costs its counterparty against closing at the mark: a short buying back pays
 * the fill for what is worth size * mark; a long selling gets the fill for it. Negative when the
 * bankruptcy price is better for the counterparty than the mark.
 */
export const adlLossAtMark = (mark: bigint, q: bigint, size: bigint, fillNotional: Amount): Amount => {
  const atMark = notional(size, mark);
  return q > 0n ? fillNotional - atMark : atMark - fillNotional;
};

/**
 * Liquidation settles the funding of the account and of the liquidator first (and, inside, of
 * every ADL counterparty in the market), so that no position changes size with funding owed.
 */
export const liquidate = (command: Liquidate, pool: ActivePool, now: number): Decision =>
  command.liquidatorId === command.accountId
    ? fail('SELF_LIQUIDATION', 'an account cannot liquidate itself', 'liquidatorId')
    : afterSettling(pool, [command.accountId, command.liquidatorId], (settled) => liquidateSettled(command, settled, marketsOf(settled), now));

const liquidateSettled = (command: Liquidate, pool: ActivePool, markets: MarketLookup, now: number): Decision => {
  const foundMarket = knownMarket(pool, command.marketId);
  if (E.isLeft(foundMarket)) return foundMarket;
  const market = foundMarket.right;
  const foundAccount = knownAccount(pool, command.accountId, 'accountId');
  if (E.isLeft(foundAccount)) return foundAccount;
  const foundLiquidator = knownAccount(pool, command.liquidatorId, 'liquidatorId');
  if (E.isLeft(foundLiquidator)) return foundLiquidator;
  const account = foundAccount.right;
  const liquidator = foundLiquidator.right;
  const precision = precisionError(command.price, market.priceDecimals, 'price');
  if (precision !== undefined) return E.left(precision);
  const position = positionIn(account, market.marketId);
  if (position === undefined) return fail('NO_POSITION', `account "${account.accountId}" has no position in "${market.marketId}"`, 'marketId');
  const { equity, requirement } = marginOf(account, markets, 'maintenance');
  if (equity >= requirement) {
    return fail('NOT_LIQUIDATABLE', `equity ${formatDecimal(equity)} is not below maintenance margin ${formatDecimal(requirement)}`, 'accountId');
  }
  const band = liquidationBandError(market, position.size, command.price);
  if (band !== undefined) return E.left(band);

  const { accountId } = account;
  const { liquidatorId, price } = command;
  const q = position.size;
  const { mark } = market;
  const positionMargin = ppmOfNotionalCeil(q, mark, market.maintenanceMarginPpm);
  // Rounded up: the account keeps no more than its share, and the waterfall covers no more.
  const equityShare = positionMargin === requirement ? equity : ceilDiv(equity * positionMargin, requirement);
  const surplus = equityShare + notional(q, price) - notional(q, mark);
  const bankruptcyPrice = mark - floorDiv(equityShare * ONE, q);
  const liquidatorBefore = positionIn(liquidator, market.marketId) ?? { size: 0n, entryNotional: 0n };
  const draft = new LedgerDraft(pool).withAccounts(account, liquidator);

  const capLeft = fundCapRemaining(market, now);
  const liquidated = (liquidatorSize: bigint, deficit: Amount, penalty: Amount, penaltyToFund: Amount, extra: Posting[]): PositionLiquidated => {
    const event: PositionLiquidated = {
      type: 'PositionLiquidated', schemaVersion: SCHEMA_VERSION,
      accountId, marketId: market.marketId, liquidatorId,
      size: q, liquidatorSize, price, mark, equity, equityShare, bankruptcyPrice, deficit, penalty, penaltyToFund,
      postings: [...takeoverPostings(market, accountId, position, liquidatorId, liquidatorBefore, liquidatorSize, price), ...extra],
    };
    return capLeft === undefined || deficit === 0n ? event : { ...event, fundCapRemaining: capLeft };
  };
  const liquidatorMarginError = (liquidatorSize: bigint): DomainError | undefined => {
    const { equity: after, requirement: initial } = marginOf(draft.account(liquidatorId), markets, 'initial');
    const needed = onlyReduces(liquidatorBefore.size, liquidatorSize) ? 0n : initial;
    return after >= needed
      ? undefined
      : domainError('LIQUIDATOR_INSUFFICIENT_MARGIN', `liquidator "${liquidatorId}" equity ${formatDecimal(after)} would be below ${formatDecimal(needed)} after the takeover`, 'liquidatorId');
  };

  if (surplus >= 0n) {
    // Better than bankruptcy: the liquidator takes everything and earns the penalty.
    const penalty = min(ppmOfNotionalCeil(q, price, market.liquidationPenaltyPpm), surplus);
    const penaltyToFund = ceilDiv(penalty * BigInt(market.penaltyFundSharePpm), PPM);
    const event = liquidated(q, 0n, penalty, penaltyToFund, [
      ...fundIncomePostings(pool, collateral(accountId), penaltyToFund),
      ...pay(collateral(accountId), collateral(liquidatorId), penalty - penaltyToFund),
    ]);
    applyValueEvent(draft, event);
    const marginError = liquidatorMarginError(q);
    return marginError === undefined ? E.right([event]) : E.left(marginError);
  }

  // Worse than bankruptcy: the deficit runs down the waterfall.
  const deficit = -surplus;
  // What this market may still draw: the fund, or less once the market's cap is (nearly) used up.
  const fund = capLeft === undefined ? fundAssets(pool) : min(fundAssets(pool), capLeft);
  const uncovered = deficit - min(deficit, fund);
  const lot = pow10(18 - market.sizeDecimals);
  const adlTarget = uncovered > 0n ? min(abs(q), ceilDiv(ceilDiv(abs(q) * uncovered, deficit), lot) * lot) : 0n;
  const allocation = allocateAdl(pool, market, q > 0n ? 'short' : 'long', adlTarget, market.adlPolicy, new Set([accountId, liquidatorId]), survivesAdl(mark, q, equityShare));
  const placed = allocation.reduce((sum, fill) => sum + fill.size, 0n);
  const liquidatorSize = q - sign(q) * placed;
  // ADL counterparties settle their funding in this market before their positions shrink.
  const counterpartySettlements: Event[] = [];
  for (const fill of allocation) {
    const settlement = fundingSettlement(pool, pool.accounts.get(fill.accountId), market.marketId);
    if (settlement !== undefined) {
      applyValueEvent(draft, settlement);
      counterpartySettlements.push(settlement);
    }
  }

  // Work the amounts out in the order of the waterfall: the takeover and the ADL fills first, since
  // what the account must be credited depends on them.
  const credits: Event[] = [];
  const takeover = liquidated(liquidatorSize, deficit, 0n, 0n, []);
  applyValueEvent(draft, takeover);
  const marginError = liquidatorMarginError(liquidatorSize);
  if (marginError !== undefined) return E.left(marginError);

  const adl = adlLegs(market, accountId, q, equityShare, allocation, draft);
  const deleveraged: PositionsAutoDeleveraged | undefined = adl.fills.length === 0
    ? undefined
    : { type: 'PositionsAutoDeleveraged', schemaVersion: SCHEMA_VERSION, accountId, marketId: market.marketId, bankruptcyPrice, fills: adl.fills, postings: adl.postings };
  if (deleveraged !== undefined) applyValueEvent(draft, deleveraged);

  // What the account must be credited so that it keeps exactly E - E_q. Rounding the fills
  // against the counterparties can leave it a few units over: those go to the treasury.
  // (Without fills the account is short by exactly the deficit, never over.)
  const needed = equity - equityShare - marginOf(draft.account(accountId), markets, 'maintenance').equity;
  const excess: Posting[] = needed < 0n ? [{ from: collateral(accountId), to: { kind: 'treasury' }, amount: -needed }] : [];
  excess.forEach((p) => draft.post(p));
  // The excess rides on the last closing event, and ADL is measured: what it cost the
  // counterparties against the mark, next to the part of the deficit the rest of the waterfall
  // (fund, haircuts, bad debt: `needed` in all) did not have to cover.
  const closing: Event[] = deleveraged !== undefined
    ? [takeover, {
      type: deleveraged.type, schemaVersion: deleveraged.schemaVersion, accountId, marketId: deleveraged.marketId, bankruptcyPrice,
      fills: deleveraged.fills.map((f) => ({ accountId: f.accountId, size: f.size, notional: f.notional, lossAtMark: adlLossAtMark(mark, q, abs(f.size), f.notional) })),
      postings: [...deleveraged.postings, ...excess],
      lossAtMark: deleveraged.fills.reduce((sum, f) => sum + adlLossAtMark(mark, q, abs(f.size), f.notional), 0n),
      deficitCovered: needed <= 0n ? deficit : needed < deficit ? deficit - needed : 0n,
    }]
    : [{ ...takeover, postings: [...takeover.postings, ...excess] }];
  const drawn = fundDraws(pool, accountId, needed > 0n ? min(needed, fund) : 0n);
  const drawnTotal = drawn.postings.reduce((sum, p) => sum + p.amount, 0n);
  if (drawnTotal > 0n) {
    const drawnNow: InsuranceFundDrawn = {
      type: 'InsuranceFundDrawn', schemaVersion: SCHEMA_VERSION, accountId, marketId: market.marketId, amount: drawnTotal, draws: drawn.draws, postings: drawn.postings,
    };
    const fundDrawn: InsuranceFundDrawn = market.fundDrawWindowMs > 0 ? { ...drawnNow, at: now } : drawnNow;
    applyValueEvent(draft, fundDrawn);
    credits.push(fundDrawn);
  }

  let left = needed - drawnTotal;
  if (left > 0n) {
    const socialized = haircuts(pool, draft, accountId, left);
    if (socialized.taken > 0n) {
      const lossSocialized: LossSocialized = { type: 'LossSocialized', schemaVersion: SCHEMA_VERSION, accountId, marketId: market.marketId, amount: socialized.taken, postings: socialized.postings };
      applyValueEvent(draft, lossSocialized);
      credits.push(lossSocialized);
      left -= socialized.taken;
    }
  }
  if (left > 0n) {
    const badDebt: BadDebtRecorded = {
      type: 'BadDebtRecorded', schemaVersion: SCHEMA_VERSION, accountId, marketId: market.marketId, amount: left,
      postings: [{ from: { kind: 'badDebt' }, to: collateral(accountId), amount: left }],
    };
    credits.push(badDebt);
  }
  return E.right([...counterpartySettlements, ...credits, ...closing]);
};

export interface LiquidationSummary {
  readonly accountId: string;
  readonly marketId: string;
  readonly liquidatorId: string;
  readonly liquidatorSize: string;
  readonly price: string;
  readonly bankruptcyPrice: string;
  readonly deficit: string;
  readonly penalty: string;
  readonly fundDraws: ReadonlyArray<{ readonly trancheId: string; readonly amount: string; readonly writtenOff: boolean }>;
  readonly adlFills: ReadonlyArray<{ readonly accountId: string; readonly size: string; readonly notional: string }>;
  readonly socialized: string;
  readonly haircuts: ReadonlyArray<{ readonly accountId: string; readonly amount: string }>;
  readonly badDebt: string;
}

/** What a liquidation did, from its events: the command's outcome for people and producers. */
export const summarizeLiquidation = (events: ReadonlyArray<Event>): LiquidationSummary | undefined => {
  const liquidated = events.find((e): e is PositionLiquidated => e.type === 'PositionLiquidated');
  if (liquidated === undefined) return undefined;
  const draws = events.find((e): e is InsuranceFundDrawn => e.type === 'InsuranceFundDrawn');
  const adl = events.find((e): e is PositionsAutoDeleveraged => e.type === 'PositionsAutoDeleveraged');
  const socialized = events.find((e): e is LossSocialized => e.type === 'LossSocialized');
  const badDebt = events.find((e): e is BadDebtRecorded => e.type === 'BadDebtRecorded');
  return {
    accountId: liquidated.accountId,
    marketId: liquidated.marketId,
    liquidatorId: liquidated.liquidatorId,
    liquidatorSize: formatDecimal(liquidated.liquidatorSize),
    price: formatDecimal(liquidated.price),
    bankruptcyPrice: formatDecimal(liquidated.bankruptcyPrice),
    deficit: formatDecimal(liquidated.deficit),
    penalty: formatDecimal(liquidated.penalty),
    fundDraws: (draws?.draws ?? []).map((d) => ({ trancheId: d.trancheId, amount: formatDecimal(d.amount), writtenOff: d.writtenOff })),
    adlFills: (adl?.fills ?? []).map((f) => ({ accountId: f.accountId, size: formatDecimal(f.size), notional: formatDecimal(f.notional) })),
    socialized: formatDecimal(socialized?.amount ?? 0n),
    haircuts: (socialized?.postings ?? []).map((p) => ({ accountId: p.from.kind === 'collateral' ? p.from.accountId : p.from.kind, amount: formatDecimal(p.amount) })),
    badDebt: formatDecimal(badDebt?.amount ?? 0n),
  };
};
