// The read models (docs/design.md section 8) as documents: plain JSON, amounts as decimal strings, each
// stamped with the position of the last event applied to it. They are built by a pure fold over
// the log (projectEvent) that keeps the pool's domain state alongside, so every figure comes from
// the domain's own arithmetic rather than a second copy of it.
//
// What a document stores is what events change; what depends on the current marks (uPnL,
// equity, margin ratio, liquidation and bankruptcy prices, ADL rank) is derived when the document
// is read (accountView), since a mark update would otherwise rewrite every holder's document.

import {
  adlQueue, equityOf, evolve, fundAssets, fundCapRemaining, fundDrawnInWindow, fundFeeShare, formatDecimal, initialState, marketsOf, marginOf, mulDivFloor, notional,
  ONE, PPM, ppmOfNotionalCeil, PROTOCOL_STAKER, stakeOf, unrealizedPnl, unsettledFunding,
  type ActivePool, type Event, type PoolState,
} from '../domain/index.js';

export type Collection = 'fund-health' | 'tranches' | 'accounts' | 'markets';

export interface HistoryEntry {
  readonly kind: 'liquidation' | 'adl' | 'haircut' | 'funding' | 'payout';
  readonly position: string;
  readonly timestamp: number;
  /** The market (for a payout: the governance reference). */
  readonly marketId: string;
  /**
   * liquidation: the size closed; adl: the size given up (signed change); haircut: the amount
   * taken; funding: the amount settled (received positive, paid negative); payout: the amount paid.
   */
  readonly amount: string;
  readonly price?: string;
  /** adl: what the fill cost this account against closing at the mark (negative: it gained). */
  readonly lossAtMark?: string;
  /** liquidation with ADL: what ADL cost the counterparties against the mark, and the deficit it covered. */
  readonly adlLossAtMark?: string;
  readonly adlDeficitCovered?: string;
  /** payout: why, as governance decided it. */
  readonly reason?: string;
}

export interface AccountDocument {
  readonly poolId: string;
  readonly accountId: string;
  readonly collateral: string;
  readonly positions: ReadonlyArray<{ readonly marketId: string; readonly size: string; readonly entryNotional: string }>;
  readonly history: ReadonlyArray<HistoryEntry>;
}

export interface MarketDocument {
  readonly poolId: string;
  readonly marketId: string;
  readonly mark: string;
  readonly longSize: string;
  readonly shortSize: string;
  /** Long size at mark, ledger units. */
  readonly openInterest: string;
  /** Cumulative funding per unit of size (what a long held since listing has paid). */
  readonly fundingIndex?: string;
}

export interface TrancheDocument {
  readonly poolId: string;
  readonly trancheId: string;
  readonly seniority: number;
  readonly incomeWeight: number;
  readonly assets: string;
  readonly shares: string;
  /** assets / shares, 18 decimals, rounded down ("1" when there are no shares). */
  readonly sharePrice: string;
  /** Fund income received (fees, penalties) and losses absorbed (draws), since the start. */
  readonly income: string;
  readonly losses: string;
  readonly stakers: ReadonlyArray<{ readonly stakerId: string; readonly shares: string }>;
  readonly pendingUnstakes: ReadonlyArray<{ readonly requestId: string; readonly stakerId: string; readonly shares: string; readonly value: string; readonly availableAt: number }>;
}

export interface FundHealthPoint {
  /** Start of the bucket, ms since the epoch. */
  readonly bucket: number;
  readonly fundAssets: string;
  readonly openInterest: string;
  /** Integer ppm as a decimal string: the ratio is unbounded, so it can outgrow a JSON number. */
  readonly coveragePpm: string;
  readonly badDebt: string;
  /** Cover-2: what the fund would have to cover if the two largest accounts defaulted under the shock. */
  readonly stressDeficit: string;
}

