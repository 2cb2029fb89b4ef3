// Events: the immutable facts of the ledger. Each is an io-ts codec with a literal `type` and
// a schema version. Every event that moves value carries its double-entry postings, and
// `evolve` changes balances only by applying those postings.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import {
  Decimals, DurationMs, Id, PositiveAmount, PositivePrice, PositiveShares, PositiveSize, PpmRate, NonNegativeAmount,
  Shares, SignedAmount, SignedPpmRate, SignedSize, Text, TimestampMs,
  byType, integerIn, strictObject, type InvalidInput,
} from './codecs.js';
import {
  AddTranche, ChangeParameters, CommandTypeName, CreatePool, FeeShareParams, GovernanceSeq, Governors, ListMarket, MarketChanges, MarketFundParams, MarketParams, MarketRiskBounds,
  PayFromFund, PayoutRecipient, PoolChanges, Recapitalize, SCHEMA_VERSION, Sha256Hex, Side, TrancheSpec,
} from './commands.js';
import { errorCodes, type ErrorCode } from './errors.js';

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
/**
 * Loss nobody could absorb. Its balance is minus the outstanding bad debt: a posting out of it
 * records new bad debt, a posting into it (a recapitalization) repays it.
 */
export const BadDebtAccount = strictObject({ kind: t.literal('badDebt') }, 'BadDebtAccount');
/**
 * A market's funding clearing account: settled payments of longs go in, settled receipts of
 * shorts come out (or the other way round). Its balance always equals the funding its positions
 * have not settled yet.
 */
export const FundingAccount = strictObject({ kind: t.literal('funding'), marketId: Id }, 'FundingAccount');

const ledgerAccounts = {
  external: ExternalAccount,
  collateral: CollateralAccount,
  position: PositionAccount,
  tranche: TrancheAccount,
  treasury: TreasuryAccount,
  badDebt: BadDebtAccount,
  funding: FundingAccount,
} as const;
type LedgerAccountOf = t.TypeOf<(typeof ledgerAccounts)[keyof typeof ledgerAccounts]>;

/** A ledger account, decoded by its `kind` (one codec tried, not six: every posting has two). */
export const LedgerAccount = new t.Type<LedgerAccountOf, unknown, unknown>(
  'LedgerAccount',
  (u): u is LedgerAccountOf => Object.values(ledgerAccounts).some((codec) => codec.is(u)),
  (u, c) => {
    const kind = typeof u === 'object' && u !== null ? (u as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !Object.hasOwn(ledgerAccounts, kind)) {
      return t.failure(u, c, `expected a ledger account, kind one of ${Object.keys(ledgerAccounts).join(', ')}`);
    }
    return (ledgerAccounts[kind as keyof typeof ledgerAccounts] as t.Type<LedgerAccountOf, unknown, unknown>).validate(u, c);
  },
  (a) => (ledgerAccounts[a.kind] as t.Type<LedgerAccountOf, unknown, unknown>).encode(a),
);
export type LedgerAccount = LedgerAccountOf;

export const Posting = strictObject({ from: LedgerAccount, to: LedgerAccount, amount: PositiveAmount }, 'Posting');
export type Posting = t.TypeOf<typeof Posting>;

const Postings = t.array(Posting, 'Postings');

// ---------------------------------------------------------------------------------------------
// Events

const header = <T extends string>(type: T) => ({ type: t.literal(type), schemaVersion: t.literal(SCHEMA_VERSION) });

// Every governance event records the command exactly as it was signed (its wire form, with the
// signatures): its signing payload is that form without `signatures`, so an auditor re-verifies
// the approval from the event alone, and re-deciding it must give the event back.

export const PoolCreated = strictObject({
  ...header('PoolCreated'),
  poolId: Id,
  quoteAsset: Id,
  quoteDecimals: Decimals,
  tranches: t.array(TrancheSpec),
  feeShare: FeeShareParams,
  unstakeCooldownMs: DurationMs,
  governors: Governors,
  /** The deployment's root governors, who signed the creation. */
  rootGovernors: Governors,
  signedCommand: CreatePool,
}, 'PoolCreated');
export type PoolCreated = t.TypeOf<typeof PoolCreated>;

