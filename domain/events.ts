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
import { formatDecimal, ONE } from './money.js';
import {
  depositPostingsOf, expandPostings, samePostings, tradeValueFlows, withdrawalPostingsOf, type FundPart as FundPartValue,
} from './postings.js';

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

/** A trade's facts: the same in every stored version. */
const tradeFacts = {
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
};
const tradeOptionalFacts = {
  /** What the maker was paid out of the taker's fee (a negative maker fee rate); absent when none. */
  makerRebate: PositiveAmount,
};

export const TradeExecuted = strictObject({
  ...header('TradeExecuted'),
  ...tradeFacts,
  postings: Postings,
}, 'TradeExecuted', tradeOptionalFacts);
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
  /**
   * size * bankruptcy price, settled in ledger units (rounded against the counterparty). Signed:
   * a bankruptcy price below zero gives a fill notional below zero, paid the other way.
   */
  notional: SignedAmount,
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

/** The domain events, as they are in memory (and as stored in schema version 1). */
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

// ---------------------------------------------------------------------------------------------
// Stored schema version 2: compact value events. A trade, a deposit and a withdrawal are stored
// without their postings (see postings.ts for how they are rebuilt); every other event, and any
// of these whose postings would not rebuild exactly, is stored as in version 1. Decoding gives the
// same domain event either way: in memory an event keeps its postings and `schemaVersion` 1 (the
// domain shape did not change; only its stored form did).

/** The schema version of the compact stored form. */
export const STORED_SCHEMA_VERSION = 2 as const;

const header2 = <T extends string>(type: T) => ({ type: t.literal(type), schemaVersion: t.literal(STORED_SCHEMA_VERSION) });

/** [trancheId, part of the taker's fee, part of the maker's fee]: exactly three entries. */
export const StoredFundPart = new t.Type<FundPartValue, [string, string, string], unknown>(
  'FundPart',
  (u): u is FundPartValue => Array.isArray(u) && u.length === 3 && Id.is(u[0]) && NonNegativeAmount.is(u[1]) && NonNegativeAmount.is(u[2]),
  (u, c) => {
    if (!Array.isArray(u) || u.length !== 3) return t.failure(u, c, 'expected [trancheId, part of the taker fee, part of the maker fee]');
    const codecs = [Id, NonNegativeAmount, NonNegativeAmount] as const;
    const errors: t.ValidationError[] = [];
    const out: unknown[] = [];
    codecs.forEach((codec, i) => {
      const result = (codec as t.Type<unknown, unknown, unknown>).validate(u[i], [...c, { key: String(i), type: codec, actual: u[i] }]);
      if (E.isLeft(result)) errors.push(...result.left);
      else out.push(result.right);
    });
    return errors.length > 0 ? t.failures(errors) : t.success(out as unknown as FundPartValue);
  },
  ([trancheId, fromTaker, fromMaker]) => [trancheId, NonNegativeAmount.encode(fromTaker), NonNegativeAmount.encode(fromMaker)],
);

/** A trade as stored in version 2: its facts and its value flows, no postings. */
export const CompactTrade = strictObject({
  ...header2('TradeExecuted'),
  ...tradeFacts,
  takerPnl: SignedAmount,
  makerPnl: SignedAmount,
  fund: t.array(StoredFundPart, 'FundParts'),
}, 'TradeExecuted', tradeOptionalFacts);
export type CompactTrade = t.TypeOf<typeof CompactTrade>;

export const CompactDeposit = strictObject({ ...header2('CollateralDeposited'), accountId: Id, amount: PositiveAmount }, 'CollateralDeposited');
export type CompactDeposit = t.TypeOf<typeof CompactDeposit>;
export const CompactWithdrawal = strictObject({ ...header2('CollateralWithdrawn'), accountId: Id, amount: PositiveAmount }, 'CollateralWithdrawn');
export type CompactWithdrawal = t.TypeOf<typeof CompactWithdrawal>;

