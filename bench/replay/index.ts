// Replaying a log of 1,000,000 events (bench/support/log.ts: generated through the real pool
// writer) from the SQLite store, as the projection runner reads it (the pools' streams: snapshots
// and checkpoints are passed over unparsed), through decoding, evolve and every projection, next
// to a raw read of the same rows (every row, every column as stored, JSON columns parsed). Both
// count log positions. The log is replayed in chunks of
// BENCH_CHUNK events, each chunk followed by the raw read of the same rows, each timed in CPU time;
// the figures are the median chunks. Target: >= 50,000 events/s.
// BENCH_LOG_DIR: replay that data directory's log (bench/run.ts generates one for this and the
// readiness benchmark) instead of generating BENCH_EVENTS events.

import { rmSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { POOL_PREFIX, projectAll } from '../../projections/runner.js';
import { readAllOf } from '../../services/ledger/event-store.js';
import { emptyModel } from '../../projections/read-models.js';
import { describeRates, fmt, pct, printFigures, rates, setting, timer, type Timing } from '../support/measure.js';
import { describeLog, generateLog, LOG_EVENTS, logFile } from '../support/log.js';
import { lastRowid, rawRead, storedTable } from '../support/sqlite-raw.js';

const CHUNK = setting('BENCH_CHUNK', 100_000, 1_000);
const PAGE = 10_000;

const given = process.env.BENCH_LOG_DIR;
const dir: string = given ?? describeLog(await generateLog(LOG_EVENTS)).dir;
try {
  const file = logFile(dir);
  const table = storedTable(file);
  const end = lastRowid(file);
  const store = new SqliteEventStore(file);
  const model = emptyModel();
  const replayed: { work: number; timing: Timing }[] = [];
  const read: { work: number; timing: Timing }[] = [];
  let after: bigint | 'start' = 'start';
  for (let from = 0; from < end; from += CHUNK) {
    const upTo = Math.min(from + CHUNK, end);
    // --- replay: read, decode, evolve, project -------------------------------------------------
    let folded = 0;
    const stop = timer();
    for (;;) {
      const next = after === 'start' ? 0 : Number(after);
      if (next >= upTo) break;
      // As the projection runner reads: the pools' events (snapshots and checkpoints are not parsed).
      const page = await readAllOf(store, POOL_PREFIX, after, Math.min(PAGE, upTo - next));
      if (E.isLeft(page)) throw new Error(`replay: ${JSON.stringify(page.left)}`);
      const last = page.right.last;
      if (last === undefined) break;
      projectAll(page.right.events, model);
      // Counted in log positions, as the raw read counts rows.
      folded += Number(last) - next;
      after = last;
    }
    replayed.push({ work: folded, timing: stop() });
    // --- raw: the same rows read and parsed, nothing else ---------------------------------------
    const rawStop = timer();
    const rows = rawRead(file, table, from, upTo, PAGE);
    read.push({ work: rows, timing: rawStop() });
  }
  await store.close();

  const replay = rates(replayed);
  const raw = rates(read);
  const total = replayed.reduce((n, r) => n + r.work, 0);
  console.log(`replay (read, decode, evolve, every projection): ${fmt(total)} events in ${replayed.length} chunks: ${describeRates(replay, 'events')} (target >= 50,000/s)`);
  console.log(`raw read of the same rows (columns ${table.columns.join(', ')}; JSON parsed): ${describeRates(raw, 'rows')}`);
  console.log(`ratio replay / raw (CPU): ${pct(replay.cpu, raw.cpu).toFixed(1)}%`);
  printFigures({
    replay_events_per_s: replay.cpu,
    replay_events_per_s_wall: replay.wall,
    replay_raw_read_rows_per_s: raw.cpu,
    replay_ratio_pct: pct(replay.cpu, raw.cpu),
    replay_log_events: total,
  });
} finally {
  if (given === undefined) rmSync(dir, { recursive: true, force: true });
}
