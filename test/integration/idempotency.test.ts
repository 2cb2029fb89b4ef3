// A command id always gets the same answer, on a real SQLite file: a repeat (same fingerprint)
// gets the original outcome, accepted or rejected, and appends nothing: in one batch, across
// batches, after a restart, and from a snapshot; the same id with other content is refused with
// COMMAND_ID_REUSED and leaves the log as it was. And the registry keeps nothing in memory for a
// pool that does not exist.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { commandFingerprint, decide, encodeEvent, SCHEMA_VERSION, units, type Command, type Event } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import type { EventStore, StoredEvent } from '../../services/ledger/event-store.js';
import { sealed, verifyChain } from '../../services/ledger/chain.js';
import { PoolWriter, poolStream, snapshotStream } from '../../services/ledger/pool-writer.js';
import { PoolRegistry } from '../../services/pools.js';
import { Metrics } from '../../services/metrics.js';
import { audit } from '../../services/audit.js';
import { createPool, ctx, deposit, listMarket, rootGovernors, standardPool, withdraw, POOL } from '../support/builders.js';

const dirs: string[] = [];
const freshStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-idempotency-'));
  dirs.push(dir);
  return new SqliteEventStore(join(dir, 'events.sqlite'));
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const submitAll = (writer: { submit: PoolWriter['submit'] }, commands: Command[]) => Promise.all(commands.map((command) => writer.submit({ command, actor: 'test' })));

const log = async (store: EventStore, poolId = POOL): Promise<StoredEvent[]> => {
  const read = await store.readStream(poolStream(poolId), 0n, 1_000_000);
  return E.isLeft(read) ? [] : read.right;
};

/** A pool with alice holding 100, on a fresh store. */
const poolWithAlice = async (options: Parameters<typeof PoolWriter.open>[2] = {}) => {
  const store = freshStore();
  const writer = await PoolWriter.open(store, POOL, { rootGovernors, ...options });
  await submitAll(writer, [createPool(), listMarket(), deposit('alice', '100')]);
  return { store, writer };
};

const reused = { status: 'rejected', error: { code: 'COMMAND_ID_REUSED', field: 'commandId' } };

/** The events a command makes on the standard pool (to write them as an older writer did). */
const thenLegacyEvents = (command: Command): ReadonlyArray<Event> => {
  const decision = decide(command, standardPool().state, ctx);
  if (E.isLeft(decision)) throw new Error(decision.left.message);
  return decision.right;
};

describe('the same command id with other content', () => {
  it('is refused with COMMAND_ID_REUSED when the amount differs, and the log is unchanged', async () => {
    const { store, writer } = await poolWithAlice();
    const first = deposit('bob', '10');
    await submitAll(writer, [first]);
    const before = await log(store);
    const [again] = await submitAll(writer, [{ ...first, amount: units('1000') } as Command]);
    expect(again).toMatchObject(reused);
    expect(again).not.toHaveProperty('deduplicated');
    expect(await log(store)).toEqual(before);
    await store.close();
  });

  it('is refused when the account or the type differs', async () => {
    const { store, writer } = await poolWithAlice();
    const first = deposit('bob', '10');
    await submitAll(writer, [first]);
    const before = await log(store);
    const otherAccount = { ...first, accountId: 'mallory' } as Command;
    const otherType = { ...withdraw('alice', '10'), commandId: first.commandId };
    expect(await submitAll(writer, [otherAccount, otherType])).toMatchObject([reused, reused]);
    expect(await log(store)).toEqual(before);
    await store.close();
  });

  it('is refused within one batch: the first copy is decided, the other refused and not recorded', async () => {
    const { store, writer } = await poolWithAlice({ batchSize: 10, maxLatencyMs: 20 });
    const first = deposit('bob', '10');
    const [a, b] = await submitAll(writer, [first, { ...first, amount: units('7') } as Command]);
    expect(a).toMatchObject({ status: 'accepted' });
    expect(b).toMatchObject(reused);
    expect((await log(store)).filter((e) => e.metadata.commandId === first.commandId).map((e) => e.type)).toEqual(['CollateralDeposited']);
    await store.close();
  });

  it('is refused against a rejected command too, and after a restart', async () => {
    const { store, writer } = await poolWithAlice();
    const refused = withdraw('alice', '500');
    await submitAll(writer, [refused]);
    const before = await log(store);
    const [now] = await submitAll(writer, [{ ...refused, amount: units('5') } as Command]);
    expect(now).toMatchObject(reused);
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors });
    const [later] = await submitAll(reopened, [{ ...refused, amount: units('5') } as Command]);
    expect(later).toMatchObject(reused);
    expect(await log(store)).toEqual(before);
    await store.close();
  });
});

