// The append thread of the threaded SQLite store (threaded-sqlite-event-store.ts): it owns the
// connection that appends, so that a commit's fsync blocks this thread and not the service's
// event loop. It only appends; reads stay on the main thread's connection (WAL lets them run
// beside a commit). Messages are handled strictly one after another, in the order they came.

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from './sqlite-event-store.js';
import type { AppendRequest, AppendReply } from './threaded-sqlite-event-store.js';

const { path, busyTimeoutMs } = workerData as { readonly path: string; readonly busyTimeoutMs: number };
// No writer lock here: the main thread holds it for the whole process.
const store = new SqliteEventStore(path, { busyTimeoutMs });
const port = parentPort!;
port.postMessage({ id: -1, op: 'ready' } satisfies AppendReply);

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: AppendRequest) => {
  queue = queue.then(async () => {
    if (request.op === 'close') {
      await store.close();
      port.postMessage({ id: request.id, op: 'closed' } satisfies AppendReply);
      port.close();
      return;
    }
    const result = await store.append(request.streamId, request.expected, request.events);
    port.postMessage({ id: request.id, op: 'appended', result } satisfies AppendReply);
  });
});
