// What-if stress on a pool's state: price paths (or a shock) per market run through the real
// `decide` and `evolve` on a private copy of the state, with this module acting as the oracle
// (mark updates) and as the liquidation engine (Liquidate commands at prices from a depth model).
// Nothing is appended anywhere: the copy is dropped at the end.
//
// The copy keeps the market's risk bounds as they are. The oracle steps each mark towards its
// target by at most `maxMarkMovePpm` per update (a larger move takes several updates), and the
// depth model's prices are clamped to the `maxLiquidationSpreadPpm` band (the lowest tick a long
// may be taken over at, the highest for a short). So every command the stress sends is one the
// live ledger would accept from the oracle and the engine.
//
// The engine is a generator: it yields progress between steps and liquidations, so a caller can
// run it in slices (the service) or straight through (the CLI); its return value is the result.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { SCHEMA_VERSION, type Command } from './commands.js';
import { decodeWith, Id, integerIn, invalidInput, PositiveAmount, PositivePrice, strictObject, type InvalidInput } from './codecs.js';
import { decide, type CommandContext } from './decide.js';
import type { Event } from './events.js';
import { evolve } from './evolve.js';
import { isLiquidatable } from './margin.js';
import { abs, ceilDiv, fitsDecimals, floorDiv, formatDecimal, ONE, PPM, pow10, type Amount } from './money.js';
import { PersistentMap, PersistentSet } from './persistent-map.js';
import { fundAssets, marketsOf, type ActivePool, type Market, type PoolState } from './state.js';

// --- the scenario (wire form: decimal strings and integer ppm) ----------------------------------

const MovePpm = integerIn('MovePpm', -999_999, 10_000_000);
const Steps = integerIn('Steps', 1, 10_000);

export const MarketScenario = strictObject({ marketId: Id }, 'MarketScenario', {
  /** Signed: -400000 is a 40% fall from the current mark. */
  movePpm: MovePpm,
  /** Marks in order, each on the market's tick (instead of movePpm). */
  path: t.array(PositivePrice),
});
export type MarketScenario = t.TypeOf<typeof MarketScenario>;

export const DepthModel = strictObject({}, 'DepthModel', {
  /** Below the mark for a long (above for a short) for the first liquidation of a step. */
  baseDiscountPpm: integerIn('DiscountPpm', 0, 1_000_000),
  /** Deeper by this much for each liquidation already in the same step and market. */
  stepDiscountPpm: integerIn('DiscountPpm', 0, 1_000_000),
  /** At most this deep (and never beyond the market's liquidation band). */
  maxDiscountPpm: integerIn('DiscountPpm', 0, 1_000_000),
});
export type DepthModel = t.TypeOf<typeof DepthModel>;

export const StressScenario = strictObject({ liquidatorId: Id }, 'StressScenario', {
  /** Every market moves by this (signed ppm) unless `markets` says otherwise. */
  movePpm: MovePpm,
  markets: t.array(MarketScenario),
  /** A move is spread over this many equal mark updates (default 100). */
  steps: Steps,
  depth: DepthModel,
  /** Deposited into the liquidator's account on the copy first (it then shares in any socialized loss). */
  liquidatorDeposit: PositiveAmount,
  /** Also search, per market, the largest move the fund absorbs without ADL (default true). */
  adequacy: t.boolean,
  /** The adequacy search's resolution, ppm (default 10000: 1%). */
  adequacyResolutionPpm: integerIn('ResolutionPpm', 1_000, 500_000),
});
export type StressScenario = t.TypeOf<typeof StressScenario>;

export const decodeScenario = decodeWith(StressScenario);

export const DEFAULT_DEPTH = { baseDiscountPpm: 2_000, stepDiscountPpm: 500, maxDiscountPpm: 300_000 } as const;
export const DEFAULT_STEPS = 100;
const DEFAULT_RESOLUTION = 10_000;
/** Candidates handled between two progress reports (a slice boundary for callers that run in slices). */
const YIELD_EVERY = 128;
/** The adequacy search goes down to a 99% fall, or up to a 10x rise. */
const MAX_FALL_PPM = 990_000;
const MAX_RISE_PPM = 10_000_000;

// --- the result ---------------------------------------------------------------------------------

export interface TrancheStress {
  readonly trancheId: string;
  readonly before: string;
  readonly drawn: string;
  readonly after: string;
  readonly writtenOff: boolean;
}

