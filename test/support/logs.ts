// Deterministic logs for read-model digests: the examples decided one minute apart, random
// scenarios from fixed seeds, and the benchmark workload (trades, marks, deposits) at any length.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decide, decodeCommand, evolve, initialState, type Command, type CommandContext, type PoolState } from '../../domain/index.js';
import { benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../../bench/support/workload.js';
import { ctx } from './builders.js';
import { exampleRootGovernors } from './example-root.js';
import type { LoggedEvent } from './read-model-digest.js';
import { runScenario, scenarioArb } from './scenarios.js';

const START = Date.UTC(2026, 0, 1);

/** Decide commands in order against per-pool states, each at its own time: the events of the accepted ones. */
function* decideAll(commands: Iterable<{ readonly command: Command; readonly now: number }>, context: Omit<CommandContext, 'now'>, limit = Infinity): Generator<LoggedEvent> {
  const states = new Map<string, PoolState>();
  let position = 0n;
  for (const { command, now } of commands) {
    const state = states.get(command.poolId) ?? initialState;
    const decision = decide(command, state, { ...context, now });
    if (E.isLeft(decision)) continue;
    let next = state;
    for (const event of decision.right) {
      if (position >= limit) return;
      next = evolve(next, event);
      yield { poolId: command.poolId, position: ++position, timestamp: now, event };
    }
    states.set(command.poolId, next);
  }
}

/** When the i-th command of an example is decided (0-based, counting only those that decode). */
export const exampleTime = (i: number): number => START + i * 60_000;

/** An example file's commands, one minute apart. */
export const exampleLog = (file: string): LoggedEvent[] => {
  // A line that does not decode is skipped, as the CLI skips it.
  const commands = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').flatMap((line) => {
    const command = decodeCommand(JSON.parse(line));
    return E.isLeft(command) ? [] : [command.right];
  }).map((command, i) => ({ command, now: exampleTime(i) }));
  return [...decideAll(commands, { actor: 'cli', rootGovernors: exampleRootGovernors })];
};

/** Random scenarios (liquidations, ADL, funding, staking, payouts) from a fixed seed, one log each. */
export const scenarioLogs = (seed: number, count: number, maxSteps: number): LoggedEvent[][] =>
  fc.sample(scenarioArb({ maxSteps }), { seed, numRuns: count }).map((scenario) => [...decideAll(runScenario(scenario).commands, ctx)]);

/** The benchmark workload: a pool, funded accounts, random trades and mark moves 50 ms apart. */
export function* workloadLog(events: number, setup: PoolSetup = { accounts: 10_000, markets: 10, collateral: 1_000_000_000n }, seed = 7): Generator<LoggedEvent> {
  const commands = [...setupCommands(setup, defaultStartPrice), ...tradingCommands(Math.ceil(events * 1.02), setup, seed)];
  yield* decideAll(commands.map((command, i) => ({ command, now: benchContext.now + (i + 1) * 50 })), benchContext, events);
}
