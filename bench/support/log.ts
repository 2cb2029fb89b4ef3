// A generated log for the replay and readiness benchmarks: a data directory as the service keeps
// it (DATA_DIR: events.sqlite and the checkpoint signing key), filled through the real pool writer
// with the service's writer settings (group commit of 1,024 commands, snapshots and signed
// checkpoints at their defaults), from a seeded workload: 10,000 funded accounts in 10 markets,
// then random trades with a mark move every 20 commands. Every command after the set-up makes one
// event (a refused one its CommandRejected), so the log holds exactly the events asked for.
// Generated into a temporary directory by each run; never kept in the repository.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { loadOrCreateSigner } from '../../services/ledger/checkpoints.js';
import { PoolWriter } from '../../services/ledger/pool-writer.js';
import { QUICK, setting } from './measure.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, take, tradingStream, type PoolSetup } from './workload.js';

/** 10,000 accounts (500 in a quick run). */
/** Events in the log: BENCH_EVENTS, 1,000,000 (5,000 in a quick run). */
export const LOG_EVENTS = setting('BENCH_EVENTS', 1_000_000, 5_000);

export const LOG_SETUP: PoolSetup = { accounts: QUICK ? 500 : 10_000, markets: 10, collateral: 1_000_000_000n };
const IN_FLIGHT = 4_096;
/** Commands generated and submitted at a time. */
const CHUNK = 100_000;

export interface GeneratedLog {
  /** The data directory (DATA_DIR of a service that serves this log). */
  readonly dir: string;
  readonly file: string;
  /** Events in the pool's stream. */
  readonly events: number;
  readonly seconds: number;
}

/** The data directory of a log: `events.sqlite` in it. */
export const logFile = (dir: string): string => join(dir, 'events.sqlite');

/** Submit commands to a writer, keeping at most `window` in flight (the producers' pipelining). */
export const submitAll = async (writer: PoolWriter, commands: Iterable<Command>, window = IN_FLIGHT): Promise<void> => {
  const inFlight = new Set<Promise<unknown>>();
  for (const command of commands) {
    const done = writer.submit({ command, actor: 'bench' });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
};

/** Generate a log of `events` pool events into a new temporary data directory (or `dir`). */
export const generateLog = async (events: number, dir = mkdtempSync(join(tmpdir(), 'ledger-bench-log-'))): Promise<GeneratedLog> => {
  const started = process.hrtime.bigint();
  const store = new SqliteEventStore(logFile(dir), { writerLock: true });
  // The same key the service finds in its data directory: it uses the snapshots it signed.
  const { signer } = loadOrCreateSigner(dir, undefined);
  let now = Date.UTC(2026, 0, 1);
  const writer = await PoolWriter.open(store, POOL_ID, { batchSize: 1_024, maxLatencyMs: 1, signer, rootGovernors: benchContext.rootGovernors!, clock: () => (now += 50) });
  const count = () => {
    const { revision } = writer.current;
    return revision === 'no-stream' ? 0 : Number(revision) + 1;
  };
  try {
    await submitAll(writer, setupCommands(LOG_SETUP, defaultStartPrice));
    const trading = tradingStream(LOG_SETUP, 7);
    while (count() < events) {
      await submitAll(writer, take(trading, Math.min(CHUNK, events - count())));
    }
    await writer.drain();
  } finally {
    await writer.close();
    await store.close();
  }
  return { dir, file: logFile(dir), events: count(), seconds: Number(process.hrtime.bigint() - started) / 1e9 };
};

/** Print what was generated; returns the log. */
export const describeLog = (log: GeneratedLog): GeneratedLog => {
  console.log(`log: ${Math.round(log.events).toLocaleString('en-US')} pool events generated through the pool writer in ${log.seconds.toFixed(1)} s (${Math.round(log.events / log.seconds).toLocaleString('en-US')} events/s)`);
  return log;
};
