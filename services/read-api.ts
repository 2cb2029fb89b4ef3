// The read API's response shapes as io-ts codecs (every answer is encoded with one, and the
// OpenAPI description is generated from them), and the bodies built from the projection's state
// and histories. Presentation only: every figure comes from the domain's queries and the
// projection.

import * as t from 'io-ts';
import {
  accountsAtRisk, eventTypes, FeeShareParams, formatDecimal, fundAssets, fundFeeShare, Governors, sortedAccounts, withSchema,
  type AccountRisk, type ActivePool,
} from '../domain/index.js';
import { formatMovement, fundHealthHistory, stressDeficit, type FundHealthDocument, type PoolAggregates, type Resolution } from '../projections/read-models.js';

const Decimal = withSchema(new t.Type<string, string, unknown>('Decimal', (u): u is string => typeof u === 'string', (u, c) => (typeof u === 'string' ? t.success(u) : t.failure(u, c)), t.identity),
  () => ({ type: 'string', pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$', description: 'an exact decimal string (never a JSON number)' }));
/** An integer too large for a JSON number (ppm ratios, log positions), as a decimal string. */
const BigIntString = withSchema(new t.Type<string, string, unknown>('BigIntString', (u): u is string => typeof u === 'string', (u, c) => (typeof u === 'string' ? t.success(u) : t.failure(u, c)), t.identity),
  () => ({ type: 'string', pattern: '^-?[0-9]+$', description: 'an integer as a decimal string' }));
const Int = withSchema(new t.Type<number, number, unknown>('Integer', (u): u is number => Number.isSafeInteger(u), (u, c) => (Number.isSafeInteger(u) ? t.success(u as number) : t.failure(u, c)), t.identity),
  () => ({ type: 'integer' }));
const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);
const Cursor = nullable(t.string);

export const ErrorBody = t.intersection([
  t.type({ code: t.string, message: t.string }),
  t.partial({ field: t.string, errors: t.array(t.type({ path: t.string, message: t.string })) }),
], 'Error');

const TrancheFigures = t.type({ trancheId: t.string, assets: Decimal });
const Count = t.type({ count: Int, total: Decimal });

export const FundHealthPointCodec = t.type({ bucket: Int, fundAssets: Decimal, openInterest: Decimal, coveragePpm: BigIntString, badDebt: Decimal, stressDeficit: Decimal });

export const FundHealthBody = t.type({
  poolId: t.string, tranches: t.array(TrancheFigures), fundAssets: Decimal, openInterest: Decimal, coveragePpm: nullable(BigIntString),
  fundFeeSharePpm: Int, draws: Count,
  adl: t.type({ count: Int, fills: Int, lossAtMark: Decimal, deficitCovered: Decimal, ratioPpm: nullable(BigIntString) }),
  socialized: Count, badDebt: Decimal, treasury: Decimal,
  deficits: t.type({ count: Int, total: Decimal, coveredByAdl: Decimal }),
  marketCaps: t.array(t.type({
    marketId: t.string, fundDrawCap: nullable(Decimal), fundDrawWindowMs: Int, drawnTotal: Decimal, drawnInWindow: Decimal, capRemaining: nullable(Decimal),
  })),
  payouts: t.type({ count: Int, total: Decimal, history: t.array(t.UnknownRecord) }),
  stressDeficit: Decimal,
  stress: t.type({ deficit: Decimal, shockPpm: Int, shockByMarket: t.record(t.string, Int) }),
  series: t.array(FundHealthPointCodec),
}, 'FundHealth');

export const FundHealthSampleCodec = t.type({
  bucket: Int, position: BigIntString, tranches: t.array(TrancheFigures), fundAssets: Decimal, openInterest: Decimal, coveragePpm: nullable(BigIntString),
  fundFeeSharePpm: Int, treasury: Decimal, draws: Count, adl: t.type({ count: Int, fills: Int, coveredByAdl: Decimal, lossAtMark: Decimal }), deficits: Count,
  socialized: Count, badDebt: Decimal, stressDeficit: Decimal,
}, 'FundHealthSample');

export const FundHealthHistoryBody = t.type({ poolId: t.string, resolution: t.keyof({ '1m': null, '1h': null, '1d': null }), from: Int, to: Int, points: t.array(FundHealthSampleCodec) }, 'FundHealthHistory');

export const TrancheBody = t.type({
  poolId: t.string, trancheId: t.string, seniority: Int, incomeWeight: Int, assets: Decimal, shares: Decimal, sharePrice: Decimal, income: Decimal, losses: Decimal,
  stakers: t.array(t.type({ stakerId: t.string, shares: Decimal })),
  pendingUnstakes: t.array(t.type({ requestId: t.string, stakerId: t.string, shares: Decimal, value: Decimal, valueAtRequest: Decimal, writtenOff: t.boolean, availableAt: Int })),
}, 'Tranche');

const HistoryEntryCodec = t.intersection([t.type({ kind: t.keyof({ liquidation: null, adl: null, haircut: null, funding: null, payout: null }), position: BigIntString, timestamp: Int, marketId: t.string, amount: Decimal }), t.partial({ price: Decimal, reason: t.string })]);

export const AccountBody = t.intersection([
  t.type({
    poolId: t.string, accountId: t.string, collateral: Decimal,
    positions: t.array(t.type({ marketId: t.string, size: Decimal, entryNotional: Decimal })),
    history: t.array(HistoryEntryCodec),
  }),
  t.partial({
    equity: Decimal, initialMargin: Decimal, maintenanceMargin: Decimal, marginRatioPpm: nullable(BigIntString), liquidatable: t.boolean,
    positionsAtMark: t.array(t.type({
      marketId: t.string, unrealizedPnl: Decimal, liquidationPrice: nullable(Decimal), bankruptcyPrice: nullable(Decimal), adlRank: nullable(Int), adlLights: nullable(Int),
    })),
  }),
], 'Account');

const MarketParameters = t.type({
  sizeDecimals: Int, priceDecimals: Int, initialMarginPpm: Int, maintenanceMarginPpm: Int, takerFeePpm: Int, makerFeePpm: Int,
  liquidationPenaltyPpm: Int, penaltyFundSharePpm: Int, adlPolicy: t.keyof({ ranked: null, 'pro-rata': null, none: null }), maxLiquidationSpreadPpm: Int, maxMarkMovePpm: Int,
}, 'MarketParameters');

export const MarketBody = t.intersection([
  t.type({ poolId: t.string, marketId: t.string, mark: Decimal, longSize: Decimal, shortSize: Decimal, openInterest: Decimal }),
  t.partial({ parameters: MarketParameters }),
], 'Market');
export const MarketsBody = t.type({ poolId: t.string, items: t.array(MarketBody) }, 'Markets');

const QueueEntry = t.type({ accountId: t.string, rank: nullable(Int), lights: Int });
export const AdlQueueBody = t.type({ poolId: t.string, marketId: t.string, long: t.array(QueueEntry), short: t.array(QueueEntry) }, 'AdlQueue');

export const PoolListBody = t.type({
  items: t.array(t.type({ poolId: t.string, quoteAsset: t.string, fundAssets: Decimal, badDebt: Decimal, markets: Int, accounts: Int })),
}, 'Pools');

export const PoolBody = t.type({
  poolId: t.string, quoteAsset: t.string, quoteDecimals: Int, fundAssets: Decimal, treasury: Decimal, badDebt: Decimal, openInterest: Decimal,
  fundFeeSharePpm: Int, feeShare: FeeShareParams, unstakeCooldownMs: Int, governors: Governors, governanceSeq: Int,
  tranches: t.array(t.type({ trancheId: t.string, seniority: Int, incomeWeight: Int, assets: Decimal, shares: Decimal })),
  markets: t.array(t.string), accounts: Int, pendingUnstakes: Int,
}, 'Pool');

const AccountRow = t.type({
  accountId: t.string, collateral: Decimal, equity: Decimal, maintenanceMargin: Decimal, marginRatioPpm: nullable(BigIntString), liquidatable: t.boolean, positions: Int,
});
export const AccountsBody = t.type({ poolId: t.string, sort: t.keyof({ marginRatio: null, equity: null, adlRank: null }), items: t.array(t.intersection([AccountRow, t.type({ adlRank: nullable(Int) })])), next: Cursor }, 'Accounts');
export const AtRiskBody = t.type({ poolId: t.string, liquidatableNow: Int, items: t.array(AccountRow) }, 'AccountsAtRisk');

export const MovementCodec = t.intersection([
  t.type({ kind: t.keyof({ deposit: null, withdrawal: null, trade: null, liquidation: null, takeover: null, adl: null, haircut: null, funding: null, payout: null }), position: BigIntString, timestamp: Int }),
  t.partial({ marketId: t.string, amount: Decimal, size: Decimal, price: Decimal, fee: Decimal, tradeId: t.string, role: t.keyof({ taker: null, maker: null }), reason: t.string, governanceRef: t.string }),
], 'Movement');
export const HistoryBody = t.type({ poolId: t.string, accountId: t.string, items: t.array(MovementCodec), next: Cursor }, 'AccountHistory');

export const GovernanceBody = t.type({
  poolId: t.string, governors: Governors, governanceSeq: Int,
  history: t.array(t.type({
    type: t.keyof({ PoolCreated: null, MarketListed: null, ParametersChanged: null, TrancheAdded: null, Recapitalized: null, FundPaidOut: null }),
    governanceSeq: Int, position: BigIntString, timestamp: Int, signers: t.array(t.string), changes: t.UnknownRecord,
  })),
}, 'Governance');

export const StoredEventBody = t.type({
  revision: BigIntString, position: BigIntString, eventId: t.string, type: t.keyof(Object.fromEntries(eventTypes.map((e) => [e, null])) as Record<string, null>),
  data: t.UnknownRecord, metadata: t.UnknownRecord, hash: t.string,
}, 'StoredEvent');
export const EventsBody = t.array(StoredEventBody, 'Events');

export const OutcomeBody = t.intersection([
  t.type({ status: t.keyof({ accepted: null, rejected: null, invalid: null, failed: null }) }),
  t.partial({ commandId: t.string, events: t.array(t.UnknownRecord), error: ErrorBody, deduplicated: t.literal(true) }),
], 'Outcome');

export const HealthBody = t.type({ status: t.literal('ok'), projection: t.type({ seen: t.string, stored: t.string, behind: t.string }) }, 'Health');

// ---------------------------------------------------------------------------------------------
// Bodies

const ppmString = (n: bigint | null) => (n === null ? null : n.toString());

const accountRow = (r: AccountRisk) => ({
  accountId: r.accountId, collateral: formatDecimal(r.collateral), equity: formatDecimal(r.equity), maintenanceMargin: formatDecimal(r.maintenanceMargin),
  marginRatioPpm: ppmString(r.marginRatioPpm), liquidatable: r.liquidatable, positions: r.positions,
});

export const poolListItem = (pool: ActivePool) => ({
  poolId: pool.poolId, quoteAsset: pool.quoteAsset, fundAssets: formatDecimal(fundAssets(pool)), badDebt: formatDecimal(pool.badDebt), markets: pool.markets.size, accounts: pool.accounts.size,
});

export const poolBody = (pool: ActivePool): t.TypeOf<typeof PoolBody> => ({
  poolId: pool.poolId, quoteAsset: pool.quoteAsset, quoteDecimals: pool.quoteDecimals, fundAssets: formatDecimal(fundAssets(pool)), treasury: formatDecimal(pool.treasury),
  badDebt: formatDecimal(pool.badDebt), openInterest: formatDecimal(pool.openInterest), fundFeeSharePpm: fundFeeShare(pool), feeShare: pool.feeShare,
  unstakeCooldownMs: pool.unstakeCooldownMs, governors: pool.governors, governanceSeq: pool.governanceSeq,
  tranches: pool.tranches.map((tr, seniority) => ({ trancheId: tr.trancheId, seniority, incomeWeight: tr.incomeWeight, assets: formatDecimal(tr.assets), shares: formatDecimal(tr.shares) })),
  markets: pool.markets.keys().sort(), accounts: pool.accounts.size, pendingUnstakes: pool.unstakeRequests.size,
});

export const marketParameters = (pool: ActivePool, marketId: string): t.TypeOf<typeof MarketParameters> | undefined => {
  const m = pool.markets.get(marketId);
  return m === undefined ? undefined : {
    sizeDecimals: m.sizeDecimals, priceDecimals: m.priceDecimals, initialMarginPpm: m.initialMarginPpm, maintenanceMarginPpm: m.maintenanceMarginPpm,
    takerFeePpm: m.takerFeePpm, makerFeePpm: m.makerFeePpm, liquidationPenaltyPpm: m.liquidationPenaltyPpm, penaltyFundSharePpm: m.penaltyFundSharePpm,
    adlPolicy: m.adlPolicy, maxLiquidationSpreadPpm: m.maxLiquidationSpreadPpm, maxMarkMovePpm: m.maxMarkMovePpm,
  };
};

/** One page of the accounts in the order asked; the cursor is the offset of the next page. */
export const accountsPage = (pool: ActivePool, sort: t.TypeOf<typeof AccountsBody>['sort'], offset: number, limit: number): t.TypeOf<typeof AccountsBody> => {
  const rows = sortedAccounts(pool, sort);
  return {
    poolId: pool.poolId, sort,
    items: rows.slice(offset, offset + limit).map((r) => ({ ...accountRow(r), adlRank: r.adlRank })),
    next: offset + limit < rows.length ? String(offset + limit) : null,
  };
};

export const atRiskBody = (pool: ActivePool, limit: number): t.TypeOf<typeof AtRiskBody> => {
  const all = accountsAtRisk(pool, Number.MAX_SAFE_INTEGER);
  return { poolId: pool.poolId, liquidatableNow: all.filter((r) => r.liquidatable).length, items: all.slice(0, limit).map(accountRow) };
};

/** Movements after the cursor (a log position), oldest first; the next cursor is the last one's position. */
export const historyPage = (aggregates: PoolAggregates, poolId: string, accountId: string, after: bigint | undefined, limit: number): t.TypeOf<typeof HistoryBody> => {
  const movements = aggregates.movements.get(accountId) ?? [];
  let low = 0;
  if (after !== undefined) {
    // Positions grow along the list: the first one past the cursor, by bisection.
    let high = movements.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (BigInt(movements[middle]!.position) <= after) low = middle + 1;
      else high = middle;
    }
  }
  const items = movements.slice(low, low + limit).map(formatMovement);
  return { poolId, accountId, items, next: low + limit < movements.length ? items[items.length - 1]!.position : null };
};

export interface StressSettings {
  /** Default shock of every market, ppm (default 300000: 30%). */
  readonly shockPpm: number;
  readonly shockByMarket: Readonly<Record<string, number>>;
}

/** The stored fund-health document with the Cover-2 stress deficit as of now, at the shocks asked. */
export const currentFundHealth = (document: FundHealthDocument, pool: ActivePool | undefined, stress: StressSettings): t.TypeOf<typeof FundHealthBody> => {
  const deficit = pool === undefined ? document.stressDeficit : formatDecimal(stressDeficit(pool, (marketId) => stress.shockByMarket[marketId] ?? stress.shockPpm));
  return {
    ...document,
    treasury: document.treasury ?? '0',
    deficits: document.deficits ?? { count: 0, total: '0', coveredByAdl: '0' },
    stressDeficit: deficit,
    stress: { deficit, shockPpm: stress.shockPpm, shockByMarket: { ...stress.shockByMarket } },
    series: [...document.series],
    tranches: [...document.tranches],
    marketCaps: [...document.marketCaps],
    payouts: { ...document.payouts, history: [...document.payouts.history] },
  };
};

export const fundHealthHistoryBody = (aggregates: PoolAggregates, poolId: string, resolution: Resolution, from: number, to: number, maxPoints: number): t.TypeOf<typeof FundHealthHistoryBody> => ({
  poolId, resolution, from, to, points: fundHealthHistory(aggregates, resolution, from, to, maxPoints).map((p) => ({ ...p, tranches: [...p.tranches] })),
});

/** A pool's fund figures for the metrics gauges. */
export const fundFigures = (pool: ActivePool, aggregates: PoolAggregates) => {
  const quote = (amount: bigint) => Number(formatDecimal(amount));
  return {
    poolId: pool.poolId,
    tranches: pool.tranches.map((tr) => ({ trancheId: tr.trancheId, assets: quote(tr.assets) })),
    fundAssets: quote(fundAssets(pool)), openInterest: quote(pool.openInterest),
    coveragePpm: pool.openInterest === 0n ? null : Number((fundAssets(pool) * 1_000_000n) / pool.openInterest),
    treasury: quote(pool.treasury), badDebt: quote(pool.badDebt),
    draws: { count: aggregates.draws.count, total: quote(aggregates.draws.total) },
    adl: { count: aggregates.adl.count, fills: aggregates.adl.fills },
    socialized: { count: aggregates.socialized.count, total: quote(aggregates.socialized.total) },
  };
};
