// An independent oracle for the events of one liquidation. It reads the pool before the command
// as plain data (balances, positions, marks and rates) and the events, and checks what ADL and
// the rounding must never do, with its own bigint arithmetic written out here: it calls no domain
// rule (no ranking, no eligibility, no margin or rounding helper), so a wrong rule in the domain
// cannot move the oracle with it.
//
// For every liquidation it checks:
// - the liquidated account and the liquidator are never ADL counterparties;
// - every ADL fill is on the opposite side of the liquidated position and at most the
//   counterparty's position;
// - every filled position was profitable at the mark;
// - no counterparty is left with negative equity by its fill;
// - every rounding goes against the account concerned: the fill notional is the exact
//   size * bankruptcy price rounded against the counterparty (up when it pays, down when it
//   receives) by less than one unit; the counterparty's realized PnL is rounded down; the
//   position's share of equity and the penalty are rounded up; what rounding leaves over goes
//   to the treasury, never to the liquidated account.

import type { Event, Posting, PositionLiquidated, PositionsAutoDeleveraged, PoolState } from '../../domain/index.js';

const ONE = 1_000_000_000_000_000_000n;
const PPM = 1_000_000n;

/** `fundingIndex`: the market's funding index the position last settled at (0 when never). */
export interface PlainPosition { readonly marketId: string; readonly size: bigint; readonly entryNotional: bigint; readonly fundingIndex: bigint }
export interface PlainAccount { readonly collateral: bigint; readonly positions: ReadonlyArray<PlainPosition> }
export interface PlainMarket { readonly mark: bigint; readonly maintenanceMarginPpm: number; readonly liquidationPenaltyPpm: number; readonly fundingIndex: bigint }
export interface PlainPool {
  readonly accounts: ReadonlyMap<string, PlainAccount>;
  readonly markets: ReadonlyMap<string, PlainMarket>;
}

/** The pool as plain data: copies of balances, positions and market figures, nothing else. */
export const plainPool = (state: PoolState): PlainPool => {
  if (state.status !== 'active') return { accounts: new Map(), markets: new Map() };
  return {
    accounts: new Map(state.accounts.values().map((a) => [a.accountId, {
      collateral: a.collateral,
      positions: a.positions.map((p) => ({ marketId: p.marketId, size: p.size, entryNotional: p.entryNotional, fundingIndex: p.fundingIndex ?? 0n })),
    }])),
    markets: new Map(state.markets.values().map((m) => [m.marketId, {
      mark: m.mark, maintenanceMarginPpm: m.maintenanceMarginPpm, liquidationPenaltyPpm: m.liquidationPenaltyPpm, fundingIndex: m.fundingIndex,
    }])),
  };
};

// Written out here on purpose (the domain has its own): floor and ceiling of a / b for b > 0.
const floorOf = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));
const ceilOf = (a: bigint, b: bigint): bigint => -floorOf(-a, b);
const magnitude = (x: bigint): bigint => (x < 0n ? -x : x);

const valueAtMark = (size: bigint, mark: bigint): bigint => floorOf(size * mark, ONE);

const equityOf = (account: PlainAccount, markets: PlainPool['markets']): bigint => {
  let equity = account.collateral;
  for (const p of account.positions) {
    const market = markets.get(p.marketId);
    if (market === undefined) continue;
    // Unsettled funding: a long pays the index's rise since it last settled, a short receives it.
    equity += valueAtMark(p.size, market.mark) - p.entryNotional + floorOf(-p.size * (market.fundingIndex - p.fundingIndex), ONE);
  }
  return equity;
};

const maintenanceOf = (account: PlainAccount, markets: PlainPool['markets']): bigint => {
  let total = 0n;
  for (const p of account.positions) {
    const market = markets.get(p.marketId);
    if (market !== undefined) total += ceilOf(magnitude(p.size * market.mark) * BigInt(market.maintenanceMarginPpm), ONE * PPM);
  }
  return total;
};

/** The signed amount `posting` moves from ledger account `a` to `b` (negative when the other way). */
const flow = (postings: ReadonlyArray<Posting>, isFrom: (p: Posting['from']) => boolean, isTo: (p: Posting['to']) => boolean): bigint => {
  let sum = 0n;
  for (const p of postings) {
    if (isFrom(p.from) && isTo(p.to)) sum += p.amount;
    else if (isFrom(p.to) && isTo(p.from)) sum -= p.amount;
  }
  return sum;
};

const isPosition = (accountId: string, marketId: string) => (a: Posting['from']): boolean =>
  a.kind === 'position' && a.accountId === accountId && a.marketId === marketId;
const isCollateral = (accountId: string) => (a: Posting['from']): boolean => a.kind === 'collateral' && a.accountId === accountId;
const isTreasury = (a: Posting['from']): boolean => a.kind === 'treasury';

