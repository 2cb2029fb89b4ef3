// Which event store to use, from the environment (decoded like any other input):
//   EVENTSTORE_URL  an EventStoreDB connection string (esdb://... or esdb+discover://...)
//   DATA_DIR        otherwise, the embedded SQLite store at DATA_DIR/events.sqlite (default ./data)

import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith, type InvalidInput } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { ThreadedSqliteEventStore } from '../../adapters/sqlite/threaded-sqlite-event-store.js';
import type { EventStore, Subscription } from './event-store.js';

export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'eventstoredb'; readonly url: string };

const EsdbUrl = new t.Type<string, string, unknown>(
  'EventStoreDbUrl',
  (u): u is string => typeof u === 'string',
  (u, c) => (typeof u === 'string' && /^esdb(\+discover)?:\/\/\S+$/.test(u) ? t.success(u) : t.failure(u, c, 'expected an EventStoreDB connection string, esdb://host:port?tls=false or esdb+discover://...')),
  t.identity,
);
const NonEmpty = new t.Type<string, string, unknown>(
  'NonEmptyPath',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.trim().length > 0 ? t.success(u) : t.failure(u, c, 'expected a directory path')),
  t.identity,
);

const StoreEnvironment = t.partial({ EVENTSTORE_URL: EsdbUrl, DATA_DIR: NonEmpty });

export const storeConfigFrom = (env: Readonly<Record<string, string | undefined>>): E.Either<InvalidInput, StoreConfig> => {
  const relevant = Object.fromEntries(Object.entries({ EVENTSTORE_URL: env.EVENTSTORE_URL, DATA_DIR: env.DATA_DIR }).filter(([, v]) => v !== undefined));
  return E.map((decoded: t.TypeOf<typeof StoreEnvironment>): StoreConfig =>
    decoded.EVENTSTORE_URL !== undefined
      ? { kind: 'eventstoredb', url: decoded.EVENTSTORE_URL }
      : { kind: 'sqlite', path: join(decoded.DATA_DIR ?? './data', 'events.sqlite') })(decodeWith(StoreEnvironment)(relevant));
};

/**
 * Open the configured store. `writer`: this process will append (the service): the SQLite store
 * then takes its writer lock, and a second writer is refused (WriterLockError); its appends run
 * on a worker thread (an fsync does not stop the event loop) and it keeps a committed feed.
 */
export const openStore = (config: StoreConfig, options: { readonly writer?: boolean } = {}): EventStore => {
  if (config.kind === 'eventstoredb') return lazyStore(async () => new (await import('../../adapters/eventstoredb/eventstoredb-event-store.js')).EventStoreDbEventStore(config.url));
  return options.writer === true ? new ThreadedSqliteEventStore(config.path, { writerLock: true }) : new SqliteEventStore(config.path);
};

/**
 * A store whose adapter (and its client library) is loaded on first use: a process on the
 * embedded store never loads the EventStoreDB client.
 */
const lazyStore = (open: () => Promise<EventStore>): EventStore => {
  let store: Promise<EventStore> | undefined;
  const opened = () => (store ??= open());
  return {
    append: async (...args) => (await opened()).append(...args),
    readStream: async (...args) => (await opened()).readStream(...args),
    readAll: async (...args) => (await opened()).readAll(...args),
    findCommands: async (...args) => (await opened()).findCommands(...args),
    subscribeAll: (options) => {
      const subscription: Promise<Subscription> = opened().then((s) => s.subscribeAll(options), (error: unknown) => {
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
        return { stop: async () => undefined };
      });
      return { stop: async () => (await subscription).stop() };
    },
    close: async () => (store === undefined ? undefined : (await store).close()),
  };
};
