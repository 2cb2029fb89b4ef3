// evolve: the only place pool state changes. Pure and total: an event that cannot apply to the
// state it is given (one `decide` would never have produced) leaves the state unchanged where it
// cannot apply, and the audit's invariant checks are what report such a log.

import type { CompactTrade, Event, TradeExecuted } from './events.js';
import { LedgerDraft, type ChangeDraft } from './ledger.js';
import { PersistentMap, PersistentSet } from './persistent-map.js';
import { DEFAULT_MAX_FUNDING_RATE_PPM } from './commands.js';
import { PROTOCOL_STAKER, stakeOf, withOpenInterest, type ActivePool, type Market, type PoolState, type Tranche } from './state.js';

// `decide` has to work out the state a trade leads to in order to check margins. It leaves that
// state here, with the event it returned, and `evolve` reuses it when asked to apply that very
// event to that very state: a memo of a pure function, so results are identical either way, and
// a trade is applied once instead of twice on the hot path. One slot is enough because the
// writer evolves each decision before deciding the next command.
let lastDecided: { readonly event: Event; readonly base: PoolState; readonly next: PoolState } | undefined;

export const rememberNextState = (base: PoolState, event: Event, next: PoolState): void => {
  lastDecided = { event, base, next };
};

const newTranche = (trancheId: string, incomeWeight: number): Tranche => ({
  trancheId, incomeWeight, assets: 0n, shares: 0n, epoch: 0, stakes: PersistentMap.empty(),
});

/** The state after a trade, given a draft that already holds the trade. */
export const commitTrade = (pool: ActivePool, draft: LedgerDraft, event: TradeExecuted): ActivePool =>
  draft.commit({ tradeIds: pool.tradeIds.add(event.tradeId) });

/**
 * Apply a trade's size changes and postings to a draft (shared by `decide`'s margin check). A
 * trade as stored (compact: replay) posts straight from its value flows, the postings it stands for.
 */
export const applyTrade = (draft: ChangeDraft, event: TradeExecuted | CompactTrade): void => {
  const takerDelta = event.takerSide === 'buy' ? event.size : -event.size;
  draft.changeSize(event.taker, event.marketId, takerDelta);
  draft.changeSize(event.maker, event.marketId, -takerDelta);
  if ('postings' in event) draft.postAll(event.postings);
  else draft.postTrade(event, event);
};

/**
 * The value an event moves: its size changes and its postings. `decide` applies events to a
 * draft with this to see their effect before it commits to them; `evolve` commits the draft.
 */
