// Trading fees and where they go (docs/design.md section 5, "Fees" and "Dynamic fund fee share").

import { largestRemainderSplit, mulDivFloor, PPM, ppmOfFloor, type Amount, type Ppm } from './money.js';
import type { LedgerAccount, Posting } from './events.js';
import { fundAssets, type ActivePool } from './state.js';

/**
 * The fund's share of fees. coverage = fundAssets / openInterest (long size at mark, all markets). At or above the target the
 * base share applies; below it the share rises linearly to the maximum at zero coverage.
 * The interpolated share is rounded up (toward the fund), so a thin fund is never short-changed.
 */
export const fundFeeShare = (pool: Pick<ActivePool, 'feeShare' | 'tranches' | 'openInterest'>): Ppm => {
  const { baseFundSharePpm: base, maxFundSharePpm: top, targetCoveragePpm: target } = pool.feeShare;
  const assetsTimesPpm = fundAssets(pool) * PPM;
  const targetTimesOi = BigInt(target) * pool.openInterest;
  // No open interest or no target counts as covered (0 >= 0); top >= base is a parameter rule, and
  // top = base gives a discount of zero.
  if (assetsTimesPpm >= targetTimesOi) return base;
  // share = top - (top - base) * coverage / target, coverage = assets * 1e6 / oi
  const discount = mulDivFloor(BigInt(top - base), assetsTimesPpm, targetTimesOi);
  return top - Number(discount);
};

/**
 * Postings that move `amount` of fund income from `from` into the tranches, split by income weight
 * with the largest remainder method. With no tranche to receive it, it goes to the treasury rather
 * than vanish.
 */
export const fundIncomePostings = (pool: Pick<ActivePool, 'tranches'>, from: LedgerAccount, amount: Amount): Posting[] => {
  const postings: Posting[] = [];
  pushFundIncomePostings(postings, pool, from, amount);
  return postings;
};

/** `fundIncomePostings`, appended to `postings` (a trade's postings are built in one array). */
const pushFundIncomePostings = (postings: Posting[], pool: Pick<ActivePool, 'tranches'>, from: LedgerAccount, amount: Amount): void => {
  if (amount === 0n) return;
  if (pool.tranches.length === 0) {
    postings.push({ from, to: { kind: 'treasury' }, amount });
    return;
  }
  const parts = largestRemainderSplit(amount, pool.tranches.map((t) => ({ key: t.trancheId, weight: BigInt(t.incomeWeight) })));
  pool.tranches.forEach((tranche, i) => {
    const part = parts[i] ?? 0n;
    if (part > 0n) postings.push({ from, to: { kind: 'tranche', trancheId: tranche.trancheId }, amount: part });
  });
};

/**
 * Postings that charge `fee` to a trader's collateral: the fund's part (floor of fee * share) to
 * the tranches, the rest to the treasury.
 */
export const feePostings = (pool: Pick<ActivePool, 'tranches'>, accountId: string, fee: Amount, fundSharePpm: Ppm): Posting[] => {
  const postings: Posting[] = [];
  pushFeePostings(postings, pool, accountId, fee, fundSharePpm);
  return postings;
};

/** `feePostings`, appended to `postings`. */
export const pushFeePostings = (postings: Posting[], pool: Pick<ActivePool, 'tranches'>, accountId: string, fee: Amount, fundSharePpm: Ppm): void => {
  const from = { kind: 'collateral', accountId } as const;
  const toFund = ppmOfFloor(fee, fundSharePpm);
  pushFundIncomePostings(postings, pool, from, toFund);
  if (fee > toFund) postings.push({ from, to: { kind: 'treasury' }, amount: fee - toFund });
};

/** A maker rebate, paid out of the taker's fee straight into the maker's collateral (appended to `postings`). */
export const pushRebatePosting = (postings: Posting[], taker: string, maker: string, rebate: Amount): void => {
  if (rebate > 0n) postings.push({ from: { kind: 'collateral', accountId: taker }, to: { kind: 'collateral', accountId: maker }, amount: rebate });
};
