// Commands per second and events per second through command handling (decide, evolve, hash
// chain, encoding, group commit) into the embedded SQLite store, next to a raw loop that inserts
// the same rows into SQLite in the same transaction sizes. Targets: >= 20,000 trade commands/s
// end to end, and >= 50% of the raw insert rate (events/s).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import type { EventStore, NewEvent } from '../../services/ledger/event-store.js';
import { PoolWriter } from '../../services/ledger/pool-writer.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 100_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4_096);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_024);

/** Records every batch the writer appends (to replay the same rows in the raw loop). */
class Recording implements EventStore {
  readonly batches: { streamId: string; events: ReadonlyArray<NewEvent> }[] = [];
  recording = false;
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = (streamId, expected, events) => {
    if (this.recording) this.batches.push({ streamId, events });
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
  const store = new Recording(new SqliteEventStore(join(dir, 'events.sqlite')));
  const writer = await PoolWriter.open(store, POOL_ID, { batchSize: BATCH, maxLatencyMs: 1, snapshotEvery: 0, rootGovernors: benchContext.rootGovernors! });
  const submitWindow = async (commands: ReturnType<typeof tradingCommands>) => {
    const inFlight = new Set<Promise<unknown>>();
    for (const command of commands) {
      const done = writer.submit({ command, actor: 'bench' });
      inFlight.add(done);
      void done.then(() => inFlight.delete(done));
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    return Promise.all(inFlight);
  };
  await submitWindow([...setupCommands(setup, defaultStartPrice)]);
  const trades = tradingCommands(COMMANDS, setup, 11, 1_000_000).filter((c) => c.type === 'ExecuteTrade');
  store.recording = true;
  const started = process.hrtime.bigint();
  await submitWindow(trades);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  store.recording = false;
  const events = store.batches.reduce((n, b) => n + b.events.length, 0);
  await store.close();

  // The raw loop: the same rows, the same transaction sizes, the same pragmas, no ledger.
  const raw = new Database(join(dir, 'raw.sqlite'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, revision INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, revision))`);
  const insert = raw.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  let revision = 0;
  const insertBatch = raw.transaction((batch: { streamId: string; events: ReadonlyArray<NewEvent> }) => {
    for (const e of batch.events) insert.run(batch.streamId, revision++, e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata));
  });
  const rawStarted = process.hrtime.bigint();
  for (const batch of store.batches) insertBatch(batch);
  const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;
  raw.close();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const meanBatch = events / store.batches.length;
  console.log(`end to end: ${fmt(trades.length)} trade commands, ${fmt(events)} events in ${store.batches.length} appends (mean ${meanBatch.toFixed(0)} events) in ${seconds.toFixed(2)} s`);
  console.log(`  ${fmt(trades.length / seconds)} commands/s, ${fmt(events / seconds)} events/s (target >= 20,000 commands/s)`);
  console.log(`raw SQLite inserts of the same rows in the same transactions: ${fmt(events / rawSeconds)} rows/s in ${rawSeconds.toFixed(2)} s`);
  console.log(`ratio end to end / raw: ${((events / seconds) / (events / rawSeconds) * 100).toFixed(1)}% (target >= 50%)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