export const applyValueEvent = (draft: ChangeDraft, event: Event): void => {
  switch (event.type) {
    case 'TradeExecuted':
      applyTrade(draft, event);
      return;
    case 'PositionLiquidated':
      draft.changeSize(event.accountId, event.marketId, -event.liquidatorSize);
      draft.changeSize(event.liquidatorId, event.marketId, event.liquidatorSize);
      draft.postAll(event.postings);
      return;
    case 'PositionsAutoDeleveraged':
      for (const fill of event.fills) {
        draft.changeSize(fill.accountId, event.marketId, fill.size);
        draft.changeSize(event.accountId, event.marketId, -fill.size);
      }
      draft.postAll(event.postings);
      return;
    case 'CollateralDeposited':
      draft.open(event.accountId);
      draft.postAll(event.postings);
      return;
    case 'FundingSettled':
      for (const s of event.settlements) draft.settleFunding(event.accountId, s.marketId, s.fundingIndex);
      draft.postAll(event.postings);
      return;
    case 'FundPaidOut':
      if (event.recipient.kind === 'account') draft.open(event.recipient.accountId);
      draft.postAll(event.postings);
      return;
    case 'CollateralWithdrawn':
    case 'InsuranceFundDrawn':
    case 'LossSocialized':
    case 'BadDebtRecorded':
    case 'Staked':
    case 'UnstakeCompleted':
    case 'Recapitalized':
      draft.postAll(event.postings);
      return;
    case 'PoolCreated':
    case 'MarketListed':
    case 'MarkPriceUpdated':
    case 'UnstakeRequested':
    case 'UnstakeCancelled':
    case 'ParametersChanged':
    case 'TrancheAdded':
    case 'CommandRejected':
    case 'FundingRateApplied':
      return;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
};

const withValue = (pool: ActivePool, event: Event): ActivePool => {
  const draft = new LedgerDraft(pool);
  applyValueEvent(draft, event);
  return draft.commit();
};

const updateTranche = (pool: ActivePool, trancheId: string, change: (t: Tranche) => Tranche): ActivePool => ({
  ...pool,
  tranches: pool.tranches.map((t) => (t.trancheId === trancheId ? change(t) : t)),
});

/** Credit free shares to a staker in the tranche's current epoch (older-epoch holdings are worth nothing). */
const creditShares = (tranche: Tranche, stakerId: string, shares: bigint): Tranche => {
  if (shares === 0n) return tranche;
  return { ...tranche, stakes: tranche.stakes.set(stakerId, { shares: stakeOf(tranche, stakerId) + shares, epoch: tranche.epoch }) };
};

/** At zero assets, whatever shares remain are worthless: write them off by starting a new epoch. */
const writeOffIfEmpty = (tranche: Tranche): Tranche =>
  tranche.assets === 0n && tranche.shares > 0n ? { ...tranche, shares: 0n, epoch: tranche.epoch + 1 } : tranche;

/** Tranches a draw took to zero have their shares written off. */
const withDraws = (pool: ActivePool, draws: ReadonlyArray<{ readonly trancheId: string; readonly writtenOff: boolean }>): ActivePool => {
  let next = pool;
  for (const draw of draws) if (draw.writtenOff) next = updateTranche(next, draw.trancheId, writeOffIfEmpty);
  return next;
};

/**
 * A market's draw on the fund, counted against its cap: in total, and with a window among the
 * recent draws (those that fell out of the window at this draw's time are dropped).
 */
const countDraw = (market: Market, amount: bigint, at: number): Market => ({
  ...market,
  fundDrawnTotal: market.fundDrawnTotal + amount,
  recentFundDraws: market.fundDrawWindowMs === 0 ? [] : [...market.recentFundDraws.filter((d) => d.at > at - market.fundDrawWindowMs), { at, amount }],
});

const evolveActive = (pool: ActivePool, event: Event): PoolState => {
  switch (event.type) {
    case 'PoolCreated':
    // A refusal changes nothing: it is in the log for idempotency and for the auditor.
    case 'CommandRejected':
      return pool;
    case 'MarketListed': {
      const { type: _type, schemaVersion: _v, markPrice, governanceSeq, signedCommand: _signed, maxFundingRatePpm, fundDrawCap, fundDrawWindowMs, ...params } = event;
      const market: Market = {
        ...params, mark: markPrice, longSize: 0n, openInterest: 0n,
        maxFundingRatePpm: maxFundingRatePpm ?? DEFAULT_MAX_FUNDING_RATE_PPM, fundingIndex: 0n, fundingBalance: 0n,
        ...(fundDrawCap === undefined ? {} : { fundDrawCap }),
        fundDrawWindowMs: fundDrawWindowMs ?? 0, fundDrawnTotal: 0n, recentFundDraws: [],
      };
      return { ...pool, governanceSeq, markets: pool.markets.set(event.marketId, market) };
    }
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
    case 'PositionLiquidated':
    case 'PositionsAutoDeleveraged':
    case 'LossSocialized':
    case 'BadDebtRecorded':
    case 'FundingSettled':
      return withValue(pool, event);
    case 'FundingRateApplied': {
      const market = pool.markets.get(event.marketId);
      if (market === undefined) return pool;
      // Every holder's equity changed: equity-dependent caches (the ADL ranking) start a new epoch.
      return { ...pool, markets: pool.markets.set(event.marketId, { ...market, fundingIndex: event.fundingIndex }), markEpoch: pool.markEpoch + 1 };
    }
    case 'FundPaidOut':
      return { ...withDraws(withValue(pool, event), event.draws), governanceSeq: event.governanceSeq };
    case 'TradeExecuted': {
      const draft = new LedgerDraft(pool);
      applyTrade(draft, event);
      return commitTrade(pool, draft, event);
    }
    case 'MarkPriceUpdated': {
      const market = pool.markets.get(event.marketId);
      if (market === undefined) return pool;
      const next = withOpenInterest(market, market.longSize, event.price);
      return {
        ...pool,
        markets: pool.markets.set(event.marketId, next),
        openInterest: pool.openInterest + next.openInterest - market.openInterest,
        markEpoch: pool.markEpoch + 1,
      };
    }
    case 'InsuranceFundDrawn': {
      const next = withDraws(withValue(pool, event), event.draws);
      const market = next.markets.get(event.marketId);
      return market === undefined ? next : { ...next, markets: next.markets.set(event.marketId, countDraw(market, event.amount, event.at ?? 0)) };
    }
    case 'Staked':
      return updateTranche(withValue(pool, event), event.trancheId, (t) =>
        creditShares(creditShares({ ...t, shares: t.shares + event.sharesMinted + event.protocolShares }, event.stakerId, event.sharesMinted), PROTOCOL_STAKER, event.protocolShares));
    case 'UnstakeRequested': {
      const next = updateTranche(pool, event.trancheId, (t) => ({
        ...t, stakes: t.stakes.set(event.stakerId, { shares: stakeOf(t, event.stakerId) - event.shares, epoch: t.epoch }),
      }));
      const epoch = next.tranches.find((t) => t.trancheId === event.trancheId)?.epoch ?? 0;
      return {
        ...next,
        unstakeRequests: next.unstakeRequests.set(event.requestId, {
          requestId: event.requestId, stakerId: event.stakerId, trancheId: event.trancheId, shares: event.shares,
          value: event.value, epoch, requestedAt: event.requestedAt, availableAt: event.availableAt,
        }),
      };
    }
    case 'UnstakeCompleted': {
      const next = updateTranche(withValue(pool, event), event.trancheId, (t) => writeOffIfEmpty({ ...t, shares: t.shares - event.shares }));
      return { ...next, unstakeRequests: next.unstakeRequests.delete(event.requestId) };
    }
    case 'UnstakeCancelled': {
      const next = updateTranche(pool, event.trancheId, (t) => creditShares(t, event.stakerId, event.shares));
      return { ...next, unstakeRequests: next.unstakeRequests.delete(event.requestId) };
    }
    case 'Recapitalized':
      return updateTranche({ ...withValue(pool, event), governanceSeq: event.governanceSeq }, event.trancheId, (t) =>
        creditShares({ ...t, shares: t.shares + event.sharesMinted }, PROTOCOL_STAKER, event.sharesMinted));
    case 'ParametersChanged': {
      const { feeShare, unstakeCooldownMs, governors, trancheWeights } = event.pool;
      const weights = new Map((trancheWeights ?? []).map((w) => [w.trancheId, w.incomeWeight]));
      const markets: [string, Market][] = [];
      for (const { marketId, ...changes } of event.markets) {
        const market = pool.markets.get(marketId);
        // Only the parameters the change names (an absent or undefined field keeps its value).
        const named = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
        if (market !== undefined) markets.push([marketId, { ...market, ...named }]);
      }
      return {
        ...pool,
        feeShare: feeShare ?? pool.feeShare,
        unstakeCooldownMs: unstakeCooldownMs ?? pool.unstakeCooldownMs,
        governors: governors ?? pool.governors,
        governanceSeq: event.governanceSeq,
        tranches: pool.tranches.map((t) => (weights.has(t.trancheId) ? { ...t, incomeWeight: weights.get(t.trancheId)! } : t)),
        markets: pool.markets.setAll(markets),
      };
    }
    case 'TrancheAdded': {
      const tranches = [...pool.tranches];
      tranches.splice(event.seniority, 0, newTranche(event.trancheId, event.incomeWeight));
      return { ...pool, tranches, governanceSeq: event.governanceSeq };
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
    governanceSeq: 0,
    markets: PersistentMap.empty(),
    accounts: PersistentMap.empty(),
    tranches: event.tranches.map((t) => newTranche(t.trancheId, t.incomeWeight)),
    treasury: 0n,
    externalIn: 0n,
    externalOut: 0n,
    badDebt: 0n,
    tradeIds: PersistentSet.empty(),
    openInterest: 0n,
    unstakeRequests: PersistentMap.empty(),
    positionHolders: PersistentMap.empty(),
    markEpoch: 0,
  };
};

/** Fold events onto a state. */
export const evolveAll = (state: PoolState, events: Iterable<Event>): PoolState => {
  let current = state;
  for (const event of events) current = evolve(current, event);
  return current;
};