export interface AdequacyResult {
  readonly marketId: string;
  readonly direction: 'down' | 'up';
  /** The largest move (ppm, a multiple of the resolution) under which every liquidation goes through and the fund covers every deficit: no ADL, socialization or bad debt. */
  readonly absorbedPpm: number;
  /** The smallest move tried that needed ADL or worse (null: none within the searched range). */
  readonly failsAtPpm: number | null;
  readonly resolutionPpm: number;
}

export interface StressResult {
  readonly poolId: string;
  readonly liquidatorId: string;
  readonly marks: ReadonlyArray<{ readonly marketId: string; readonly from: string; readonly to: string; readonly updates: number }>;
  readonly steps: number;
  readonly commands: number;
  readonly liquidations: number;
  readonly belowBankruptcy: number;
  readonly refused: { readonly count: number; readonly byCode: Readonly<Record<string, number>> };
  readonly fund: { readonly before: string; readonly after: string; readonly draws: number; readonly drawn: string; readonly tranches: ReadonlyArray<TrancheStress> };
  /** ADL: the fills, their size and notional at the bankruptcy prices, what they cost the counterparties against closing at the mark (negative: they gained), and the deficit ADL covered. */
  readonly adl: { readonly events: number; readonly fills: number; readonly size: string; readonly notional: string; readonly lossAtMark: string; readonly deficitCovered: string };
  /** Socialized loss: its total and the number of haircuts (one per account and event). */
  readonly socialized: { readonly events: number; readonly total: string; readonly haircuts: number };
  readonly badDebt: string;
  readonly largestDeficit: { readonly amount: string; readonly accountId: string; readonly marketId: string } | null;
  /** Accounts still liquidatable at the final marks (the liquidator's refusals leave some). */
  readonly liquidatableAfter: number;
  readonly adequacy: ReadonlyArray<AdequacyResult>;
}

export interface StressProgress {
  /** Mark steps done and planned, over the main run and the adequacy search. */
  readonly stepsDone: number;
  readonly stepsPlanned: number;
  readonly liquidations: number;
}

/** Hooks for measurement (the benchmark times decide and evolve); the defaults are the domain's. */
export interface StressEngine {
  readonly decide: typeof decide;
  readonly evolve: typeof evolve;
}

// --- a private copy ----------------------------------------------------------------------------

/**
 * A copy that shares no mutable structure with the pool: the persistent maps the liquidations
 * write are rebuilt, so running the stress never reroots (slows) the live state's maps.
 */
export const detachedCopy = (pool: ActivePool): ActivePool => ({
  ...pool,
  accounts: PersistentMap.of(pool.accounts.entries()),
  markets: PersistentMap.of(pool.markets.entries()),
  positionHolders: PersistentMap.of(pool.positionHolders.entries().map(([marketId, holders]): [string, PersistentSet<string>] =>
    [marketId, PersistentSet.empty<string>().addAll(holders.values())])),
  tranches: pool.tranches.map((tranche) => ({ ...tranche, stakes: PersistentMap.of(tranche.stakes.entries()) })),
  unstakeRequests: PersistentMap.of(pool.unstakeRequests.entries()),
});

// --- the oracle: mark paths within the circuit breaker ------------------------------------------

const tickOf = (market: Market) => pow10(18 - market.priceDecimals);
const floorTo = (value: bigint, unit: bigint) => value - (((value % unit) + unit) % unit);
const ceilTo = (value: bigint, unit: bigint) => -floorTo(-value, unit);

/** `steps` equal moves from the mark to mark * (1 + move), each on the tick, rounded towards the current mark (never a larger move than asked). */
export const shockPath = (market: Market, movePpm: number, steps: number): bigint[] => {
  const tick = tickOf(market);
  const from = market.mark;
  const path: bigint[] = [];
  for (let i = 1; i <= steps; i++) {
    const exact = from + (from * BigInt(movePpm) * BigInt(i)) / (PPM * BigInt(steps));
    const rounded = movePpm < 0 ? ceilTo(exact, tick) : floorTo(exact, tick);
    const price = rounded < tick ? tick : rounded;
    if (path[path.length - 1] !== price && price !== from) path.push(price);
  }
  return path;
};

/** The next mark towards `target` that one update may reach (the circuit breaker, on the tick). */
export const nextMark = (market: Market, target: bigint): bigint => {
  const { mark } = market;
  const bound = BigInt(market.maxMarkMovePpm);
  const tick = tickOf(market);
  if (target < mark) {
    const lowest = ceilTo(ceilDiv(mark * (PPM - bound), PPM), tick);
    const reachable = lowest < tick ? tick : lowest;
    return target > reachable ? target : reachable;
  }
  const highest = floorTo(floorDiv(mark * (PPM + bound), PPM), tick);
  return target < highest ? target : highest;
};

