// The invariants of docs/design.md section 6 that hold for a single state, as a pure check.
// Property tests run it after every event; the audit runs it over a replayed log.

import { adlCandidates, adlRankingUncached } from './adl.js';
import { adlLossAtMark, survivesAdl } from './liquidation.js';
import type { BadDebtRecorded, Event, InsuranceFundDrawn, LossSocialized, PositionLiquidated, PositionsAutoDeleveraged } from './events.js';
import { abs, ceilDiv, formatDecimal, notional, ONE, pow10, type Price } from './money.js';
import { equityOf, isLiquidatable, unsettledFunding } from './margin.js';
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
 *   sum(collateral) + sum(size * mark - entryNotional) + sum(unsettled funding) + sum(tranche assets)
 *     + treasury - (external in - external out + bad debt)
 * Zero when value is conserved. (The markets' funding clearing accounts are not in it: each must
 * hold exactly its positions' unsettled funding, which checkInvariants checks on its own.)
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
      const market = pool.markets.get(position.marketId);
      if (market !== undefined) balances += unsettledFunding(position, market);
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
  const unsettled = new Map<string, bigint>();
  for (const account of state.accounts.values()) {
    for (const p of account.positions) {
      const market = state.markets.get(p.marketId);
      if (market !== undefined) unsettled.set(p.marketId, (unsettled.get(p.marketId) ?? 0n) + unsettledFunding(p, market));
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
    if (market.fundingBalance !== (unsettled.get(market.marketId) ?? 0n)) {
      violations.push({
        invariant: 'conservation',
        message: `market "${market.marketId}": funding account holds ${formatDecimal(market.fundingBalance)}, its positions' unsettled funding is ${formatDecimal(unsettled.get(market.marketId) ?? 0n)}`,
      });
    }
    if (market.fundingIndex % pow10(market.sizeDecimals) !== 0n) {
      violations.push({ invariant: 'conservation', message: `market "${market.marketId}": funding index ${market.fundingIndex} is not a multiple of its quantum 10^${market.sizeDecimals}` });
    }
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
 * - no ADL unless the deficit exceeded what the market could draw: the fund's assets, or less when
 *   the market's fund cap was reached (the cap recorded must agree with the market's);
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
  // What this market could draw: the fund, or what was left of its cap.
  const fundAssetsBefore = fundAssets(before);
  const capLeft = liquidated.fundCapRemaining;
  const fundBefore = capLeft !== undefined && capLeft < fundAssetsBefore ? capLeft : fundAssetsBefore;
  if (market !== undefined && (capLeft === undefined) !== (market.fundDrawCap === undefined || liquidated.deficit === 0n)) {
    fail(`the liquidation ${capLeft === undefined ? 'records no' : 'records a'} fund cap, the market ${market.fundDrawCap === undefined ? 'has none' : 'has one'}`);
  }
  if (market?.fundDrawCap !== undefined && capLeft !== undefined) {
    const lifetime = market.fundDrawCap - market.fundDrawnTotal;
    if (capLeft > market.fundDrawCap || (market.fundDrawWindowMs === 0 && capLeft !== (lifetime > 0n ? lifetime : 0n)) || (market.fundDrawWindowMs > 0 && capLeft < lifetime)) {
      fail(`fund cap remaining ${formatDecimal(capLeft)} does not agree with the cap ${formatDecimal(market.fundDrawCap)} and the draws recorded`);
    }
  }

  const draws = events.find((e): e is InsuranceFundDrawn => e.type === 'InsuranceFundDrawn');
  if (draws !== undefined && draws.amount > fundBefore) fail(`drew ${formatDecimal(draws.amount)} where the market could draw ${formatDecimal(fundBefore)}`);
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
  if (adl !== undefined && adl.lossAtMark !== undefined) {
    // The measure recorded is the one the fills and the rest of the waterfall give.
    const loss = adl.fills.reduce((sum, f) => sum + adlLossAtMark(liquidated.mark, liquidated.size, abs(f.size), f.notional), 0n);
    const rest = (draws?.amount ?? 0n) +
      (events.find((e): e is LossSocialized => e.type === 'LossSocialized')?.amount ?? 0n) +
      (events.find((e): e is BadDebtRecorded => e.type === 'BadDebtRecorded')?.amount ?? 0n);
    const covered = liquidated.deficit > rest ? liquidated.deficit - rest : 0n;
    if (adl.lossAtMark !== loss || adl.deficitCovered !== covered) {
      fail(`ADL recorded a loss at mark of ${formatDecimal(adl.lossAtMark)} for ${formatDecimal(adl.deficitCovered ?? 0n)} covered; its fills give ${formatDecimal(loss)} for ${formatDecimal(covered)}`);
    }
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
    const capReached = capLeft !== undefined && (draws?.amount ?? 0n) === fundBefore;
    if (fundAssets(after) !== 0n && !capReached) fail(`bad debt while the fund holds ${formatDecimal(fundAssets(after))}`);
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
