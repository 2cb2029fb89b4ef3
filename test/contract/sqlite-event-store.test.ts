import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  return { store: new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 20 }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
