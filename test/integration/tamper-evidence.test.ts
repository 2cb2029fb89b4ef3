// A log that proves itself against an insider: signed checkpoints caught by the audit and at
// start (a re-chained edit, a truncation), snapshots the log does not vouch for refused at start
// and caught by the audit, the command-id index kept by the store (not in snapshots), and a
// projection runner that folds only verified events.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decodeEvent, evolveAll, initialState, type Command, type Event } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ChainBrokenError, ProjectionRunner } from '../../projections/runner.js';
import { audit, describeProblem } from '../../services/audit.js';
import { CheckpointCodec, CheckpointSigner, checkpointStream, encodeCheckpoint, loadOrCreateSigner, type Checkpoint } from '../../services/ledger/checkpoints.js';
import { decodeWith } from '../../domain/index.js';
import { LoadError, PoolWriter, poolStream, snapshotContentHash, snapshotStream } from '../../services/ledger/pool-writer.js';
import type { EventStore } from '../../services/ledger/event-store.js';
import { createPool, deposit, listMarket, rootGovernors, withdraw, POOL } from '../support/builders.js';
import { editAndRechain, eventOf, rewrite, truncate } from '../support/insider.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-tamper-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const signer = CheckpointSigner.generate();
const submitAll = (writer: PoolWriter, commands: Command[]) => Promise.all(commands.map((command) => writer.submit({ command, actor: 'test' })));

const checkpointsIn = async (store: EventStore): Promise<Checkpoint[]> => {
  const read = await store.readStream(checkpointStream(POOL), 0n, 10_000);
  if (E.isLeft(read)) return [];
  return read.right.map((stored) => {
    const decoded = decodeWith(CheckpointCodec)(stored.data);
    if (E.isLeft(decoded)) throw new Error(decoded.left.message);
    return decoded.right;
  });
};

const replayed = async (store: EventStore) => {
  const read = await store.readStream(poolStream(POOL), 0n, 1_000_000);
  if (E.isLeft(read)) throw new Error('no stream');
  const events: Event[] = read.right.map((s) => {
    const decoded = decodeEvent(s.data);
    if (E.isLeft(decoded)) throw new Error(decoded.left.message);
    return decoded.right;
  });
  return evolveAll(initialState, events);
};

/**
 * A pool of 14 events (0 CreatePool, 1 ListMarket, 2 alice deposits 100, 3 to 13 deposits of 1
 * for c0..c10), checkpoints every 4 events, snapshots every 5.
 */
const pool = async (options: Parameters<typeof PoolWriter.open>[2] = {}) => {
  const dir = tempDir();
  const file = join(dir, 'events.sqlite');
  const store = new SqliteEventStore(file);
  const writer = await PoolWriter.open(store, POOL, { rootGovernors, signer, checkpointEvery: 4, snapshotEvery: 5, ...options });
  await submitAll(writer, [createPool()]);
  await submitAll(writer, [listMarket()]);
  await submitAll(writer, [deposit('alice', '100')]);
  for (let i = 0; i <= 10; i++) await submitAll(writer, [deposit(`c${i}`, '1')]);
  await writer.close();
  const checkpoints = await checkpointsIn(store);
  return { dir, file, store, writer, checkpoints };
};

/** Alice's deposit (revision 2) made 1,000,100 instead of 100, every later hash recomputed. */
const inflateAlice = (file: string) => editAndRechain(file, POOL, 2, (data) => ({ ...data, amount: '1000100' }));

