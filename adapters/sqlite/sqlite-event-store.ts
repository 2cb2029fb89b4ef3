// Embedded event store on SQLite (better-sqlite3): the default when nothing is configured.
// One file, WAL, synchronous=FULL (a commit is on disk before append resolves), a global
// position per event (INTEGER PRIMARY KEY AUTOINCREMENT, never reused), a revision per stream,
// and every append atomic in one transaction.
//
// - A row is the event's stored text (canonical JSON of type, data and compact metadata, made by
//   the writer) and its chain hash as a 32-byte BLOB: the digest's own form, half the bytes of
//   hex, which readers turn into hex. The adapter only stores and returns them; it never
//   serializes an event. There is no event id column: ids are derived from hashes where a
//   consumer wants one, and a repeated append is refused by UNIQUE (stream_id, revision).
// - The file's format is `PRAGMA user_version` (2). A store written by an earlier version (rows
//   with an event_id, hashes inside the metadata) is refused on open with FormatError, naming
//   `ledger migrate`, never misread.
//
// - The index of handled commands (table `commands`: stream, command id, first revision, count,
//   fingerprint) is written in the same transaction as the events it indexes, so it is never
//   behind the log; a database without the table gets it filled from its events.
// - One writer: opened with `writerLock`, the store holds `<file>.writer-lock`, a small SQLite
//   database in exclusive locking mode, for as long as it is open. The lock is SQLite's own
//   (fcntl) lock, so the OS drops it when the holder dies, even by SIGKILL. A second writer is
//   refused at once (WriterLockError); readers (the audit) need no lock.
// - No wait blocks the event loop: SQLite is never asked to wait for a lock (busy_timeout 0);
//   a busy database is retried with timers for up to `busyTimeoutMs`, then reported unavailable.

import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import {
  parseStoredText,
  type AppendResult, type CommandRecord, type EventStore, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent, type StoredLink, type StreamPage, type Subscription, type SubscriptionOptions,
} from '../../services/ledger/event-store.js';
import { verifyChainsTo, type ChainsAt } from '../../services/ledger/chain.js';
import { startWorker } from './worker.js';

interface Row {
  position: bigint;
  stream_id: string;
  revision: bigint;
  event: string;
  hash: Buffer;
}

/** The format this adapter reads and writes (PRAGMA user_version). */

/** What an append writes of an event: its row (text and hash) and its command index entry. */
export type AppendRow = Pick<NewEvent, 'text' | 'hash'> & { readonly metadata: Pick<NewEvent['metadata'], 'commandId' | 'fingerprint'> };

/** An event's row alone: what is sent to the append thread (its data and the rest of its metadata are in the text). */
export const appendRowOf = (event: AppendRow): AppendRow => ({
  text: event.text,
  hash: event.hash,
  metadata: event.metadata.fingerprint === undefined ? { commandId: event.metadata.commandId } : { commandId: event.metadata.commandId, fingerprint: event.metadata.fingerprint },
});

export const STORE_FORMAT = 2;

/** A store written in another format: readable only after `ledger migrate`. */
export class FormatError extends Error {
  constructor(readonly path: string, readonly format: number) {
    super(format === 1
      ? `${path} is an event store in format 1 (event ids and hashes inside each event's metadata), which this version does not read. Run \`ledger migrate --data <its directory>\`: it re-verifies the old hash chain, then rewrites the log in format ${STORE_FORMAT} and keeps the old file beside it`
      : `${path} is an event store in format ${format}, which this version (format ${STORE_FORMAT}) does not read`);
    this.name = 'FormatError';
  }
}

const toStored = (row: Row): E.Either<StoreError, StoredEvent> => {
  const parsed = parseStoredText(row.event, row.position);
  if (E.isLeft(parsed)) return parsed;
  return E.right({
    streamId: row.stream_id, revision: row.revision, position: row.position, type: parsed.right.type, data: parsed.right.data, metadata: parsed.right.metadata,
    text: row.event, hash: row.hash.toString('hex'),
  });
};

const allStored = (rows: ReadonlyArray<Row>): E.Either<StoreError, StoredEvent[]> => {
  const events: StoredEvent[] = [];
  for (const row of rows) {
    const stored = toStored(row);
    if (E.isLeft(stored)) return stored;
    events.push(stored.right);
  }
  return E.right(events);
};

/** A link as read (raw): position, stream, revision, text, hash in hex. */
type LinkRow = [bigint, string, bigint, string, string];