export interface FundHealthDocument {
  readonly poolId: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: string }>;
  readonly fundAssets: string;
  readonly openInterest: string;
  /** fund assets / open interest in ppm (null without open interest). */
  readonly coveragePpm: string | null;
  readonly fundFeeSharePpm: number;
  readonly draws: { readonly count: number; readonly total: string };
  /**
   * ADL measured, over every liquidation: what it cost its counterparties against the mark, the
   * part of the deficits it covered, and their ratio in integer ppm (null before any ADL).
   */
  readonly adl: { readonly count: number; readonly fills: number; readonly lossAtMark: string; readonly deficitCovered: string; readonly ratioPpm: string | null };
  /** Each market's claim on the fund: its cap (null: none), its window (0: in total), what it drew. */
  readonly marketCaps: ReadonlyArray<{
    readonly marketId: string;
    readonly fundDrawCap: string | null;
    readonly fundDrawWindowMs: number;
    readonly drawnTotal: string;
    /** Drawn within the window as of this document's last event (in total without a window). */
    readonly drawnInWindow: string;
    readonly capRemaining: string | null;
  }>;
  /** Payouts governance made from the fund, oldest first, each with its reason and reference. */
  readonly payouts: {
    readonly count: number;
    readonly total: string;
    readonly history: ReadonlyArray<{
      readonly position: string;
      readonly timestamp: number;
      readonly amount: string;
      readonly recipient: string;
      readonly reason: string;
      readonly governanceRef: string;
      readonly draws: ReadonlyArray<{ readonly trancheId: string; readonly amount: string }>;
    }>;
  };
  readonly socialized: { readonly count: number; readonly total: string };
  readonly badDebt: string;
  /** As of the newest bucket of the series. */
  readonly stressDeficit: string;
  readonly series: ReadonlyArray<FundHealthPoint>;
}

export type Document =
  | { readonly collection: 'fund-health'; readonly id: string; readonly position: bigint; readonly body: FundHealthDocument }
  | { readonly collection: 'tranches'; readonly id: string; readonly position: bigint; readonly body: TrancheDocument }
  | { readonly collection: 'accounts'; readonly id: string; readonly position: bigint; readonly body: AccountDocument }
  | { readonly collection: 'markets'; readonly id: string; readonly position: bigint; readonly body: MarketDocument };

export interface ProjectionOptions {
  /** Width of a fund-health series bucket, ms (default one hour). */
  readonly bucketMs?: number;
  /** The price shock of the Cover-2 stress test, ppm against the holders (default 30%). */
  readonly stressShockPpm?: number;
  /** Points kept in the series (default 720: a month of hours). */
  readonly seriesLength?: number;
}

type PayoutRecord = FundHealthDocument['payouts']['history'][number];

interface PoolAggregates {
  readonly draws: { count: number; total: bigint };
  readonly adl: { count: number; fills: number; lossAtMark: bigint; deficitCovered: bigint };
  /** history is replaced, never changed in place, so documents can share it. */
  readonly payouts: { count: number; total: bigint; history: ReadonlyArray<PayoutRecord> };
  readonly socialized: { count: number; total: bigint };
  readonly income: Map<string, bigint>;
  readonly losses: Map<string, bigint>;
  /** Replaced, never changed in place, so documents can share it. */
  series: ReadonlyArray<FundHealthPoint>;
  readonly histories: Map<string, HistoryEntry[]>;
}

/** Everything the fold carries from one event to the next, per pool. */
export interface ProjectionModel {
  readonly pools: Map<string, { state: PoolState; readonly aggregates: PoolAggregates }>;
}

export const emptyModel = (): ProjectionModel => ({ pools: new Map() });

const docId = (poolId: string, id: string) => `${poolId}/${id}`;

/**
 * Cover-2: the two accounts with the largest notional, valued after every mark moves against
 * each of their positions by `shockPpm`; the deficit is what their equity would fall short of zero.
 */
