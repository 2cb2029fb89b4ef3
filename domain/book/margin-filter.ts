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
//   - summing the 3n + 1 terms and the final difference: each addition errs by at most u times
//     the running magnitude, itself at most M = |collateral| + sum(|value| + |entry| + req).
// Altogether |computed - exact| < (4n + 16) * 1.01 * u * M + 2n + 1. The filter requires a margin of
// (8n + 64) u M + 2n + 2, more than twice that, so a pass is always a pass of the exact rule.
// Doubles cannot overflow here: every magnitude is below 10^42 * 10^42 / 10^18.

import { settledIndexOf, type Account, type Market } from '../state.js';

const U = 2 ** -53;

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
  let equity = Number(account.collateral);
  let required = 0;
  let magnitude = Math.abs(equity);
  let n = 0;
  for (const position of account.positions) {
    const market = markets(position.marketId);
    if (market === undefined) continue;
    // Unsettled funding is exact bigint arithmetic; rare on the hot path, so leave it to the exact rule.
    if (market.fundingIndex !== settledIndexOf(position)) return false;
    const value = (Number(position.size) * Number(market.mark)) / 1e18;
    const entry = Number(position.entryNotional);
    const requirement = (Math.abs(value) * market.initialMarginPpm) / 1e6;
    equity += value - entry;
    required += requirement;
    magnitude += Math.abs(value) + Math.abs(entry) + requirement;
    n++;
  }
  const bound = (8 * n + 64) * U * magnitude + 2 * n + 2;
  return (reducedOnly ? equity : equity - required) > bound;
};
