import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreadedSqliteEventStore } from '../../adapters/sqlite/threaded-sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded SQLite, appends on a worker thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new ThreadedSqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 20, writerLock: true });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
