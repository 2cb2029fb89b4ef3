// A canonical plain-JSON form of a pool's state: persistent maps become arrays sorted by id,
// bigints decimal strings. Two states are the same iff their canonical forms are byte-identical,
// which is how replays are compared with live state.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { Decimals, DurationMs, Id, SignedAmount, decodeWith, integerIn, type InvalidInput } from './codecs.js';
import { FeeShareParams, Governors, MarketParams, MarketRiskBounds } from './commands.js';
import { formatDecimal } from './money.js';
import { PersistentMap, PersistentSet } from './persistent-map.js';
import { initialState, type ActivePool, type PoolState } from './state.js';

const byId = <T>(entries: Iterable<[string, T]>): [string, T][] => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

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
    markets: byId(state.markets.entries()).map(([, m]) => ({ ...m, mark: formatDecimal(m.mark), longSize: formatDecimal(m.longSize), openInterest: formatDecimal(m.openInterest) })),
    accounts: byId(state.accounts.entries()).map(([, a]) => ({
      accountId: a.accountId,
      collateral: formatDecimal(a.collateral),
      positions: a.positions.map((p) => ({ marketId: p.marketId, size: formatDecimal(p.size), entryNotional: formatDecimal(p.entryNotional) })),
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
  markets: t.array(t.type({ ...MarketParams, ...MarketRiskBounds, mark: SignedAmount, longSize: SignedAmount, openInterest: SignedAmount })),
  accounts: t.array(t.type({
    accountId: Id, collateral: SignedAmount, positions: t.array(t.type({ marketId: Id, size: SignedAmount, entryNotional: SignedAmount })),
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
      markets: PersistentMap.of(markets.map((m) => [m.marketId, m])),
      accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a])),
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
