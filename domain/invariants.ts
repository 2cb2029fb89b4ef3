// The invariants of docs/design.md section 6 that hold for a single state, as a pure check.
// Property tests run it after every event; the audit runs it over a replayed log.

import { adlCandidates, adlRankingUncached } from './adl.js';
import { survivesAdl } from './liquidation.js';
import type { Event, InsuranceFundDrawn, PositionLiquidated, PositionsAutoDeleveraged } from './events.js';
import { abs, ceilDiv, formatDecimal, notional, ONE, pow10, type Price } from './money.js';
import { equityOf, isLiquidatable } from './margin.js';
import { fundAssets, marketsOf, type ActivePool, type PoolState } from './state.js';

export type InvariantName =
  | 'conservation'
  | 'balanced-open-interest'
  | 'non-negative-without-positions'
  | 'negative-equity-is-liquidatable'
  | 'non-negative-tranches'
  | 'position-index'
  | 'waterfall-order';

export interface InvariantViolation {
  readonly invariant: InvariantName;
  readonly message: string;
}

/** Marks to value positions at: market id -> price. Missing markets use their current mark. */
export type MarkScenario = ReadonlyMap<string, Price>;

/**
 * Invariant 1, scaled by ONE so that it is exact at any mark, tick-aligned or not:
 *   sum(collateral) + sum(size * mark - entryNotional) + sum(tranche assets) + treasury
 *     - (external in - external out + bad debt)
 * Zero when value is conserved.
 */
export const conservationGap = (pool: ActivePool, marks: MarkScenario = new Map()): bigint => {
  let scaled = 0n;
  let balances = pool.treasury + pool.externalOut - pool.externalIn - pool.badDebt;
  for (const tranche of pool.tranches) balances += tranche.assets;
  for (const account of pool.accounts.values()) {
    balances += account.collateral;
    for (const position of account.positions) {
      const mark = marks.get(position.marketId) ?? pool.markets.get(position.marketId)?.mark ?? 0n;
      scaled += position.size * mark;
      balances -= position.entryNotional;
    }
  }
  return balances * ONE + scaled;
};

export const checkInvariants = (state: PoolState, scenarios: ReadonlyArray<MarkScenario> = []): InvariantViolation[] => {
  if (state.status !== 'active') return [];
  const violations: InvariantViolation[] = [];
  const markets = marketsOf(state);

  for (const marks of [new Map<string, Price>(), ...scenarios]) {
    const gap = conservationGap(state, marks);
    if (gap !== 0n) {
      const at = marks.size === 0 ? 'current marks' : [...marks].map(([m, p]) => `${m}=${formatDecimal(p)}`).join(', ');
      violations.push({ invariant: 'conservation', message: `value is off by ${gap} (1e-36 units) at ${at}` });
    }
  }

  const longs = new Map<string, bigint>();
  const shorts = new Map<string, bigint>();
  for (const account of state.accounts.values()) {
    for (const p of account.positions) {
      if (p.size > 0n) longs.set(p.marketId, (longs.get(p.marketId) ?? 0n) + p.size);
      else shorts.set(p.marketId, (shorts.get(p.marketId) ?? 0n) - p.size);
    }
    if (account.positions.length === 0 && account.collateral < 0n) {
      violations.push({ invariant: 'non-negative-without-positions', message: `account "${account.accountId}" has no position and collateral ${formatDecimal(account.collateral)}` });
    }
    if (account.positions.length > 0 && equityOf(account, markets) < 0n && !isLiquidatable(account, markets)) {
      violations.push({ invariant: 'negative-equity-is-liquidatable', message: `account "${account.accountId}" has negative equity but is not liquidatable` });
    }
  }
  let openInterest = 0n;
  for (const market of state.markets.values()) {
    openInterest += market.openInterest;
    if (market.openInterest !== notional(market.longSize, market.mark)) {
      violations.push({ invariant: 'balanced-open-interest', message: `market "${market.marketId}": recorded open interest notional ${formatDecimal(market.openInterest)} is not long size at mark` });
    }
    const long = longs.get(market.marketId) ?? 0n;
    const short = shorts.get(market.marketId) ?? 0n;
    if (long !== short || long !== market.longSize) {
      violations.push({
        invariant: 'balanced-open-interest',
        message: `market "${market.marketId}": long ${formatDecimal(long)}, short ${formatDecimal(short)}, recorded open interest ${formatDecimal(market.longSize)}`,
      });
    }
  }
  if (openInterest !== state.openInterest) {
    violations.push({ invariant: 'balanced-open-interest', message: `pool open interest ${formatDecimal(state.openInterest)} is not the sum over markets ${formatDecimal(openInterest)}` });
  }
  for (const [marketId, holders] of state.positionHolders.entries()) {
    for (const accountId of holders.values()) {
      const account = state.accounts.get(accountId);
      if (account === undefined || !account.positions.some((p) => p.marketId === marketId)) {
        violations.push({ invariant: 'position-index', message: `"${accountId}" is listed as holding "${marketId}" but has no position there` });
      }
    }
  }
  for (const account of state.accounts.values()) {
    for (const p of account.positions) {
      if (state.positionHolders.get(p.marketId)?.has(account.accountId) !== true) {
        violations.push({ invariant: 'position-index', message: `"${account.accountId}" holds "${p.marketId}" but is not listed as a holder` });
      }
    }
  }
  if (state.badDebt < 0n) violations.push({ invariant: 'non-negative-tranches', message: `bad debt is negative: ${formatDecimal(state.badDebt)}` });
  for (const tranche of state.tranches) {
    if (tranche.assets < 0n || tranche.shares < 0n) {
      violations.push({ invariant: 'non-negative-tranches', message: `tranche "${tranche.trancheId}" has assets ${formatDecimal(tranche.assets)} and shares ${tranche.shares}` });
    }
  }
  return violations;
};

