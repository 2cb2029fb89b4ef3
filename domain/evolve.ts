// evolve: the only place pool state changes. Pure and total: an event that cannot apply to the
// state it is given (one `decide` would never have produced) leaves the state unchanged, and the
// audit's invariant checks are what report such a log.

import { PersistentMap, PersistentSet } from './persistent-map.js';
import type { Event, TradeExecuted } from './events.js';
import { LedgerDraft } from './ledger.js';
import { withOpenInterest, type ActivePool, type PoolState } from './state.js';

// `decide` has to work out the state a trade leads to in order to check margins. It leaves that
// state here, with the event it returned, and `evolve` reuses it when asked to apply that very
// event to that very state: a memo of a pure function, so results are identical either way, and
// a trade is applied once instead of twice on the hot path. One slot is enough because the
// writer evolves each decision before deciding the next command.
let lastDecided: { readonly event: Event; readonly base: PoolState; readonly next: PoolState } | undefined;

export const rememberNextState = (base: PoolState, event: Event, next: PoolState): void => {
  lastDecided = { event, base, next };
};

/** The state after a trade, given a draft that already holds the trade. */
export const commitTrade = (pool: ActivePool, draft: LedgerDraft, event: TradeExecuted): ActivePool =>
  draft.commit({ tradeIds: pool.tradeIds.add(event.tradeId) });

/** Apply a trade's size changes and postings to a draft (shared by `decide`'s margin check). */
export const applyTrade = (draft: LedgerDraft, event: TradeExecuted): void => {
  const takerDelta = event.takerSide === 'buy' ? event.size : -event.size;
  draft.changeSize(event.taker, event.marketId, takerDelta);
  draft.changeSize(event.maker, event.marketId, -takerDelta);
  draft.postAll(event.postings);
};

const evolveActive = (pool: ActivePool, event: Event): PoolState => {
  switch (event.type) {
    case 'PoolCreated':
      return pool;
    case 'MarketListed': {
      const { type: _type, schemaVersion: _v, markPrice, ...params } = event;
      return { ...pool, markets: pool.markets.set(event.marketId, { ...params, mark: markPrice, longSize: 0n, openInterest: 0n }) };
    }
    case 'CollateralDeposited': {
      const draft = new LedgerDraft(pool);
      draft.open(event.accountId);
      draft.postAll(event.postings);
      return draft.commit();
    }
    case 'CollateralWithdrawn': {
      const draft = new LedgerDraft(pool);
      draft.postAll(event.postings);
      return draft.commit();
    }
    case 'TradeExecuted': {
      const draft = new LedgerDraft(pool);
      applyTrade(draft, event);
      return commitTrade(pool, draft, event);
    }
    case 'MarkPriceUpdated': {
      const market = pool.markets.get(event.marketId);
      if (market === undefined) return pool;
      const next = withOpenInterest(market, market.longSize, event.price);
      return { ...pool, markets: pool.markets.set(event.marketId, next), openInterest: pool.openInterest + next.openInterest - market.openInterest };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
};

export const evolve = (state: PoolState, event: Event): PoolState => {
  if (lastDecided !== undefined && lastDecided.event === event && lastDecided.base === state) {
    const { next } = lastDecided;
    lastDecided = undefined;
    return next;
  }
  if (state.status === 'active') return evolveActive(state, event);
  if (event.type !== 'PoolCreated') return state;
  return {
    status: 'active',
    poolId: event.poolId,
    quoteAsset: event.quoteAsset,
    quoteDecimals: event.quoteDecimals,
    feeShare: event.feeShare,
    unstakeCooldownMs: event.unstakeCooldownMs,
    governors: event.governors,
    markets: PersistentMap.empty(),
    accounts: PersistentMap.empty(),
    tranches: event.tranches.map((t) => ({ trancheId: t.trancheId, incomeWeight: t.incomeWeight, assets: 0n, shares: 0n })),
    treasury: 0n,
    externalIn: 0n,
    externalOut: 0n,
    badDebt: 0n,
    tradeIds: PersistentSet.empty(),
    openInterest: 0n,
  };
};

/** Fold events onto a state. */
export const evolveAll = (state: PoolState, events: Iterable<Event>): PoolState => {
  let current = state;
  for (const event of events) current = evolve(current, event);
  return current;
};