export const MarketListed = strictObject({
  ...header('MarketListed'),
  ...MarketParams,
  /** The bounds in force (the command's, or the defaults for those it left out). */
  ...MarketRiskBounds,
  markPrice: PositivePrice,
  governanceSeq: GovernanceSeq,
  signedCommand: ListMarket,
}, 'MarketListed', {
  /** The funding bound in force and the fund cap, if any (events before funding lack them: the defaults). */
  ...MarketFundParams,
});
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
}, 'TradeExecuted', {
  /** What the maker was paid out of the taker's fee (a negative maker fee rate); absent when none. */
  makerRebate: PositiveAmount,
});
export type TradeExecuted = t.TypeOf<typeof TradeExecuted>;

export const MarkPriceUpdated = strictObject({
  ...header('MarkPriceUpdated'),
  marketId: Id,
  price: PositivePrice,
}, 'MarkPriceUpdated');
export type MarkPriceUpdated = t.TypeOf<typeof MarkPriceUpdated>;

export const Staked = strictObject({
  ...header('Staked'),
  stakerId: Id,
  trancheId: Id,
  amount: PositiveAmount,
  sharesMinted: PositiveShares,
  /** Shares minted to the protocol for assets the tranche held while it had no shares (0 otherwise). */
  protocolShares: Shares,
  postings: Postings,
}, 'Staked');
export type Staked = t.TypeOf<typeof Staked>;

export const UnstakeRequested = strictObject({
  ...header('UnstakeRequested'),
  requestId: Id,
  stakerId: Id,
  trancheId: Id,
  shares: PositiveShares,
  /** What the shares were worth when requested: the most the request can pay. */
  value: NonNegativeAmount,
  requestedAt: TimestampMs,
  availableAt: TimestampMs,
}, 'UnstakeRequested');
export type UnstakeRequested = t.TypeOf<typeof UnstakeRequested>;

export const UnstakeCompleted = strictObject({
  ...header('UnstakeCompleted'),
  requestId: Id,
  stakerId: Id,
  trancheId: Id,
  shares: Shares,
  payout: NonNegativeAmount,
  postings: Postings,
}, 'UnstakeCompleted');
export type UnstakeCompleted = t.TypeOf<typeof UnstakeCompleted>;

export const UnstakeCancelled = strictObject({
  ...header('UnstakeCancelled'),
  requestId: Id,
  stakerId: Id,
  trancheId: Id,
  shares: Shares,
}, 'UnstakeCancelled');
export type UnstakeCancelled = t.TypeOf<typeof UnstakeCancelled>;

export const PositionLiquidated = strictObject({
  ...header('PositionLiquidated'),
  accountId: Id,
  marketId: Id,
  liquidatorId: Id,
  /** The whole position closed, signed. */
  size: SignedSize,
  /** The part the liquidator took at `price`, signed like the position (the rest was auto-deleveraged). */
  liquidatorSize: SignedSize,
  price: PositivePrice,
  mark: PositivePrice,
  /** The account's equity E and this position's share of it, E_q = E * mm_q / mm_total. */
  equity: SignedAmount,
  equityShare: SignedAmount,
  /** mark - E_q / q, to 18 decimals (fills at it are settled exactly in value). */
  bankruptcyPrice: SignedAmount,
  /** What the waterfall must cover: -S(price) when negative, else 0. */
  deficit: NonNegativeAmount,
  penalty: NonNegativeAmount,
  penaltyToFund: NonNegativeAmount,
  postings: Postings,
}, 'PositionLiquidated', {
  /** With a fund cap: what the market could still draw from the fund, before this liquidation. */
  fundCapRemaining: NonNegativeAmount,
});
export type PositionLiquidated = t.TypeOf<typeof PositionLiquidated>;