/** The domain trade a stored v2 trade stands for (fields in the order `decide` writes them). */
export const expandTrade = (c: CompactTrade): TradeExecuted => {
  const facts: Omit<TradeExecuted, 'postings'> = {
    type: 'TradeExecuted', schemaVersion: SCHEMA_VERSION, tradeId: c.tradeId, marketId: c.marketId, taker: c.taker, maker: c.maker,
    takerSide: c.takerSide, size: c.size, price: c.price, takerFee: c.takerFee, makerFee: c.makerFee, fundSharePpm: c.fundSharePpm,
    ...(c.makerRebate === undefined ? {} : { makerRebate: c.makerRebate }),
  };
  const postings = expandPostings(c);
  const { makerRebate, ...head } = facts;
  return { ...head, postings, ...(makerRebate === undefined ? {} : { makerRebate }) };
};

/** The stored v2 form of a trade, or undefined when its postings would not rebuild exactly. */
export const compactTrade = (e: TradeExecuted): CompactTrade | undefined => {
  const flows = tradeValueFlows(e);
  if (flows === undefined) return undefined;
  const { type, schemaVersion: _v, postings: _p, makerRebate, ...facts } = e;
  return { type, schemaVersion: STORED_SCHEMA_VERSION, ...facts, ...flows, fund: [...flows.fund], ...(makerRebate === undefined ? {} : { makerRebate }) };
};

/** Strings JSON writes as they are, between quotes (ids are far narrower than this). */
const PLAIN_STRING = /^[A-Za-z0-9_:.-]*$/;
/** The keys a trade `decide` writes: 13, or 14 with a maker rebate. */
const TRADE_KEYS = 13;

/**
 * The canonical JSON of a trade's stored v2 form, written field by field (keys in UTF-16 order):
 * the same bytes as `canonicalJson(encodeEvent(trade))`. Undefined when the trade has no compact
 * form, carries a key `decide` does not write, or has a string JSON would escape; the caller then
 * encodes it the general way.
 */
export const compactTradeText = (e: TradeExecuted): string | undefined => {
  let keys = 0;
  for (const key in e) if (Object.prototype.hasOwnProperty.call(e, key)) keys++;
  if (keys !== (e.makerRebate === undefined ? TRADE_KEYS : TRADE_KEYS + 1)) return undefined;
  // With every one of these present, the count leaves no room for another key.
  if (e.type !== 'TradeExecuted' || e.schemaVersion === undefined || !Array.isArray(e.postings)) return undefined;
  if (typeof e.fundSharePpm !== 'number' || !Number.isSafeInteger(e.fundSharePpm)) return undefined;
  if (typeof e.size !== 'bigint' || typeof e.price !== 'bigint' || typeof e.takerFee !== 'bigint' || typeof e.makerFee !== 'bigint') return undefined;
  if (e.makerRebate !== undefined && typeof e.makerRebate !== 'bigint') return undefined;
  if (typeof e.tradeId !== 'string' || typeof e.marketId !== 'string' || typeof e.taker !== 'string' || typeof e.maker !== 'string' || typeof e.takerSide !== 'string') return undefined;
  const { tradeId, marketId, taker, maker, takerSide } = e;
  if (!PLAIN_STRING.test(tradeId) || !PLAIN_STRING.test(marketId) || !PLAIN_STRING.test(taker) || !PLAIN_STRING.test(maker) || !PLAIN_STRING.test(takerSide)) return undefined;
  const flows = tradeValueFlows(e);
  if (flows === undefined) return undefined;
  let fund = '[';
  for (let i = 0; i < flows.fund.length; i++) {
    const [trancheId, fromTaker, fromMaker] = flows.fund[i]!;
    if (!PLAIN_STRING.test(trancheId)) return undefined;
    fund += `${i === 0 ? '' : ','}["${trancheId}","${formatDecimal(fromTaker)}","${formatDecimal(fromMaker)}"]`;
  }
  return `{"fund":${fund}],"fundSharePpm":${e.fundSharePpm},"maker":"${maker}","makerFee":"${formatDecimal(e.makerFee)}","makerPnl":"${formatDecimal(flows.makerPnl)}"`
    + (e.makerRebate === undefined ? '' : `,"makerRebate":"${formatDecimal(e.makerRebate)}"`)
    + `,"marketId":"${marketId}","price":"${formatDecimal(e.price)}","schemaVersion":${STORED_SCHEMA_VERSION},"size":"${formatDecimal(e.size)}"`
    + `,"taker":"${taker}","takerFee":"${formatDecimal(e.takerFee)}","takerPnl":"${formatDecimal(flows.takerPnl)}","takerSide":"${takerSide}","tradeId":"${tradeId}","type":"TradeExecuted"}`;
};

