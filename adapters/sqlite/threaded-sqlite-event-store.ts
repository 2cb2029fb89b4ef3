// The embedded SQLite store with its appends on a worker thread (append-worker.ts), for the
// service: a commit's fsync (synchronous=FULL) then blocks that thread, not the event loop, so
// commands keep arriving, and queue up for the next group commit, while one is being written.
//
// - The port is unchanged: the main thread keeps an ordinary SqliteEventStore, which takes the
//   writer lock for the process and serves every read (WAL: reads run beside a commit, and see
//   a commit once its append has resolved); the worker's connection only appends, one request at
//   a time in the order sent, so appends keep the order the writers sent them in.
// - An append resolves only once the worker has committed it (or reports why not). If the worker
//   dies, every append in hand resolves as unavailable (nothing is reported as stored; a writer
//   that retries finds out what was, from the revision and its command index), and the next
//   append starts a new worker.
// - The committed feed (services/ledger/committed-feed.ts): after each durable append, in order,
//   the events as stored. Positions are exact: the appends of one transaction of the only writer
//   get consecutive positions (INTEGER PRIMARY KEY AUTOINCREMENT, nothing else inserting).
// - `close` waits for the appends in hand, then stops the worker, then closes the reads.

import type { Worker } from 'node:worker_threads';
import * as E from 'fp-ts/lib/Either.js';
import {
  readMetadataOf,
  type AppendResult, type CommandRecord, type EventStore, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent, type StoredLink, type StreamPage, type Subscription, type SubscriptionOptions,
} from '../../services/ledger/event-store.js';
import type { ChainsAt } from '../../services/ledger/chain.js';
import type { CommittedFeed, CommittedListener } from '../../services/ledger/committed-feed.js';
import { appendRowOf, SqliteEventStore, type AppendRow, type SqliteEventStoreOptions } from './sqlite-event-store.js';
import { startWorker } from './worker.js';

/** What the main thread asks the append thread. */
export type AppendRequest =
  | { readonly id: number; readonly op: 'append'; readonly streamId: string; readonly expected: ExpectedRevision; readonly events: ReadonlyArray<AppendRow> }
  | { readonly id: number; readonly op: 'close' };

/** What the append thread answers. */
export type AppendReply =
  | { readonly id: number; readonly op: 'appended'; readonly result: E.Either<StoreError, AppendResult> }
  | { readonly id: number; readonly op: 'closed' }
  /** The thread has opened the store and takes appends. */
  | { readonly id: -1; readonly op: 'ready' };

interface InHand {
  readonly request: AppendRequest;
  readonly resolve: (reply: AppendReply | StoreError) => void;
}

export class ThreadedSqliteEventStore implements EventStore, CommittedFeed {
  private readonly reads: SqliteEventStore;
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly inHand = new Map<number, InHand>();
  /** The appends sent and not answered yet (what `close` waits for). */
  private readonly appending = new Set<Promise<unknown>>();
  private readonly listeners = new Set<CommittedListener>();
  private readonly busyTimeoutMs: number;
  private closing: Promise<void> | undefined;
  private readyNow: Promise<void> = Promise.resolve();

  constructor(readonly path: string, options: SqliteEventStoreOptions = {}) {
    if (path === ':memory:') throw new Error('the threaded SQLite store needs a file (an in-memory database is not shared between threads)');
    // Opened first: it takes the writer lock and makes the schema before the worker opens the file.
    this.reads = new SqliteEventStore(path, options);
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    // Started now: its start-up (loading, opening the file) is not paid by the first command.
    this.started();
  }

  /** Resolves once the append thread has opened the store (the service waits for it before taking commands). */
  ready(): Promise<void> {
    return this.readyNow;
  }

