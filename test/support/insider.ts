// What an insider with write access to the SQLite file can do: edit an event and recompute every
// later hash so that the chain verifies again, or delete the tail of a pool's stream.

import Database from 'better-sqlite3';
import { chainHash } from '../../services/ledger/chain.js';
import { storedText } from '../../services/ledger/stored-text.js';
import type { EventMetadata } from '../../services/ledger/event-store.js';
import { poolStream } from '../../services/ledger/pool-writer.js';

export interface Row {
  position: number;
  stream_id: string;
  revision: number;
  event: string;
  hash: Buffer;
}

/** A stored row's event, parsed (its metadata as stored: implied ids left out). */
export interface RowEvent {
  type: string;
  data: Record<string, unknown>;
  metadata: Partial<EventMetadata> & { commandId: string; timestamp: number; actor: string };
}
export const eventOf = (row: Pick<Row, 'event'>): RowEvent => JSON.parse(row.event) as RowEvent;

/** The stored text of an edited event, as the ledger would write it. */
export const textOf = (event: RowEvent): string =>
  storedText(event.type, event.data, { correlationId: event.metadata.commandId, causationId: event.metadata.commandId, ...event.metadata } as EventMetadata);

/** Every row of the file, in log order. */
export const rowsOf = (db: Database.Database): Row[] => db.prepare('SELECT * FROM events ORDER BY position').all() as Row[];

/** Replace an event's stored text (its hash left as it was: the chain breaks there). */
export const rewrite = (db: Database.Database, position: number, event: RowEvent): void => {
  db.prepare('UPDATE events SET event = ? WHERE position = ?').run(textOf(event), position);
};

/** Recompute every hash of the pool streams in the file, as a forger who can rewrite the whole file would. */
export const rechainAll = (db: Database.Database): void => {
  const heads = new Map<string, Buffer>();
  const update = db.prepare('UPDATE events SET hash = ? WHERE position = ?');
  db.transaction(() => {
    for (const row of rowsOf(db)) {
      if (!row.stream_id.startsWith('pool-')) continue;
      const hash = Buffer.from(chainHash(heads.get(row.stream_id)?.toString('hex') ?? '0'.repeat(64), row.event), 'hex');
      update.run(hash, row.position);
      heads.set(row.stream_id, hash);
    }
  })();
};

/** Edit the data of the pool event at `revision` and re-chain everything after it. */
export const editAndRechain = (file: string, poolId: string, revision: number, edit: (data: Record<string, unknown>) => Record<string, unknown>): void => {
  const db = new Database(file);
  try {
    const rows = db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision').all(poolStream(poolId)) as Row[];
    let previous = '0'.repeat(64);
    const update = db.prepare('UPDATE events SET event = ?, hash = ? WHERE position = ?');
    db.transaction(() => {
      for (const row of rows) {
        if (row.revision < revision) {
          previous = row.hash.toString('hex');
          continue;
        }
        const event = eventOf(row);
        const text = row.revision === revision ? textOf({ ...event, data: edit(event.data) }) : row.event;
        const hash = chainHash(previous, text);
        update.run(text, Buffer.from(hash, 'hex'), row.position);
        previous = hash;
      }
    })();
  } finally {
    db.close();
  }
};

/** Delete the last `count` events of the pool's stream (a rollback). */
export const truncate = (file: string, poolId: string, count: number): void => {
  const db = new Database(file);
  try {
    db.prepare('DELETE FROM events WHERE position IN (SELECT position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT ?)').run(poolStream(poolId), count);
  } finally {
    db.close();
  }
};
