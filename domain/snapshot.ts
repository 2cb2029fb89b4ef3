// A canonical plain-JSON form of a pool's state: persistent maps become arrays sorted by id,
// bigints decimal strings. Two states are the same iff their canonical forms are byte-identical,
// which is how replays are compared with live state.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { Decimals, DurationMs, Id, NonNegativeAmount, PpmRate, SignedAmount, TimestampMs, decodeWith, integerIn, type InvalidInput } from './codecs.js';
import { DEFAULT_MAX_FUNDING_RATE_PPM, FeeShareParams, Governors, MarketParams, MarketRiskBounds } from './commands.js';
import { formatDecimal } from './money.js';
import { PersistentMap, PersistentSet } from './persistent-map.js';
import { initialState, withSettledIndex, type ActivePool, type Market, type PoolState } from './state.js';

const byId = <T>(entries: Iterable<[string, T]>): [string, T][] => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const sortedKeys = (value: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const canonicalState = (state: PoolState): unknown => {
  if (state.status !== 'active') return { status: state.status };
  return {
    status: state.status,
    poolId: state.poolId,
    quoteAsset: state.quoteAsset,
    quoteDecimals: state.quoteDecimals,
    feeShare: state.feeShare,
    unstakeCooldownMs: state.unstakeCooldownMs,
    governors: state.governors,
    governanceSeq: state.governanceSeq,
    treasury: formatDecimal(state.treasury),
    externalIn: formatDecimal(state.externalIn),
    externalOut: formatDecimal(state.externalOut),
    badDebt: formatDecimal(state.badDebt),
    openInterest: formatDecimal(state.openInterest),
    tranches: state.tranches.map((t) => ({
      trancheId: t.trancheId,
      incomeWeight: t.incomeWeight,
      assets: formatDecimal(t.assets),
      shares: formatDecimal(t.shares),
      epoch: t.epoch,
      stakes: byId(t.stakes.entries()).map(([stakerId, s]) => ({ stakerId, shares: formatDecimal(s.shares), epoch: s.epoch })),
    })),
    unstakeRequests: byId(state.unstakeRequests.entries()).map(([, r]) => ({ ...r, shares: formatDecimal(r.shares), value: formatDecimal(r.value) })),
    positionHolders: byId(state.positionHolders.entries()).map(([marketId, holders]) => ({ marketId, accounts: holders.values().sort() })),
    markEpoch: state.markEpoch,
    // Keys sorted: a market's fields may have been set in any order (listing, governance, a snapshot).
    markets: byId(state.markets.entries()).map(([, m]) => sortedKeys({
      ...m, mark: formatDecimal(m.mark), longSize: formatDecimal(m.longSize), openInterest: formatDecimal(m.openInterest),
      fundingIndex: formatDecimal(m.fundingIndex), fundingBalance: formatDecimal(m.fundingBalance),
      fundDrawCap: m.fundDrawCap === undefined ? undefined : formatDecimal(m.fundDrawCap), fundDrawnTotal: formatDecimal(m.fundDrawnTotal),
      recentFundDraws: m.recentFundDraws.map((d) => ({ at: d.at, amount: formatDecimal(d.amount) })),
    })),
    accounts: byId(state.accounts.entries()).map(([, a]) => ({
      accountId: a.accountId,
      collateral: formatDecimal(a.collateral),
      positions: a.positions.map((p) => ({
        marketId: p.marketId, size: formatDecimal(p.size), entryNotional: formatDecimal(p.entryNotional),
        ...(p.fundingIndex === undefined ? {} : { fundingIndex: formatDecimal(p.fundingIndex) }),
      })),
    })),
    tradeIds: state.tradeIds.values().sort(),
  };
};

export const canonicalStateJson = (state: PoolState): string => JSON.stringify(canonicalState(state));

// ---------------------------------------------------------------------------------------------
// Reading a canonical state back (snapshots): decoded with io-ts like any other store read.

const Int = integerIn('Integer', 0, Number.MAX_SAFE_INTEGER);

const CanonicalActive = t.type({
  status: t.literal('active'),
  poolId: Id,
  quoteAsset: Id,
  quoteDecimals: Decimals,
  feeShare: FeeShareParams,
  unstakeCooldownMs: DurationMs,
  governors: Governors,
  governanceSeq: Int,
  treasury: SignedAmount,
  externalIn: SignedAmount,
  externalOut: SignedAmount,
  badDebt: SignedAmount,
  openInterest: SignedAmount,
  tranches: t.array(t.type({
    trancheId: Id, incomeWeight: Int, assets: SignedAmount, shares: SignedAmount, epoch: Int,
    stakes: t.array(t.type({ stakerId: Id, shares: SignedAmount, epoch: Int })),
  })),
  unstakeRequests: t.array(t.type({
    requestId: Id, stakerId: Id, trancheId: Id, shares: SignedAmount, value: SignedAmount, epoch: Int, requestedAt: Int, availableAt: Int,
  })),
  positionHolders: t.array(t.type({ marketId: Id, accounts: t.array(Id) })),
  markEpoch: Int,
  // Funding and fund-cap state is optional so that snapshots written before it still load.
  markets: t.array(t.intersection([
    t.type({ ...MarketParams, ...MarketRiskBounds, mark: SignedAmount, longSize: SignedAmount, openInterest: SignedAmount }),
    t.partial({
      maxFundingRatePpm: PpmRate, fundingIndex: SignedAmount, fundingBalance: SignedAmount, fundDrawCap: NonNegativeAmount, fundDrawWindowMs: DurationMs,
      fundDrawnTotal: NonNegativeAmount, recentFundDraws: t.array(t.type({ at: TimestampMs, amount: NonNegativeAmount })),
    }),
  ])),
  accounts: t.array(t.type({
    accountId: Id, collateral: SignedAmount,
    positions: t.array(t.intersection([t.type({ marketId: Id, size: SignedAmount, entryNotional: SignedAmount }), t.partial({ fundingIndex: SignedAmount })])),
  })),
  tradeIds: t.array(Id),
}, 'CanonicalPoolState');

/** The state a canonical form (canonicalState) describes. */
export const stateFromCanonical = (input: unknown): E.Either<InvalidInput, PoolState> => {
  if (typeof input === 'object' && input !== null && (input as { status?: unknown }).status === 'uninitialized') return E.right(initialState);
  return E.map((decoded: t.TypeOf<typeof CanonicalActive>): PoolState => {
    const { markets, accounts, tranches, unstakeRequests, positionHolders, tradeIds, ...scalars } = decoded;
    const active: ActivePool = {
      ...scalars,
      markets: PersistentMap.of(markets.map(({ maxFundingRatePpm, fundingIndex, fundingBalance, fundDrawCap, fundDrawWindowMs, fundDrawnTotal, recentFundDraws, ...m }): [string, Market] => [m.marketId, {
        ...m,
        maxFundingRatePpm: maxFundingRatePpm ?? DEFAULT_MAX_FUNDING_RATE_PPM,
        fundingIndex: fundingIndex ?? 0n,
        fundingBalance: fundingBalance ?? 0n,
        ...(fundDrawCap === undefined ? {} : { fundDrawCap }),
        fundDrawWindowMs: fundDrawWindowMs ?? 0,
        fundDrawnTotal: fundDrawnTotal ?? 0n,
        recentFundDraws: recentFundDraws ?? [],
      }])),
      accounts: PersistentMap.of(accounts.map((a) => [a.accountId, {
        ...a,
        positions: a.positions.map(({ fundingIndex, ...p }) => withSettledIndex(p, fundingIndex ?? 0n)),
      }])),
      tranches: tranches.map(({ stakes, ...tranche }) => ({
        ...tranche,
        stakes: PersistentMap.of(stakes.map(({ stakerId, shares, epoch }) => [stakerId, { shares, epoch }])),
      })),
      unstakeRequests: PersistentMap.of(unstakeRequests.map((r) => [r.requestId, r])),
      positionHolders: PersistentMap.of(positionHolders.map(({ marketId, accounts: ids }) => [marketId, ids.reduce((set, id) => set.add(id), PersistentSet.empty<string>())])),
      tradeIds: tradeIds.reduce((set, id) => set.add(id), PersistentSet.empty<string>()),
    };
    return active;
  })(decodeWith(CanonicalActive)(input));
};