describe('a rejected command', () => {
  it('is recorded as one CommandRejected event, and a repeat gets the same rejection, deduplicated, appending nothing', async () => {
    const { store, writer } = await poolWithAlice();
    const refused = withdraw('alice', '500');
    const [first] = await submitAll(writer, [refused]);
    expect(first).toMatchObject({ status: 'rejected', error: { code: 'INSUFFICIENT_COLLATERAL', field: 'amount' } });
    const [again] = await submitAll(writer, [refused]);
    expect(again).toEqual({ ...first, deduplicated: true });
    const recorded = (await log(store)).filter((e) => e.metadata.commandId === refused.commandId);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.type).toBe('CommandRejected');
    expect(recorded[0]!.data).toEqual({
      type: 'CommandRejected', schemaVersion: SCHEMA_VERSION, commandType: 'Withdraw', fingerprint: commandFingerprint(refused),
      error: { code: 'INSUFFICIENT_COLLATERAL', message: 'amount 500 exceeds collateral 100', field: 'amount' },
    });
    expect(recorded[0]!.metadata.fingerprint).toBe(commandFingerprint(refused));
    expect(verifyChain(await log(store)).ok).toBe(true);
    await store.close();
  });

  it('gets the same rejection within one batch (one event), and after a restart (index rebuilt from the log)', async () => {
    const { store, writer } = await poolWithAlice({ batchSize: 10, maxLatencyMs: 20 });
    const refused = withdraw('alice', '500');
    const [first, twin] = await submitAll(writer, [refused, refused]);
    expect(twin).toEqual({ ...first, deduplicated: true });
    // The balance that made it fail changes: a repeat still gets the original answer.
    await submitAll(writer, [deposit('alice', '1000')]);
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors });
    const [afterRestart] = await submitAll(reopened, [refused]);
    expect(afterRestart).toEqual({ ...first, deduplicated: true });
    expect((await log(store)).filter((e) => e.metadata.commandId === refused.commandId)).toHaveLength(1);
    await store.close();
  });

  it('a rejection without a field comes back without one', async () => {
    const { store, writer } = await poolWithAlice();
    const refused = createPool();
    const [first] = await submitAll(writer, [refused]);
    expect(first).toMatchObject({ status: 'rejected', error: { code: 'POOL_ALREADY_EXISTS' } });
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors });
    expect(await submitAll(reopened, [refused])).toEqual([{ ...first, deduplicated: true }]);
    await store.close();
  });

  it('keeps both answers through a snapshot (fingerprints and rejection locations in its index)', async () => {
    const { store, writer } = await poolWithAlice({ snapshotEvery: 5 });
    const refused = withdraw('alice', '500');
    const accepted = deposit('bob', '10');
    const [rejection] = await submitAll(writer, [refused]);
    const [acceptance] = await submitAll(writer, [accepted]);
    for (let i = 0; i < 6; i++) await submitAll(writer, [deposit(`c${i}`, '1')]);
    const snapshots = await store.readStream(snapshotStream(POOL), 0n, 100);
    if (E.isLeft(snapshots)) throw new Error('no snapshot');
    const handled = (snapshots.right.at(-1)!.data as { handled: unknown[][] }).handled;
    expect(handled.find((h) => h[0] === refused.commandId)).toEqual([refused.commandId, '3', 1, commandFingerprint(refused)]);
    // From the snapshot alone: the log before it is not read again.
    const fromSnapshot = await PoolWriter.open(store, POOL, { rootGovernors });
    expect(await submitAll(fromSnapshot, [refused, accepted])).toEqual([{ ...rejection, deduplicated: true }, { ...acceptance, deduplicated: true }]);
    expect(await submitAll(fromSnapshot, [{ ...refused, amount: units('1') } as Command, { ...accepted, amount: units('1') } as Command])).toMatchObject([reused, reused]);
    expect((await log(store)).filter((e) => e.metadata.commandId === refused.commandId || e.metadata.commandId === accepted.commandId)).toHaveLength(2);
    await store.close();
  });

  it('is not recorded when the pool does not exist (there is no stream to record it in)', async () => {
    const store = freshStore();
    const writer = await PoolWriter.open(store, POOL, { rootGovernors });
    const [refused] = await submitAll(writer, [deposit('alice', '1')]);
    expect(refused).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_POOL' } });
    expect(await log(store)).toEqual([]);
    expect(writer.current.revision).toBe('no-stream');
    await store.close();
  });

  it('leaves the state, the invariants and the audit as they were', async () => {
    const { store, writer } = await poolWithAlice();
    const before = writer.current.state;
    await submitAll(writer, [withdraw('alice', '500'), withdraw('nobody', '1')]);
    expect(writer.current.state).toEqual(before);
    const report = await audit(store, { poolId: POOL });
    expect(report).toMatchObject({ ok: true, eventsReplayed: 5, rejectionsRecorded: 2 });
    await store.close();
  });
});

