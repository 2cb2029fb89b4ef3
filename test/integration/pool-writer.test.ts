// The command side on a real SQLite file: group commit, idempotency, conflicts between writers,
// snapshots, the hash chain, and an unavailable store.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decodeEvent, evolveAll, initialState, units, type Command, type Event } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import type { EventStore } from '../../services/ledger/event-store.js';
import { verifyChain } from '../../services/ledger/chain.js';
import { LoadError, PoolWriter, poolStream, snapshotStream } from '../../services/ledger/pool-writer.js';
import { createPool, deposit, listMarket, rootGovernors, stake, trade, withdraw, POOL } from '../support/builders.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-writer-'));
  dirs.push(dir);
  return join(dir, 'events.sqlite');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const submitAll = (writer: PoolWriter, commands: Command[]) => Promise.all(commands.map((command) => writer.submit({ command, actor: 'test' })));

const readAllEvents = async (store: EventStore) => {
  const read = await store.readStream(poolStream(POOL), 0n, 1_000_000);
  if (E.isLeft(read)) return [];
  return read.right;
};

const replay = async (store: EventStore) => {
  const events: Event[] = [];
  for (const stored of await readAllEvents(store)) {
    const decoded = decodeEvent(stored.data);
    if (E.isLeft(decoded)) throw new Error(decoded.left.message);
    events.push(decoded.right);
  }
  return evolveAll(initialState, events);
};

/** A store that counts appends and can be switched off. */
class Flaky implements EventStore {
  appends = 0;
  down = false;
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = async (...args) => {
    this.appends++;
    return this.down ? E.left({ kind: 'unavailable', message: 'switched off' }) : this.inner.append(...args);
  };
  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  findCommands: EventStore['findCommands'] = (...args) => this.inner.findCommands(...args);
  subscribeAll: EventStore['subscribeAll'] = (options) => this.inner.subscribeAll(options);
  close = () => this.inner.close();
}

