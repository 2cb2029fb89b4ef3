// Domain errors are values with stable codes: producers branch on `code`, people read `message`,
// and `field` names the command field at fault when there is one.

/** Every error code (a list, so that recorded rejections can be decoded). */
export const errorCodes = [
  'UNKNOWN_POOL',
  'POOL_ALREADY_EXISTS',
  'UNKNOWN_MARKET',
  'MARKET_ALREADY_LISTED',
  'UNKNOWN_ACCOUNT',
  'DUPLICATE_TRADE',
  'SELF_TRADE',
  'PRECISION_EXCEEDED',
  'INVALID_PARAMETER',
  'INSUFFICIENT_MARGIN',
  'INSUFFICIENT_COLLATERAL',
  'WITHDRAWALS_GATED',
  'UNKNOWN_TRANCHE',
  'TRANCHE_ALREADY_EXISTS',
  'UNKNOWN_STAKER',
  'INSUFFICIENT_SHARES',
  'STAKE_TOO_SMALL',
  'DUPLICATE_REQUEST',
  'UNKNOWN_REQUEST',
  'COOLDOWN_NOT_OVER',
  'NOT_LIQUIDATABLE',
  'NO_POSITION',
  'SELF_LIQUIDATION',
  'LIQUIDATOR_INSUFFICIENT_MARGIN',
  'MISSING_SIGNATURES',
  'DUPLICATE_SIGNATURE',
  'UNKNOWN_SIGNER',
  'INVALID_SIGNATURE',
  'INSUFFICIENT_SIGNATURES',
  'TOO_MANY_SIGNATURES',
  'GOVERNANCE_SEQUENCE_MISMATCH',
  'ROOT_GOVERNORS_NOT_CONFIGURED',
  'LIQUIDATION_PRICE_OUT_OF_BAND',
  'MARK_MOVE_OUT_OF_BAND',
  /** A funding rate beyond the market's maxFundingRatePpm. */
  'FUNDING_RATE_OUT_OF_BAND',
  /** SettleFunding for an account whose positions have no funding outstanding. */
  'NO_UNSETTLED_FUNDING',
  /** A payout larger than the tranche (or the fund) holds. */
  'INSUFFICIENT_FUND',
  /** The command id was used before by a command with a different fingerprint (never recorded). */
  'COMMAND_ID_REUSED',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface DomainError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly field?: string;
}

export const domainError = (code: ErrorCode, message: string, field?: string): DomainError =>
  field === undefined ? { code, message } : { code, message, field };
