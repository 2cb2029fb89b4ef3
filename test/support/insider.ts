// What an insider with write access to the SQLite file can do: edit an event and recompute every
// later hash so that the chain verifies again, or delete the tail of a pool's stream.

import Database from 'better-sqlite3';
import { hashOf } from '../../services/ledger/chain.js';
import type { EventMetadata } from '../../services/ledger/event-store.js';
import { poolStream } from '../../services/ledger/pool-writer.js';

interface Row {
  position: number;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

/** Edit the data of the pool event at `revision` and re-chain everything after it. */
export const editAndRechain = (file: string, poolId: string, revision: number, edit: (data: Record<string, unknown>) => Record<string, unknown>): void => {
  const db = new Database(file);
  try {
    const rows = db.prepare('SELECT position, revision, event_id, type, data, metadata FROM events WHERE stream_id = ? ORDER BY revision').all(poolStream(poolId)) as Row[];
    let previous: string | undefined;
    const update = db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?');
    db.transaction(() => {
      for (const row of rows) {
        if (row.revision < revision) {
          previous = (JSON.parse(row.metadata) as EventMetadata).hash;
          continue;
        }
        const data = row.revision === revision ? edit(JSON.parse(row.data) as Record<string, unknown>) : (JSON.parse(row.data) as unknown);
        const { hash: _old, ...rest } = JSON.parse(row.metadata) as EventMetadata;
        const metadata = { ...rest, prevHash: previous ?? rest.prevHash };
        const hash = hashOf({ eventId: row.event_id, type: row.type, data, metadata });
        update.run(JSON.stringify(data), JSON.stringify({ ...metadata, hash }), row.position);
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
