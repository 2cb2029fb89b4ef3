// A certified float filter in front of the exact initial-margin rule (docs/design.md section 4,
// "Floats as a filter"). It answers only "certainly passes"; anything else (too close to call,
// unsettled funding) goes to the exact bigint rule, which also writes the refusal's message. So
// the filter can make a decision faster but never different.
//
// Error bound. Let u = 2^-53 (unit roundoff of a double) and n the number of positions.
//   - Number(x) of a bigint rounds to nearest: relative error <= u.
//   - value = size * mark / 1e18 in doubles: two conversions, one product, one division by 1e18
//     (exactly representable) -> relative error <= 4u(1 + u)^4 < 4.01u; the exact term is the floor
//     of the exact quotient, so the absolute error is < 4.01u|value| + 1.
//   - requirement term |value| * ppm / 1e6: a further product and division -> < 6.01u|value| * ppm/1e6
//     relative, plus 1 for the ceiling.
//   - entryNotional and collateral: one conversion each, <= u of their magnitude.
//   - summing the 3n + 1 terms (in any order) and the final difference: each addition errs by at
//     most u times the running magnitude, itself at most M = |collateral| + sum(|value| + |entry| + req).
// Altogether |computed - exact| < (4n + 16) * 1.01 * u * M + 2n + 1. The filter requires a margin of
// (8n + 64) u M + 2n + 2, more than twice that, so a pass is always a pass of the exact rule.
// Doubles cannot overflow here: every magnitude is below 10^42 * 10^42 / 10^18.

import { settledIndexOf, type Account, type Market } from '../state.js';

const U = 2 ** -53;

/**
 * The filter's running sums over an account's terms, in doubles: the collateral and every
 * position's value minus entry (equity), the requirements, the magnitude M of the bound and the
 * number of positions n. Terms may be added in any order (the bound holds for any order), so the
 * pool book adds an account's untraded positions before the trade and the rest after it.
 */
export interface FloatMargin {
  equity: number;
  required: number;
  magnitude: number;
  n: number;
}

export const emptyFloatMargin = (): FloatMargin => ({ equity: 0, required: 0, magnitude: 0, n: 0 });

/** Add the collateral's term to the sums. */
export const addCollateralTerm = (sums: FloatMargin, collateral: bigint): void => {
  const value = Number(collateral);
  sums.equity += value;
  sums.magnitude += Math.abs(value);
};

/** Add one position's terms (its funding settled in `market`) to the sums. */
export const addPositionTerms = (sums: FloatMargin, size: bigint, entryNotional: bigint, market: Market): void => {
  const value = (Number(size) * Number(market.mark)) / 1e18;
  const entry = Number(entryNotional);
  const requirement = (Math.abs(value) * market.initialMarginPpm) / 1e6;
  sums.equity += value - entry;
  sums.required += requirement;
  sums.magnitude += Math.abs(value) + Math.abs(entry) + requirement;
  sums.n++;
};

/** Whether sums holding every term of an account certainly meet the rule (false: decide exactly). */
export const certainlyMeets = (sums: FloatMargin, reducedOnly: boolean): boolean => {
  const bound = (8 * sums.n + 64) * U * sums.magnitude + 2 * sums.n + 2;
  return (reducedOnly ? sums.equity : sums.equity - sums.required) > bound;
};

/**
 * Whether the account, as it would be after a trade, certainly meets the rule `decide` applies:
 * equity >= 0 for a side that only reduced, equity >= initial margin otherwise. False means
 * "not certain": decide exactly.
 */
export const certainlyMeetsTradeMargin = (
  account: Pick<Account, 'collateral' | 'positions'>,
  markets: (marketId: string) => Market | undefined,
  reducedOnly: boolean,
): boolean => {
  const sums = emptyFloatMargin();
  addCollateralTerm(sums, account.collateral);
  for (const position of account.positions) {
    const market = markets(position.marketId);
    if (market === undefined) continue;
    // Unsettled funding is exact bigint arithmetic; rare on the hot path, so leave it to the exact rule.
    if (market.fundingIndex !== settledIndexOf(position)) return false;
    addPositionTerms(sums, position.size, position.entryNotional, market);
  }
  return certainlyMeets(sums, reducedOnly);
};