export const stressDeficit = (pool: ActivePool, shockPpm: number): bigint => {
  const largest: { notional: bigint; shortfall: bigint }[] = [];
  const markets = marketsOf(pool);
  for (const account of pool.accounts.values()) {
    if (account.positions.length === 0) continue;
    let exposure = 0n;
    let shocked = account.collateral;
    for (const p of account.positions) {
      const market = markets(p.marketId);
      if (market === undefined) continue;
      shocked += unsettledFunding(p, market);
      const moved = p.size > 0n ? market.mark - mulDivFloor(market.mark, BigInt(shockPpm), PPM) : market.mark + mulDivFloor(market.mark, BigInt(shockPpm), PPM);
      exposure += notional(p.size < 0n ? -p.size : p.size, market.mark);
      shocked += notional(p.size, moved) - p.entryNotional;
    }
    largest.push({ notional: exposure, shortfall: shocked < 0n ? -shocked : 0n });
    largest.sort((a, b) => (a.notional > b.notional ? -1 : a.notional < b.notional ? 1 : 0));
    if (largest.length > 2) largest.pop();
  }
  return largest.reduce((sum, a) => sum + a.shortfall, 0n);
};

const coverage = (pool: ActivePool): string | null =>
  pool.openInterest === 0n ? null : ((fundAssets(pool) * PPM) / pool.openInterest).toString();

const marketDocument = (pool: ActivePool, marketId: string, position: bigint): Document | undefined => {
  const market = pool.markets.get(marketId);
  if (market === undefined) return undefined;
  return {
    collection: 'markets', id: docId(pool.poolId, marketId), position,
    body: {
      poolId: pool.poolId, marketId, mark: formatDecimal(market.mark), longSize: formatDecimal(market.longSize),
      shortSize: formatDecimal(market.longSize), openInterest: formatDecimal(market.openInterest), fundingIndex: formatDecimal(market.fundingIndex),
    },
  };
};

const accountDocument = (pool: ActivePool, aggregates: PoolAggregates, accountId: string, position: bigint): Document | undefined => {
  const account = pool.accounts.get(accountId);
  if (account === undefined) return undefined;
  return {
    collection: 'accounts', id: docId(pool.poolId, accountId), position,
    body: {
      poolId: pool.poolId, accountId, collateral: formatDecimal(account.collateral),
      positions: account.positions.map((p) => ({ marketId: p.marketId, size: formatDecimal(p.size), entryNotional: formatDecimal(p.entryNotional) })),
      history: aggregates.histories.get(accountId) ?? [],
    },
  };
};

const trancheDocuments = (pool: ActivePool, aggregates: PoolAggregates, position: bigint): Document[] =>
  pool.tranches.map((tranche, seniority) => ({
    collection: 'tranches' as const, id: docId(pool.poolId, tranche.trancheId), position,
    body: {
      poolId: pool.poolId, trancheId: tranche.trancheId, seniority, incomeWeight: tranche.incomeWeight,
      assets: formatDecimal(tranche.assets), shares: formatDecimal(tranche.shares),
      sharePrice: formatDecimal(tranche.shares === 0n ? ONE : mulDivFloor(tranche.assets, ONE, tranche.shares)),
      income: formatDecimal(aggregates.income.get(tranche.trancheId) ?? 0n),
      losses: formatDecimal(aggregates.losses.get(tranche.trancheId) ?? 0n),
      stakers: tranche.stakes.keys().sort()
        .map((stakerId) => ({ stakerId, shares: formatDecimal(stakeOf(tranche, stakerId)) }))
        .filter((s) => s.shares !== '0' || s.stakerId === PROTOCOL_STAKER),
      pendingUnstakes: pool.unstakeRequests.values()
        .filter((r) => r.trancheId === tranche.trancheId)
        .sort((a, b) => (a.requestId < b.requestId ? -1 : 1))
        .map((r) => ({ requestId: r.requestId, stakerId: r.stakerId, shares: formatDecimal(r.shares), value: formatDecimal(r.value), availableAt: r.availableAt })),
    },
  }));