export const expandDeposit = (c: CompactDeposit): CollateralDeposited =>
  ({ type: 'CollateralDeposited', schemaVersion: SCHEMA_VERSION, accountId: c.accountId, amount: c.amount, postings: expandPostings(c) });
export const expandWithdrawal = (c: CompactWithdrawal): CollateralWithdrawn =>
  ({ type: 'CollateralWithdrawn', schemaVersion: SCHEMA_VERSION, accountId: c.accountId, amount: c.amount, postings: expandPostings(c) });
const compactDeposit = (e: CollateralDeposited): CompactDeposit | undefined =>
  samePostings(e.postings, depositPostingsOf(e.accountId, e.amount)) ? { type: e.type, schemaVersion: STORED_SCHEMA_VERSION, accountId: e.accountId, amount: e.amount } : undefined;
const compactWithdrawal = (e: CollateralWithdrawn): CompactWithdrawal | undefined =>
  samePostings(e.postings, withdrawalPostingsOf(e.accountId, e.amount)) ? { type: e.type, schemaVersion: STORED_SCHEMA_VERSION, accountId: e.accountId, amount: e.amount } : undefined;

/**
 * A stored event type with a compact v2 form: decodes either version to the domain event, and
 * encodes v2 when the compact form rebuilds the event exactly, else v1.
 */
const compactable = <A, C, O>(
  v1: t.Type<A, unknown, unknown>,
  v2: t.Type<C, O, unknown>,
  expand: (c: C) => A,
  compact: (a: A) => C | undefined,
  check: (c: C) => string | undefined = () => undefined,
): t.Type<A, unknown, unknown> => new t.Type<A, unknown, unknown>(
  v1.name,
  v1.is,
  (u, c) => {
    if (typeof u !== 'object' || u === null || (u as { schemaVersion?: unknown }).schemaVersion !== STORED_SCHEMA_VERSION) return v1.validate(u, c);
    const decoded = v2.validate(u, c);
    if (E.isLeft(decoded)) return decoded;
    const problem = check(decoded.right);
    return problem === undefined ? t.success(expand(decoded.right)) : t.failure(u, c, problem);
  },
  (a) => {
    const small = compact(a);
    return small === undefined ? v1.encode(a) : v2.encode(small);
  },
);

/** Why a stored v2 trade is refused beyond its fields' codecs (its notional posting must be above zero). */
export const compactTradeProblem = (c: CompactTrade): string | undefined =>
  c.size * c.price < ONE ? 'size * price is below one ledger unit' : undefined;

/** Every event type as stored: v2 for the compact types, v1 (with its upcasts) for the rest. */
export const storedEventCodecs = {
  ...eventCodecs,
  CollateralDeposited: compactable(CollateralDeposited, CompactDeposit, expandDeposit, compactDeposit),
  CollateralWithdrawn: compactable(CollateralWithdrawn, CompactWithdrawal, expandWithdrawal, compactWithdrawal),
  TradeExecuted: compactable(TradeExecuted, CompactTrade, expandTrade, compactTrade, compactTradeProblem),
} as const;

const events = byType('event', storedEventCodecs);
export const eventTypes = events.types as EventType[];

/** Decode an event read from a store or the wire (either stored version; io-ts: the reference decoder). */
export const decodeEvent = (input: unknown): E.Either<InvalidInput, Event> => events.decode(input) as E.Either<InvalidInput, Event>;

/** Encode an event to its stored JSON form (decimal strings; schema version 2 where compact). */
export const encodeEvent = (event: Event): unknown => events.encode(event);

/** Encode an event in the full version 1 form, postings included (tests of upcasting, tools). */
export const encodeEventV1 = (event: Event): unknown => (eventCodecs[event.type] as t.Type<Event, unknown, unknown>).encode(event);
