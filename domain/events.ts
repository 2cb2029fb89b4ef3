// Events: the immutable facts of the ledger. Each is an io-ts codec with a literal `type` and
// a schema version. Every event that moves value carries its double-entry postings, and
// `evolve` changes balances only by applying those postings.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import {
  Decimals, DurationMs, Id, PositiveAmount, PositivePrice, PositiveSize, PpmRate, NonNegativeAmount,
  byType, strictObject, type InvalidInput,
} from './codecs.js';
import { FeeShareParams, Governors, MarketParams, SCHEMA_VERSION, Side, TrancheSpec } from './commands.js';

// ---------------------------------------------------------------------------------------------
// Ledger accounts and postings

export const ExternalAccount = strictObject({ kind: t.literal('external') }, 'ExternalAccount');
export const CollateralAccount = strictObject({ kind: t.literal('collateral'), accountId: Id }, 'CollateralAccount');
/**
 * A position's cost basis: its balance is -entryNotional, so that the position's value at mark is
 * size * mark + balance (= uPnL). Trade notional flows between position accounts; realized PnL
 * flows from a position account to collateral.
 */
export const PositionAccount = strictObject({ kind: t.literal('position'), accountId: Id, marketId: Id }, 'PositionAccount');
export const TrancheAccount = strictObject({ kind: t.literal('tranche'), trancheId: Id }, 'TrancheAccount');
export const TreasuryAccount = strictObject({ kind: t.literal('treasury') }, 'TreasuryAccount');

export const LedgerAccount = t.union([ExternalAccount, CollateralAccount, PositionAccount, TrancheAccount, TreasuryAccount], 'LedgerAccount');
export type LedgerAccount = t.TypeOf<typeof LedgerAccount>;

export const Posting = strictObject({ from: LedgerAccount, to: LedgerAccount, amount: PositiveAmount }, 'Posting');
export type Posting = t.TypeOf<typeof Posting>;

const Postings = t.array(Posting, 'Postings');

// ---------------------------------------------------------------------------------------------
// Events

const header = <T extends string>(type: T) => ({ type: t.literal(type), schemaVersion: t.literal(SCHEMA_VERSION) });

export const PoolCreated = strictObject({
  ...header('PoolCreated'),
  poolId: Id,
  quoteAsset: Id,
  quoteDecimals: Decimals,
  tranches: t.array(TrancheSpec),
  feeShare: FeeShareParams,
  unstakeCooldownMs: DurationMs,
  governors: Governors,
}, 'PoolCreated');
export type PoolCreated = t.TypeOf<typeof PoolCreated>;

export const MarketListed = strictObject({
  ...header('MarketListed'),
  ...MarketParams,
  markPrice: PositivePrice,
}, 'MarketListed');
export type MarketListed = t.TypeOf<typeof MarketListed>;

export const CollateralDeposited = strictObject({
  ...header('CollateralDeposited'),
  accountId: Id,
  amount: PositiveAmount,
  postings: Postings,
}, 'CollateralDeposited');
export type CollateralDeposited = t.TypeOf<typeof CollateralDeposited>;

export const CollateralWithdrawn = strictObject({
  ...header('CollateralWithdrawn'),
  accountId: Id,
  amount: PositiveAmount,
  postings: Postings,
}, 'CollateralWithdrawn');
export type CollateralWithdrawn = t.TypeOf<typeof CollateralWithdrawn>;

export const TradeExecuted = strictObject({
  ...header('TradeExecuted'),
  tradeId: Id,
  marketId: Id,
  taker: Id,
  maker: Id,
  takerSide: Side,
  size: PositiveSize,
  price: PositivePrice,
  takerFee: NonNegativeAmount,
  makerFee: NonNegativeAmount,
  /** The fund's share of these fees, from coverage just before the trade. */
  fundSharePpm: PpmRate,
  postings: Postings,
}, 'TradeExecuted');
export type TradeExecuted = t.TypeOf<typeof TradeExecuted>;

export const MarkPriceUpdated = strictObject({
  ...header('MarkPriceUpdated'),
  marketId: Id,
  price: PositivePrice,
}, 'MarkPriceUpdated');
export type MarkPriceUpdated = t.TypeOf<typeof MarkPriceUpdated>;

export const eventCodecs = {
  PoolCreated,
  MarketListed,
  CollateralDeposited,
  CollateralWithdrawn,
  TradeExecuted,
  MarkPriceUpdated,
} as const;

export type EventType = keyof typeof eventCodecs;
export type Event = t.TypeOf<(typeof eventCodecs)[EventType]>;

const events = byType('event', eventCodecs);
export const eventTypes = events.types as EventType[];

/** Decode an event read from a store. */
export const decodeEvent = (input: unknown): E.Either<InvalidInput, Event> => events.decode(input);

/** Encode an event to its stored JSON form (decimal strings). */
export const encodeEvent = (event: Event): unknown => events.encode(event);