const fundHealthDocument = (pool: ActivePool, aggregates: PoolAggregates, position: bigint, timestamp: number): Document => {
  const newest = aggregates.series[aggregates.series.length - 1];
  return {
    collection: 'fund-health', id: pool.poolId, position,
    body: {
      poolId: pool.poolId,
      tranches: pool.tranches.map((t) => ({ trancheId: t.trancheId, assets: formatDecimal(t.assets) })),
      fundAssets: formatDecimal(fundAssets(pool)),
      openInterest: formatDecimal(pool.openInterest),
      coveragePpm: coverage(pool),
      fundFeeSharePpm: fundFeeShare(pool),
      draws: { count: aggregates.draws.count, total: formatDecimal(aggregates.draws.total) },
      adl: {
        count: aggregates.adl.count, fills: aggregates.adl.fills,
        lossAtMark: formatDecimal(aggregates.adl.lossAtMark), deficitCovered: formatDecimal(aggregates.adl.deficitCovered),
        ratioPpm: aggregates.adl.deficitCovered === 0n ? null : ((aggregates.adl.lossAtMark * PPM) / aggregates.adl.deficitCovered).toString(),
      },
      marketCaps: pool.markets.values().sort((a, b) => (a.marketId < b.marketId ? -1 : 1)).map((m) => {
        const left = fundCapRemaining(m, timestamp);
        return {
          marketId: m.marketId, fundDrawCap: m.fundDrawCap === undefined ? null : formatDecimal(m.fundDrawCap), fundDrawWindowMs: m.fundDrawWindowMs,
          drawnTotal: formatDecimal(m.fundDrawnTotal), drawnInWindow: formatDecimal(fundDrawnInWindow(m, timestamp)),
          capRemaining: left === undefined ? null : formatDecimal(left),
        };
      }),
      payouts: { count: aggregates.payouts.count, total: formatDecimal(aggregates.payouts.total), history: aggregates.payouts.history },
      socialized: { count: aggregates.socialized.count, total: formatDecimal(aggregates.socialized.total) },
      badDebt: formatDecimal(pool.badDebt),
      stressDeficit: newest?.stressDeficit ?? '0',
      series: aggregates.series,
    },
  };
};

/** Accounts whose document an event changes. */
const touchedAccounts = (event: Event): string[] => {
  const fromPostings = 'postings' in event
    ? event.postings.flatMap((p) => [p.from, p.to]).flatMap((a) => ('accountId' in a ? [a.accountId] : []))
    : [];
  switch (event.type) {
    case 'TradeExecuted':
      return [event.taker, event.maker, ...fromPostings];
    case 'PositionLiquidated':
      return [event.accountId, event.liquidatorId, ...fromPostings];
    case 'PositionsAutoDeleveraged':
      return [event.accountId, ...event.fills.map((f) => f.accountId), ...fromPostings];
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
    case 'FundingSettled':
      return [event.accountId];
    default:
      return fromPostings;
  }
};

const marketOf = (event: Event): string | undefined =>
  'marketId' in event && typeof event.marketId === 'string' ? event.marketId : undefined;

const record = (aggregates: PoolAggregates, accountId: string, entry: HistoryEntry) => {
  const history = aggregates.histories.get(accountId) ?? [];
  history.push(entry);
  aggregates.histories.set(accountId, history);
};

/**
 * Apply one event of the log to the model: returns the documents it changed. The model is owned
 * by the fold (mutated in place); documents are fresh values.
 */
