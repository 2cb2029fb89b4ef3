// `ledger migrate`: rewrite an embedded store of format 1 (event ids, hashes inside metadata)
// into the current format, after re-verifying the whole old chain.
//
// - Every pool stream is verified with the format-1 rule first (links, hashes, revisions), and
//   every checkpoint kept in the store must name the old chain's hash at its revision; the first
//   break stops the migration, naming its position, and nothing is changed.
// - Pool events are carried over in log order with their data and metadata (commandId,
//   correlation and causation ids, timestamp, actor, fingerprint) and sealed with the current
//   rule, so every hash, and the log's identity, changes. Snapshots and checkpoints vouch for
//   old hashes: they are not carried (the service writes new ones as it runs).
// - The new file is built beside the old one and renamed into place only when complete; the old
//   file is kept as `events.format1.sqlite` for audits against checkpoints published before.
// The writer lock is held throughout, so a running service (or a second migration) is refused.

import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../domain/index.js';
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import { CheckpointCodec } from '../../services/ledger/checkpoints.js';
import { describeStoreError, type NewEvent } from '../../services/ledger/event-store.js';
import { carriedMetadata, decodeFormatOneMetadata, formatOneBreak, type FormatOneEvent } from '../../services/ledger/format-one.js';
import { SqliteEventStore, takeWriterLock } from './sqlite-event-store.js';

export interface PoolMigrated {
  readonly streamId: string;
  readonly events: number;
  /** The old chain's head hash, and the new chain's. */
  readonly oldHead: string;
  readonly newHead: string;
  /** The new log identity (the hash of the first event). */
  readonly newIdentity: string;
}