/** A row as a chain link: nothing parsed. */
const toLink = (row: LinkRow): StoredLink => ({ streamId: row[1], revision: row[2], position: row[0], text: row[3], hash: row[4] });

const unavailable = (error: unknown): StoreError => ({ kind: 'unavailable', message: error instanceof Error ? error.message : String(error) });

const isBusy = (error: unknown): boolean => error instanceof Error && 'code' in error && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED' || String(error.code).startsWith('SQLITE_BUSY_'));

/** Another process holds the store's writer lock. */
export class WriterLockError extends Error {}

/** The lock file of a store at `path`. */
export const writerLockPath = (path: string): string => `${path}.writer-lock`;

/**
 * Take the writer lock of the store at `path` for as long as the returned database stays open:
 * a write in exclusive locking mode keeps SQLite's lock on the file until it is closed.
 */
export const takeWriterLock = (path: string): Database.Database => {
  const lock = new Database(writerLockPath(path));
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    lock.exec('BEGIN IMMEDIATE');
    lock.exec('DELETE FROM writer');
    lock.prepare('INSERT INTO writer (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    lock.exec('COMMIT');
    return lock;
  } catch (error) {
    lock.close();
    if (isBusy(error)) throw new WriterLockError(`another process is the writer of ${path} (it holds ${writerLockPath(path)}); one writer per store: stop it first`);
    throw error;
  }
};

export interface SqliteEventStoreOptions {
  /** How often a caught-up subscription looks for appends made by other processes, in ms. */
  readonly pollIntervalMs?: number;
  /** Page size for catch-up reads. */
  readonly pageSize?: number;
  /** Take the writer lock (the service and `ledger run`; readers such as the audit do not). */
  readonly writerLock?: boolean;
  /** How long a busy database is retried (without blocking the event loop), in ms. */
  readonly busyTimeoutMs?: number;
}

