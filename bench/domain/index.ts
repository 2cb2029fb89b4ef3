// decide + evolve throughput for random trades and mark updates, on pools of 1,000 and 100,000
// accounts across 10 markets. Targets: >= 250,000 trade commands/s on one core, and the
// 100,000-account figure within 1.5x of the 1,000-account one.

import * as E from 'fp-ts/lib/Either.js';
import { decide, evolve, initialState, type Command, type PoolState } from '../../domain/index.js';
import { applyAll, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 400_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 50_000);
const MARKETS = 10;

interface Result { readonly accounts: number; readonly trades: number; readonly rejected: number; readonly seconds: number; readonly commands: number }

const run = (state: PoolState, commands: ReadonlyArray<Command>): { state: PoolState; trades: number; rejected: number; seconds: number } => {
  let current = state;
  let trades = 0;
  let rejected = 0;
  const started = process.hrtime.bigint();
  for (const command of commands) {
    const decision = decide(command, current, benchContext);
    if (E.isLeft(decision)) { rejected++; continue; }
    for (const event of decision.right) current = evolve(current, event);
    if (command.type === 'ExecuteTrade') trades++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { state: current, trades, rejected, seconds };
};

const measure = (accounts: number): Result => {
  const setup: PoolSetup = { accounts, markets: MARKETS, collateral: 1_000_000_000n };
  const state = applyAll(initialState, setupCommands(setup, defaultStartPrice));
  const commands = tradingCommands(WARMUP + COMMANDS, setup, 42 + accounts);
  const warm = run(state, commands.slice(0, WARMUP));
  const measured = run(warm.state, commands.slice(WARMUP));
  return { accounts, trades: measured.trades, rejected: measured.rejected, seconds: measured.seconds, commands: COMMANDS };
};

const results = [1_000, 100_000].map(measure);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
for (const r of results) {
  console.log(`${fmt(r.accounts).padStart(7)} accounts: ${fmt(r.commands)} commands (${fmt(r.trades)} trades, ${fmt(r.rejected)} rejected) in ${r.seconds.toFixed(3)} s = ${fmt(r.commands / r.seconds)} commands/s, ${fmt(r.trades / r.seconds)} trades/s`);
}
const [small, large] = results as [Result, Result];
const ratio = (small.trades / small.seconds) / (large.trades / large.seconds);
console.log(`ratio 1,000 / 100,000 accounts (trades/s): ${ratio.toFixed(2)}x (target <= 1.5x); target >= 250,000 trades/s: ${large.trades / large.seconds >= 250_000 && small.trades / small.seconds >= 250_000 ? 'met' : 'NOT met'}`);
