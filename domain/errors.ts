// Domain errors are values with stable codes: producers branch on `code`, people read `message`,
// and `field` names the command field at fault when there is one.

export type ErrorCode =
  | 'UNKNOWN_POOL'
  | 'POOL_ALREADY_EXISTS'
  | 'UNKNOWN_MARKET'
  | 'MARKET_ALREADY_LISTED'
  | 'UNKNOWN_ACCOUNT'
  | 'DUPLICATE_TRADE'
  | 'SELF_TRADE'
  | 'PRECISION_EXCEEDED'
  | 'INVALID_PARAMETER'
  | 'INSUFFICIENT_MARGIN'
  | 'INSUFFICIENT_COLLATERAL'
  | 'WITHDRAWALS_GATED';

export interface DomainError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly field?: string;
}

export const domainError = (code: ErrorCode, message: string, field?: string): DomainError =>
  field === undefined ? { code, message } : { code, message, field };
