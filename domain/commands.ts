// Commands: what producers ask the pool to do. Each is an io-ts codec with a literal `type`
// and a schema version; `decodeCommand` is the single entry point for untrusted input.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import {
  Decimals, DurationMs, Id, NonNegativeAmount, PositiveAmount, PositivePrice, PositiveShares, PositiveSize, PpmRate, RatioPpm,
  SignedPpmRate, Text, byType, integerIn, strictObject, type InvalidInput,
} from './codecs.js';
import { jsonSchemaOf, withSchema } from './json-schema.js';

export const SCHEMA_VERSION = 1 as const;

const hexBytes = (name: string, bytes: number) => {
  const pattern = new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
  return withSchema(new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && pattern.test(u),
    (u, c) => (typeof u === 'string' && pattern.test(u) ? t.success(u) : t.failure(u, c, `expected ${bytes} bytes as ${bytes * 2} lowercase hex digits`)),
    t.identity,
  ), () => ({ type: 'string', pattern: pattern.source }));
};

/** Raw 32-byte ed25519 public key, hex. */
export const PublicKeyHex = hexBytes('PublicKeyHex', 32);
/** Raw 64-byte ed25519 signature, hex. */
export const SignatureHex = hexBytes('SignatureHex', 64);
/** A sha256 digest, hex (a command's fingerprint). */
export const Sha256Hex = hexBytes('Sha256Hex', 32);

export const GovernorSignature = strictObject({ publicKey: PublicKeyHex, signature: SignatureHex }, 'GovernorSignature');
export type GovernorSignature = t.TypeOf<typeof GovernorSignature>;

/** Most governor keys a set may hold, and so most signatures a command may carry. */
export const MAX_GOVERNORS = 100;

const boundedArray = <C extends t.Mixed>(codec: C, max: number, name: string) => {
  const array = t.array(codec, name);
  return withSchema(new t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown>(
    name,
    (u): u is t.TypeOf<C>[] => array.is(u) && u.length <= max,
    (u, c) => (Array.isArray(u) && u.length > max ? t.failure(u, c, `expected at most ${max} entries, got ${u.length}`) : array.validate(u, c)),
    array.encode,
  ), () => ({ type: 'array', maxItems: max, items: jsonSchemaOf(codec) }));
};

/**
 * Governance commands carry signatures by governor keys over the command's canonical JSON. The
 * length is bounded so that a request cannot make the pool verify signatures without end.
 */
const Signatures = boundedArray(GovernorSignature, MAX_GOVERNORS, 'Signatures');

/**
 * The pool's governance sequence number a command expects to take: the last accepted one + 1.
 * It is part of what governors sign, so a signed command applies once, in its place, or never.
 */
export const GovernanceSeq = integerIn('GovernanceSeq', 1, Number.MAX_SAFE_INTEGER);

export const AdlPolicy = t.keyof({ ranked: null, 'pro-rata': null, none: null }, 'AdlPolicy');
export type AdlPolicy = t.TypeOf<typeof AdlPolicy>;

export const Side = t.keyof({ buy: null, sell: null }, 'Side');
export type Side = t.TypeOf<typeof Side>;

export const TrancheSpec = strictObject({
  trancheId: Id,
  /** Relative share of fund income; junior tranches earn the larger weight. */
  incomeWeight: integerIn('IncomeWeight', 1, 1_000_000),
}, 'TrancheSpec');
export type TrancheSpec = t.TypeOf<typeof TrancheSpec>;

export const FeeShareParams = strictObject({
  /** Fund's share of fees when coverage is at or above target. */
  baseFundSharePpm: PpmRate,
  /** Fund's share of fees at zero coverage. */
  maxFundSharePpm: PpmRate,
  /** fundAssets / openInterest at which the base share applies, in ppm (50000 = 5%). */
  targetCoveragePpm: RatioPpm,
}, 'FeeShareParams');
export type FeeShareParams = t.TypeOf<typeof FeeShareParams>;

export const Governors = strictObject({
  publicKeys: boundedArray(PublicKeyHex, MAX_GOVERNORS, 'PublicKeys'),
  threshold: integerIn('Threshold', 1, 100),
}, 'Governors');
export type Governors = t.TypeOf<typeof Governors>;

/** Market parameters that governance may change after listing (decimals are fixed at listing). */
export const MarketRiskParams = {
  initialMarginPpm: PpmRate,
  maintenanceMarginPpm: PpmRate,
  takerFeePpm: PpmRate,
  /** Below zero: a rebate to the maker, paid out of the taker's fee (at most the taker fee rate). */
  makerFeePpm: SignedPpmRate,
  liquidationPenaltyPpm: PpmRate,
  penaltyFundSharePpm: PpmRate,
  adlPolicy: AdlPolicy,
};

/**
 * Trust bounds on the prices a market accepts, in ppm of the mark: how far below (a long) or above
 * (a short) the mark a liquidator may take a position over, and how far one mark update may move
 * the mark. Optional at listing (DEFAULT_RISK_BOUNDS), changeable by governance.
 */
