// `evolve` on a pool book: the projection's replay path (docs/design.md, "The pool book").
//
// The events that only move value (trades, deposits, withdrawals, liquidations, ADL, haircuts, bad
// debt, funding settlements) and mark updates are applied to the book by the very code `evolve`
// uses: the same ledger draft (`applyValueEvent`, `applyTrade`) over the book, whose changes become
// the book's delta, as the writer's hot commands do. A trade's id joins the book's new trade ids,
// as `evolve` adds it to the pool's. Every other event (governance, staking, pool creation) goes to
// the persistent `evolve` on the book's persistent form (`evolveCold`). So the book's `toPool()` is
// the state `evolve` gives, event for event; what the book saves is a persistent version of the
// accounts, markets, trade ids and pool per event: its changes are folded into one version when
// the state is read.

import type { ReplayEvent } from '../stored-decoder.js';
import { expandTrade } from '../events.js';
import { applyTrade, applyValueEvent } from '../evolve.js';
import { ChangeDraft } from '../ledger.js';
import { withOpenInterest } from '../state.js';
import { deltaOfChanges, type PoolBook } from './pool-book.js';

/**
 * Apply one event to a committed book (never an overlay): afterwards `book.toPool()` is
 * `evolve(before, event)`. A trade as stored (compact) is applied as the trade it expands to.
 */
export const evolveOnBook = (book: PoolBook, event: ReplayEvent): void => {
  if (book.active === undefined) {
    book.evolveCold([event.type === 'TradeExecuted' && !('postings' in event) ? expandTrade(event) : event]);
    return;
  }
  switch (event.type) {
    case 'TradeExecuted': {
      const draft = new ChangeDraft(book);
      applyTrade(draft, event);
      book.apply(deltaOfChanges(draft.changes(), book.markEpoch, event.tradeId));
      return;
    }
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
    case 'PositionLiquidated':
    case 'PositionsAutoDeleveraged':
    case 'LossSocialized':
    case 'BadDebtRecorded':
    case 'FundingSettled': {
      // `evolve` applies exactly these with a ledger draft and nothing else.
      const draft = new ChangeDraft(book);
      applyValueEvent(draft, event);
      book.apply(deltaOfChanges(draft.changes(), book.markEpoch));
      return;
    }
    case 'MarkPriceUpdated': {
      const market = book.markets.get(event.marketId);
      // An unlisted market: `evolve` leaves the state as it is.
      if (market === undefined) return;
      const next = withOpenInterest(market, market.longSize, event.price);
      book.apply({
        accounts: [], markets: [next], tranches: undefined, holders: [],
        totals: {
          treasury: book.treasury, externalIn: book.externalIn, externalOut: book.externalOut, badDebt: book.badDebt,
          openInterest: book.openInterest + next.openInterest - market.openInterest, markEpoch: book.markEpoch + 1,
        },
      });
      return;
    }
    case 'CommandRejected':
      // A refusal changes nothing.
      return;
    default:
      book.evolveCold([event]);
  }
};
