// Embedded event store on SQLite (better-sqlite3): the default when nothing is configured.
// One file, WAL, synchronous=FULL (a commit is on disk before append resolves), a global
// position per event (INTEGER PRIMARY KEY AUTOINCREMENT, never reused), a revision per stream,
// unique event ids, and every append atomic in one transaction.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeMetadata,
  type AppendResult, type EventStore, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent, type Subscription, type SubscriptionOptions,
} from '../../services/ledger/event-store.js';

interface Row {
  position: bigint;
  stream_id: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

const parse = (text: string, position: bigint, what: string): E.Either<StoreError, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (error) {
    return E.left({ kind: 'corrupt', position, message: `${what} is not JSON: ${(error as Error).message}` });
  }
};

const toStored = (row: Row): E.Either<StoreError, StoredEvent> => {
  const data = parse(row.data, row.position, 'data');
  if (E.isLeft(data)) return data;
  const rawMetadata = parse(row.metadata, row.position, 'metadata');
  if (E.isLeft(rawMetadata)) return rawMetadata;
  const metadata = decodeMetadata(rawMetadata.right, row.position);
  if (E.isLeft(metadata)) return metadata;
  return E.right({
    streamId: row.stream_id, revision: row.revision, position: row.position, eventId: row.event_id, type: row.type,
    data: data.right, metadata: metadata.right,
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

const unavailable = (error: unknown): StoreError => ({ kind: 'unavailable', message: error instanceof Error ? error.message : String(error) });

export interface SqliteEventStoreOptions {
  /** How often a caught-up subscription looks for appends made by other processes, in ms. */
  readonly pollIntervalMs?: number;
  /** Page size for catch-up reads. */
  readonly pageSize?: number;
}

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly listeners = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly statements;

  constructor(readonly path: string, options: SqliteEventStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        UNIQUE (stream_id, revision)
      );
    `);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.pageSize = options.pageSize ?? 1000;
    const safe = <S extends Database.Statement>(statement: S): S => statement.safeIntegers(true) as S;
    this.statements = {
      head: safe(this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?')),
      insert: safe(this.db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)')),
      readStream: safe(this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?')),
      readAll: safe(this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?')),
    };
  }

  private headOf(streamId: string): bigint | 'no-stream' {
    const row = this.statements.head.get(streamId) as { revision: bigint | null };
    return row.revision ?? 'no-stream';
  }

  private readonly appendTransaction = (streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): E.Either<StoreError, AppendResult> => {
    const actual = this.headOf(streamId);
    if (actual !== expected) return E.left({ kind: 'revision-conflict', streamId, expected, actual });
    let revision = actual === 'no-stream' ? -1n : actual;
    let position = 0n;
    for (const event of events) {
      revision += 1n;
      const info = this.statements.insert.run(streamId, revision, event.eventId, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
      position = BigInt(info.lastInsertRowid);
    }
    return E.right({ revision, position });
  };

  async append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): Promise<E.Either<StoreError, AppendResult>> {
    if (events.length === 0) return E.left({ kind: 'unavailable', message: 'nothing to append' });
    let result: E.Either<StoreError, AppendResult>;
    try {
      result = this.db.transaction(this.appendTransaction).immediate(streamId, expected, events);
    } catch (error) {
      // A second copy of an event id means these events were appended already.
      if (error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        return E.left({ kind: 'revision-conflict', streamId, expected, actual: this.headOf(streamId) });
      }
      return E.left(unavailable(error));
    }
    if (E.isRight(result)) for (const listener of this.listeners) listener();
    return result;
  }

  async readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const rows = this.statements.readStream.all(streamId, fromRevision, BigInt(maxCount)) as Row[];
      if (rows.length === 0 && this.headOf(streamId) === 'no-stream') return E.left({ kind: 'stream-not-found', streamId });
      return allStored(rows);
    } catch (error) {
      return E.left(unavailable(error));
    }
  }

  async readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    try {
      const rows = this.statements.readAll.all(after === 'start' ? 0n : after, BigInt(maxCount)) as Row[];
      return allStored(rows);
    } catch (error) {
      return E.left(unavailable(error));
    }
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
  }
}