export const TrancheDraw = strictObject({
  trancheId: Id,
  amount: PositiveAmount,
  /** The draw took the tranche to zero: its shares (and pending requests) are written off. */
  writtenOff: t.boolean,
}, 'TrancheDraw');
export type TrancheDraw = t.TypeOf<typeof TrancheDraw>;

export const InsuranceFundDrawn = strictObject({
  ...header('InsuranceFundDrawn'),
  accountId: Id,
  marketId: Id,
  amount: PositiveAmount,
  draws: t.array(TrancheDraw),
  postings: Postings,
}, 'InsuranceFundDrawn', {
  /** When the draw happened (counts against the market's fund cap window). */
  at: TimestampMs,
});
export type InsuranceFundDrawn = t.TypeOf<typeof InsuranceFundDrawn>;

export const AdlFill = strictObject({
  accountId: Id,
  /** The counterparty's signed size change (positive when it buys back a short). */
  size: SignedSize,
  /** size * bankruptcy price, settled in ledger units (rounded against the counterparty). */
  notional: NonNegativeAmount,
}, 'AdlFill', {
  /** What the fill cost the counterparty against closing at the mark (negative: it gained). */
  lossAtMark: SignedAmount,
});
export type AdlFill = t.TypeOf<typeof AdlFill>;

export const PositionsAutoDeleveraged = strictObject({
  ...header('PositionsAutoDeleveraged'),
  accountId: Id,
  marketId: Id,
  bankruptcyPrice: SignedAmount,
  fills: t.array(AdlFill),
  postings: Postings,
}, 'PositionsAutoDeleveraged', {
  /** The sum of the fills' lossAtMark: what ADL cost its counterparties against the mark. */
  lossAtMark: SignedAmount,
  /** The part of the deficit ADL took off the waterfall (the deficit less fund draw, haircuts and bad debt). */
  deficitCovered: NonNegativeAmount,
});
export type PositionsAutoDeleveraged = t.TypeOf<typeof PositionsAutoDeleveraged>;

export const LossSocialized = strictObject({
  ...header('LossSocialized'),
  accountId: Id,
  marketId: Id,
  amount: PositiveAmount,
  /** One posting per haircut account, from its collateral to the bankrupt account's. */
  postings: Postings,
}, 'LossSocialized');
export type LossSocialized = t.TypeOf<typeof LossSocialized>;

export const BadDebtRecorded = strictObject({
  ...header('BadDebtRecorded'),
  accountId: Id,
  marketId: Id,
  amount: PositiveAmount,
  postings: Postings,
}, 'BadDebtRecorded');
export type BadDebtRecorded = t.TypeOf<typeof BadDebtRecorded>;

export const ParametersChanged = strictObject({
  ...header('ParametersChanged'),
  pool: PoolChanges,
  markets: t.array(MarketChanges),
  governanceSeq: GovernanceSeq,
  signedCommand: ChangeParameters,
}, 'ParametersChanged');
export type ParametersChanged = t.TypeOf<typeof ParametersChanged>;

export const TrancheAdded = strictObject({
  ...header('TrancheAdded'),
  trancheId: Id,
  incomeWeight: integerIn('IncomeWeight', 1, 1_000_000),
  seniority: integerIn('Seniority', 0, 100),
  governanceSeq: GovernanceSeq,
  signedCommand: AddTranche,
}, 'TrancheAdded');
export type TrancheAdded = t.TypeOf<typeof TrancheAdded>;

export const Recapitalized = strictObject({
  ...header('Recapitalized'),
  trancheId: Id,
  amount: PositiveAmount,
  badDebtRepaid: NonNegativeAmount,
  /** Shares minted to the protocol for what went into the tranche. */
  sharesMinted: Shares,
  postings: Postings,
  governanceSeq: GovernanceSeq,
  signedCommand: Recapitalize,
}, 'Recapitalized');
export type Recapitalized = t.TypeOf<typeof Recapitalized>;

