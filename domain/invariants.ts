// The invariants of DESIGN.md section 6 that hold for a single state, as a pure check.
// Property tests run it after every event; the audit runs it over a replayed log.

import { formatDecimal, notional, ONE, type Price } from './money.js';
import { equityOf, isLiquidatable } from './margin.js';
import { marketsOf } from './decide.js';
import type { ActivePool, PoolState } from './state.js';

export type InvariantName =
  | 'conservation'
  | 'balanced-open-interest'
  | 'non-negative-without-positions'
  | 'negative-equity-is-liquidatable'
  | 'non-negative-tranches';

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
  for (const tranche of state.tranches) {
    if (tranche.assets < 0n || tranche.shares < 0n) {
      violations.push({ invariant: 'non-negative-tranches', message: `tranche "${tranche.trancheId}" has assets ${formatDecimal(tranche.assets)} and shares ${tranche.shares}` });
    }
  }
  return violations;
};