export const MarketRiskBounds = {
  maxLiquidationSpreadPpm: PpmRate,
  maxMarkMovePpm: PpmRate,
};
/**
 * Funding and the market's claim on the insurance fund, optional at listing (DEFAULT_FUNDING_CAP
 * and no fund cap) and changeable by governance:
 * - maxFundingRatePpm: the largest |rate| one funding update may apply;
 * - fundDrawCap: the most this market's liquidations may draw from the fund, in total, or within
 *   any window of fundDrawWindowMs when that is above zero; past it the waterfall goes on to ADL.
 */
export const MarketFundParams = {
  maxFundingRatePpm: PpmRate,
  fundDrawCap: NonNegativeAmount,
  fundDrawWindowMs: DurationMs,
};

/** 0.75% of the mark per funding update unless governance says otherwise. */
export const DEFAULT_MAX_FUNDING_RATE_PPM = 7_500;

export interface RiskBounds {
  readonly maxLiquidationSpreadPpm: number;
  readonly maxMarkMovePpm: number;
}

/**
 * Liquidations within 10% of the mark (wider than any liquidation penalty, so a liquidator still
 * earns it); mark updates of at most 20% of the mark, a move no oracle feed makes in one update
 * in normal markets (larger moves come as several updates).
 */
export const DEFAULT_RISK_BOUNDS: RiskBounds = { maxLiquidationSpreadPpm: 100_000, maxMarkMovePpm: 200_000 };

export const MarketParams = {
  marketId: Id,
  sizeDecimals: Decimals,
  priceDecimals: Decimals,
  ...MarketRiskParams,
};

const envelope = <T extends string>(type: T) => ({
  type: t.literal(type),
  schemaVersion: t.literal(SCHEMA_VERSION),
  commandId: Id,
  poolId: Id,
});

export const CreatePool = strictObject({
  ...envelope('CreatePool'),
  quoteAsset: Id,
  quoteDecimals: Decimals,
  tranches: t.array(TrancheSpec, 'Tranches'),
  feeShare: FeeShareParams,
  unstakeCooldownMs: DurationMs,
  governors: Governors,
  signatures: Signatures,
}, 'CreatePool');
export type CreatePool = t.TypeOf<typeof CreatePool>;

export const ListMarket = strictObject({
  ...envelope('ListMarket'),
  ...MarketParams,
  /** The reference price the market opens at, until the oracle sends the first mark. */
  markPrice: PositivePrice,
  governanceSeq: GovernanceSeq,
  signatures: Signatures,
}, 'ListMarket', { ...MarketRiskBounds, ...MarketFundParams });
export type ListMarket = t.TypeOf<typeof ListMarket>;

export const Deposit = strictObject({
  ...envelope('Deposit'),
  accountId: Id,
  amount: PositiveAmount,
}, 'Deposit');
export type Deposit = t.TypeOf<typeof Deposit>;

export const Withdraw = strictObject({
  ...envelope('Withdraw'),
  accountId: Id,
  amount: PositiveAmount,
}, 'Withdraw');
export type Withdraw = t.TypeOf<typeof Withdraw>;

export const ExecuteTrade = strictObject({
  ...envelope('ExecuteTrade'),
  tradeId: Id,
  marketId: Id,
  taker: Id,
  maker: Id,
  takerSide: Side,
  size: PositiveSize,
  price: PositivePrice,
}, 'ExecuteTrade');
export type ExecuteTrade = t.TypeOf<typeof ExecuteTrade>;

export const UpdateMarkPrice = strictObject({
  ...envelope('UpdateMarkPrice'),
  marketId: Id,
  price: PositivePrice,
}, 'UpdateMarkPrice');
export type UpdateMarkPrice = t.TypeOf<typeof UpdateMarkPrice>;

export const Stake = strictObject({
  ...envelope('Stake'),
  stakerId: Id,
  trancheId: Id,
  amount: PositiveAmount,
}, 'Stake');
export type Stake = t.TypeOf<typeof Stake>;

export const RequestUnstake = strictObject({
  ...envelope('RequestUnstake'),
  requestId: Id,
  stakerId: Id,
  trancheId: Id,
  shares: PositiveShares,
}, 'RequestUnstake');
export type RequestUnstake = t.TypeOf<typeof RequestUnstake>;

export const CompleteUnstake = strictObject({ ...envelope('CompleteUnstake'), requestId: Id }, 'CompleteUnstake');
export type CompleteUnstake = t.TypeOf<typeof CompleteUnstake>;

export const CancelUnstake = strictObject({ ...envelope('CancelUnstake'), requestId: Id }, 'CancelUnstake');
export type CancelUnstake = t.TypeOf<typeof CancelUnstake>;

