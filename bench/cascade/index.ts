// A flash crash on a pool of 100,000 accounts with random leverage: the price falls 40% over 200
// mark updates; after each update the benchmark acts as the liquidation engine and liquidates
// everything liquidatable, at a price from a simple depth model (each liquidation in the same
// step sells deeper into the book). Prints the liquidations, ADL fills, fund draws, socialized
// total and the decide time. Target: decide time under 3 seconds on one core, with the ADL
// ranking reused between liquidations rather than rebuilt for each.

import * as E from 'fp-ts/lib/Either.js';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import {
  adlRankingStats, checkInvariants, formatDecimal, decide, evolve, initialState, isLiquidatable, marketsOf, ONE, pow10, SCHEMA_VERSION,
  type ActivePool, type Command, type Event, type PoolState,
} from '../../domain/index.js';
import { applyAll, benchContext, benchMarket, benchPool } from '../support/workload.js';

const ACCOUNTS = Number(process.env.CASCADE_ACCOUNTS ?? 100_000);
const STEPS = 200;
const START = 30_000n;
/** The depth model's deepest discount, and the market's liquidation spread bound. */
const MAX_SPREAD_PPM = 300_000;
const MARKET = 'BTC-PERP';
const TICK = pow10(18 - 2);
const LOT = pow10(18 - 3);
const POOL = 'cascade';
const rng = xoroshiro128plus(7);
let sequence = 0;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: `k${++sequence}`, poolId: POOL });

// --- set-up: longs and shorts paired by trades, random collateral and leverage ---------------
function* setup(): Generator<Command> {
  yield benchPool(POOL);
  // The depth model fills liquidations up to 30% below the mark: the spread bound is set to match.
  yield benchMarket(POOL, MARKET, START * ONE, 1, { initialMarginPpm: 50_000, maintenanceMarginPpm: 25_000, takerFeePpm: 0, makerFeePpm: 0, maxLiquidationSpreadPpm: MAX_SPREAD_PPM });
  yield { ...envelope('Deposit'), accountId: 'engine', amount: 10n ** 12n * ONE };
  const pairs = ACCOUNTS / 2;
  let openInterest = 0n;
  for (let i = 0; i < pairs; i++) {
    const longCollateral = BigInt(uniformInt(rng, 1_000, 10_000));
    const leverage = BigInt(uniformInt(rng, 10, 180)); // 1x to 18x, in tenths
    const size = ((longCollateral * leverage * ONE) / 10n / START / LOT) * LOT;
    if (size === 0n) continue;
    const notional = (size * START) / ONE;
    openInterest += notional;
    // shorts between 1.2x and 10x
    const shortCollateral = notional / BigInt(uniformInt(rng, 12, 100)) * 10n + 1n;
    yield { ...envelope('Deposit'), accountId: `L${i}`, amount: longCollateral * ONE };
    yield { ...envelope('Deposit'), accountId: `S${i}`, amount: shortCollateral * ONE };
    yield { ...envelope('ExecuteTrade'), tradeId: `open${i}`, marketId: MARKET, taker: `L${i}`, maker: `S${i}`, takerSide: 'buy', size, price: START * ONE };
  }
  // An insurance fund of 0.5% of open interest, a quarter of it junior.
  yield { ...envelope('Stake'), stakerId: 'lp-junior', trancheId: 'junior', amount: (openInterest / 800n) * ONE };
  yield { ...envelope('Stake'), stakerId: 'lp-senior', trancheId: 'senior', amount: ((openInterest * 3n) / 800n) * ONE };
}

const setupStarted = process.hrtime.bigint();
let state: PoolState = applyAll(initialState, setup());
const active = (s: PoolState): ActivePool => {
  if (s.status !== 'active') throw new Error('no pool');
  return s;
};
console.log(`set-up: ${active(state).accounts.size.toLocaleString('en-US')} accounts, open interest ${active(state).openInterest / ONE}, fund ${active(state).tranches.reduce((s, t) => s + t.assets, 0n) / ONE}, in ${(Number(process.hrtime.bigint() - setupStarted) / 1e9).toFixed(1)} s`);

// --- the liquidation engine's watch list: longs by the mark at which they become liquidatable --
// (the engine's own bookkeeping, outside decide; every candidate is checked with the domain's
// isLiquidatable before the engine sends a Liquidate command)
const liquidationMark = (pool: ActivePool, accountId: string): bigint => {
  const account = pool.accounts.get(accountId);
  const position = account?.positions[0];
  if (account === undefined || position === undefined || position.size <= 0n) return -1n;
  // collateral + size * m - EN < mmr * size * m  <=>  m < (EN - collateral) / (size * (1 - mmr))
  return ((position.entryNotional - account.collateral) * ONE * 40n) / (position.size * 39n);
};
const watchList = (pool: ActivePool): { id: string; at: bigint }[] =>
  pool.accounts.keys().filter((id) => id.startsWith('L')).map((id) => ({ id, at: liquidationMark(pool, id) })).filter((w) => w.at > 0n).sort((a, b) => (a.at > b.at ? -1 : a.at < b.at ? 1 : 0));

let watch = watchList(active(state));
let decideNs = 0n;
let evolveNs = 0n;
const counts = { adlLossAtMark: 0n, adlDeficitCovered: 0n, adlExcessOverDeficit: 0n, liquidations: 0, withDeficit: 0, adlFills: 0, fundDraws: 0, drawn: 0n, socializations: 0, socialized: 0n, badDebt: 0n, rejected: 0, maxEventsPerCommand: 0 };