describe('commands recorded before fingerprints were', () => {
  it('a repeat of one (from the log or from a snapshot) is refused, since it cannot be shown to be the same', async () => {
    const { store, writer } = await poolWithAlice();
    const legacy = deposit('bob', '10');
    const [event] = thenLegacyEvents(legacy);
    const appended = await store.append(poolStream(POOL), writer.current.revision, [sealed(writer.current.lastHash, {
      type: event!.type, data: encodeEvent(event!),
      metadata: { commandId: legacy.commandId, correlationId: legacy.commandId, causationId: legacy.commandId, timestamp: 0, actor: 'old' },
    })]);
    expect(E.isRight(appended)).toBe(true);
    const fromLog = await PoolWriter.open(store, POOL, { rootGovernors, snapshotEvery: 1 });
    const [refused] = await submitAll(fromLog, [legacy]);
    expect(refused).toMatchObject(reused);
    expect(refused!.status === 'rejected' && refused!.error.message).toContain('recorded without a fingerprint');
    // a snapshot taken now keeps the entry without a fingerprint
    await submitAll(fromLog, [deposit('carol', '1')]);
    const fromSnapshot = await PoolWriter.open(store, POOL, { rootGovernors });
    expect(await submitAll(fromSnapshot, [legacy])).toMatchObject([reused]);
    await store.close();
  });

  it('a snapshot entry with a malformed fingerprint stops the load instead of passing for one without', async () => {
    const { store, writer } = await poolWithAlice({ snapshotEvery: 1 });
    await submitAll(writer, [deposit('bob', '1')]);
    const snapshots = await store.readStream(snapshotStream(POOL), 0n, 100);
    if (E.isLeft(snapshots)) throw new Error('no snapshot');
    const newest = snapshots.right.at(-1)!;
    const data = newest.data as { handled: unknown[][] };
    const forged = { ...data, handled: data.handled.map(([id, revision, count]) => [id, revision, count, 'not-a-hash']) };
    await store.append(snapshotStream(POOL), newest.revision, [sealed(newest.hash, { ...newest, data: forged })]);
    await expect(PoolWriter.open(store, POOL, { rootGovernors })).rejects.toThrow(/snapshot at revision .* does not decode/);
    await store.close();
  });
});

describe('the pool registry', () => {
  it('keeps no writer for 1,000 commands to pools that do not exist, and answers each UNKNOWN_POOL', async () => {
    const store = freshStore();
    const pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors });
    const outcomes = await Promise.all(Array.from({ length: 1000 }, async (_, i) => {
      const command = { ...deposit('alice', '1'), poolId: `ghost-${i}` } as Command;
      return (await pools.writer(command.poolId)).submit({ command, actor: 'test' });
    }));
    expect(outcomes.every((o) => o.status === 'rejected' && o.error.code === 'UNKNOWN_POOL')).toBe(true);
    expect(pools.writerCount).toBe(0);
    const metrics = new Metrics();
    metrics.trackPoolWriters(() => pools.writerCount);
    expect(await metrics.registry.metrics()).toContain('ledger_pool_writers 0');
    const all = await store.readAll('start', 10);
    expect(E.isRight(all) && all.right).toEqual([]);
    await store.close();
  });

  it('keeps no writer for a refused creation (unsigned) nor for one the store failed', async () => {
    const store = freshStore();
    const pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors });
    const unsigned = { ...createPool(), poolId: 'p1', signatures: [] };
    expect(await (await pools.writer('p1')).submit({ command: unsigned, actor: 'test' })).toMatchObject({ status: 'rejected', error: { code: 'MISSING_SIGNATURES' } });
    expect(pools.writerCount).toBe(0);
    const down: EventStore = {
      append: async () => E.left({ kind: 'unavailable', message: 'switched off' }),
      readStream: (...args) => store.readStream(...args),
      readAll: (...args) => store.readAll(...args),
      findCommands: (...args) => store.findCommands(...args),
      subscribeAll: (options) => store.subscribeAll(options),
      close: async () => undefined,
    };
    const failing = new PoolRegistry(down, { maxLatencyMs: 0, rootGovernors });
    expect(await (await failing.writer(POOL)).submit({ command: createPool(), actor: 'test' })).toMatchObject({ status: 'failed' });
    expect(failing.writerCount).toBe(0);
    await store.close();
  });

  it('keeps the writer of a pool it created, and the pool\'s later commands go to it', async () => {
    const store = freshStore();
    const pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors });
    const [created, twin] = await Promise.all([createPool(), listMarket()].map(async (command) => (await pools.writer(POOL)).submit({ command, actor: 'test' })));
    expect(created).toMatchObject({ status: 'accepted' });
    expect(pools.writerCount).toBe(1);
    expect(twin!.status).not.toBe('failed');
    const [ok] = await submitAll(await pools.writer(POOL), [deposit('alice', '1')]);
    expect(ok).toMatchObject({ status: 'accepted' });
    expect(pools.writerCount).toBe(1);
    await store.close();
  });

  it('opens and keeps the writer of a pool that exists in the store', async () => {
    const { store } = await poolWithAlice();
    const pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors });
    const [again] = await submitAll(await pools.writer(POOL), [withdraw('alice', '500')]);
    expect(again).toMatchObject({ status: 'rejected', error: { code: 'INSUFFICIENT_COLLATERAL' } });
    expect(pools.writerCount).toBe(1);
    await store.close();
  });
});