export const FundingRateApplied = strictObject({
  ...header('FundingRateApplied'),
  marketId: Id,
  fundingRatePpm: SignedPpmRate,
  /** The mark the rate applied to. */
  mark: PositivePrice,
  /** What one unit of size paid (long) or received (short): rate * mark, toward zero to the index quantum. */
  indexDelta: SignedAmount,
  /** The market's cumulative funding index after the update. */
  fundingIndex: SignedAmount,
}, 'FundingRateApplied');
export type FundingRateApplied = t.TypeOf<typeof FundingRateApplied>;

export const FundingSettlement = strictObject({
  marketId: Id,
  /** The position's size while the funding accrued. */
  size: SignedSize,
  /** The market index the position settles up to. */
  fundingIndex: SignedAmount,
  /** Received (positive) or paid (negative): -size * (index - the position's index). */
  amount: SignedAmount,
}, 'FundingSettlement');
export type FundingSettlement = t.TypeOf<typeof FundingSettlement>;

/** An account's funding realized into its collateral: postings between it and the markets' funding accounts. */
export const FundingSettled = strictObject({
  ...header('FundingSettled'),
  accountId: Id,
  settlements: t.array(FundingSettlement),
  postings: Postings,
}, 'FundingSettled');
export type FundingSettled = t.TypeOf<typeof FundingSettled>;

export const FundPaidOut = strictObject({
  ...header('FundPaidOut'),
  recipient: PayoutRecipient,
  amount: PositiveAmount,
  reason: Text('PayoutReason', 500),
  governanceRef: Text('GovernanceRef', 200),
  draws: t.array(TrancheDraw),
  postings: Postings,
  governanceSeq: GovernanceSeq,
  signedCommand: PayFromFund,
}, 'FundPaidOut');
export type FundPaidOut = t.TypeOf<typeof FundPaidOut>;

const ErrorCodeName = t.keyof(Object.fromEntries(errorCodes.map((code) => [code, null])) as Record<ErrorCode, null>, 'ErrorCode');

/** A domain error as recorded: what `decide` answered. */
export const RecordedError = strictObject({ code: ErrorCodeName, message: t.string }, 'RecordedError', { field: t.string });

/**
 * A command `decide` refused, recorded so that a repeat of its id gets the same answer after a
 * restart and an auditor sees refused attempts. It moves no value and changes no state.
 */
export const CommandRejected = strictObject({
  ...header('CommandRejected'),
  commandType: CommandTypeName,
  /** The refused command's fingerprint (sha256 of its canonical wire JSON). */
  fingerprint: Sha256Hex,
  error: RecordedError,
}, 'CommandRejected');
export type CommandRejected = t.TypeOf<typeof CommandRejected>;

export const eventCodecs = {
  PoolCreated,
  MarketListed,
  CollateralDeposited,
  CollateralWithdrawn,
  TradeExecuted,
  MarkPriceUpdated,
  Staked,
  UnstakeRequested,
  UnstakeCompleted,
  UnstakeCancelled,
  PositionLiquidated,
  InsuranceFundDrawn,
  PositionsAutoDeleveraged,
  LossSocialized,
  BadDebtRecorded,
  ParametersChanged,
  TrancheAdded,
  Recapitalized,
  CommandRejected,
  FundingRateApplied,
  FundingSettled,
  FundPaidOut,
} as const;
export type EventType = keyof typeof eventCodecs;
export type Event = t.TypeOf<(typeof eventCodecs)[EventType]>;

const events = byType('event', eventCodecs);
export const eventTypes = events.types as EventType[];

/** Decode an event read from a store. */
export const decodeEvent = (input: unknown): E.Either<InvalidInput, Event> => events.decode(input);

/** Encode an event to its stored JSON form (decimal strings). */
export const encodeEvent = (event: Event): unknown => events.encode(event);