// --- the liquidation engine's price: the depth model within the band ---------------------------

/** The price the depth model gives the `nth` liquidation (0-based) of a step, within the market's band, on the tick, against the account. */
export const liquidationPrice = (market: Market, long: boolean, nth: number, depth: DepthModel): bigint => {
  // Field by field, not merged by spreading (once per liquidation).
  const baseDiscountPpm = depth.baseDiscountPpm ?? DEFAULT_DEPTH.baseDiscountPpm;
  const stepDiscountPpm = depth.stepDiscountPpm ?? DEFAULT_DEPTH.stepDiscountPpm;
  const maxDiscountPpm = depth.maxDiscountPpm ?? DEFAULT_DEPTH.maxDiscountPpm;
  const discount = BigInt(Math.min(baseDiscountPpm + stepDiscountPpm * nth, maxDiscountPpm));
  const tick = tickOf(market);
  const spread = BigInt(market.maxLiquidationSpreadPpm);
  if (long) {
    const raw = floorTo(floorDiv(market.mark * (PPM - discount), PPM), tick);
    const band = ceilTo(ceilDiv(market.mark * (PPM - spread), PPM), tick);
    return raw > band ? raw : band;
  }
  const raw = ceilTo(ceilDiv(market.mark * (PPM + discount), PPM), tick);
  const band = floorTo(floorDiv(market.mark * (PPM + spread), PPM), tick);
  return raw < band ? raw : band;
};

// --- the watch list: single-position accounts by the mark at which they become liquidatable -----

/** A watched account and the mark at which it becomes liquidatable. */
export interface Watched { readonly id: string; readonly at: bigint }

/** A trigger mark, with its float to compare faster. */
export interface Trigger {
  readonly at: bigint;
  /** Number(at): only to order triggers faster (see compareTriggers). */
  readonly key: number;
}

/** What the engine's own lists hold: a watched account with its trigger's float. */
export type KeyedWatched = Watched & Trigger;

/**
 * Negative when `a`'s trigger is lower: by the floats first, exactly when they are equal. The
 * same as comparing the bigints: Number() rounds to nearest, which never reverses an order, so
 * floats that differ order as the triggers do, and a tie of floats is decided exactly.
 */
export const compareTriggers = (a: Trigger, b: Trigger): number => a.key - b.key || (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);

