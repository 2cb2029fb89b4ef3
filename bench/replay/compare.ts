// The replay of `bench:replay` by this build and another, in one process, for a comparison the
// machine's load does not skew: each build replays the same log (the pools' events, as the
// projection runner reads them, folded by projectAll page by page into a model of its own), and
// they take turns chunk by chunk, which goes first alternating. Each chunk is timed in CPU time.
// Prints each build's events per CPU-s (overall and median chunk) and the median of the chunks'
// CPU ratios. The other build is a compiled tree of the code to compare with (`npm run build` in
// a worktree of it: its `dist`).
//   npm run build && BENCH_LOG_DIR=<a data directory> BENCH_OTHER=<the other build's dist> node dist/bench/replay/compare.js
// BENCH_CHUNK: events per chunk (default 100,000).

import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { logFile } from '../support/log.js';
import { median, setting } from '../support/measure.js';
import { lastRowid } from '../support/sqlite-raw.js';

const CHUNK = setting('BENCH_CHUNK', 100_000, 1_000);
const PAGE = 10_000;
const logDir = process.env.BENCH_LOG_DIR;
const other = process.env.BENCH_OTHER;
if (logDir === undefined || other === undefined) {
  console.error('set BENCH_LOG_DIR (a data directory with a log) and BENCH_OTHER (the dist directory of the build to compare with)');
  process.exit(2);
}

/** What the replay uses of a build (the same modules in each, loaded from its own tree). */
interface Build {
  readonly name: string;
  readonly store: { close(): Promise<void> };
  readonly readPage: (after: bigint | 'start', max: number) => Promise<E.Either<unknown, { readonly events: unknown[]; readonly last?: bigint }>>;
  readonly fold: (events: unknown[]) => void;
  after: bigint | 'start';
  readonly cpu: number[];
  readonly work: number[];
}

// The other build's modules are not this build's types: `any` at that border only.
const load = async (name: string, dist: string): Promise<Build> => {
  const from = (path: string): Promise<any> => import(resolve(dist, path));
  const { SqliteEventStore } = await from('adapters/sqlite/sqlite-event-store.js');
  const { POOL_PREFIX, projectAll } = await from('projections/runner.js');
  const { readAllOf } = await from('services/ledger/event-store.js');
  const { emptyModel } = await from('projections/read-models.js');
  const store = new SqliteEventStore(logFile(logDir));
  const model = emptyModel();
  return {
    name, store, after: 'start', cpu: [], work: [],
    readPage: (after, max) => readAllOf(store, POOL_PREFIX, after, max),
    fold: (events) => void projectAll(events, model),
  };
};

const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const builds = [await load('other', other), await load('this', resolve(import.meta.dirname, '../..'))];
const end = lastRowid(logFile(logDir));
let round = 0;
for (let from = 0; from < end; from += CHUNK, round++) {
  const upTo = Math.min(from + CHUNK, end);
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    let folded = 0;
    const started = cpuSeconds();
    for (;;) {
      const next = build.after === 'start' ? 0 : Number(build.after);
      if (next >= upTo) break;
      const page = await build.readPage(build.after, Math.min(PAGE, upTo - next));
      if (E.isLeft(page)) throw new Error(`replay: ${JSON.stringify(page.left)}`);
      const last = page.right.last;
      if (last === undefined) break;
      build.fold(page.right.events);
      folded += Number(last) - next;
      build.after = last;
    }
    build.cpu.push(cpuSeconds() - started);
    build.work.push(folded);
  }
  console.log(`chunk ${round}: ${builds.map((b) => `${b.name} ${Math.round(b.work[round]! / b.cpu[round]!).toLocaleString('en-US')} events/CPU-s`).join(', ')}`);
}
for (const build of builds) {
  const events = build.work.reduce((a, b) => a + b, 0);
  const cpu = build.cpu.reduce((a, b) => a + b, 0);
  console.log(`${build.name}: ${events.toLocaleString('en-US')} events in ${cpu.toFixed(1)} CPU-s: ${Math.round(events / cpu).toLocaleString('en-US')} events/CPU-s overall, median chunk ${Math.round(median(build.work.map((w, i) => w / build.cpu[i]!))).toLocaleString('en-US')}`);
  await build.store.close();
}
// Whole chunks only: a last, short one says little.
const whole = builds[0]!.cpu.map((_cpu, i) => i).filter((i) => (i + 1) * CHUNK <= end);
console.log(`this build's speed-up (other's CPU / this one's, per chunk): median ${median(whole.map((i) => builds[0]!.cpu[i]! / builds[1]!.cpu[i]!)).toFixed(2)}x`);