describe('PoolWriter', () => {
  it('appends accepted commands with chained, attributed events, and a restart finds the same state', async () => {
    const file = tempFile();
    const store = new SqliteEventStore(file);
    const writer = await PoolWriter.open(store, POOL, { rootGovernors });
    const outcomes = await submitAll(writer, [createPool(), listMarket(), deposit('alice', '100'), withdraw('alice', '500')]);
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted', 'rejected']);
    const stored = await readAllEvents(store);
    // the refused withdrawal is recorded too, after the accepted commands' events
    expect(stored.filter((e) => e.type !== 'CommandRejected').map((e) => e.type)).toEqual(['PoolCreated', 'MarketListed', 'CollateralDeposited']);
    expect(stored.map((e) => e.type)[3]).toBe('CommandRejected');
    // a deposit is stored in schema version 2 (without its implied posting); the pool's creation in 1
    expect(stored[2]!.metadata).toMatchObject({ commandId: outcomes[2]!.commandId, actor: 'test', schemaVersion: 2 });
    expect(stored[0]!.metadata).toMatchObject({ commandId: outcomes[0]!.commandId, actor: 'test', schemaVersion: 1 });
    expect(verifyChain(stored).ok).toBe(true);
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors });
    expect(canonicalStateJson(reopened.current.state)).toBe(canonicalStateJson(writer.current.state));
    expect(reopened.current.revision).toBe(3n);
    await store.close();
  });

  it('returns the original outcome for a repeated command and appends nothing: in turn, at once, and after a restart', async () => {
    const file = tempFile();
    const store = new SqliteEventStore(file);
    const writer = await PoolWriter.open(store, POOL, { rootGovernors });
    await submitAll(writer, [createPool(), listMarket()]);
    const once = deposit('alice', '100');
    const [first] = await submitAll(writer, [once]);
    const [again] = await submitAll(writer, [once]);
    expect(again).toEqual({ ...first, deduplicated: true });
    const twin = deposit('bob', '7');
    const [a, b] = await submitAll(writer, [twin, twin]);
    expect(a!.status).toBe('accepted');
    expect(b).toEqual({ ...a, deduplicated: true });
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors });
    const [afterRestart] = await submitAll(reopened, [once]);
    expect(afterRestart).toEqual({ ...first, deduplicated: true });
    const stored = await readAllEvents(store);
    expect(stored.filter((e) => e.metadata.commandId === once.commandId)).toHaveLength(1);
    expect(stored.filter((e) => e.metadata.commandId === twin.commandId)).toHaveLength(1);
    await store.close();
  });

  it('commits commands in groups, and a rejected command does not hold the others back', async () => {
    const store = new Flaky(new SqliteEventStore(tempFile()));
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, batchSize: 100, maxLatencyMs: 5 });
    await submitAll(writer, [createPool(), listMarket()]);
    store.appends = 0;
    const commands = Array.from({ length: 60 }, (_, i) => (i === 30 ? withdraw('nobody', '1') : deposit(`acct${i}`, '10')));
    const outcomes = await submitAll(writer, commands);
    expect(outcomes.filter((o) => o.status === 'accepted')).toHaveLength(59);
    expect(outcomes[30]).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_ACCOUNT' } });
    expect(store.appends).toBeLessThanOrEqual(2);
    await store.close();
  });

  it('two writers on one pool: every command lands exactly once, none is lost', async () => {
    const file = tempFile();
    const storeA = new SqliteEventStore(file);
    const storeB = new SqliteEventStore(file);
    const a = await PoolWriter.open(storeA, POOL, { rootGovernors, maxLatencyMs: 0 });
    await submitAll(a, [createPool(), listMarket()]);
    const b = await PoolWriter.open(storeB, POOL, { rootGovernors, maxLatencyMs: 0 });
    const fromA = Array.from({ length: 40 }, (_, i) => deposit(`a${i}`, '1'));
    const fromB = Array.from({ length: 40 }, (_, i) => deposit(`b${i}`, '2'));
    const outcomes = await Promise.all([submitAll(a, fromA), submitAll(b, fromB)]);
    expect(outcomes.flat().every((o) => o.status === 'accepted')).toBe(true);
    const state = await replay(storeA);
    expect(state.status === 'active' && state.externalIn).toBe(units('40') + units('80'));
    const ids = (await readAllEvents(storeA)).map((e) => e.metadata.commandId);
    expect(new Set(ids).size).toBe(ids.length);
    await storeA.close();
    await storeB.close();
  });

  it('fails the batch when the store is down, keeps its state, and carries on when it is back', async () => {
    const store = new Flaky(new SqliteEventStore(tempFile()));
    const writer = await PoolWriter.open(store, POOL, { rootGovernors });
    await submitAll(writer, [createPool(), listMarket()]);
    const before = canonicalStateJson(writer.current.state);
    store.down = true;
    const [failed] = await submitAll(writer, [deposit('alice', '5')]);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'STORE_UNAVAILABLE' } });
    expect(canonicalStateJson(writer.current.state)).toBe(before);
    store.down = false;
    const [ok] = await submitAll(writer, [deposit('alice', '5')]);
    expect(ok!.status).toBe('accepted');
    await store.close();
  });

  it('shows readers only committed state while a batch of trades is appended, and drops the batch if the append fails', async () => {
    const store = new Flaky(new SqliteEventStore(tempFile()));
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0 });
    await submitAll(writer, [createPool(), listMarket(), deposit('alice', '100000'), deposit('bob', '100000')]);
    const before = canonicalStateJson(writer.current.state);
    // A batch of hot commands (trades, a mark) and a cold one (a stake), held at the append.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const inner = store.append;
    store.append = async (...args) => { await gate; return inner(...args); };
    const first = trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '50000', tradeId: 'T1' });
    const pending = submitAll(writer, [first, trade({ taker: 'bob', maker: 'alice', side: 'buy', size: '0.5', price: '50000' }), stake('alice', 'junior', '10'), trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '0.1', price: '50000' })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(canonicalStateJson(writer.current.state)).toBe(before);
    release();
    expect((await pending).map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const committed = canonicalStateJson(writer.current.state);
    expect(committed).toBe(canonicalStateJson(await replay(store)));
    // A failed append leaves no trace: the same trade id is free again afterwards.
    store.append = inner;
    store.down = true;
    const retry = trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '50000', tradeId: 'T2' });
    expect((await submitAll(writer, [retry]))[0]!.status).toBe('failed');
    expect(canonicalStateJson(writer.current.state)).toBe(committed);
    store.down = false;
    expect((await submitAll(writer, [{ ...retry, commandId: 'again' }]))[0]!.status).toBe('accepted');
    expect(canonicalStateJson(writer.current.state)).toBe(canonicalStateJson(await replay(store)));
    await store.close();
  });

  it('writes snapshots; a writer started from one has the state of a full replay', async () => {
    const file = tempFile();
    const store = new SqliteEventStore(file);
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, snapshotEvery: 10 });
    const early = deposit('alice', '10000');
    await submitAll(writer, [createPool(), listMarket(), early, deposit('bob', '10000')]);
    for (let i = 0; i < 8; i++) await submitAll(writer, [trade({ taker: 'alice', maker: 'bob', side: i % 2 === 0 ? 'buy' : 'sell', size: '0.1', price: '30000' }), deposit(`c${i}`, '1')]);
    const snapshots = await store.readStream(snapshotStream(POOL), 0n, 100);
    expect(E.isRight(snapshots) && snapshots.right.length).toBeGreaterThan(0);
    const fromSnapshot = await PoolWriter.open(store, POOL, { rootGovernors });
    expect(canonicalStateJson(fromSnapshot.current.state)).toBe(canonicalStateJson(await replay(store)));
    // and it still knows the commands handled before the snapshot
    const [again] = await submitAll(fromSnapshot, [early]);
    expect(again).toMatchObject({ status: 'accepted', deduplicated: true });
    expect((await readAllEvents(store)).filter((e) => e.metadata.commandId === early.commandId)).toHaveLength(1);
    await store.close();
  });

  it('finds its newest snapshot by the store\'s head, reading no older snapshot; a store without a head is paged through to the same one', async () => {
    const store = new SqliteEventStore(tempFile());
    const writer = await PoolWriter.open(store, POOL, { rootGovernors, snapshotEvery: 5 });
    await submitAll(writer, [createPool(), listMarket(), deposit('alice', '10000'), deposit('bob', '10000')]);
    for (let i = 0; i < 12; i++) await submitAll(writer, [trade({ taker: 'alice', maker: 'bob', side: i % 2 === 0 ? 'buy' : 'sell', size: '0.1', price: '30000' })]);
    const snapshots = await store.readStream(snapshotStream(POOL), 0n, 100);
    const newest = E.isRight(snapshots) ? snapshots.right[snapshots.right.length - 1]!.revision : -1n;
    expect(newest).toBeGreaterThan(1n);
    /** The store as the writer sees it (with its head or without), the snapshot stream's reads counted. */
    const watched = (withHead: boolean) => {
      const reads: Array<{ readonly read: string; readonly from: bigint; readonly count: number }> = [];
      const view = new Proxy(store, {
        get: (target, name: keyof SqliteEventStore) => {
          if (name === 'streamHead' && !withHead) return undefined;
          const value = target[name];
          if (typeof value !== 'function') return value;
          if (name !== 'readStream' && name !== 'readStreamLinks') return value.bind(target);
          return (streamId: string, from: bigint, count: number) => {
            if (streamId === snapshotStream(POOL)) reads.push({ read: name, from, count });
            return target[name](streamId, from, count);
          };
        },
      });
      return { view, reads };
    };
    const expected = canonicalStateJson(await replay(store));
    const byHead = watched(true);
    const fromHead = await PoolWriter.open(byHead.view, POOL, { rootGovernors, snapshotEvery: 5 });
    expect(byHead.reads).toEqual([{ read: 'readStream', from: newest, count: 1 }]);
    expect(canonicalStateJson(fromHead.current.state)).toBe(expected);
    const paged = watched(false);
    const fromPages = await PoolWriter.open(paged.view, POOL, { rootGovernors, snapshotEvery: 5 });
    expect(paged.reads.filter((r) => r.read === 'readStreamLinks').length).toBeGreaterThan(0);
    expect(paged.reads[paged.reads.length - 1]).toEqual({ read: 'readStream', from: newest, count: 1 });
    expect(canonicalStateJson(fromPages.current.state)).toBe(expected);
    // The next snapshot follows the newest one found.
    for (let i = 0; i < 6; i++) await submitAll(fromHead, [deposit(`d${i}`, '1')]);
    const after = await store.readStream(snapshotStream(POOL), newest + 1n, 10);
    expect(E.isRight(after) && after.right.length).toBeGreaterThan(0);
    await store.close();
  });

  it('refuses to load a log whose events were edited, naming the position', async () => {
    const file = tempFile();
    const store = new SqliteEventStore(file);
    const writer = await PoolWriter.open(store, POOL, { rootGovernors });
    await submitAll(writer, [createPool(), listMarket(), deposit('alice', '100'), deposit('bob', '100')]);
    await store.close();
    const db = new Database(file);
    db.prepare(`UPDATE events SET event = replace(event, '"100"', '"1000000"') WHERE revision = 2 AND stream_id = ?`).run(poolStream(POOL));
    const position = (db.prepare('SELECT position FROM events WHERE revision = 2 AND stream_id = ?').get(poolStream(POOL)) as { position: number }).position;
    db.close();
    const reopened = new SqliteEventStore(file);
    await expect(PoolWriter.open(reopened, POOL, { rootGovernors })).rejects.toThrow(new LoadError(`hash chain broken at position ${position} (revision 2): hash does not match the event`));
    await reopened.close();
  });
});
