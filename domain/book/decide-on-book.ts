// Deciding commands on the pool book. The hot commands (trades, marks, deposits, withdrawals) are
// decided by the very functions `decide` uses, reading the book instead of a persistent pool, and
// their effect is computed by the same ledger draft `evolve` uses; the result is the events plus a
// delta (new values of what they touch), applied to the caller's overlay. Every other command, and
// a trade or withdrawal whose accounts must first settle funding, goes to the persistent `decide`
// on the book's persistent form (the reference decider itself), and its events are evolved there.
// Either way the events are those `decide` emits on the same state.

import * as E from 'fp-ts/lib/Either.js';
import type { Command, ExecuteTrade, UpdateMarkPrice } from '../commands.js';
import { decide, decideTrade, deposit, marginAfterTrade, updateMarkPrice, withdraw, type CommandContext, type Decision, type TradeMarginCheck } from '../decide.js';
import type { DomainError } from '../errors.js';
import type { Event } from '../events.js';
import { applyValueEvent } from '../evolve.js';
import { ChangeDraft } from '../ledger.js';
import { settledIndexOf, withOpenInterest, type Account } from '../state.js';
import { addCollateralTerm, addPositionTerms, certainlyMeets, emptyFloatMargin, type FloatMargin } from './margin-filter.js';
import { deltaOfChanges, type BookDelta, type PoolBook } from './pool-book.js';

/** A hot command's outcome: refused, or its events and the delta they make. */
export type HotDecision = E.Either<DomainError, { readonly events: ReadonlyArray<Event>; readonly delta: BookDelta }>;

/**
 * One walk over an account's positions: undefined when `decide` would settle funding before a
 * trade or withdrawal (a position whose market's index has moved past it); otherwise the float
 * filter's terms of its positions outside `tradedMarketId` (the only one a trade changes).
 */
const settledTerms = (book: PoolBook, account: Account | undefined, tradedMarketId?: string): FloatMargin | undefined => {
  const sums = emptyFloatMargin();
  if (account === undefined) return sums;
  for (const position of account.positions) {
    const market = book.markets.get(position.marketId);
    if (market === undefined) continue;
    if (market.fundingIndex !== settledIndexOf(position)) return undefined;
    if (position.marketId !== tradedMarketId) addPositionTerms(sums, position.size, position.entryNotional, market);
  }
  return sums;
};

const needsSettling = (book: PoolBook, account: Account | undefined): boolean => settledTerms(book, account) === undefined;

/**
 * Whether a side, as the draft leaves it, certainly meets the margin rule: its untraded positions'
 * terms (`before`) plus its traded position and collateral from the draft. Not certain (decide
 * exactly) should the draft have changed any other position of it. The traded position's funding
 * is settled: `settledTerms` found the account's position in that market settled, or none (the
 * draft then starts it at the market's index). A closed one adds only zero terms (and one to n:
 * a wider bound, never a wrong pass).
 */
const certainlyMeetsAfterTrade = (draft: ChangeDraft, book: PoolBook, before: FloatMargin, accountId: string, marketId: string, reducedOnly: boolean): boolean => {
  const traded = draft.soleChangedPosition(accountId, marketId);
  if (traded === undefined) return false;
  // The trade was decided in this market, so it is listed.
  addPositionTerms(before, traded.size, traded.entryNotional, book.markets.get(marketId)!);
  addCollateralTerm(before, draft.collateralOf(accountId));
  return certainlyMeets(before, reducedOnly);
};

/** A trade between two accounts with settled funding, its margins through the certified float filter first. */
const trade = (command: ExecuteTrade, book: PoolBook, taker: FloatMargin, maker: FloatMargin): HotDecision => {
  const filteredMargin: TradeMarginCheck = (draft, pool, accountId, reducedOnly, field) =>
    certainlyMeetsAfterTrade(draft, book, accountId === command.taker ? taker : maker, accountId, command.marketId, reducedOnly)
      ? undefined
      : marginAfterTrade(draft, pool, accountId, reducedOnly, field);
  const decided = decideTrade(command, book, () => new ChangeDraft(book), filteredMargin);
  if (E.isLeft(decided)) return decided;
  const { event, draft } = decided.right;
  return E.right({ events: [event], delta: deltaOfChanges(draft.changes(), book.markEpoch, event.tradeId) });
};

/** Events that only move value (postings): their delta from the ledger draft. */
const withValue = (book: PoolBook, decision: Decision): HotDecision =>
  E.map((events: ReadonlyArray<Event>) => {
    const draft = new ChangeDraft(book);
    for (const event of events) applyValueEvent(draft, event);
    return { events, delta: deltaOfChanges(draft.changes(), book.markEpoch) };
  })(decision);

/** A mark update: the market's open interest at the new mark, and a new mark epoch. */
const mark = (command: UpdateMarkPrice, book: PoolBook): HotDecision => {
  const decision = updateMarkPrice(command, book);
  if (E.isLeft(decision)) return decision;
  // Accepted, so the market is listed.
  const market = book.markets.get(command.marketId)!;
  const next = withOpenInterest(market, market.longSize, command.price);
  return E.right({
    events: decision.right,
    delta: {
      accounts: [], markets: [next], tranches: undefined, holders: [],
      totals: {
        treasury: book.treasury, externalIn: book.externalIn, externalOut: book.externalOut, badDebt: book.badDebt,
        openInterest: book.openInterest + next.openInterest - market.openInterest, markEpoch: book.markEpoch + 1,
      },
    },
  });
};

/**
 * Decide a hot command on the book, or undefined when `decide` must (another command, an
 * uncreated or other pool, funding to settle first).
 */
export const decideHot = (command: Command, book: PoolBook): HotDecision | undefined => {
  const pool = book.active;
  if (pool === undefined || command.type === 'CreatePool' || command.poolId !== pool.poolId) return undefined;
  switch (command.type) {
    case 'ExecuteTrade':
    {
      // A self-trade is refused before any margin check, whatever its funding.
      if (command.taker === command.maker) return trade(command, book, emptyFloatMargin(), emptyFloatMargin());
      const taker = settledTerms(book, book.accounts.get(command.taker), command.marketId);
      if (taker === undefined) return undefined;
      const maker = settledTerms(book, book.accounts.get(command.maker), command.marketId);
      return maker === undefined ? undefined : trade(command, book, taker, maker);
    }
    case 'UpdateMarkPrice':
      return mark(command, book);
    case 'Deposit':
      return withValue(book, deposit(command, book));
    case 'Withdraw':
      return needsSettling(book, book.accounts.get(command.accountId)) ? undefined : withValue(book, withdraw(command, book));
    default:
      return undefined;
  }
};

/**
 * Decide a command on an overlay and, when accepted, apply its effect to the overlay (never to
 * the committed book below it). The events are those `decide` gives on the overlay's state.
 */
export const decideOnBook = (command: Command, overlay: PoolBook, ctx: CommandContext): Decision => {
  const hot = decideHot(command, overlay);
  if (hot !== undefined) {
    if (E.isLeft(hot)) return hot;
    overlay.apply(hot.right.delta);
    return E.right(hot.right.events);
  }
  const decision = decide(command, overlay.toPool(), ctx);
  if (E.isRight(decision)) overlay.evolveCold(decision.right);
  return decision;
};
