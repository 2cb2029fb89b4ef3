// decide + evolve throughput for random trades and mark updates, on pools of 1,000 and 100,000
// accounts across 10 markets: today's persistent decider and the pool book (domain/book) on the
// same commands from the same state, in one run. Figures are CPU-time medians over BENCH_ROUNDS
// chunks (wall time beside them); the two final states must be identical. The figures of the
// JSON line are the book's (the writer's path), with the persistent decider's beside them.
// Targets: >= 120,000 trades/s at 1,000 accounts and >= 75,000 trades/s at 100,000, on one core.

import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decide, evolve, initialState, type Command, type PoolState } from '../../domain/index.js';
import { decideOnBook } from '../../domain/book/decide-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { printFigures, setting } from '../support/measure.js';
import { applyAll, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const COMMANDS = setting('BENCH_COMMANDS', 400_000, 4_000);
const WARMUP = setting('BENCH_WARMUP', 50_000, 1_000);
const CHUNKS = setting('BENCH_ROUNDS', 5, 2);
const MARKETS = 10;
/** Commands decided on one overlay of the book before it is committed (the writer's default batch). */
const BATCH = 256;

interface Chunk { readonly trades: number; readonly rejected: number; readonly cpuSeconds: number; readonly wallSeconds: number }
interface Figures { readonly tradesPerCpuSecond: number; readonly tradesPerWallSecond: number; readonly trades: number; readonly rejected: number }

/** One way of deciding and applying commands: today's persistent decider, or the book. */
interface Variant<S> {
  readonly name: string;
  readonly start: (state: PoolState) => S;
  readonly run: (state: S, commands: ReadonlyArray<Command>, counts: { trades: number; rejected: number }) => S;
  readonly finish: (state: S) => PoolState;
}

const persistent: Variant<PoolState> = {
  name: 'persistent decider',
  start: (state) => state,
  run: (state, commands, counts) => {
    let current = state;
    for (const command of commands) {
      const decision = decide(command, current, benchContext);
      if (E.isLeft(decision)) { counts.rejected++; continue; }
      for (const event of decision.right) current = evolve(current, event);
      if (command.type === 'ExecuteTrade') counts.trades++;
    }
    return current;
  },
  finish: (state) => state,
};

const book: Variant<PoolBook> = {
  name: 'pool book',
  start: (state) => PoolBook.of(state),
  run: (committed, commands, counts) => {
    let current = committed;
    for (let from = 0; from < commands.length; from += BATCH) {
      const overlay = current.begin();
      for (let i = from; i < Math.min(from + BATCH, commands.length); i++) {
        const command = commands[i]!;
        const decision = decideOnBook(command, overlay, benchContext);
        if (E.isLeft(decision)) { counts.rejected++; continue; }
        if (command.type === 'ExecuteTrade') counts.trades++;
      }
      current = overlay.commit();
    }
    return current;
  },
  finish: (state) => state.toPool(),
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const measureVariant = <S>(variant: Variant<S>, initial: PoolState, commands: ReadonlyArray<Command>): { figures: Figures; state: PoolState } => {
  let state = variant.run(variant.start(initial), commands.slice(0, WARMUP), { trades: 0, rejected: 0 });
  const chunks: Chunk[] = [];
  const size = Math.ceil(COMMANDS / CHUNKS);
  for (let from = WARMUP; from < WARMUP + COMMANDS; from += size) {
    const counts = { trades: 0, rejected: 0 };
    const slice = commands.slice(from, Math.min(from + size, WARMUP + COMMANDS));
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    state = variant.run(state, slice, counts);
    const used = process.cpuUsage(cpu);
    chunks.push({ ...counts, cpuSeconds: (used.user + used.system) / 1e6, wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9 });
  }
  return {
    figures: {
      tradesPerCpuSecond: median(chunks.map((c) => c.trades / c.cpuSeconds)),
      tradesPerWallSecond: median(chunks.map((c) => c.trades / c.wallSeconds)),
      trades: chunks.reduce((n, c) => n + c.trades, 0),
      rejected: chunks.reduce((n, c) => n + c.rejected, 0),
    },
    state: variant.finish(state),
  };
};

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const measure = (accounts: number): { persistent: Figures; book: Figures } => {
  const setup: PoolSetup = { accounts, markets: MARKETS, collateral: 1_000_000_000n };
  const state = applyAll(initialState, setupCommands(setup, defaultStartPrice));
  const commands = tradingCommands(WARMUP + COMMANDS, setup, 42 + accounts);
  const today = measureVariant(persistent, state, commands);
  const onBook = measureVariant(book, state, commands);
  if (canonicalStateJson(today.state) !== canonicalStateJson(onBook.state)) throw new Error(`the pool book's state differs from the persistent decider's at ${accounts} accounts`);
  for (const [variant, f] of [[persistent, today.figures], [book, onBook.figures]] as const) {
    console.log(`${fmt(accounts).padStart(7)} accounts, ${variant.name.padEnd(18)}: ${fmt(COMMANDS)} commands (${fmt(f.trades)} trades, ${fmt(f.rejected)} rejected): ${fmt(f.tradesPerCpuSecond)} trades/s CPU (median of ${CHUNKS}), ${fmt(f.tradesPerWallSecond)} wall`);
  }
  console.log(`${fmt(accounts).padStart(7)} accounts: book / persistent ${(onBook.figures.tradesPerCpuSecond / today.figures.tradesPerCpuSecond).toFixed(2)}x (CPU), final states identical`);
  return { persistent: today.figures, book: onBook.figures };
};

const [small, large] = [1_000, 100_000].map(measure) as [{ persistent: Figures; book: Figures }, { persistent: Figures; book: Figures }];
const ratio = small.book.tradesPerCpuSecond / large.book.tradesPerCpuSecond;
console.log(`pool book, ratio 1,000 / 100,000 accounts (trades/s CPU): ${ratio.toFixed(2)}x (target <= 1.5x); 75,000 trades/s at 100,000 accounts: ${large.book.tradesPerCpuSecond >= 75_000 ? 'met' : 'NOT met'}; 120,000 at 1,000: ${small.book.tradesPerCpuSecond >= 120_000 ? 'met' : 'NOT met'}`);

printFigures({
  domain_trades_per_s_1k: small.book.tradesPerCpuSecond,
  domain_trades_per_s_100k: large.book.tradesPerCpuSecond,
  domain_ratio_1k_over_100k: ratio,
  domain_persistent_trades_per_s_1k: small.persistent.tradesPerCpuSecond,
  domain_persistent_trades_per_s_100k: large.persistent.tradesPerCpuSecond,
});
