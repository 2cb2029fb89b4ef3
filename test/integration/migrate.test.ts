// A store written by an earlier version (format 1: event ids, hashes inside the metadata) is never
// misread: every command refuses it, naming the format and `ledger migrate`; the migration
// re-verifies the old chain (and the checkpoints kept in it) before it rewrites anything, and
// gives the log the current writer would have written.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FormatError, SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { audit } from '../../services/audit.js';
import { runLines } from '../../services/cli.js';
import { loadOrCreateSigner } from '../../services/ledger/checkpoints.js';
import type { StoredEvent } from '../../services/ledger/event-store.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { formatOneCheckpoint, formatOneRows, writeFormatOneStore, type FormatOneRow } from '../support/format-one-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-migrate-'));
  dirs.push(dir);
  return dir;
};

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n');

/** The waterfall example written by the current writer: its events, and the rows of its file. */
const currentLog = async () => {
  const file = join(tempDir(), 'events.sqlite');
  const store = new SqliteEventStore(file);
  await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
  const read = await store.readStream(poolStream('main'), 0n, 1_000);
  const report = await audit(store, { poolId: 'main' });
  await store.close();
  if (E.isLeft(read)) throw new Error('no log');
  const db = new Database(file, { readonly: true });
  const rows = db.prepare("SELECT stream_id, revision, event, hash FROM events WHERE stream_id = 'pool-main' ORDER BY position").all();
  db.close();
  return { events: read.right, rows, report };
};

/** The same log in format 1, with a signed checkpoint (vouching for `checkpointHash`, the old chain's hash at revision 10, unless told) and a snapshot to leave behind. */
const formatOneLog = (events: ReadonlyArray<StoredEvent>, options: { edit?: (rows: FormatOneRow[]) => void; checkpointHash?: string } = {}) => {
  const dir = tempDir();
  const rows = formatOneRows('main', events);
  const signer = loadOrCreateSigner(tempDir(), undefined).signer;
  const checkpoint = signer.checkpoint({ logId: rows[0]!.metadata.hash, poolId: 'main', revision: 10n, hash: options.checkpointHash ?? rows[10]!.metadata.hash, time: '2026-01-01T00:00:00.000Z' });
  const snapshot: FormatOneRow = { ...rows[12]!, streamId: 'snapshot-pool-main', revision: 0, eventId: '6a1d2b3c-0000-5000-8000-000000000000', type: 'PoolSnapshot', data: { revision: '11' } };
  options.edit?.(rows);
  writeFormatOneStore(join(dir, 'events.sqlite'), [...rows.slice(0, 12), formatOneCheckpoint(checkpoint, 0), snapshot, ...rows.slice(12)]);
  return dir;
};

const ledger = (...args: string[]) => spawnSync(process.execPath, ['bin/ledger.js', ...args], { encoding: 'utf8' });

describe('a store in format 1', () => {
  it('is refused on open, naming its format and ledger migrate; the audit says so and exits 1', async () => {
    const { events } = await currentLog();
    const dir = formatOneLog(events);
    expect(() => new SqliteEventStore(join(dir, 'events.sqlite'))).toThrow(FormatError);
    expect(() => new SqliteEventStore(join(dir, 'events.sqlite'), { writerLock: true })).toThrow(/format 1 .*ledger migrate --data/);
    const audited = ledger('audit', '--data', dir);
    expect(audited.status).toBe(1);
    expect(audited.stderr).toContain('is an event store in format 1');
    expect(audited.stderr).toContain('ledger migrate');
  });

  it('is migrated after its chain and checkpoints verify: the same log the current writer writes, the old file kept', async () => {
    const { events, rows, report } = await currentLog();
    const dir = formatOneLog(events);
    const migrated = ledger('migrate', '--data', dir);
    expect(migrated.stderr).toBe('');
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toContain(`pool-main: ${events.length} events migrated`);
    expect(migrated.stdout).toContain(`new head ${events.at(-1)!.hash}, new log identity ${events[0]!.hash}`);
    expect(migrated.stdout).toContain('1 checkpoints kept in it matched');
    expect(migrated.stdout).toContain('2 snapshot and checkpoint events not carried over');
    expect(existsSync(join(dir, 'events.format1.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'events.sqlite.migrating'))).toBe(false);
    // Byte for byte the rows the current writer wrote: text, hash, stream and revision.
    const db = new Database(join(dir, 'events.sqlite'), { readonly: true });
    expect(db.prepare("SELECT stream_id, revision, event, hash FROM events WHERE stream_id = 'pool-main' ORDER BY position").all()).toEqual(rows);
    db.close();
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    const again = await audit(store, { poolId: 'main' });
    const commands = await store.findCommands(poolStream('main'), events.map((e) => e.metadata.commandId));
    await store.close();
    expect(again).toMatchObject({ ok: true, eventsReplayed: report.eventsReplayed, lastHash: report.lastHash });
    expect(again.view).toEqual(report.view);
    expect(E.isRight(commands) && commands.right.size).toBe(new Set(events.map((e) => e.metadata.commandId)).size);
    expect(ledger('audit', '--data', dir).status).toBe(0);
  });

  it('with an edited event is not migrated: the break is named and nothing changes', async () => {
    const { events } = await currentLog();
    const dir = formatOneLog(events, { edit: (rows) => { rows[5] = { ...rows[5]!, data: { ...(rows[5]!.data as object), amount: '31000' } }; } });
    const before = readFileSync(join(dir, 'events.sqlite'));
    const migrated = ledger('migrate', '--data', dir);
    expect(migrated.status).toBe(1);
    expect(migrated.stderr).toContain('hash chain is broken at position 6 (stream pool-main, revision 5): hash does not match the event; nothing was migrated');
    expect(readFileSync(join(dir, 'events.sqlite'))).toEqual(before);
    expect(existsSync(join(dir, 'events.format1.sqlite'))).toBe(false);
    expect(existsSync(join(dir, 'events.sqlite.migrating'))).toBe(false);
    expect(() => new SqliteEventStore(join(dir, 'events.sqlite'))).toThrow(FormatError);
  });

  it('whose kept checkpoint the chain does not contain (a re-chained edit) is not migrated', async () => {
    const { events } = await currentLog();
    const dir = formatOneLog(events, { checkpointHash: 'f'.repeat(64) });
    const migrated = ledger('migrate', '--data', dir);
    expect(migrated.status).toBe(1);
    expect(migrated.stderr).toContain('does not contain its signed checkpoint at revision 10 of pool-main');
    expect(existsSync(join(dir, 'events.format1.sqlite'))).toBe(false);
  });

  it('a store already in the current format has nothing to migrate', async () => {
    const dir = tempDir();
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await store.close();
    const migrated = ledger('migrate', '--data', dir);
    expect(migrated.status).toBe(1);
    expect(migrated.stderr).toContain('is not an event store in format 1: nothing to migrate');
  });
});