export interface MigrationReport {
  readonly pools: ReadonlyArray<PoolMigrated>;
  readonly checkpointsVerified: number;
  /** Events of other streams (snapshots, checkpoints) left behind. */
  readonly dropped: number;
  /** Where the old file now is. */
  readonly keptAs: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

interface OldRow {
  position: bigint;
  stream_id: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

const POOL = /^pool-/;
const OTHER = /^(snapshot-pool-|checkpoint-pool-)/;
/** Events per append: a command's events are never split between two appends (the command index counts them per append). */
const APPEND_SIZE = 1_000;

const oldEvent = (row: OldRow): FormatOneEvent => {
  const fail = (what: string) => new MigrationError(`the old log's event at position ${row.position} (stream ${row.stream_id}, revision ${row.revision}): ${what}; nothing was migrated`);
  let data: unknown;
  let raw: unknown;
  try {
    data = JSON.parse(row.data);
    raw = JSON.parse(row.metadata);
  } catch (error) {
    throw fail(`not JSON (${(error as Error).message})`);
  }
  const metadata = decodeFormatOneMetadata(raw);
  if (E.isLeft(metadata)) throw fail(`metadata: ${metadata.left}`);
  return { position: row.position, streamId: row.stream_id, revision: row.revision, eventId: row.event_id, type: row.type, data, metadata: metadata.right };
};

/** The signed checkpoints kept in the old store, by pool stream: revision → hash. */
const keptCheckpoints = (old: Database.Database): Map<string, Map<bigint, string>> => {
  const kept = new Map<string, Map<bigint, string>>();
  const rows = old.prepare("SELECT * FROM events WHERE stream_id LIKE 'checkpoint-pool-%' ORDER BY position").safeIntegers(true).all() as OldRow[];
  for (const row of rows) {
    const checkpoint = decodeWith(CheckpointCodec)(JSON.parse(row.data));
    if (E.isLeft(checkpoint)) throw new MigrationError(`the old log's checkpoint at position ${row.position} does not decode: ${checkpoint.left.message}; nothing was migrated`);
    const stream = `pool-${checkpoint.right.poolId}`;
    if (!kept.has(stream)) kept.set(stream, new Map());
    kept.get(stream)!.set(checkpoint.right.revision, checkpoint.right.hash);
  }
  return kept;
};

/** Migrate the store at `path` (format 1) in place; see the top of this file. */
export const migrateFormatOne = async (path: string): Promise<MigrationReport> => {
  if (!existsSync(path)) throw new MigrationError(`${path} does not exist`);
  const keptAs = join(dirname(path), 'events.format1.sqlite');
  const building = `${path}.migrating`;
  if (existsSync(keptAs)) throw new MigrationError(`${keptAs} exists already (an earlier migration's old log): move it away first`);
  const lock = takeWriterLock(path);
  let target: SqliteEventStore | undefined;
  try {
    const old = new Database(path, { readonly: true });
    let report: Omit<MigrationReport, 'keptAs'>;
    try {
      const columns = (old.prepare("SELECT name FROM pragma_table_info('events')").all() as { name: string }[]).map((c) => c.name);
      if (!columns.includes('event_id') || !columns.includes('metadata')) throw new MigrationError(`${path} is not an event store in format 1: nothing to migrate`);
      const checkpoints = keptCheckpoints(old);
      for (const file of [building, `${building}-wal`, `${building}-shm`]) rmSync(file, { force: true });
      target = new SqliteEventStore(building);
      const store = target;
      const heads = new Map<string, { revision: bigint; hash: string; newHash: string; identity: string; events: number }>();
      let checkpointsVerified = 0;
      let dropped = 0;
      let pending: { streamId: string; events: NewEvent[] } | undefined;
      const flush = async (): Promise<void> => {
        if (pending === undefined || pending.events.length === 0) return;
        const head = heads.get(pending.streamId)!;
        const expected = head.revision - BigInt(pending.events.length);
        const appended = await store.append(pending.streamId, expected < 0n ? 'no-stream' : expected, pending.events);
        if (E.isLeft(appended)) throw new MigrationError(`writing the new log failed: ${describeStoreError(appended.left)}`);
        pending = undefined;
      };
      for (const row of old.prepare('SELECT * FROM events ORDER BY position').safeIntegers(true).iterate() as IterableIterator<OldRow>) {
        if (OTHER.test(row.stream_id)) {
          dropped++;
          continue;
        }
        if (!POOL.test(row.stream_id)) throw new MigrationError(`the old log has events of stream ${row.stream_id}, which the ledger does not write; nothing was migrated`);
        const event = oldEvent(row);
        const head = heads.get(event.streamId) ?? { revision: -1n, hash: GENESIS_HASH, newHash: GENESIS_HASH, identity: '', events: 0 };
        const broken = formatOneBreak(head, event);
        if (broken !== undefined) throw new MigrationError(`the old log's hash chain is broken at position ${event.position} (stream ${event.streamId}, revision ${event.revision}): ${broken}; nothing was migrated`);
        const vouched = checkpoints.get(event.streamId)?.get(event.revision);
        if (vouched !== undefined) {
          if (vouched !== event.metadata.hash) throw new MigrationError(`the old log does not contain its signed checkpoint at revision ${event.revision} of ${event.streamId} (hash ${event.metadata.hash} there, the checkpoint says ${vouched}); nothing was migrated`);
          checkpointsVerified++;
        }
        const next = sealed(head.newHash, { type: event.type, data: event.data, metadata: carriedMetadata(event.metadata) });
        const last = pending?.events[pending.events.length - 1];
        if (pending !== undefined && (pending.streamId !== event.streamId || (pending.events.length >= APPEND_SIZE && last?.metadata.commandId !== event.metadata.commandId))) await flush();
        pending ??= { streamId: event.streamId, events: [] };
        pending.events.push(next);
        heads.set(event.streamId, {
          revision: event.revision, hash: event.metadata.hash, newHash: next.hash,
          identity: event.revision === 0n ? next.hash : head.identity, events: head.events + 1,
        });
      }
      await flush();
      for (const [streamId, kept] of checkpoints) {
        const head = heads.get(streamId);
        for (const revision of kept.keys()) {
          if (head === undefined || revision > head.revision) throw new MigrationError(`the old log of ${streamId} ends before its signed checkpoint at revision ${revision}: events were removed; nothing was migrated`);
        }
      }
      report = {
        pools: [...heads].map(([streamId, h]) => ({ streamId, events: h.events, oldHead: h.hash, newHead: h.newHash, newIdentity: h.identity })),
        checkpointsVerified,
        dropped,
      };
    } finally {
      old.close();
    }
    await target.close();
    target = undefined;
    // Old file aside (with its WAL, emptied by the close above), the new one into place.
    renameSync(path, keptAs);
    for (const suffix of ['-wal', '-shm']) if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${keptAs}${suffix}`);
    renameSync(building, path);
    for (const suffix of ['-wal', '-shm']) if (existsSync(`${building}${suffix}`)) renameSync(`${building}${suffix}`, `${path}${suffix}`);
    return { ...report, keptAs };
  } catch (error) {
    await target?.close();
    for (const file of [building, `${building}-wal`, `${building}-shm`]) rmSync(file, { force: true });
    throw error;
  } finally {
    lock.close();
  }
};