  onCommitted(listener: CommittedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = startWorker('append-worker', { path: this.path, busyTimeoutMs: this.busyTimeoutMs });
    this.readyNow = new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('message', done);
      worker.once('exit', done);
    });
    worker.on('message', (reply: AppendReply) => {
      if (reply.op === 'ready') return;
      const entry = this.inHand.get(reply.id);
      this.inHand.delete(reply.id);
      entry?.resolve(reply);
    });
    const stopped = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // Whatever was in hand may or may not be stored: it is not reported as stored.
      for (const [id, entry] of this.inHand) {
        this.inHand.delete(id);
        entry.resolve({ kind: 'unavailable', message: `the append thread stopped (${why}); the append may or may not be stored` });
      }
    };
    worker.on('error', (error) => stopped(error.message));
    worker.on('exit', (code) => stopped(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private send(request: AppendRequest): Promise<AppendReply | StoreError> {
    return new Promise((resolve) => {
      this.inHand.set(request.id, { request, resolve });
      this.started().postMessage(request);
    });
  }

  async append(streamId: string, expected: ExpectedRevision, events: ReadonlyArray<NewEvent>): Promise<E.Either<StoreError, AppendResult>> {
    if (this.closing !== undefined) return E.left({ kind: 'unavailable', message: 'the store is closing' });
    if (events.length === 0) return E.left({ kind: 'unavailable', message: 'nothing to append' });
    // Only the rows cross to the thread: cloning each event's data for the message cost more than the insert.
    const sent = this.send({ id: this.nextId++, op: 'append', streamId, expected, events: events.map(appendRowOf) });
    this.appending.add(sent);
    const reply = await sent.finally(() => this.appending.delete(sent));
    if (!('op' in reply)) return E.left(reply);
    if (reply.op !== 'appended') return E.left({ kind: 'unavailable', message: `unexpected answer from the append thread: ${reply.op}` });
    const result = reply.result;
    if (E.isRight(result)) {
      this.reads.appendedElsewhere();
      if (this.listeners.size > 0) {
        const stored = storedEvents(streamId, events, result.right);
        for (const listener of this.listeners) listener(stored);
      }
    }
    return result;
  }

  readStream(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    return this.reads.readStream(streamId, fromRevision, maxCount);
  }

  readAll(after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StoredEvent[]>> {
    return this.reads.readAll(after, maxCount);
  }

  readAllOf(prefix: string, after: bigint | 'start', maxCount: number): Promise<E.Either<StoreError, StreamPage>> {
    return this.reads.readAllOf(prefix, after, maxCount);
  }

  readLinks(after: bigint | 'start', maxCount: number, textOf?: string): Promise<E.Either<StoreError, StoredLink[]>> {
    return this.reads.readLinks(after, maxCount, textOf);
  }

  streamHead(streamId: string): Promise<E.Either<StoreError, bigint | 'no-stream'>> {
    return this.reads.streamHead(streamId);
  }

  readStreamLinks(streamId: string, fromRevision: bigint, maxCount: number): Promise<E.Either<StoreError, StoredLink[]>> {
    return this.reads.readStreamLinks(streamId, fromRevision, maxCount);
  }

  verifyChainsElsewhere(prefix: string, position: bigint, signal?: AbortSignal): Promise<E.Either<StoreError, ChainsAt>> {
    return this.reads.verifyChainsElsewhere(prefix, position, signal);
  }

  findCommands(streamId: string, commandIds: ReadonlyArray<string>): Promise<E.Either<StoreError, Map<string, CommandRecord>>> {
    return this.reads.findCommands(streamId, commandIds);
  }

  subscribeAll(options: SubscriptionOptions): Subscription {
    return this.reads.subscribeAll(options);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.appending);
      const worker = this.worker;
      if (worker !== undefined) {
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        await this.send({ id: this.nextId++, op: 'close' });
        await exited;
      }
      this.listeners.clear();
      await this.reads.close();
    })();
    return this.closing;
  }
}

/** The events of an append as stored: consecutive revisions and positions ending at the result's. */
const storedEvents = (streamId: string, events: ReadonlyArray<NewEvent>, result: AppendResult): StoredEvent[] => {
  const n = BigInt(events.length);
  return events.map((event, i) => ({
    ...event, metadata: readMetadataOf(event.data, event.metadata), streamId, revision: result.revision - n + 1n + BigInt(i), position: result.position - n + 1n + BigInt(i),
  }));
};