/**
 * Invariant 4 and the "made whole" rule for the events of one liquidation, given the pool before
 * and after them:
 * - no senior draw while a more junior tranche still has assets;
 * - no ADL unless the deficit exceeded the fund's assets;
 * - no socialized loss while ADL could still have placed size (whole lots) against eligible positions;
 * - no bad debt unless the fund is empty and no other account has positive collateral left;
 * - the liquidated account ends with E - E_q (+ S - P when the price was above bankruptcy).
 */
export const checkWaterfall = (before: ActivePool, events: ReadonlyArray<Event>, after: ActivePool): InvariantViolation[] => {
  const liquidated = events.find((e): e is PositionLiquidated => e.type === 'PositionLiquidated');
  if (liquidated === undefined) return [];
  const violations: InvariantViolation[] = [];
  const fail = (message: string) => violations.push({ invariant: 'waterfall-order', message });
  const market = before.markets.get(liquidated.marketId);
  const fundBefore = fundAssets(before);

  const draws = events.find((e): e is InsuranceFundDrawn => e.type === 'InsuranceFundDrawn');
  if (draws !== undefined) {
    const drawn = new Set(draws.draws.map((d) => d.trancheId));
    const lastDrawn = Math.max(...after.tranches.map((t, i) => (drawn.has(t.trancheId) ? i : -1)));
    after.tranches.slice(0, lastDrawn).forEach((t) => {
      if (t.assets !== 0n) fail(`tranche "${t.trancheId}" kept ${formatDecimal(t.assets)} while a more senior tranche was drawn`);
    });
  }

  const adl = events.find((e): e is PositionsAutoDeleveraged => e.type === 'PositionsAutoDeleveraged');
  if (adl !== undefined && liquidated.deficit <= fundBefore) {
    fail(`ADL with a deficit of ${formatDecimal(liquidated.deficit)} that the fund's ${formatDecimal(fundBefore)} could cover`);
  }

  const socialized = events.some((e) => e.type === 'LossSocialized');
  const badDebt = events.some((e) => e.type === 'BadDebtRecorded');
  if ((socialized || badDebt) && market !== undefined && market.adlPolicy !== 'none') {
    const q = liquidated.size;
    const uncovered = liquidated.deficit - (liquidated.deficit < fundBefore ? liquidated.deficit : fundBefore);
    const lot = pow10(18 - market.sizeDecimals);
    const target = liquidated.deficit === 0n || uncovered === 0n ? 0n : ceilDiv(ceilDiv(abs(q) * uncovered, liquidated.deficit), lot) * lot;
    const wanted = target < abs(q) ? target : abs(q);
    const placed = (adl?.fills ?? []).reduce((sum, f) => sum + abs(f.size), 0n);
    const exclude = new Set([liquidated.accountId, liquidated.liquidatorId]);
    let capacity = 0n;
    for (const p of adlCandidates(before, market.marketId, q > 0n ? 'short' : 'long', exclude, survivesAdl(liquidated.mark, q, liquidated.equityShare), adlRankingUncached)) {
      capacity += abs(p.size);
    }
    if (placed < wanted && placed < capacity) {
      fail(`loss socialized after ADL placed ${formatDecimal(placed)} of ${formatDecimal(wanted)} with ${formatDecimal(capacity)} eligible`);
    }
  }
  if (badDebt) {
    if (fundAssets(after) !== 0n) fail(`bad debt while the fund holds ${formatDecimal(fundAssets(after))}`);
    for (const account of after.accounts.values()) {
      if (account.accountId !== liquidated.accountId && account.collateral > 0n) {
        fail(`bad debt while "${account.accountId}" still has collateral ${formatDecimal(account.collateral)}`);
        break;
      }
    }
  }

  const surplus = liquidated.deficit > 0n ? 0n : liquidated.equityShare + notional(liquidated.size, liquidated.price) - notional(liquidated.size, liquidated.mark);
  const expected = liquidated.equity - liquidated.equityShare + surplus - liquidated.penalty;
  const account = after.accounts.get(liquidated.accountId);
  const actual = account === undefined ? 0n : equityOf(account, (id) => after.markets.get(id));
  if (actual !== expected) fail(`"${liquidated.accountId}" ends with equity ${formatDecimal(actual)}, expected ${formatDecimal(expected)}`);
  return violations;
};
