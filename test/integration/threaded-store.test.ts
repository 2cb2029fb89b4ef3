// The service's SQLite store with its appends on a worker thread: outcomes only after the commit,
// the committed feed (every append once, in log order, exactly as read back), a failed append and
// a crashed append thread acknowledge nothing and the writer recovers, and close drains.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decodeEvent, evolveAll, initialState, type Command, type Event } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { ThreadedSqliteEventStore } from '../../adapters/sqlite/threaded-sqlite-event-store.js';
import type { EventStore, StoredEvent } from '../../services/ledger/event-store.js';
import { verifyChain } from '../../services/ledger/chain.js';
import { PoolWriter, poolStream } from '../../services/ledger/pool-writer.js';
import type { Outcome } from '../../services/outcome.js';
import { createPool, deposit, listMarket, rootGovernors, POOL } from '../support/builders.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-threaded-'));
  dirs.push(dir);
  return join(dir, 'events.sqlite');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const submitAll = (writer: PoolWriter, commands: ReadonlyArray<Command>): Promise<Outcome[]> => Promise.all(commands.map((command) => writer.submit({ command, actor: 'test' })));

const poolEvents = async (store: EventStore): Promise<StoredEvent[]> => {
  const read = await store.readStream(poolStream(POOL), 0n, 1_000_000);
  return E.isRight(read) ? read.right : [];
};

const replay = (stored: ReadonlyArray<StoredEvent>) => evolveAll(initialState, stored.map((s) => {
  const decoded = decodeEvent(s.data);
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return decoded.right as Event;
}));

describe('the threaded SQLite store', () => {
  it('answers only after the commit: another connection reads every accepted command\'s events', async () => {
    const file = tempFile();
    const store = new ThreadedSqliteEventStore(file, { writerLock: true });
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0 });
    const outcomes = await submitAll(writer, [createPool(), listMarket(), ...Array.from({ length: 50 }, (_, i) => deposit(`a${i}`, '10'))]);
    expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
    const other = new SqliteEventStore(file);
    const stored = await poolEvents(other);
    expect(new Set(stored.map((e) => e.metadata.commandId))).toEqual(new Set(outcomes.map((o) => o.commandId)));
    expect(verifyChain(stored).ok).toBe(true);
    await other.close();
    await store.close();
  });

  it('feeds every durable append once, in log order, exactly as the store reads it back', async () => {
    const store = new ThreadedSqliteEventStore(tempFile(), { writerLock: true });
    const fed: StoredEvent[] = [];
    const batches: number[] = [];
    store.onCommitted((events) => {
      batches.push(events.length);
      fed.push(...events);
    });
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0, snapshotEvery: 20 });
    await submitAll(writer, [createPool(), listMarket()]);
    for (let round = 0; round < 5; round++) await submitAll(writer, Array.from({ length: 13 }, (_, i) => deposit(`r${round}-${i}`, '1')));
    const all = await store.readAll('start', 1_000_000);
    if (E.isLeft(all)) throw new Error('read failed');
    // the snapshot stream's appends are in the feed too, where they are in the log
    expect(fed.map((e) => [e.streamId, e.revision, e.position, e.hash, e.type])).toEqual(all.right.map((e) => [e.streamId, e.revision, e.position, e.hash, e.type]));
    expect(JSON.parse(JSON.stringify(fed, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))).toEqual(JSON.parse(JSON.stringify(all.right, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
    expect(batches.length).toBeLessThan(fed.length);
    await store.close();
  });

  it('a failed append acknowledges nothing, keeps the state, and the writer carries on once the store is free', async () => {
    const file = tempFile();
    const store = new ThreadedSqliteEventStore(file, { writerLock: true, busyTimeoutMs: 200 });
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0 });
    await submitAll(writer, [createPool(), listMarket()]);
    const before = canonicalStateJson(writer.current.state);
    // Another connection holds SQLite's write lock: the append thread's commit cannot happen.
    const blocker = new Database(file);
    blocker.exec('BEGIN IMMEDIATE');
    const commands = Array.from({ length: 20 }, (_, i) => deposit(`b${i}`, '5'));
    const failed = await submitAll(writer, commands);
    expect(failed.every((o) => o.status === 'failed' && o.error.code === 'STORE_UNAVAILABLE')).toBe(true);
    expect(canonicalStateJson(writer.current.state)).toBe(before);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect((await poolEvents(store)).filter((e) => e.type === 'CollateralDeposited')).toHaveLength(0);
    const retried = await submitAll(writer, commands);
    expect(retried.every((o) => o.status === 'accepted' && o.deduplicated !== true)).toBe(true);
    expect((await poolEvents(store)).filter((e) => e.type === 'CollateralDeposited')).toHaveLength(20);
    await store.close();
  });

  it('a crash of the append thread acknowledges nothing it had in hand; a new thread takes over and a retry lands each command once', async () => {
    const file = tempFile();
    const store = new ThreadedSqliteEventStore(file, { writerLock: true });
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0, batchSize: 16 });
    await submitAll(writer, [createPool(), listMarket()]);
    const commands = Array.from({ length: 200 }, (_, i) => deposit(`c${i}`, '3'));
    const pending = submitAll(writer, commands);
    // The thread dies with appends in hand (what a crash of it looks like).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await (store as unknown as { worker: Worker }).worker.terminate();
    const first = await pending;
    expect(first.some((o) => o.status === 'failed')).toBe(true);
    expect(first.every((o) => o.status === 'accepted' || (o.status === 'failed' && o.error.code === 'STORE_UNAVAILABLE'))).toBe(true);
    // Every command reported accepted is in the log.
    const afterCrash = new Set((await poolEvents(store)).map((e) => e.metadata.commandId));
    for (const o of first) if (o.status === 'accepted') expect(afterCrash.has(o.commandId)).toBe(true);
    // The producer retries: each command lands exactly once, those stored already are answered from the log.
    const retried = await submitAll(writer, commands);
    expect(retried.every((o) => o.status === 'accepted')).toBe(true);
    const stored = await poolEvents(store);
    const ids = stored.map((e) => e.metadata.commandId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stored.filter((e) => e.type === 'CollateralDeposited')).toHaveLength(200);
    expect(verifyChain(stored).ok).toBe(true);
    expect(canonicalStateJson(writer.current.state)).toBe(canonicalStateJson(replay(stored)));
    await store.close();
  });

  it('close waits for the appends in hand: everything answered is stored', async () => {
    const file = tempFile();
    const store = new ThreadedSqliteEventStore(file, { writerLock: true });
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0 });
    await submitAll(writer, [createPool(), listMarket()]);
    const pending = submitAll(writer, Array.from({ length: 100 }, (_, i) => deposit(`d${i}`, '1')));
    await writer.drain();
    await store.close();
    const outcomes = await pending;
    expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
    const reopened = new SqliteEventStore(file);
    expect((await poolEvents(reopened)).filter((e) => e.type === 'CollateralDeposited')).toHaveLength(100);
    await reopened.close();
  });
});
