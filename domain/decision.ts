// What every decision is made of: the result type, and the lookups and checks that several
// commands share (a listed market, a known account, a value within its decimals).

import * as E from 'fp-ts/lib/Either.js';
import { domainError, type DomainError } from './errors.js';
import type { Event } from './events.js';
import { fitsDecimals, formatDecimal } from './money.js';
import type { Account, Market } from './state.js';

export type Decision = E.Either<DomainError, ReadonlyArray<Event>>;

export const ok = (...events: Event[]): Decision => E.right(events);

export const fail = (code: DomainError['code'], message: string, field?: string): Decision => E.left(domainError(code, message, field));

export const knownMarket = (pool: { readonly markets: { get(marketId: string): Market | undefined } }, marketId: string, field = 'marketId'): E.Either<DomainError, Market> => {
  const market = pool.markets.get(marketId);
  return market === undefined ? E.left(domainError('UNKNOWN_MARKET', `market "${marketId}" is not listed`, field)) : E.right(market);
};

export const knownAccount = (pool: { readonly accounts: { get(accountId: string): Account | undefined } }, accountId: string, field: string): E.Either<DomainError, Account> => {
  const account = pool.accounts.get(accountId);
  return account === undefined ? E.left(domainError('UNKNOWN_ACCOUNT', `account "${accountId}" does not exist`, field)) : E.right(account);
};

/** PRECISION_EXCEEDED when `value` uses more than `decimals` decimal places. */
export const precisionError = (value: bigint, decimals: number, field: string): DomainError | undefined =>
  fitsDecimals(value, decimals)
    ? undefined
    : domainError('PRECISION_EXCEEDED', `${field} ${formatDecimal(value)} has more than ${decimals} decimal places`, field);