/** A binary heap of watched accounts, the one that the next mark reaches first on top (exported for its specification). */
export class WatchHeap<W extends Watched = Watched> {
  private readonly items: W[] = [];
  constructor(private readonly first: (a: W, b: W) => boolean) {}
  get top(): W | undefined {
    return this.items[0];
  }
  push(item: W) {
    const items = this.items;
    items.push(item);
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >>> 1;
      if (!this.first(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): W | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.first(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.first(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

/**
 * Per market, longs by falling trigger and shorts by rising trigger: a sorted list built once
 * (walked with a cursor) and a heap for accounts changed since (ADL counterparties, refusals).
 */
interface MarketWatch {
  readonly longs: KeyedWatched[];
  nextLong: number;
  readonly shorts: KeyedWatched[];
  nextShort: number;
  readonly moreLongs: WatchHeap<KeyedWatched>;
  readonly moreShorts: WatchHeap<KeyedWatched>;
}

/**
 * The mark below which a long (above which a short) of an account with this one position is
 * liquidatable: collateral + size * m - EN < |size * m| * mmr  <=>  m < (EN - c) / (size * (1 - mmr))
 * for a long, m > (c - EN) / (|size| * (1 + mmr)) for a short. Only a filter: every candidate is
 * checked with the domain's isLiquidatable before a Liquidate is sent.
 */
export const triggerMark = (collateral: Amount, size: bigint, entryNotional: Amount, maintenancePpm: number): bigint =>
  size > 0n
    ? floorDiv((entryNotional - collateral) * ONE * PPM, size * (PPM - BigInt(maintenancePpm)))
    : floorDiv((collateral - entryNotional) * ONE * PPM, -size * (PPM + BigInt(maintenancePpm)));

/** Slack on the filter for the rounding of margins (a few units of the last decimal). */
const slack = (mark: bigint) => mark / 1_000_000_000_000n + 1_000n;

/** The orders of the engine's heaps: a long's highest trigger first, a short's lowest (exported for their specification). */
export const higherTriggerFirst = (a: KeyedWatched, b: KeyedWatched) => compareTriggers(a, b) > 0;
export const lowerTriggerFirst = (a: KeyedWatched, b: KeyedWatched) => compareTriggers(a, b) < 0;

/** The engine's filter of candidates (exported for its specification). */
export class StressWatch {
  private readonly byMarket = new Map<string, MarketWatch>();
  /** Checked at every step: accounts with positions in several markets. */
  private readonly always = new Set<string>();

  constructor(pool: ActivePool, private readonly liquidatorId: string) {
    for (const market of pool.markets.values()) {
      this.byMarket.set(market.marketId, { longs: [], nextLong: 0, shorts: [], nextShort: 0, moreLongs: new WatchHeap(higherTriggerFirst), moreShorts: new WatchHeap(lowerTriggerFirst) });
    }
    for (const account of pool.accounts.values()) this.place(pool, account.accountId, false);
    // compareTriggers: the exact order, ties kept in account order (the sort is stable), at a
    // fraction of the cost of comparing bigints throughout.
    for (const watch of this.byMarket.values()) {
      watch.longs.sort((a, b) => compareTriggers(b, a));
      watch.shorts.sort(compareTriggers);
    }
  }

  private place(pool: ActivePool, accountId: string, changed: boolean) {
    if (accountId === this.liquidatorId) return;
    const account = pool.accounts.get(accountId);
    if (account === undefined || account.positions.length === 0) return;
    const [position] = account.positions;
    const market = account.positions.length === 1 ? pool.markets.get(position!.marketId) : undefined;
    if (market === undefined) {
      this.always.add(accountId);
      return;
    }
    const at = triggerMark(account.collateral, position!.size, position!.entryNotional, market.maintenanceMarginPpm);
    const watch = this.byMarket.get(market.marketId)!;
    const key = Number(at);
    if (position!.size > 0n && at > 0n) {
      if (changed) watch.moreLongs.push({ id: accountId, at, key });
      else watch.longs.push({ id: accountId, at, key });
    }
    if (position!.size < 0n) {
      if (changed) watch.moreShorts.push({ id: accountId, at, key });
      else watch.shorts.push({ id: accountId, at, key });
    }
  }

  /** An account whose position or collateral changed other than by a mark (its older entry goes stale: a stale candidate is only checked once more). */
  touched(pool: ActivePool, accountId: string) {
    this.place(pool, accountId, true);
  }

  /** Accounts the marks may have made liquidatable, most exposed first, then the multi-market ones. */
  candidates(pool: ActivePool): string[] {
    const out: string[] = [];
    for (const [marketId, watch] of this.byMarket) {
      const mark = pool.markets.get(marketId)!.mark;
      const give = slack(mark);
      // at + give >= mark for a long, at - give <= mark for a short
      const longsFrom = mark - give;
      const shortsTo = mark + give;
      while (watch.nextLong < watch.longs.length && watch.longs[watch.nextLong]!.at >= longsFrom) out.push(watch.longs[watch.nextLong++]!.id);
      while (watch.moreLongs.top !== undefined && watch.moreLongs.top.at >= longsFrom) out.push(watch.moreLongs.pop()!.id);
      while (watch.nextShort < watch.shorts.length && watch.shorts[watch.nextShort]!.at <= shortsTo) out.push(watch.shorts[watch.nextShort++]!.id);
      while (watch.moreShorts.top !== undefined && watch.moreShorts.top.at <= shortsTo) out.push(watch.moreShorts.pop()!.id);
    }
    for (const id of [...this.always].sort()) out.push(id);
    return out;
  }
}

// --- one run ------------------------------------------------------------------------------------

interface RunPlan {
  readonly paths: ReadonlyMap<string, readonly bigint[]>;
  /** Stop at the first ADL fill, socialized loss, bad debt or refused liquidation (the adequacy search). */
  readonly stopAtAdl: boolean;
}

interface RunTotals {
  commands: number;
  steps: number;
  liquidations: number;
  belowBankruptcy: number;
  refused: Record<string, number>;
  refusedCount: number;
  draws: number;
  drawn: bigint;
  byTranche: Map<string, { drawn: bigint; writtenOff: boolean }>;
  adlEvents: number;
  adlFills: number;
  adlSize: bigint;
  adlNotional: bigint;
  adlLossAtMark: bigint;
  adlDeficitCovered: bigint;
  socializedEvents: number;
  socialized: bigint;
  haircuts: number;
  badDebt: bigint;
  largestDeficit: { amount: bigint; accountId: string; marketId: string } | undefined;
  updates: Map<string, number>;
  stopped: boolean;
}

const newTotals = (): RunTotals => ({
  commands: 0, steps: 0, liquidations: 0, belowBankruptcy: 0, refused: {}, refusedCount: 0, draws: 0, drawn: 0n, byTranche: new Map(),
  adlEvents: 0, adlFills: 0, adlSize: 0n, adlNotional: 0n, adlLossAtMark: 0n, adlDeficitCovered: 0n, socializedEvents: 0, socialized: 0n, haircuts: 0, badDebt: 0n, largestDeficit: undefined,
  updates: new Map(), stopped: false,
});

/** How many mark updates a path takes at most (each leg may need several within the circuit breaker). */
const plannedSteps = (paths: ReadonlyMap<string, readonly bigint[]>) => Math.max(1, ...[...paths.values()].map((p) => p.length));

interface Runner {
  readonly ctx: CommandContext;
  readonly engine: StressEngine;
  readonly liquidatorId: string;
  readonly depth: DepthModel;
  readonly progress: { stepsDone: number; stepsPlanned: number; liquidations: number };
}

function* run(start: RunStart, plan: RunPlan, runner: Runner): Generator<StressProgress, { state: ActivePool; totals: RunTotals }> {
  const { ctx, engine, liquidatorId, depth, progress } = runner;
  let state: ActivePool = start.state!;
  start.state = undefined;
  const totals = newTotals();
  let sequence = 0;
  // Commands written out field by field (see liquidation.ts on spreading a small object).
  const nextId = () => `stress-${++sequence}`;

  const submit = (command: Command): readonly Event[] => {
    totals.commands++;
    const decision = engine.decide(command, state, ctx);
    if (E.isLeft(decision)) {
      totals.refusedCount++;
      totals.refused[decision.left.code] = (totals.refused[decision.left.code] ?? 0) + 1;
      return [];
    }
    let next: PoolState = state;
    for (const event of decision.right) next = engine.evolve(next, event);
    state = next as ActivePool;
    return decision.right;
  };

  let watch = new StressWatch(state, liquidatorId);
  /** Liquidates every candidate that is liquidatable; true if a loss was socialized. Yields every few hundred candidates. */
  const liquidateAll = function* (candidates: readonly string[], inStep: Map<string, number>): Generator<StressProgress, boolean> {
    let socialized = false;
    let sinceYield = 0;
    for (const accountId of candidates) {
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        yield { ...progress };
      }
      // Market by market while the account stays liquidatable (cross margin: closing one position may be enough).
      for (;;) {
        const account = state.accounts.get(accountId);
        if (account === undefined || account.positions.length === 0) break;
        if (!isLiquidatable(account, marketsOf(state))) {
          // Let through by the filter's slack, or out of date: watched again with its trigger now.
          watch.touched(state, accountId);
          break;
        }
        const position = account.positions[0]!;
        const market = state.markets.get(position.marketId)!;
        const nth = inStep.get(market.marketId) ?? 0;
        inStep.set(market.marketId, nth + 1);
        const events = submit({
          type: 'Liquidate', schemaVersion: SCHEMA_VERSION, commandId: nextId(), poolId: state.poolId,
          accountId, marketId: market.marketId, liquidatorId, price: liquidationPrice(market, position.size > 0n, nth, depth),
        });
        if (events.length === 0) {
          // Refused (the liquidator's margin, say): watched again from the next step.
          watch.touched(state, accountId);
          if (plan.stopAtAdl) {
            totals.stopped = true;
            return socialized;
          }
          break;
        }
        for (const event of events) socialized = record(event) || socialized;
        if (plan.stopAtAdl && (totals.adlFills > 0 || totals.socialized > 0n || totals.badDebt > 0n || totals.refusedCount > 0)) {
          totals.stopped = true;
          return socialized;
        }
      }
    }
    return socialized;
  };

  const record = (event: Event): boolean => {
    switch (event.type) {
      case 'PositionLiquidated':
        totals.liquidations++;
        progress.liquidations++;
        if (event.deficit > 0n) totals.belowBankruptcy++;
        if (totals.largestDeficit === undefined || event.deficit > totals.largestDeficit.amount) {
          totals.largestDeficit = { amount: event.deficit, accountId: event.accountId, marketId: event.marketId };
        }
        return false;
      case 'InsuranceFundDrawn':
        totals.draws++;
        totals.drawn += event.amount;
        for (const draw of event.draws) {
          const before = totals.byTranche.get(draw.trancheId) ?? { drawn: 0n, writtenOff: false };
          totals.byTranche.set(draw.trancheId, { drawn: before.drawn + draw.amount, writtenOff: before.writtenOff || draw.writtenOff });
        }
        return false;
      case 'PositionsAutoDeleveraged':
        totals.adlEvents++;
        totals.adlFills += event.fills.length;
        totals.adlLossAtMark += event.lossAtMark ?? 0n;
        totals.adlDeficitCovered += event.deficitCovered ?? 0n;
        for (const fill of event.fills) {
          const size = abs(fill.size);
          totals.adlSize += size;
          totals.adlNotional += fill.notional;
          watch.touched(state, fill.accountId);
        }
        return false;
      case 'LossSocialized':
        totals.socializedEvents++;
        totals.socialized += event.amount;
        totals.haircuts += event.postings.length;
        return true;
      case 'BadDebtRecorded':
        totals.badDebt += event.amount;
        return false;
      default:
        return false;
    }
  };

  const cursor = new Map<string, number>([...plan.paths.keys()].map((id) => [id, 0]));
  const settle = function* (): Generator<StressProgress, void> {
    // Until nothing more is liquidatable at these marks (a socialized loss can make others so).
    for (let round = 0; round < 1_000; round++) {
      const socialized = yield* liquidateAll(watch.candidates(state), new Map());
      if (totals.stopped) return;
      if (socialized) watch = new StressWatch(state, liquidatorId);
      else return;
    }
  };

  // The accounts already liquidatable at today's marks go first.
  yield* settle();
  let socializedLast = false;
  while (!totals.stopped) {
    let moved = false;
    for (const [marketId, path] of plan.paths) {
      const index = cursor.get(marketId)!;
      if (index >= path.length) continue;
      const market = state.markets.get(marketId)!;
      const target = path[index]!;
      if (target === market.mark) {
        cursor.set(marketId, index + 1); // already there
        continue;
      }
      const price = nextMark(market, target);
      if (price === market.mark) {
        cursor.set(marketId, path.length); // the breaker allows no move at all: this path ends here
        continue;
      }
      if (price === target) cursor.set(marketId, index + 1);
      if (submit({ type: 'UpdateMarkPrice', schemaVersion: SCHEMA_VERSION, commandId: nextId(), poolId: state.poolId, marketId, price }).length > 0) {
        moved = true;
        totals.updates.set(marketId, (totals.updates.get(marketId) ?? 0) + 1);
      } else {
        cursor.set(marketId, path.length); // refused (counted): this path ends here
      }
    }
    if (!moved) {
      if ([...plan.paths].some(([marketId, path]) => cursor.get(marketId)! < path.length)) continue;
      break;
    }
    totals.steps++;
    progress.stepsDone++;
    // A socialized loss changes everyone's collateral, and so every trigger: rebuilt after the step.
    socializedLast = yield* liquidateAll(watch.candidates(state), new Map());
    if (socializedLast) watch = new StressWatch(state, liquidatorId);
    yield { ...progress };
  }
  // After the last step, what its socialized loss made liquidatable.
  if (!totals.stopped && socializedLast) yield* settle();
  return { state, totals };
}

// --- the scenario, checked against the pool ------------------------------------------------------

const pathsOf = (pool: ActivePool, scenario: StressScenario): E.Either<InvalidInput, Map<string, bigint[]>> => {
  const steps = scenario.steps ?? DEFAULT_STEPS;
  const paths = new Map<string, bigint[]>();
  const errors: { path: string; message: string }[] = [];
  if (scenario.movePpm !== undefined) {
    for (const market of pool.markets.values()) paths.set(market.marketId, shockPath(market, scenario.movePpm, steps));
  }
  for (const [i, entry] of (scenario.markets ?? []).entries()) {
    const market = pool.markets.get(entry.marketId);
    if (market === undefined) {
      errors.push({ path: `markets.${i}.marketId`, message: `pool "${pool.poolId}" has no market "${entry.marketId}"` });
      continue;
    }
    if ((entry.movePpm === undefined) === (entry.path === undefined)) {
      errors.push({ path: `markets.${i}`, message: 'expected exactly one of movePpm and path' });
      continue;
    }
    if (entry.path !== undefined) {
      const off = entry.path.findIndex((price) => !fitsDecimals(price, market.priceDecimals));
      if (off >= 0) errors.push({ path: `markets.${i}.path.${off}`, message: `not on the market's tick (${market.priceDecimals} decimals)` });
      else paths.set(entry.marketId, [...entry.path]);
    } else {
      paths.set(entry.marketId, shockPath(market, entry.movePpm!, steps));
    }
  }
  if (errors.length === 0 && scenario.movePpm === undefined && (scenario.markets ?? []).length === 0) {
    errors.push({ path: 'movePpm', message: 'expected movePpm or markets' });
  }
  return errors.length > 0 ? E.left(invalidInput(errors)) : E.right(paths);
};

const fundByTranche = (pool: ActivePool) => new Map(pool.tranches.map((t) => [t.trancheId, t.assets]));

/**
 * The state a run starts from, handed over in a holder the run empties: a run's new versions of
 * the persistent maps chain onto the state it starts from, so any variable still holding that
 * state (a generator keeps its parameters and registers while it runs) would keep every version
 * since alive, every account object the crash replaced: hundreds of MB on a large pool, and the
 * garbage collector's time with them.
 */
interface RunStart { state: ActivePool | undefined }

const copyOf = (pool: ActivePool): RunStart => ({ state: detachedCopy(pool) });

/**
 * The scenario checked against the pool, and the copy to run on (with the liquidator's deposit),
 * outside the generator so that no variable of the generator holds the copy (see RunStart). What
 * the result needs of the starting state is read here. With the adequacy search, whose runs each
 * start again from `origin`, the main run works on a copy of its own.
 */
const prepare = (state: ActivePool, scenario: StressScenario, ctx: CommandContext, engine: StressEngine): E.Either<InvalidInput, {
  readonly paths: Map<string, bigint[]>;
  readonly poolId: string;
  readonly startMarkets: ReadonlyMap<string, Market>;
  readonly before: ReadonlyMap<string, bigint>;
  readonly fundBefore: bigint;
  readonly first: RunStart;
  readonly origin: ActivePool | undefined;
}> => {
  const paths = pathsOf(state, scenario);
  if (E.isLeft(paths)) return paths;
  let start = detachedCopy(state);
  if (scenario.liquidatorDeposit !== undefined) {
    const decision = engine.decide({ type: 'Deposit', schemaVersion: SCHEMA_VERSION, commandId: 'stress-deposit', poolId: start.poolId, accountId: scenario.liquidatorId, amount: scenario.liquidatorDeposit }, start, ctx);
    if (E.isLeft(decision)) return E.left(invalidInput([{ path: 'liquidatorDeposit', message: decision.left.message }]));
    start = decision.right.reduce<PoolState>((s, event) => engine.evolve(s, event), start) as ActivePool;
  }
  if (!start.accounts.has(scenario.liquidatorId)) {
    return E.left(invalidInput([{ path: 'liquidatorId', message: `pool "${start.poolId}" has no account "${scenario.liquidatorId}" (give liquidatorDeposit to fund one on the copy)` }]));
  }
  const origin = scenario.adequacy === false ? undefined : start;
  return E.right({
    paths: paths.right,
    poolId: start.poolId,
    startMarkets: new Map(start.markets.entries()),
    before: fundByTranche(start),
    fundBefore: fundAssets(start),
    first: origin === undefined ? { state: start } : copyOf(start),
    origin,
  });
};

/**
 * Runs the scenario on a copy of the pool and returns what it did; with `adequacy`, also searches
 * per market for the largest move (in the direction the scenario moves it, down by default) the
 * fund absorbs without ADL, by bisection on multiples of the resolution, every other market held
 * at its mark. (The bisection takes "absorbed" to be monotone in the size of the move.)
 */
export function* stress(
  state: PoolState,
  scenario: StressScenario,
  ctx: CommandContext,
  engine: StressEngine = { decide, evolve },
): Generator<StressProgress, E.Either<InvalidInput, { result: StressResult; state: ActivePool }>> {
  if (state.status !== 'active') return E.left(invalidInput([{ path: 'poolId', message: 'the pool does not exist' }]));
  const prepared = prepare(state, scenario, ctx, engine);
  if (E.isLeft(prepared)) return prepared;
  const { paths, poolId, startMarkets, before, fundBefore, first, origin } = prepared.right;
  const runner: Runner = {
    ctx, engine, liquidatorId: scenario.liquidatorId, depth: scenario.depth ?? {},
    progress: { stepsDone: 0, stepsPlanned: plannedSteps(paths), liquidations: 0 },
  };
  const adequacyMarkets = origin === undefined ? [] : [...startMarkets.keys()].sort();
  const resolution = scenario.adequacyResolutionPpm ?? DEFAULT_RESOLUTION;
  const direction = (marketId: string): 'down' | 'up' => {
    const entry = scenario.markets?.find((m) => m.marketId === marketId);
    const last = entry?.path?.[entry.path.length - 1];
    const up = last !== undefined ? last > startMarkets.get(marketId)!.mark : (entry?.movePpm ?? scenario.movePpm ?? -1) > 0;
    return up ? 'up' : 'down';
  };
  // Counts for the progress estimate only (small integers: ppm over a ppm resolution, bisection
  // rounds); no money goes through these floats.
  const levels = (marketId: string) => Math.floor((direction(marketId) === 'down' ? MAX_FALL_PPM : MAX_RISE_PPM) / resolution);
  runner.progress.stepsPlanned += adequacyMarkets.reduce((sum, id) => sum + Math.ceil(Math.log2(levels(id) + 1)) * (scenario.steps ?? DEFAULT_STEPS), 0);

  const main = yield* run(first, { paths, stopAtAdl: false }, runner);
  const { totals } = main;

  const adequacy: AdequacyResult[] = [];
  for (const marketId of adequacyMarkets) {
    const market = startMarkets.get(marketId)!;
    const sign = direction(marketId) === 'down' ? -1 : 1;
    const absorbs = function* (level: number): Generator<StressProgress, boolean> {
      const path = shockPath(market, sign * level * resolution, scenario.steps ?? DEFAULT_STEPS);
      const outcome = yield* run(copyOf(origin!), { paths: new Map([[marketId, path]]), stopAtAdl: true }, runner);
      return !outcome.totals.stopped;
    };
    // Bisection over levels: lo absorbed (0 always is), hi not (or beyond the range).
    let lo = 0;
    let hi = levels(marketId) + 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (yield* absorbs(mid)) lo = mid;
      else hi = mid;
    }
    adequacy.push({ marketId, direction: sign < 0 ? 'down' : 'up', absorbedPpm: lo * resolution, failsAtPpm: hi > levels(marketId) ? null : hi * resolution, resolutionPpm: resolution });
  }

  const after = main.state;
  const result: StressResult = {
    poolId,
    liquidatorId: scenario.liquidatorId,
    marks: [...paths.keys()].sort().map((marketId) => ({
      marketId, from: formatDecimal(startMarkets.get(marketId)!.mark), to: formatDecimal(after.markets.get(marketId)!.mark), updates: totals.updates.get(marketId) ?? 0,
    })),
    steps: totals.steps,
    commands: totals.commands,
    liquidations: totals.liquidations,
    belowBankruptcy: totals.belowBankruptcy,
    refused: { count: totals.refusedCount, byCode: totals.refused },
    fund: {
      before: formatDecimal(fundBefore),
      after: formatDecimal(fundAssets(after)),
      draws: totals.draws,
      drawn: formatDecimal(totals.drawn),
      tranches: after.tranches.map((tranche) => ({
        trancheId: tranche.trancheId,
        before: formatDecimal(before.get(tranche.trancheId) ?? 0n),
        drawn: formatDecimal(totals.byTranche.get(tranche.trancheId)?.drawn ?? 0n),
        after: formatDecimal(tranche.assets),
        writtenOff: totals.byTranche.get(tranche.trancheId)?.writtenOff ?? false,
      })),
    },
    adl: { events: totals.adlEvents, fills: totals.adlFills, size: formatDecimal(totals.adlSize), notional: formatDecimal(totals.adlNotional), lossAtMark: formatDecimal(totals.adlLossAtMark), deficitCovered: formatDecimal(totals.adlDeficitCovered) },
    socialized: { events: totals.socializedEvents, total: formatDecimal(totals.socialized), haircuts: totals.haircuts },
    badDebt: formatDecimal(totals.badDebt),
    largestDeficit: totals.largestDeficit === undefined || totals.largestDeficit.amount === 0n ? null
      : { amount: formatDecimal(totals.largestDeficit.amount), accountId: totals.largestDeficit.accountId, marketId: totals.largestDeficit.marketId },
    liquidatableAfter: after.accounts.values().filter((a) => a.accountId !== scenario.liquidatorId && isLiquidatable(a, marketsOf(after))).length,
    adequacy,
  };
  return E.right({ result, state: after });
}

/** Runs a stress generator to the end (no slicing), passing each progress report on. */
export const runToEnd = <R>(generator: Generator<StressProgress, R>, onProgress: (progress: StressProgress) => void = () => undefined): R => {
  for (;;) {
    const next = generator.next();
    if (next.done === true) return next.value;
    onProgress(next.value);
  }
};