export const projectEvent = (
  model: ProjectionModel,
  poolId: string,
  position: bigint,
  timestamp: number,
  event: Event,
  options: ProjectionOptions = {},
): Document[] => {
  // A recorded refusal changes no figure a read model shows.
  if (event.type === 'CommandRejected') return [];
  let entry = model.pools.get(poolId);
  if (entry === undefined) {
    entry = {
      state: initialState,
      aggregates: {
        draws: { count: 0, total: 0n }, adl: { count: 0, fills: 0, lossAtMark: 0n, deficitCovered: 0n }, socialized: { count: 0, total: 0n },
        payouts: { count: 0, total: 0n, history: [] },
        income: new Map(), losses: new Map(), series: [], histories: new Map(),
      },
    };
    model.pools.set(poolId, entry);
  }
  const { aggregates } = entry;
  entry.state = evolve(entry.state, event);
  const pool = entry.state;
  if (pool.status !== 'active') return [];

  const at = position.toString();
  // Aggregates the documents carry beyond the state.
  if ('postings' in event) {
    for (const p of event.postings) {
      if (p.to.kind === 'tranche' && p.from.kind === 'collateral') aggregates.income.set(p.to.trancheId, (aggregates.income.get(p.to.trancheId) ?? 0n) + p.amount);
      if (p.from.kind === 'tranche' && p.to.kind === 'collateral' && event.type !== 'FundPaidOut') aggregates.losses.set(p.from.trancheId, (aggregates.losses.get(p.from.trancheId) ?? 0n) + p.amount);
    }
  }
  switch (event.type) {
    case 'InsuranceFundDrawn':
      aggregates.draws.count++;
      aggregates.draws.total += event.amount;
      break;
    case 'PositionsAutoDeleveraged':
      aggregates.adl.count++;
      aggregates.adl.fills += event.fills.length;
      aggregates.adl.lossAtMark += event.lossAtMark ?? 0n;
      aggregates.adl.deficitCovered += event.deficitCovered ?? 0n;
      for (const fill of event.fills) {
        record(aggregates, fill.accountId, {
          kind: 'adl', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(fill.size), price: formatDecimal(event.bankruptcyPrice),
          ...(fill.lossAtMark === undefined ? {} : { lossAtMark: formatDecimal(fill.lossAtMark) }),
        });
      }
      if (event.lossAtMark !== undefined) {
        // The liquidated account's entry for this liquidation shows what its ADL did.
        const history = aggregates.histories.get(event.accountId);
        const last = history?.[history.length - 1];
        if (history !== undefined && last?.kind === 'liquidation' && last.marketId === event.marketId) {
          history[history.length - 1] = { ...last, adlLossAtMark: formatDecimal(event.lossAtMark), adlDeficitCovered: formatDecimal(event.deficitCovered ?? 0n) };
        }
      }
      break;
    case 'FundingSettled':
      for (const s of event.settlements) record(aggregates, event.accountId, { kind: 'funding', position: at, timestamp, marketId: s.marketId, amount: formatDecimal(s.amount) });
      break;
    case 'FundPaidOut': {
      const recipient = event.recipient.kind === 'account' ? event.recipient.accountId : 'external';
      aggregates.payouts.count++;
      aggregates.payouts.total += event.amount;
      aggregates.payouts.history = [...aggregates.payouts.history, {
        position: at, timestamp, amount: formatDecimal(event.amount), recipient, reason: event.reason, governanceRef: event.governanceRef,
        draws: event.draws.map((d) => ({ trancheId: d.trancheId, amount: formatDecimal(d.amount) })),
      }];
      if (event.recipient.kind === 'account') {
        record(aggregates, event.recipient.accountId, { kind: 'payout', position: at, timestamp, marketId: event.governanceRef, amount: formatDecimal(event.amount), reason: event.reason });
      }
      break;
    }
    case 'LossSocialized':
      aggregates.socialized.count++;
      aggregates.socialized.total += event.amount;
      for (const p of event.postings) if (p.from.kind === 'collateral') record(aggregates, p.from.accountId, { kind: 'haircut', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(p.amount) });
      break;
    case 'PositionLiquidated':
      record(aggregates, event.accountId, { kind: 'liquidation', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(event.size), price: formatDecimal(event.price) });
      break;
    default:
      break;
  }
  // The series: one point per bucket, taken at the first event of the bucket (Cover-2 scans all
  // accounts, so it is computed once a bucket, not once an event).
  const bucketMs = options.bucketMs ?? 3_600_000;
  const bucket = timestamp - (timestamp % bucketMs);
  const newest = aggregates.series[aggregates.series.length - 1];
  let fundChanged = true;
  if (newest === undefined || newest.bucket !== bucket) {
    const point: FundHealthPoint = {
      bucket, fundAssets: formatDecimal(fundAssets(pool)), openInterest: formatDecimal(pool.openInterest), coveragePpm: coverage(pool) ?? '0',
      badDebt: formatDecimal(pool.badDebt), stressDeficit: formatDecimal(stressDeficit(pool, options.stressShockPpm ?? 300_000)),
    };
    aggregates.series = [...aggregates.series, point].slice(-(options.seriesLength ?? 720));
  } else {
    fundChanged = event.type !== 'CollateralDeposited' && event.type !== 'CollateralWithdrawn' && event.type !== 'UnstakeRequested' && event.type !== 'UnstakeCancelled';
  }

  const documents: Document[] = [];
  const accounts = new Set(touchedAccounts(event));
  for (const accountId of accounts) {
    const doc = accountDocument(pool, aggregates, accountId, position);
    if (doc !== undefined) documents.push(doc);
  }
  const marketId = marketOf(event);
  if (marketId !== undefined) {
    const doc = marketDocument(pool, marketId, position);
    if (doc !== undefined) documents.push(doc);
  }
  const tranchesChanged = event.type === 'PoolCreated' || event.type === 'TrancheAdded' || event.type === 'ParametersChanged' ||
    event.type === 'Staked' || event.type.startsWith('Unstake') || event.type === 'Recapitalized' || event.type === 'InsuranceFundDrawn' ||
    ('postings' in event && event.postings.some((p) => p.from.kind === 'tranche' || p.to.kind === 'tranche'));
  if (tranchesChanged) documents.push(...trancheDocuments(pool, aggregates, position));
  if (fundChanged) documents.push(fundHealthDocument(pool, aggregates, position, timestamp));
  return documents;
};