export const Liquidate = strictObject({
  ...envelope('Liquidate'),
  accountId: Id,
  marketId: Id,
  /** The account taking over the position: the venue's liquidation engine or a market maker. */
  liquidatorId: Id,
  price: PositivePrice,
}, 'Liquidate');
export type Liquidate = t.TypeOf<typeof Liquidate>;

export const PoolChanges = strictObject({}, 'PoolChanges', {
  feeShare: FeeShareParams,
  unstakeCooldownMs: DurationMs,
  governors: Governors,
  trancheWeights: t.array(TrancheSpec, 'TrancheWeights'),
});
export type PoolChanges = t.TypeOf<typeof PoolChanges>;

export const MarketChanges = strictObject({ marketId: Id }, 'MarketChanges', { ...MarketRiskParams, ...MarketRiskBounds, ...MarketFundParams });
export type MarketChanges = t.TypeOf<typeof MarketChanges>;

export const ChangeParameters = strictObject({
  ...envelope('ChangeParameters'),
  pool: PoolChanges,
  markets: t.array(MarketChanges, 'MarketChangesList'),
  governanceSeq: GovernanceSeq,
  signatures: Signatures,
}, 'ChangeParameters');
export type ChangeParameters = t.TypeOf<typeof ChangeParameters>;

export const AddTranche = strictObject({
  ...envelope('AddTranche'),
  trancheId: Id,
  incomeWeight: integerIn('IncomeWeight', 1, 1_000_000),
  /** Position in the seniority order: 0 is the most junior; the number of tranches appends a new most senior one. */
  seniority: integerIn('Seniority', 0, 100),
  governanceSeq: GovernanceSeq,
  signatures: Signatures,
}, 'AddTranche');
export type AddTranche = t.TypeOf<typeof AddTranche>;

export const Recapitalize = strictObject({
  ...envelope('Recapitalize'),
  trancheId: Id,
  amount: PositiveAmount,
  governanceSeq: GovernanceSeq,
  signatures: Signatures,
}, 'Recapitalize');
export type Recapitalize = t.TypeOf<typeof Recapitalize>;

/**
 * The oracle's funding update for one market: longs pay shorts `fundingRatePpm` of the mark per
 * unit of size (shorts pay longs when negative). It moves the market's cumulative funding index;
 * each position settles when it is next touched.
 */
export const ApplyFunding = strictObject({
  ...envelope('ApplyFunding'),
  marketId: Id,
  fundingRatePpm: SignedPpmRate,
}, 'ApplyFunding');
export type ApplyFunding = t.TypeOf<typeof ApplyFunding>;

/** Realize an account's unsettled funding into its collateral (equity does not change). */
export const SettleFunding = strictObject({
  ...envelope('SettleFunding'),
  accountId: Id,
}, 'SettleFunding');
export type SettleFunding = t.TypeOf<typeof SettleFunding>;

/** Who a fund payout goes to: an account's collateral, or out of the pool. */
export const PayoutRecipient = t.union([
  strictObject({ kind: t.literal('account'), accountId: Id }, 'AccountRecipient'),
  strictObject({ kind: t.literal('external') }, 'ExternalRecipient'),
], 'PayoutRecipient');
export type PayoutRecipient = t.TypeOf<typeof PayoutRecipient>;

/**
 * A payout from the insurance fund decided by governance (claims after an incident): from the
 * named tranche, or junior first, with its reason and the governance reference it rests on.
 */
export const PayFromFund = strictObject({
  ...envelope('PayFromFund'),
  recipient: PayoutRecipient,
  amount: PositiveAmount,
  reason: Text('PayoutReason', 500),
  governanceRef: Text('GovernanceRef', 200),
  governanceSeq: GovernanceSeq,
  signatures: Signatures,
}, 'PayFromFund', { trancheId: Id });
export type PayFromFund = t.TypeOf<typeof PayFromFund>;

export const commandCodecs = {
  CreatePool,
  ListMarket,
  Deposit,
  Withdraw,
  ExecuteTrade,
  UpdateMarkPrice,
  Stake,
  RequestUnstake,
  CompleteUnstake,
  CancelUnstake,
  Liquidate,
  ChangeParameters,
  AddTranche,
  Recapitalize,
  ApplyFunding,
  SettleFunding,
  PayFromFund,
} as const;
export type CommandType = keyof typeof commandCodecs;
/** A command type's name (as recorded with a rejection). */
export const CommandTypeName = t.keyof(Object.fromEntries(Object.keys(commandCodecs).map((type) => [type, null])) as Record<CommandType, null>, 'CommandType');
export type Command = t.TypeOf<(typeof commandCodecs)[CommandType]>;

const commands = byType('command', commandCodecs);
export const commandTypes = commands.types as CommandType[];

/** Decode untrusted input into a command, or say which fields are wrong. */
export const decodeCommand = (input: unknown): E.Either<InvalidInput, Command> => commands.decode(input);

/** Encode a command to its wire JSON (decimal strings). */
export const encodeCommand = (command: Command): unknown => commands.encode(command);