/** The format of an open database: 'empty' before the first open by this adapter. */
const storeFormat = (db: Database.Database): number | 'empty' => {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== 0) return version;
  const columns = db.prepare("SELECT name FROM pragma_table_info('events')").all() as { name: string }[];
  if (columns.length === 0) return 'empty';
  // Format 1 left user_version at 0 and kept an event id, data and metadata per row.
  return columns.some((c) => c.name === 'event_id') ? 1 : 0;
};

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly listeners = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly busyTimeoutMs: number;
  private readonly lock: Database.Database | undefined;
  private readonly statements;

  constructor(readonly path: string, options: SqliteEventStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.lock = options.writerLock === true && path !== ':memory:' ? takeWriterLock(path) : undefined;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    try {
      this.db = new Database(path);
    } catch (error) {
      this.lock?.close();
      throw error;
    }
    // A short wait only while opening (schema); afterwards never: retries are timers.
    this.db.pragma('busy_timeout = 1000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    const format = storeFormat(this.db);
    if (format !== STORE_FORMAT && format !== 'empty') {
      this.db.close();
      this.lock?.close();
      throw new FormatError(path, format);
    }
    const indexed = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'commands'").get() !== undefined;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        event TEXT NOT NULL,
        hash BLOB NOT NULL,
        UNIQUE (stream_id, revision)
      );
      CREATE TABLE IF NOT EXISTS commands (
        stream_id TEXT NOT NULL,
        command_id TEXT NOT NULL,
        first_revision INTEGER NOT NULL,
        count INTEGER NOT NULL,
        fingerprint TEXT,
        PRIMARY KEY (stream_id, command_id)
      ) WITHOUT ROWID;
    `);
    if (format === 'empty') this.db.pragma(`user_version = ${STORE_FORMAT}`);
    if (!indexed) {
      // A store whose index is missing (lost, or dropped): fill it from the log (a command's events are one run).
      this.db.exec(`
        INSERT OR IGNORE INTO commands (stream_id, command_id, first_revision, count, fingerprint)
        SELECT stream_id, json_extract(event, '$.metadata.commandId'), MIN(revision), COUNT(*), json_extract(event, '$.metadata.fingerprint')
        FROM events GROUP BY stream_id, json_extract(event, '$.metadata.commandId');
      `);
    }
    this.db.pragma('busy_timeout = 0');
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.pageSize = options.pageSize ?? 1000;
    const safe = <S extends Database.Statement>(statement: S): S => statement.safeIntegers(true) as S;
    this.statements = {
      head: safe(this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?')),
      insert: safe(this.db.prepare('INSERT INTO events (stream_id, revision, event, hash) VALUES (?, ?, ?, ?)')),
      readStream: safe(this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?')),
      readAll: safe(this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?')),
      // The text only of the streams asked for: SQLite does not read the others' (snapshots are large).
      readAllOf: safe(this.db.prepare(`SELECT position, stream_id, revision, CASE WHEN substr(stream_id, 1, ?) = ? THEN event END AS event, hash
        FROM events WHERE position > ? ORDER BY position LIMIT ?`)),
      // Links: rows as arrays, the hash as hex made by SQLite (no Buffer per row).
      readLinks: safe(this.db.prepare("SELECT position, stream_id, revision, CASE WHEN substr(stream_id, 1, ?) = ? THEN event ELSE '' END, lower(hex(hash)) FROM events WHERE position > ? ORDER BY position LIMIT ?")).raw(true),
      readStreamLinks: safe(this.db.prepare('SELECT position, stream_id, revision, event, lower(hex(hash)) FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?')).raw(true),
      indexCommand: this.db.prepare('INSERT OR IGNORE INTO commands (stream_id, command_id, first_revision, count, fingerprint) VALUES (?, ?, ?, ?, ?)'),
      findCommand: safe(this.db.prepare('SELECT first_revision, count, fingerprint FROM commands WHERE stream_id = ? AND command_id = ?')),
    };
  }

  private headOf(streamId: string): bigint | 'no-stream' {
    const row = this.statements.head.get(streamId) as { revision: bigint | null };
    return row.revision ?? 'no-stream';
  }

  private readonly appendTransaction = (streamId: string, expected: ExpectedRevision, events: ReadonlyArray<AppendRow>): E.Either<StoreError, AppendResult> => {
    const actual = this.headOf(streamId);
    if (actual !== expected) return E.left({ kind: 'revision-conflict', streamId, expected, actual });
    let revision = actual === 'no-stream' ? -1n : actual;
    let position = 0n;
    let command: { id: string; first: bigint; count: number; fingerprint: string | undefined } | undefined;
    const index = () => {
      if (command !== undefined) this.statements.indexCommand.run(streamId, command.id, command.first, command.count, command.fingerprint ?? null);
    };
    for (const event of events) {
      revision += 1n;
      const info = this.statements.insert.run(streamId, revision, event.text, Buffer.from(event.hash, 'hex'));
      position = BigInt(info.lastInsertRowid);
      if (command?.id === event.metadata.commandId) command.count++;
      else {
        index();
        command = { id: event.metadata.commandId, first: revision, count: 1, fingerprint: event.metadata.fingerprint };
      }
    }
    index();
    return E.right({ revision, position });
  };

  /** Run `work` on the database, retrying with timers (never a blocking wait) while it is busy. */
  private async whenFree<A>(work: () => A): Promise<A> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return work();
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
      }
      await sleep(wait);
    }
  }

  async findCommands(streamId: string, commandIds: ReadonlyArray<string>): Promise<E.Either<StoreError, Map<string, CommandRecord>>> {
    try {
      return E.right(await this.whenFree(() => {
        const found = new Map<string, CommandRecord>();
        for (const commandId of commandIds) {
          const row = this.statements.findCommand.get(streamId, commandId) as { first_revision: bigint; count: bigint; fingerprint: string | null } | undefined;
          if (row !== undefined) found.set(commandId, { firstRevision: row.first_revision, count: Number(row.count), fingerprint: row.fingerprint ?? undefined });
        }
        return found;
      }));
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  // Takes any event with what a row holds (a NewEvent is one), so that the append thread is sent only that.
  async append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<AppendRow>): Promise<E.Either<StoreError, AppendResult>> {
    if (events.length === 0) return E.left({ kind: 'unavailable', message: 'nothing to append' });
    let result: E.Either<StoreError, AppendResult>;
    try {
      result = await this.whenFree(() => this.db.transaction(this.appendTransaction).immediate(streamId, expected, events));
    } catch (error) {
      // Another writer appended at these revisions between our read of the head and our insert.
      if (error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        return E.left({ kind: 'revision-conflict', streamId, expected, actual: this.headOf(streamId) });
      }
      return E.left(unavailable(error));
    }
    if (E.isRight(result)) for (const listener of this.listeners) listener();
    return result;
  }

  /** Another connection to this file (the threaded store's append thread) appended: wake the subscriptions. */
  appendedElsewhere(): void {
    for (const listener of this.listeners) listener();
  }

  async readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const rows = await this.whenFree(() => this.statements.readStream.all(streamId, fromRevision, BigInt(maxCount)) as Row[]);
      if (rows.length === 0 && await this.whenFree(() => this.headOf(streamId)) === 'no-stream') return E.left({ kind: 'stream-not-found', streamId });
      return allStored(rows);
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const rows = await this.whenFree(() => this.statements.readAll.all(after === 'start' ? 0n : after, BigInt(maxCount)) as Row[]);
      return allStored(rows);
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async readAllOf(prefix: string, after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StreamPage>> {
    try {
      const rows = await this.whenFree(() => this.statements.readAllOf.all(BigInt(prefix.length), prefix, after === 'start' ? 0n : after, BigInt(maxCount)) as Array<Omit<Row, 'event'> & { event: string | null }>);
      const events: StoredEvent[] = [];
      for (const row of rows) {
        if (row.event === null) continue;
        const stored = toStored(row as Row);
        if (E.isLeft(stored)) return stored;
        events.push(stored.right);
      }
      return E.right({ events, last: rows[rows.length - 1]?.position });
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async readLinks(after: bigint | 'start', maxCount: number, textOf?: string): Promise<E.Either<StoreError, StoredLink[]>> {
    try {
      const prefix = textOf ?? '';
      const rows = await this.whenFree(() => this.statements.readLinks.all(BigInt(prefix.length), prefix, after === 'start' ? 0n : after, BigInt(maxCount)) as LinkRow[]);
      return E.right(rows.map(toLink));
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async streamHead(streamId: string): Promise<E.Either<StoreError, bigint | 'no-stream'>> {
    try {
      return E.right(await this.whenFree(() => this.headOf(streamId)));
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async readStreamLinks(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredLink[]>> {
    try {
      const rows = await this.whenFree(() => this.statements.readStreamLinks.all(streamId, fromRevision, BigInt(maxCount)) as LinkRow[]);
      if (rows.length === 0 && await this.whenFree(() => this.headOf(streamId)) === 'no-stream') return E.left({ kind: 'stream-not-found', streamId });
      return E.right(rows.map(toLink));
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  /**
   * verifyChainsTo on a thread of its own (chain-worker.ts, its own connection), so that this one
   * can do other work meanwhile; an in-memory database, which no other connection sees, is
   * verified here. Aborted, the thread is stopped and the answer is unavailable.
   */
  verifyChainsElsewhere(prefix: string, position: bigint, signal?: AbortSignal): Promise<E.Either<StoreError, ChainsAt>> {
    if (this.path === ':memory:') return verifyChainsTo((after, max) => this.readLinks(after, max, prefix), prefix, position);
    return new Promise((resolve) => {
      const worker = startWorker('chain-worker', { path: this.path, prefix, position });
      const stopped = (message: string) => resolve(E.left({ kind: 'unavailable', message }));
      const abort = () => {
        stopped('the chain verification was stopped');
        void worker.terminate();
      };
      if (signal?.aborted === true) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      worker.once('message', (answer: E.Either<StoreError, ChainsAt>) => resolve(answer));
      worker.once('error', (error) => stopped(`the chain thread failed: ${error.message}`));
      worker.once('exit', (code) => {
        signal?.removeEventListener('abort', abort);
        stopped(`the chain thread ended (exit code ${code}) without an answer`);
      });
    });
  }

  subscribeAll(options: SubscriptionOptions): Subscription {
    let stopped = false;
    let wake: (() => void) | undefined;
    const listener = () => wake?.();
    this.listeners.add(listener);
    const nextSignal = () => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.pollIntervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const loop = (async () => {
      let after = options.after;
      while (!stopped) {
        const page = await this.readAll(after, this.pageSize);
        if (E.isLeft(page)) {
          options.onError?.(page.left);
          await nextSignal();
          continue;
        }
        for (const event of page.right) {
          if (stopped) return;
          try {
            await options.onEvent(event);
          } catch (error) {
            options.onError?.(error instanceof Error ? error : new Error(String(error)));
            stopped = true;
            return;
          }
          after = event.position;
        }
        if (page.right.length < this.pageSize && !stopped) await nextSignal();
      }
    })();
    const subscription: Subscription = {
      stop: async () => {
        stopped = true;
        wake?.();
        this.listeners.delete(listener);
        this.subscriptions.delete(subscription);
        await loop;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.db.close();
    this.lock?.close();
  }
}
