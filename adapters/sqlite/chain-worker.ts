// The chain thread of the SQLite store (SqliteEventStore.verifyChainsElsewhere): it opens the
// file on a connection of its own (a reader: no writer lock), verifies the chains of the streams
// asked for up to the position asked for (services/ledger/chain.ts, verifyChainsTo: the same
// check as on the main thread, reading and hashing every link), posts what it found and ends.

import { parentPort, workerData } from 'node:worker_threads';
import * as E from 'fp-ts/lib/Either.js';
import { verifyChainsTo } from '../../services/ledger/chain.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const { path, prefix, position } = workerData as { readonly path: string; readonly prefix: string; readonly position: bigint };
const port = parentPort!;
try {
  const store = new SqliteEventStore(path);
  try {
    port.postMessage(await verifyChainsTo((after, max) => store.readLinks(after, max, prefix), prefix, position));
  } finally {
    await store.close();
  }
} catch (error) {
  port.postMessage(E.left({ kind: 'unavailable', message: error instanceof Error ? error.message : String(error) }));
}