export interface AccountView extends AccountDocument {
  readonly equity: string;
  readonly initialMargin: string;
  readonly maintenanceMargin: string;
  /** maintenance / equity in integer ppm, a decimal string (null when equity is not positive). */
  readonly marginRatioPpm: string | null;
  readonly liquidatable: boolean;
  readonly positionsAtMark: ReadonlyArray<{
    readonly marketId: string;
    readonly unrealizedPnl: string;
    /** Funding accrued and not yet settled into collateral (counted in equity). */
    readonly unsettledFunding: string;
    /** The mark at which the account would become liquidatable, all else equal (null if never). */
    readonly liquidationPrice: string | null;
    /** The mark at which the account's equity would reach zero, all else equal. */
    readonly bankruptcyPrice: string | null;
    readonly adlRank: number | null;
    readonly adlLights: number | null;
  }>;
}

/** The account read model with everything that depends on current marks, from the pool's state. */
export const accountView = (pool: ActivePool, document: AccountDocument): AccountView | undefined => {
  const account = pool.accounts.get(document.accountId);
  if (account === undefined) return undefined;
  const markets = marketsOf(pool);
  const maintenance = marginOf(account, markets, 'maintenance');
  const initial = marginOf(account, markets, 'initial');
  const equity = equityOf(account, markets);
  return {
    ...document,
    equity: formatDecimal(equity),
    initialMargin: formatDecimal(initial.requirement),
    maintenanceMargin: formatDecimal(maintenance.requirement),
    marginRatioPpm: equity > 0n ? ((maintenance.requirement * PPM) / equity).toString() : null,
    liquidatable: account.positions.length > 0 && equity < maintenance.requirement,
    positionsAtMark: account.positions.map((p) => {
      const market = markets(p.marketId)!;
      // With everything else fixed, equity at price x is E + s * (x - m) and the requirement
      // R_other + |s| * x * mmr: liquidatable below (long) or above (short)
      //   x = (R_other - E + s * m) / (s - |s| * mmr).
      const size = p.size < 0n ? -p.size : p.size;
      const otherRequirement = maintenance.requirement - ppmOfNotionalCeil(p.size, market.mark, market.maintenanceMarginPpm);
      const numerator = otherRequirement - equity + notional(p.size, market.mark);
      const denominator = p.size - (size * BigInt(market.maintenanceMarginPpm)) / PPM;
      const liquidation = denominator === 0n ? null : (numerator * ONE) / denominator;
      const bankruptcy = (-(equity - notional(p.size, market.mark)) * ONE) / p.size;
      const queue = adlQueue(pool, p.marketId)[p.size > 0n ? 'long' : 'short'].find((q) => q.accountId === account.accountId);
      return {
        marketId: p.marketId,
        unrealizedPnl: formatDecimal(unrealizedPnl(p, market.mark)),
        unsettledFunding: formatDecimal(unsettledFunding(p, market)),
        liquidationPrice: liquidation === null || liquidation <= 0n ? null : formatDecimal(liquidation),
        bankruptcyPrice: bankruptcy <= 0n ? null : formatDecimal(bankruptcy),
        adlRank: queue?.rank ?? null,
        adlLights: queue?.lights ?? null,
      };
    }),
  };
};
