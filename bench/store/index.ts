// Commands per second through command handling (decide, evolve, encoding, hash chain, group
// commit) into the embedded SQLite store, next to a raw loop that inserts exactly the rows the
// store wrote (read back from its file, every column as stored) into a table of the same schema,
// with the same pragmas and the same transaction sizes. BENCH_ROUNDS rounds, each a run of trades
// end to end followed by its raw insert; the figures are the medians. Target: >= 20,000 trade
// commands/s end to end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import type { EventStore } from '../../services/ledger/event-store.js';
import { PoolWriter } from '../../services/ledger/pool-writer.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';
import { describeRates, fmt, pct, printFigures, rates, setting, timed, type Timing } from '../support/measure.js';
import { lastRowid, RawInserter, storedRows, storedTable } from '../support/sqlite-raw.js';
import { submitAll } from '../support/log.js';

const COMMANDS = setting('BENCH_COMMANDS', 100_000, 4_000);
const ROUNDS = setting('BENCH_ROUNDS', 5, 2);
const IN_FLIGHT = setting('BENCH_IN_FLIGHT', 4_096, 4_096);
const BATCH = setting('BENCH_BATCH', 1_024, 1_024);

/** Records the size of every append (the raw loop commits the same transactions). */
class Recording implements EventStore {
  appends: number[] = [];
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = (streamId, expected, events) => {
    this.appends.push(events.length);
    return this.inner.append(streamId, expected, events);
  };
  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  findCommands: EventStore['findCommands'] = (...args) => this.inner.findCommands(...args);
  subscribeAll: EventStore['subscribeAll'] = (options) => this.inner.subscribeAll(options);
  close = () => this.inner.close();
}

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-store-'));
try {
  const setup: PoolSetup = { accounts: 1_000, markets: 10, collateral: 1_000_000_000n };
  const file = join(dir, 'events.sqlite');
  const store = new Recording(new SqliteEventStore(file));
  const writer = await PoolWriter.open(store, POOL_ID, { batchSize: BATCH, maxLatencyMs: 1, snapshotEvery: 0, rootGovernors: benchContext.rootGovernors! });
  const submitWindow = async (commands: ReturnType<typeof tradingCommands>) => {
    await submitAll(writer, commands, IN_FLIGHT);
    await writer.drain();
  };
  await submitWindow([...setupCommands(setup, defaultStartPrice)]);
  const trades = tradingCommands(COMMANDS, setup, 11, 1_000_000).filter((c) => c.type === 'ExecuteTrade');
  const table = storedTable(file);
  const raw = new RawInserter(join(dir, 'raw.sqlite'), table);
  const perRound = Math.ceil(trades.length / ROUNDS);
  const endToEnd: { work: number; timing: Timing }[] = [];
  const events: { work: number; timing: Timing }[] = [];
  const inserts: { work: number; timing: Timing }[] = [];
  let appends = 0;
  for (let at = 0; at < trades.length; at += perRound) {
    const before = lastRowid(file);
    store.appends = [];
    const { timing } = await timed(() => submitWindow(trades.slice(at, at + perRound)));
    const rows = storedRows(file, table, before, lastRowid(file));
    endToEnd.push({ work: Math.min(perRound, trades.length - at), timing });
    events.push({ work: rows.length, timing });
    appends += store.appends.length;
    const transactions = store.appends;
    inserts.push({ work: rows.length, timing: (await timed(() => raw.insert(rows, transactions))).timing });
  }
  raw.close();
  await writer.close();
  await store.close();

  const commandRates = rates(endToEnd);
  const eventRates = rates(events);
  const rawRates = rates(inserts);
  const stored = events.reduce((n, r) => n + r.work, 0);
  console.log(`end to end: ${fmt(trades.length)} trade commands, ${fmt(stored)} events in ${fmt(appends)} appends (mean ${(stored / appends).toFixed(0)} events), ${endToEnd.length} rounds`);
  console.log(`  commands: ${describeRates(commandRates, 'commands')} (target >= 20,000/s)`);
  console.log(`  events: ${describeRates(eventRates, 'events')}`);
  console.log(`raw SQLite inserts of the same rows (columns ${table.columns.join(', ')}) in the same transactions: ${describeRates(rawRates, 'rows')}`);
  console.log(`ratio end to end / raw (events, CPU): ${pct(eventRates.cpu, rawRates.cpu).toFixed(1)}%; wall: ${pct(eventRates.wall, rawRates.wall).toFixed(1)}%`);
  printFigures({
    store_commands_per_s: commandRates.wall,
    store_commands_per_cpu_s: commandRates.cpu,
    store_events_per_cpu_s: eventRates.cpu,
    store_raw_insert_rows_per_s: rawRates.wall,
    store_raw_insert_rows_per_cpu_s: rawRates.cpu,
    store_ratio_pct: pct(eventRates.cpu, rawRates.cpu),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