export const waterfallOracle = (before: PlainPool, events: ReadonlyArray<Event>): string[] => {
  const liquidated = events.find((e): e is PositionLiquidated => e.type === 'PositionLiquidated');
  if (liquidated === undefined) return [];
  const problems: string[] = [];
  const { accountId, liquidatorId, marketId, size: q, mark, equityShare } = liquidated;
  const market = before.markets.get(marketId);
  const account = before.accounts.get(accountId);
  if (market === undefined || account === undefined) return [`liquidation of unknown account "${accountId}" or market "${marketId}"`];

  // The position's share of equity, rounded up: E_q >= E * mm_q / mm_total, by less than one unit.
  const mmQ = ceilOf(magnitude(q * mark) * BigInt(market.maintenanceMarginPpm), ONE * PPM);
  const mmTotal = maintenanceOf(account, before.markets);
  const equity = equityOf(account, before.markets);
  if (liquidated.equity !== equity) problems.push(`equity ${liquidated.equity}, the plain data says ${equity}`);
  if (mmTotal > 0n && (equityShare * mmTotal < equity * mmQ || (equityShare - 1n) * mmTotal >= equity * mmQ)) {
    problems.push(`equity share ${equityShare} is not E * mm_q / mm_total rounded up (${equity} * ${mmQ} / ${mmTotal})`);
  }
  // The penalty is the rate on |q * price| rounded up, or the whole surplus when that is less.
  if (liquidated.penalty > 0n) {
    const charge = ceilOf(magnitude(q * liquidated.price) * BigInt(market.liquidationPenaltyPpm), ONE * PPM);
    const surplus = equityShare + valueAtMark(q, liquidated.price) - valueAtMark(q, mark);
    if (liquidated.penalty !== (charge < surplus ? charge : surplus)) problems.push(`penalty ${liquidated.penalty}: not min(${charge}, ${surplus})`);
  }

  const adl = events.find((e): e is PositionsAutoDeleveraged => e.type === 'PositionsAutoDeleveraged');
  for (const fill of adl?.fills ?? []) {
    const who = fill.accountId;
    if (who === liquidatorId) problems.push(`the liquidator "${who}" was auto-deleveraged in its own liquidation`);
    if (who === accountId) problems.push(`the liquidated account "${who}" was its own ADL counterparty`);
    const counterparty = before.accounts.get(who);
    const position = counterparty?.positions.find((p) => p.marketId === marketId);
    if (counterparty === undefined || position === undefined) {
      problems.push(`ADL counterparty "${who}" had no position in "${marketId}"`);
      continue;
    }
    const s = magnitude(fill.size);
    // fill.size is the counterparty's change: it buys back (+) a short when the account was long.
    if ((q > 0n) !== (fill.size > 0n) || (position.size > 0n) === (q > 0n)) problems.push(`ADL fill of "${who}" is not against the liquidated side`);
    if (s > magnitude(position.size)) problems.push(`ADL took ${s} from "${who}", which held ${magnitude(position.size)}`);
    const before0 = valueAtMark(position.size, mark);
    if (before0 - position.entryNotional <= 0n) problems.push(`ADL took from "${who}", whose position was not profitable at the mark (uPnL ${before0 - position.entryNotional})`);

    // Exact fill: s * mark - s * E_q / q. As a fraction over ONE * |q|: numerator * sign(q).
    const n = fill.notional;
    const exactTimes = s * mark * q - s * equityShare * ONE; // = exact * ONE * q
    const scale = ONE * q;
    if (q > 0n) {
      // The counterparty pays: n >= exact, n - exact < 1.
      if (n * scale < exactTimes || (n - 1n) * scale >= exactTimes) problems.push(`fill notional ${n} of "${who}" is not the exact price rounded up`);
    } else {
      // The counterparty receives: n <= exact, exact - n < 1 (scale < 0 flips the comparisons).
      if (n * scale < exactTimes || (n + 1n) * scale >= exactTimes) problems.push(`fill notional ${n} of "${who}" is not the exact price rounded down`);
    }

    // Its equity after the fill: it pays n for what was worth (value after - value before), or
    // receives n for it. Never below zero.
    const after0 = valueAtMark(position.size + fill.size, mark);
    const equityAfter = equityOf(counterparty, before.markets) + (after0 - before0) + (q > 0n ? -n : n);
    if (equityAfter < 0n) problems.push(`ADL left "${who}" with equity ${equityAfter}`);

    // Realized PnL rounds down: the basis released is at least entry * closed / size.
    const postings = adl!.postings;
    const realized = flow(postings, isPosition(who, marketId), isCollateral(who));
    const closed = -fill.size; // signed like the position
    const closedNotional = closed > 0n ? n : -n;
    const released = closedNotional - realized;
    const lhs = released * position.size;
    const rhs = position.entryNotional * closed;
    if (position.size > 0n ? lhs < rhs : lhs > rhs) problems.push(`"${who}" realized ${realized}, more than its exact PnL`);
  }

  // What rounding leaves over goes to the treasury, never to the liquidated account: all of the
  // liquidation's postings from the account to the treasury are that excess, and only with fills.
  const toTreasury = flow(events.flatMap((e) => ('postings' in e ? e.postings : [])), isCollateral(accountId), isTreasury);
  if (toTreasury < 0n) problems.push(`the treasury paid ${-toTreasury} to the liquidated account`);
  if (toTreasury > 0n && adl === undefined) problems.push(`an excess of ${toTreasury} without ADL fills`);
  if (adl !== undefined) {
    // Exact total the fills owe the account: sum of s * p_b, against which the sum of the rounded
    // notionals may only be in the counterparties' disfavour, by less than one unit per fill.
    let sumTimes = 0n;
    let sum = 0n;
    for (const fill of adl.fills) {
      const s = magnitude(fill.size);
      sumTimes += s * mark * q - s * equityShare * ONE;
      sum += fill.notional;
    }
    const scale = ONE * q;
    // n * scale >= exact * scale for every fill on either side (scale < 0 flips both), so this is >= 0.
    const over = sum * scale - sumTimes; // in units of 1 / |scale|
    if (over < 0n) problems.push(`the fills together favour the counterparties by ${-over} / ${magnitude(scale)}`);
    else if (toTreasury * magnitude(scale) > over + magnitude(scale)) problems.push(`${toTreasury} to the treasury is more than the fills' rounding`);
  }
  return problems;
};