describe('signed checkpoints', () => {
  it('are signed every N events with (log identity, pool, revision, hash, time), the log identity being the hash of the first event', async () => {
    const { store, writer, checkpoints } = await pool();
    // appends of 1 event each: a checkpoint after the first (none before), then every 4 events
    expect(checkpoints.map((c) => c.revision)).toEqual([0n, 4n, 8n, 12n]);
    const read = await store.readStream(poolStream(POOL), 0n, 100);
    if (E.isLeft(read)) throw new Error('no stream');
    for (const checkpoint of checkpoints) {
      expect(checkpoint.logId).toBe(read.right[0]!.hash);
      expect(checkpoint.hash).toBe(read.right[Number(checkpoint.revision)]!.hash);
      expect(checkpoint.publicKey).toBe(signer.publicKey);
    }
    expect(writer.newestCheckpoint?.revision).toBe(12n);
    await store.close();
  });

  it('let the audit pass an untouched log and count them', async () => {
    const { store, checkpoints } = await pool();
    const report = await audit(store, { poolId: POOL, rootGovernors, checkpoints: { list: checkpoints, publicKey: signer.publicKey } });
    expect(report).toMatchObject({ ok: true, checkpointsVerified: 4, snapshotsVerified: 2 });
    await store.close();
  });

  it('catch an insider\'s edit with every later hash recomputed: the chain alone verifies, the checkpoint at revision 4 does not', async () => {
    const { file, store, checkpoints } = await pool();
    await store.close();
    inflateAlice(file);
    const reopened = new SqliteEventStore(file);
    // Without checkpoints the re-chained log passes (this is what they are for)...
    const blind = await audit(reopened, { poolId: POOL, rootGovernors });
    expect(blind.problem?.kind === 'broken-chain').toBe(false);
    // ...with them it fails, naming the first checkpoint behind the edit.
    const report = await audit(reopened, { poolId: POOL, rootGovernors, checkpoints: { list: checkpoints, publicKey: signer.publicKey } });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: 'checkpoint', index: 1, checkpoint: { revision: 4n } });
    expect(describeProblem(report.problem!)).toMatch(/^checkpoint #2 \(revision 4, hash [0-9a-f]{64}, .*\): the log does not contain it: at revision 4 the hash is /);
    await reopened.close();
  });

  it('catch a truncation behind a checkpoint (the last 3 events deleted)', async () => {
    const { file, store, checkpoints } = await pool();
    await store.close();
    truncate(file, POOL, 3);
    const reopened = new SqliteEventStore(file);
    const report = await audit(reopened, { poolId: POOL, rootGovernors, checkpoints: { list: checkpoints, publicKey: signer.publicKey } });
    expect(report.problem).toMatchObject({ kind: 'checkpoint', index: 3, checkpoint: { revision: 12n } });
    expect(describeProblem(report.problem!)).toContain('the log ends at revision 10, before it: events were removed');
    await reopened.close();
  });

  it('are refused by the audit when not signed by the given key, or altered', async () => {
    const { store, checkpoints } = await pool();
    const other = CheckpointSigner.generate();
    const wrongKey = await audit(store, { poolId: POOL, checkpoints: { list: checkpoints, publicKey: other.publicKey } });
    expect(wrongKey.problem).toMatchObject({ kind: 'checkpoint', index: 0 });
    const altered = checkpoints.map((c, i) => (i === 2 ? { ...c, revision: 7n } : c));
    const report = await audit(store, { poolId: POOL, checkpoints: { list: altered, publicKey: signer.publicKey } });
    expect(report.problem).toMatchObject({ kind: 'checkpoint', index: 2 });
    expect(describeProblem(report.problem!)).toContain('its signature does not verify');
    await store.close();
  });

  it('stop the writer at start when the log does not contain the newest one (re-chained edit, truncation)', async () => {
    const edited = await pool();
    await edited.store.close();
    inflateAlice(edited.file);
    const reopened = new SqliteEventStore(edited.file);
    // the newest snapshot (revision 9) is set aside: the log's hash there is not the one it records
    const warnings: string[] = [];
    await expect(PoolWriter.open(reopened, POOL, { rootGovernors, signer, onWarning: (w) => warnings.push(w) }))
      .rejects.toThrow(new RegExp(`^the log of pool main does not contain its signed checkpoint at revision 12: hash [0-9a-f]{64} there, the checkpoint says ${edited.checkpoints[3]!.hash}$`));
    expect(warnings[0]).toMatch(/^snapshot of pool main at revision 9 .* set aside, replaying the log from the first event: the log's hash at revision 9 is [0-9a-f]{64}, the snapshot records [0-9a-f]{64}$/);
    await reopened.close();

    const cut = await pool();
    await cut.store.close();
    truncate(cut.file, POOL, 3);
    const afterCut = new SqliteEventStore(cut.file);
    await expect(PoolWriter.open(afterCut, POOL, { rootGovernors, signer }))
      .rejects.toThrow(new LoadError(`the log of pool main ends at revision 10, before its signed checkpoint at revision 12 (hash ${cut.checkpoints[3]!.hash}): events were removed`));
    await afterCut.close();
  });

  it('work as `ledger audit --checkpoints FILE --checkpoint-key HEX`: exit 1 naming the checkpoint', async () => {
    const { dir, file, store, checkpoints } = await pool();
    await store.close();
    const kept = join(dir, 'checkpoints.jsonl');
    writeFileSync(kept, checkpoints.map((c) => JSON.stringify(encodeCheckpoint(c))).join('\n'));
    const run = () => spawnSync(process.execPath, ['bin/ledger.js', 'audit', '--data', dir, '--checkpoints', kept, '--checkpoint-key', signer.publicKey], { encoding: 'utf8' });
    const clean = run();
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('checkpoints:            4 signed checkpoints found in the log');
    truncate(file, POOL, 3);
    const cut = run();
    expect(cut.status).toBe(1);
    expect(cut.stdout).toMatch(/problem: +checkpoint #4 \(revision 12, hash [0-9a-f]{64}, [0-9T:.Z-]+\): the log ends at revision 10, before it: events were removed/);
  }, 60_000);
});

describe('snapshots', () => {
  /** Add 1,000,000 to alice's collateral in the newest snapshot, its content hash recomputed. */
  const inflateSnapshot = (file: string) => {
    const db = new Database(file);
    const row = db.prepare('SELECT position, event FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').get(snapshotStream(POOL)) as { position: number; event: string };
    const event = eventOf(row);
    const data = event.data as unknown as { state: { accounts: { accountId: string; collateral: string }[] }; contentHash: string };
    const alice = data.state.accounts.find((a) => a.accountId === 'alice')!;
    expect(alice.collateral).toBe('100');
    alice.collateral = '1000100';
    data.contentHash = snapshotContentHash(data as unknown as Parameters<typeof snapshotContentHash>[0]);
    rewrite(db, row.position, { ...event, data: data as unknown as Record<string, unknown> });
    db.close();
    return row.position;
  };

  it('carry the chain hash at their revision, a content hash and the service\'s signature', async () => {
    const { store } = await pool();
    const read = await store.readStream(snapshotStream(POOL), 0n, 10);
    if (E.isLeft(read)) throw new Error('no snapshot');
    const chain = await store.readStream(poolStream(POOL), 0n, 100);
    if (E.isLeft(chain)) throw new Error('no stream');
    expect(read.right.map((s) => (s.data as { revision: string }).revision)).toEqual(['4', '9']);
    for (const snapshot of read.right) {
      const data = snapshot.data as { revision: string; lastHash: string; contentHash: string; publicKey: string; signature: string; logId: string };
      expect(data.lastHash).toBe(chain.right[Number(data.revision)]!.hash);
      expect(data.contentHash).toBe(snapshotContentHash(data as unknown as Parameters<typeof snapshotContentHash>[0]));
      expect(data.publicKey).toBe(signer.publicKey);
      expect(data.signature).toMatch(/^[0-9a-f]{128}$/);
      expect(data.logId).toBe(chain.right[0]!.hash);
    }
    await store.close();
  });

  it('an edited snapshot (alice +1,000,000, content hash recomputed) is set aside at start: the state is replayed and the 1,000,000 withdrawal refused', async () => {
    const { file, store } = await pool();
    await store.close();
    inflateSnapshot(file);
    const reopened = new SqliteEventStore(file);
    const warnings: string[] = [];
    const writer = await PoolWriter.open(reopened, POOL, { rootGovernors, signer, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/^snapshot of pool main at revision 9 \(stream position \d+\) set aside, replaying the log from the first event: it is not signed by this service's key$/)]);
    expect(canonicalStateJson(writer.current.state)).toBe(canonicalStateJson(await replayed(reopened)));
    const [withdrawal] = await submitAll(writer, [withdraw('alice', '1000000')]);
    expect(withdrawal).toMatchObject({ status: 'rejected', error: { code: 'INSUFFICIENT_COLLATERAL' } });
    await reopened.close();
  });

  it('an edited snapshot is caught by the audit, naming it', async () => {
    const { file, store } = await pool();
    await store.close();
    const position = inflateSnapshot(file);
    const reopened = new SqliteEventStore(file);
    const report = await audit(reopened, { poolId: POOL, rootGovernors });
    expect(report.problem).toMatchObject({ kind: 'snapshot', revision: 9n, position: BigInt(position) });
    expect(describeProblem(report.problem!)).toContain('its state is not the replayed state');
    await reopened.close();
  });

  it('a snapshot whose recorded chain hash the log does not have is set aside (even without a key)', async () => {
    const { file, store } = await pool({ signer: undefined, checkpointEvery: 1_000 });
    await store.close();
    const db = new Database(file);
    const row = db.prepare('SELECT position, event FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').get(snapshotStream(POOL)) as { position: number; event: string };
    const event = eventOf(row);
    const data = event.data as unknown as { lastHash: string; contentHash: string };
    data.lastHash = 'f'.repeat(64);
    data.contentHash = snapshotContentHash(data as unknown as Parameters<typeof snapshotContentHash>[0]);
    rewrite(db, row.position, { ...event, data: data as unknown as Record<string, unknown> });
    db.close();
    const reopened = new SqliteEventStore(file);
    const warnings: string[] = [];
    const writer = await PoolWriter.open(reopened, POOL, { rootGovernors, onWarning: (w) => warnings.push(w) });
    expect(warnings[0]).toContain(`the snapshot records ${'f'.repeat(64)}`);
    expect(writer.current.revision).toBe(13n);
    await reopened.close();
  });

  it('do not carry the whole command-id index: the store keeps it, and it survives restarts', async () => {
    const { store, checkpoints } = await pool({ snapshotCommands: 2, recentCommands: 3 });
    expect(checkpoints.length).toBeGreaterThan(0);
    const read = await store.readStream(snapshotStream(POOL), 0n, 10);
    if (E.isLeft(read)) throw new Error('no snapshot');
    for (const snapshot of read.right) expect((snapshot.data as { handled: unknown[] }).handled).toHaveLength(2);
    // alice's deposit (revision 2) is in neither snapshot nor in the reopened writer's cache
    const first = deposit('alice', '100');
    const [c0] = [deposit('c0', '1')];
    const reopened = await PoolWriter.open(store, POOL, { rootGovernors, signer, recentCommands: 3 });
    const log = await store.readStream(poolStream(POOL), 0n, 100);
    if (E.isLeft(log)) throw new Error('no stream');
    const aliceId = log.right[2]!.metadata.commandId;
    const c0Id = log.right[3]!.metadata.commandId;
    const again = await submitAll(reopened, [{ ...first, commandId: aliceId } as Command, { ...c0, commandId: c0Id } as Command]);
    expect(again).toMatchObject([{ status: 'accepted', deduplicated: true, events: [{ type: 'CollateralDeposited' }] }, { status: 'accepted', deduplicated: true }]);
    const reused = await submitAll(reopened, [{ ...deposit('alice', '5'), commandId: aliceId } as Command]);
    expect(reused).toMatchObject([{ status: 'rejected', error: { code: 'COMMAND_ID_REUSED' } }]);
    expect(reopened.current.revision).toBe(13n);
    await store.close();
  });
});

describe('the command index of an SQLite store', () => {
  it('is filled from the events when the store predates it', async () => {
    const { file, store } = await pool();
    await store.close();
    const db = new Database(file);
    db.exec('DROP TABLE commands');
    const [row] = db.prepare('SELECT event FROM events WHERE stream_id = ? AND revision = 2').all(poolStream(POOL)) as { event: string }[];
    db.close();
    const { commandId, fingerprint } = eventOf(row!).metadata as { commandId: string; fingerprint: string };
    const reopened = new SqliteEventStore(file);
    const found = await reopened.findCommands(poolStream(POOL), [commandId, 'never-sent']);
    expect(found).toEqual(E.right(new Map([[commandId, { firstRevision: 2n, count: 1, fingerprint }]])));
    await reopened.close();
  });
});

describe('the checkpoint key', () => {
  it('is created under the data directory readable by its owner only, and read again on the next start', () => {
    const dir = tempDir();
    const created = loadOrCreateSigner(dir, undefined);
    expect(created.created).toBe(true);
    expect(statSync(created.path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateSigner(dir, undefined);
    expect(again).toMatchObject({ created: false, path: created.path });
    expect(again.signer.publicKey).toBe(created.signer.publicKey);
  });

  it('named by a file that is not a key stops the start without quoting the file', () => {
    const dir = tempDir();
    const bad = join(dir, 'key.pem');
    writeFileSync(bad, 'secret-looking-text');
    expect(() => loadOrCreateSigner(dir, bad)).toThrow(`the checkpoint key ${bad} is not a PKCS#8 PEM ed25519 private key`);
    expect(() => loadOrCreateSigner(dir, join(dir, 'missing.pem'))).toThrow(/cannot read the checkpoint key .*missing\.pem: ENOENT/);
  });
});

describe('the projection runner', () => {
  it('folds only verified events: a broken chain stops its start, naming the position', async () => {
    const { file, store } = await pool();
    await store.close();
    const db = new Database(file);
    db.prepare(`UPDATE events SET event = replace(event, '"100"', '"1000100"') WHERE revision = 2 AND stream_id = ?`).run(poolStream(POOL));
    const position = (db.prepare('SELECT position FROM events WHERE revision = 2 AND stream_id = ?').get(poolStream(POOL)) as { position: number }).position;
    db.close();
    const reopened = new SqliteEventStore(file);
    const runner = new ProjectionRunner(reopened, new MemoryReadModelStore());
    const started = runner.start();
    await expect(started).rejects.toThrow(ChainBrokenError);
    await expect(started).rejects.toThrow(`hash chain of pool main broken at position ${position} (revision 2): hash does not match the event`);
    await reopened.close();
  });

  it('refuses a missing event (a revision skipped)', async () => {
    const { file, store } = await pool();
    await store.close();
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE revision = 5 AND stream_id = ?').run(poolStream(POOL));
    db.close();
    const reopened = new SqliteEventStore(file);
    await expect(new ProjectionRunner(reopened, new MemoryReadModelStore()).start()).rejects.toThrow(/revision 6\): expected revision 5 \(an event is missing\)$/);
    await reopened.close();
  });
});
