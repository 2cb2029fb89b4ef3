// Memory and snapshot storage as history grows: N deposits (default 1,000,000, BENCH_COMMANDS)
// through one pool writer into the embedded SQLite store, 1,000 accounts (so the state stays the
// same size and what grows is the history: the command-id index), snapshots every 10,000 events
// (BENCH_SNAPSHOT_EVERY) and checkpoints every 1,000. Prints RSS and heap after a forced GC, and
// the snapshot bytes (newest snapshot, and all kept) at 100,000 commands and at the end.
// Run with `npm run bench:memory` (node --expose-gc).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ONE, SCHEMA_VERSION, type Command } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { CheckpointSigner } from '../../services/ledger/checkpoints.js';
import { PoolWriter, snapshotStream } from '../../services/ledger/pool-writer.js';
import { POOL_ID, benchContext, benchPool } from '../support/workload.js';
import { printFigures, setting } from '../support/measure.js';

const COMMANDS = setting('BENCH_COMMANDS', 1_000_000, 2_000);
const SNAPSHOT_EVERY = setting('BENCH_SNAPSHOT_EVERY', 10_000, 500);
const IN_FLIGHT = 4_096;
const gc = (globalThis as { gc?: () => void }).gc;

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-memory-'));
const file = join(dir, 'events.sqlite');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const snapshotBytes = (): { readonly newest: number; readonly total: number; readonly count: number } => {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT length(event) AS bytes FROM events WHERE stream_id = ? ORDER BY revision').all(snapshotStream(POOL_ID)) as { bytes: number }[];
  db.close();
  return { newest: rows.at(-1)?.bytes ?? 0, total: rows.reduce((n, r) => n + r.bytes, 0), count: rows.length };
};

const memory = () => {
  gc?.();
  return process.memoryUsage();
};
const describeMemory = ({ rss, heapUsed }: NodeJS.MemoryUsage) =>
  `RSS ${mb(rss)}, heap used ${mb(heapUsed)}${gc === undefined ? ' (no --expose-gc: figures include garbage)' : ''}`;

try {
  const store = new SqliteEventStore(file, { writerLock: true });
  const writer = await PoolWriter.open(store, POOL_ID, {
    batchSize: 1_024, maxLatencyMs: 1, snapshotEvery: SNAPSHOT_EVERY, checkpointEvery: 1_000, signer: CheckpointSigner.generate(), rootGovernors: benchContext.rootGovernors!,
  });
  await writer.submit({ command: benchPool(POOL_ID), actor: 'bench' });
  console.log(`after creating the pool: ${describeMemory(memory())}`);
  const deposit = (i: number): Command => ({ type: 'Deposit', schemaVersion: SCHEMA_VERSION, commandId: `dep-${i}`, poolId: POOL_ID, accountId: `acct${i % 1_000}`, amount: ONE });
  const inFlight = new Set<Promise<unknown>>();
  const started = process.hrtime.bigint();
  for (let i = 1; i <= COMMANDS; i++) {
    const done = writer.submit({ command: deposit(i), actor: 'bench' });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    if (i === 100_000 || i === COMMANDS) {
      await Promise.all(inFlight);
      const snapshots = snapshotBytes();
      console.log(`after ${fmt(i)} commands: ${describeMemory(memory())}; snapshots: newest ${fmt(snapshots.newest)} bytes, ${snapshots.count} kept, ${fmt(snapshots.total)} bytes in all`);
    }
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${fmt(COMMANDS)} commands in ${seconds.toFixed(1)} s (${fmt(COMMANDS / seconds)}/s)`);
  // A repeat of the very first deposit is still recognised (from the store's index).
  const repeat = await writer.submit({ command: deposit(1), actor: 'bench' });
  console.log(`repeat of dep-1: ${repeat.status}${'deduplicated' in repeat && repeat.deduplicated ? ', deduplicated' : ''}`);
  await writer.close();
  await store.close();
  const end = memory();
  const snapshots = snapshotBytes();
  printFigures({
    memory_rss_mb: end.rss / 1024 / 1024,
    memory_heap_mb: end.heapUsed / 1024 / 1024,
    memory_snapshot_bytes: snapshots.newest,
    memory_snapshots_kept_bytes: snapshots.total,
    memory_commands_per_s: COMMANDS / seconds,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
