// The pool book's trade path, two builds of this project side by side in one process: the same
// commands from the same state (1,000 or 100,000 accounts, as `bench:domain` builds them), in
// interleaved rounds whose order alternates, so both see the same machine. Prints each build's
// trades per CPU-s (median of the rounds) and the median of the rounds' own ratios, and fails if
// the two final states differ (each build's governor key aside).
// Usage: npm run build && node dist/bench/domain/paired.js <old dist> <new dist> [accounts] [rounds]
// (a build of the code before a change: `git worktree add /tmp/base <commit>`, then `npx tsc` there).

import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command, PoolState } from '../../domain/index.js';
import type { PoolBook } from '../../domain/book/pool-book.js';

type Domain = typeof import('../../domain/index.js');
type OnBook = typeof import('../../domain/book/decide-on-book.js');
type Book = typeof import('../../domain/book/pool-book.js');
type Workload = typeof import('../support/workload.js');

interface Build { readonly name: string; readonly domain: Domain; readonly onBook: OnBook; readonly book: Book; readonly workload: Workload; committed?: PoolBook; readonly rates: number[] }

const [oldDist, newDist] = [process.argv[2], process.argv[3]];
if (oldDist === undefined || newDist === undefined) throw new Error('usage: paired.js <old dist> <new dist> [accounts] [rounds]');
const ACCOUNTS = Number(process.argv[4] ?? 1_000);
const ROUNDS = Number(process.argv[5] ?? 20);
const CHUNK = Number(process.env['BENCH_CHUNK'] ?? 10_000);
const WARMUP = 50_000;
/** Commands decided on one overlay before it is committed (the writer's default batch). */
const BATCH = 256;

const load = async (name: string, dist: string): Promise<Build> => {
  const at = (path: string) => `${resolve(dist)}/${path}`;
  return {
    name,
    domain: await import(at('domain/index.js')) as Domain,
    onBook: await import(at('domain/book/decide-on-book.js')) as OnBook,
    book: await import(at('domain/book/pool-book.js')) as Book,
    workload: await import(at('bench/support/workload.js')) as Workload,
    rates: [],
  };
};

/** Decide commands on overlays of the committed book, batch by batch; the trades accepted. */
const run = (build: Build, commands: ReadonlyArray<Command>): number => {
  let committed = build.committed!;
  let trades = 0;
  for (let from = 0; from < commands.length; from += BATCH) {
    const overlay = committed.begin();
    for (const command of commands.slice(from, from + BATCH)) {
      const decision = build.onBook.decideOnBook(command, overlay, build.workload.benchContext);
      if (E.isRight(decision) && command.type === 'ExecuteTrade') trades++;
    }
    committed = overlay.commit();
  }
  build.committed = committed;
  return trades;
};

const builds = [await load('old', oldDist), await load('new', newDist)] as const;
const setup = { accounts: ACCOUNTS, markets: 10, collateral: 1_000_000_000n };
const commands = builds[0].workload.tradingCommands(WARMUP + CHUNK * ROUNDS, setup, 42 + ACCOUNTS);
for (const build of builds) {
  const state: PoolState = build.workload.applyAll(build.domain.initialState, build.workload.setupCommands(setup, build.workload.defaultStartPrice));
  build.committed = build.book.PoolBook.of(state);
  run(build, commands.slice(0, WARMUP));
}
const ratios: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const slice = commands.slice(WARMUP + round * CHUNK, WARMUP + (round + 1) * CHUNK);
  for (const build of round % 2 === 0 ? builds : [builds[1], builds[0]]) {
    const cpu = process.cpuUsage();
    const trades = run(build, slice);
    const used = process.cpuUsage(cpu);
    build.rates.push(trades / ((used.user + used.system) / 1e6));
  }
  ratios.push(builds[1].rates[round]! / builds[0].rates[round]!);
}
const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
for (const build of builds) console.log(`${fmt(ACCOUNTS)} accounts, ${build.name}: ${fmt(median(build.rates))} trades per CPU-s (median of ${ROUNDS} rounds of ${fmt(CHUNK)} commands)`);
console.log(`new / old: ${median(ratios).toFixed(3)} (median of the rounds' ratios)`);
const [a, b] = builds.map((build) => {
  const state = build.committed!.toPool();
  return build.domain.canonicalStateJson(state.status === 'active' ? { ...state, governors: { publicKeys: [], threshold: 1 } } : state);
});
if (a !== b) throw new Error('the two builds end in different states');