const submit = (command: Command): readonly Event[] => {
  const t0 = process.hrtime.bigint();
  const decision = decide(command, state, benchContext);
  const t1 = process.hrtime.bigint();
  decideNs += t1 - t0;
  if (E.isLeft(decision)) {
    counts.rejected++;
    return [];
  }
  for (const event of decision.right) state = evolve(state, event);
  evolveNs += process.hrtime.bigint() - t1;
  return decision.right;
};

let mark = START * ONE;
const crashStarted = process.hrtime.bigint();
for (let step = 1; step <= STEPS; step++) {
  // 40% down over 200 equal multiplicative steps
  const target = (START * ONE * BigInt(Math.round(1e9 * 0.6 ** (step / STEPS)))) / 1_000_000_000n;
  mark = target - (target % TICK);
  submit({ ...envelope('UpdateMarkPrice'), marketId: MARKET, price: mark });
  let inStep = 0;
  let rescan = false;
  while (watch.length > 0 && watch[0]!.at >= mark) {
    const { id } = watch.shift()!;
    const pool = active(state);
    const account = pool.accounts.get(id);
    if (account === undefined || !isLiquidatable(account, marketsOf(pool))) continue;
    // depth model: 0.2% below the mark, 0.05% deeper for every liquidation already in this step, at most 30%
    const discount = BigInt(Math.min(2_000 + 500 * inStep, MAX_SPREAD_PPM));
    const raw = (mark * (1_000_000n - discount)) / 1_000_000n;
    // Rounded down to a tick, but never below the market's band (the lowest tick at or above it).
    const band = (mark * (1_000_000n - BigInt(MAX_SPREAD_PPM)) + 999_999n) / 1_000_000n;
    const lowest = band + ((TICK - (band % TICK)) % TICK);
    const floored = raw - (raw % TICK);
    const events = submit({ ...envelope('Liquidate'), accountId: id, marketId: MARKET, liquidatorId: 'engine', price: floored > lowest ? floored : lowest });
    inStep++;
    counts.maxEventsPerCommand = Math.max(counts.maxEventsPerCommand, events.length);
    for (const event of events) {
      if (event.type === 'PositionLiquidated') { counts.liquidations++; if (event.deficit > 0n) counts.withDeficit++; }
      if (event.type === 'PositionsAutoDeleveraged') {
        counts.adlFills += event.fills.length;
        counts.adlLossAtMark += event.lossAtMark ?? 0n;
        counts.adlDeficitCovered += event.deficitCovered ?? 0n;
        // per liquidation: how far ADL's cost to its counterparties exceeded the deficit it covered
        const over = (event.lossAtMark ?? 0n) - (event.deficitCovered ?? 0n);
        if (over > counts.adlExcessOverDeficit) counts.adlExcessOverDeficit = over;
      }
      if (event.type === 'InsuranceFundDrawn') { counts.fundDraws++; counts.drawn += event.amount; }
      if (event.type === 'LossSocialized') { counts.socializations++; counts.socialized += event.amount; rescan = true; }
      if (event.type === 'BadDebtRecorded') counts.badDebt += event.amount;
    }
  }
  // A socialized loss changes everyone's collateral, and so every liquidation mark.
  if (rescan) watch = watchList(active(state));
}
const crashSeconds = Number(process.hrtime.bigint() - crashStarted) / 1e9;

const pool = active(state);
const left = pool.accounts.values().filter((a) => isLiquidatable(a, marketsOf(pool))).length;
const violations = checkInvariants(pool);
const stats = adlRankingStats();
const fmt = (n: number | bigint) => n.toLocaleString('en-US');
console.log(`crash: ${STEPS} mark updates, ${START} -> ${mark / ONE}`);
console.log(`liquidations ${fmt(counts.liquidations)} (${fmt(counts.withDeficit)} below bankruptcy), ADL fills ${fmt(counts.adlFills)}, fund draws ${fmt(counts.fundDraws)} (${fmt(counts.drawn / ONE)} drawn), socialized ${fmt(counts.socialized / ONE)} in ${fmt(counts.socializations)} events, bad debt ${fmt(counts.badDebt / ONE)}, rejected ${fmt(counts.rejected)}`);
const ratio = counts.adlDeficitCovered === 0n ? 'n/a (no ADL)' : (Number((counts.adlLossAtMark * 1_000_000n) / counts.adlDeficitCovered) / 1e6).toFixed(6);
console.log(`ADL measured: loss to counterparties against the mark ${formatDecimal(counts.adlLossAtMark)} for ${formatDecimal(counts.adlDeficitCovered)} of deficit covered, ratio ${ratio}; largest excess of loss over deficit in one liquidation ${formatDecimal(counts.adlExcessOverDeficit)} (ledger units of 1e-18: ${counts.adlExcessOverDeficit})`);
console.log(`ADL ranking: ${fmt(stats.builds)} full builds, ${fmt(stats.patches)} incremental updates; most events in one command ${counts.maxEventsPerCommand}`);
console.log(`decide time ${(Number(decideNs) / 1e9).toFixed(3)} s (target < 3 s), evolve time ${(Number(evolveNs) / 1e9).toFixed(3)} s, wall ${crashSeconds.toFixed(1)} s`);
console.log(`after the crash: ${left} accounts still liquidatable, invariant violations: ${violations.length === 0 ? 'none' : violations.map((v) => v.message).join('; ')}`);
