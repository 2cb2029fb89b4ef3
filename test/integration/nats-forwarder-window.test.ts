// The event forwarder with a window of publishes in flight, against a real nats-server of the
// test's own: the stream holds every pool event once, in log order, with the same messages as one
// publish at a time; a publish the stream refuses in the middle of a window has every later one
// in flight refused with it (each names the sequence it follows), so the stream stays an unbroken
// prefix of the log, and everything is published once the stream takes it; a nats-server killed
// mid-stream ends with the whole log, nothing twice, and so does a stream that lost events it had
// acknowledged; a message another publisher put in the stream stops the forwarder rather than
// have it publish after a stranger.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { connect, headers, type JetStreamManager } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import {
  ensureEventStream, EVENT_STREAM, forwardedBody, HASH_HEADER, LOG_HEADER, POSITION_HEADER, startEventForwarder, type EventForwarder, type ForwarderOptions,
} from '../../services/bus/event-forwarder.js';
import type { CommittedFeed, CommittedListener } from '../../services/ledger/committed-feed.js';
import { eventIdOf, GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import type { StoredEvent } from '../../services/ledger/event-store.js';
import { DEFAULT_READINESS_LIMITS } from '../../services/health.js';
import { NatsServer, natsServerMissing } from '../support/nats-server.js';
import { capture, eventually, sleep } from '../support/waiting.js';
import { propertyParameters } from '../support/property.js';

const missing = natsServerMissing();
if (missing !== undefined) console.log(`NATS forwarder window suite skipped: ${missing}.`);

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** A store, a nats-server and a connection of the test's own. */
const setup = async (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `ledger-fwd-${name}-`));
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  const server = await NatsServer.start(dir);
  const nc = await connect({ servers: server.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100, noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  const forwarders: EventForwarder[] = [];
  const forwarder = async (options: ForwarderOptions) => {
    const started = await startEventForwarder(nc, store, { maxBackoffMs: 200, ...options });
    forwarders.push(started);
    return started;
  };
  cleanups.push(async () => {
    for (const f of forwarders) await f.stop().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await server.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, server, nc, jsm, forwarder };
};

/** Listeners told of what `append` stored, as the service's store tells its feed. */
const testFeed = (): CommittedFeed & { tell(events: ReadonlyArray<StoredEvent>): void } => {
  const listeners = new Set<CommittedListener>();
  return {
    onCommitted: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tell: (events) => { for (const listener of listeners) listener(events); },
  };
};

/**
 * Append `count` events: runs of events of pools `main` and `side`, an event of no pool now and
 * then; the pool events whose index (0-based, among the pool events) is in `large` carry 4 kB of
 * padding. Returns what was stored.
 */
const appendLog = async (store: SqliteEventStore, count: number, options: { readonly large?: ReadonlySet<number> } = {}): Promise<StoredEvent[]> => {
  const heads = new Map<string, { revision: bigint; hash: string }>();
  const all = await store.readAll('start', 1_000_000);
  if (E.isLeft(all)) throw new Error('not read');
  for (const e of all.right) heads.set(e.streamId, { revision: e.revision, hash: e.hash });
  let poolIndex = all.right.filter((e) => e.streamId.startsWith('pool-')).length;
  const stored: StoredEvent[] = [];
  let i = all.right.length;
  const end = i + count;
  while (i < end) {
    const streamId = i % 11 === 5 ? 'note-main' : i % 7 < 4 ? 'pool-main' : 'pool-side';
    const run = Math.min(end - i, streamId === 'note-main' ? 1 : 1 + (i % 5));
    const head = heads.get(streamId);
    let prev = head?.hash ?? GENESIS_HASH;
    const batch = [];
    for (let k = 0; k < run; k++) {
      const pad = streamId.startsWith('pool-') && options.large?.has(poolIndex++) === true ? 'x'.repeat(4_000) : '';
      const metadata = { actor: 'test', commandId: `c-${i + k}`, correlationId: `c-${i + k}`, causationId: `c-${i + k}`, timestamp: 1_700_000_000_000 + i + k };
      const event = sealed(prev, { type: 'Noted', data: { n: i + k, pad }, metadata });
      prev = event.hash;
      batch.push(event);
    }
    const appended = await store.append(streamId, head === undefined ? 'no-stream' : head.revision, batch);
    if (E.isLeft(appended)) throw new Error(JSON.stringify(appended.left));
    const read = await store.readAll(i === 0 ? 'start' : BigInt(i), run);
    if (E.isLeft(read)) throw new Error('not read');
    stored.push(...read.right);
    const last = read.right[read.right.length - 1]!;
    heads.set(streamId, { revision: last.revision, hash: last.hash });
    i += run;
  }
  return stored;
};

interface Streamed {
  readonly seq: number;
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Every message of the event stream, in sequence order, with the headers the ledger sets. */
const streamed = async (jsm: JetStreamManager): Promise<Streamed[]> => {
  const info = await jsm.streams.info(EVENT_STREAM);
  const out: Streamed[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENT_STREAM, { seq });
    const headers: Record<string, string> = {};
    for (const key of m.header.keys()) if (!key.startsWith('Nats-Expected')) headers[key] = m.header.get(key);
    out.push({ seq: m.seq, subject: m.subject, headers, body: new TextDecoder().decode(m.data) });
  }
  return out;
};

const poolEventsOf = (log: ReadonlyArray<StoredEvent>) => log.filter((e) => e.streamId.startsWith('pool-'));

/** The stream is the first pool events of the log, each once, in order, sequence after sequence. */
const expectPrefix = (messages: ReadonlyArray<Streamed>, log: ReadonlyArray<StoredEvent>): void => {
  const pool = poolEventsOf(log);
  expect(messages.length).toBeLessThanOrEqual(pool.length);
  messages.forEach((m, i) => {
    const event = pool[i]!;
    expect({ seq: m.seq, position: m.headers[POSITION_HEADER], id: m.headers['Nats-Msg-Id'], hash: m.headers[HASH_HEADER] })
      .toEqual({ seq: i + 1, position: event.position.toString(), id: eventIdOf(event.hash), hash: event.hash });
    const body = JSON.parse(m.body) as ReturnType<typeof forwardedBody>;
    expect(body.text).toBe(event.text);
  });
};

/** The stream is every pool event of the log, each once, in order. */
const expectWholeLog = (messages: ReadonlyArray<Streamed>, log: ReadonlyArray<StoredEvent>): void => {
  expectPrefix(messages, log);
  expect(messages).toHaveLength(poolEventsOf(log).length);
};

const caughtUp = (forwarder: EventForwarder, log: ReadonlyArray<StoredEvent>) =>
  eventually(() => (forwarder.forwarded() === log[log.length - 1]!.position ? true : undefined), 'the forwarder to catch up');

describe.skipIf(missing !== undefined)('the event forwarder, a window of publishes in flight', () => {
  it('publishes the same messages as one at a time, every pool event once and in order, from the store and from the feed', async () => {
    const one = await setup('one');
    const many = await setup('many');
    const log = await appendLog(one.store, 700);
    expect(await appendLog(many.store, 700)).toEqual(log);
    const reference = await one.forwarder({ window: 1 });
    const feed = testFeed();
    const windowed = await many.forwarder({ window: 16, feed });
    await caughtUp(reference, log);
    await caughtUp(windowed, log);
    // Appended while it runs: the feed tells the windowed forwarder; the other one polls the store.
    const more = await appendLog(one.store, 300);
    expect(await appendLog(many.store, 300)).toEqual(more);
    feed.tell(more.slice(0, 150));
    feed.tell(more.slice(150));
    await caughtUp(reference, more);
    await caughtUp(windowed, more);
    const expected = await streamed(one.jsm);
    const actual = await streamed(many.jsm);
    expectWholeLog(actual, [...log, ...more]);
    expect(actual).toEqual(expected);
    // Stopped and started again: it resumes after the stream's last message, nothing repeated.
    await windowed.stop();
    const after = await appendLog(many.store, 200);
    const again = await many.forwarder({ window: 16 });
    await caughtUp(again, after);
    const all = [...log, ...more, ...after];
    const final = await streamed(many.jsm);
    expectWholeLog(final, all);
  }, 60_000);

  it('when the stream refuses one event in the middle of a window, it refuses the later ones in flight too; all are published once it takes them', async () => {
    const b = await setup('refused');
    // Pool events 40 and 90 are too large for the stream while it takes at most 1 kB a message.
    const log = await appendLog(b.store, 400, { large: new Set([40, 90]) });
    await ensureEventStream(b.jsm);
    const config = (await b.jsm.streams.info(EVENT_STREAM)).config;
    await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: 1_024 });
    const { lines, logger } = capture();
    const forwarder = await b.forwarder({ window: 64, logger });
    const pool = poolEventsOf(log);
    const failing = await eventually(async () => {
      const report = (await forwarder.check(Date.now(), DEFAULT_READINESS_LIMITS)) as { failing?: { attempts: number; position: string } };
      return (report.failing?.attempts ?? 0) >= 3 ? report.failing : undefined;
    }, 'failed attempts');
    expect(failing.position).toBe(pool[40]!.position.toString());
    // Exactly the events before it: those published after it in the same window were refused.
    const held = await streamed(b.jsm);
    expectPrefix(held, log);
    expect(held).toHaveLength(40);
    expect((await b.jsm.streams.info(EVENT_STREAM)).state.last_seq).toBe(40);
    expect(forwarder.forwarded()).toBe(pool[39]!.position);
    const errors = lines.filter((l) => l.level === 50 && /cannot publish an event/.test(l.msg));
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.every((l) => l.position === pool[40]!.position.toString())).toBe(true);

    await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: -1 });
    await caughtUp(forwarder, log);
    const all = await streamed(b.jsm);
    expectPrefix(all, log);
    expect(all).toHaveLength(pool.length);
    expect(lines.some((l) => /published the event it was failing on/.test(l.msg))).toBe(true);
    expect((await forwarder.check(Date.now(), DEFAULT_READINESS_LIMITS)).ok).toBe(true);
  }, 60_000);

  it('after a failure, takes nothing twice from the feed or from reading the store again', async () => {
    const b = await setup('reread');
    const log = await appendLog(b.store, 60, { large: new Set([10]) });
    await ensureEventStream(b.jsm);
    const config = (await b.jsm.streams.info(EVENT_STREAM)).config;
    await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: 1_024 });
    const { lines, logger } = capture();
    const feed = testFeed();
    const forwarder = await b.forwarder({ window: 16, logger, feed, maxQueued: 20 });
    await eventually(async () => (((await forwarder.check(Date.now(), DEFAULT_READINESS_LIMITS)) as { failing?: unknown }).failing === undefined ? undefined : true), 'a failed attempt');
    // More than the feed may hold while it waits: it will read the store again.
    for (let i = 0; i < 10; i++) {
      const batch = await appendLog(b.store, 10);
      log.push(...batch);
      feed.tell(batch);
    }
    await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: -1 });
    await caughtUp(forwarder, log);
    const more = await appendLog(b.store, 30);
    feed.tell(more);
    const all = [...log, ...more];
    await caughtUp(forwarder, all);
    const final = await streamed(b.jsm);
    expectWholeLog(final, all);
    const errors = lines.filter((l) => l.level === 50).map((l) => String((l.err as { message?: string } | undefined)?.message));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((m) => !/message size exceeds maximum/.test(m))).toEqual([]);
  }, 60_000);

  it('ends with the whole log, nothing twice, when nats-server is killed and restarted while it forwards', async () => {
    const b = await setup('killed');
    const feed = testFeed();
    const forwarder = await b.forwarder({ window: 128, feed });
    const log: StoredEvent[] = [];
    let killed = false;
    for (let round = 0; round < 30; round++) {
      const batch = await appendLog(b.store, 150);
      log.push(...batch);
      feed.tell(batch);
      if (round === 10) {
        await eventually(async () => ((await b.jsm.streams.info(EVENT_STREAM).catch(() => undefined))?.state.messages ?? 0) > 0 ? true : undefined, 'some messages');
        await b.server.stop('SIGKILL');
        killed = true;
      }
      if (round === 14 && killed) await b.server.restart();
    }
    await eventually(() => (forwarder.forwarded() === log[log.length - 1]!.position ? true : undefined), 'the forwarder to catch up', 1_200);
    const all = await streamed(b.jsm);
    expectWholeLog(all, log);
  }, 120_000);

  it('publishes again from the log what the stream lost after acknowledging it', async () => {
    const b = await setup('lost');
    const feed = testFeed();
    const forwarder = await b.forwarder({ window: 16, feed });
    const log = await appendLog(b.store, 300);
    feed.tell(log);
    await caughtUp(forwarder, log);
    // The stream comes back with its first 100 messages only (as from an old backup).
    const kept = (await streamed(b.jsm)).slice(0, 100);
    await b.jsm.streams.delete(EVENT_STREAM);
    await ensureEventStream(b.jsm);
    for (const m of kept) {
      const h = headers();
      for (const [key, value] of Object.entries(m.headers)) h.set(key, value);
      await b.nc.jetstream().publish(m.subject, m.body, { headers: h });
    }
    const more = await appendLog(b.store, 100);
    feed.tell(more);
    const all = [...log, ...more];
    await caughtUp(forwarder, all);
    const final = await streamed(b.jsm);
    expectWholeLog(final, all);
  }, 60_000);

  it('stops at a message another publisher put in the stream, publishing nothing after it', async () => {
    const b = await setup('stranger');
    const feed = testFeed();
    const { lines, logger } = capture();
    const forwarder = await b.forwarder({ window: 32, logger, feed });
    const log = await appendLog(b.store, 200);
    feed.tell(log);
    await caughtUp(forwarder, log);
    // Someone else publishes between two of the forwarder's events: its next publish names the
    // sequence of its own last message as its predecessor, which is no longer the stream's last.
    await b.nc.jetstream().publish('ledger.main.evt.Noted', '{}');
    const more = await appendLog(b.store, 100);
    feed.tell(more);
    await eventually(() => (lines.some((l) => /does not mirror this event log/.test(String((l.err as { message?: string } | undefined)?.message))) ? true : undefined), 'the stranger noticed');
    await sleep(500);
    const pool = poolEventsOf(log);
    const held = await streamed(b.jsm);
    expect(held).toHaveLength(pool.length + 1);
    expectPrefix(held.slice(0, pool.length), log);
    expect(held[pool.length]!.body).toBe('{}');
    expect(held[pool.length]!.headers[LOG_HEADER]).toBeUndefined();
    expect(forwarder.forwarded()).toBe(log[log.length - 1]!.position);
    expect(await forwarder.check(Date.now(), DEFAULT_READINESS_LIMITS)).toMatchObject({ failing: { position: poolEventsOf(more)[0]!.position.toString() } });
  }, 60_000);

  it('property: whatever the window, the log and the events the stream refuses for a while, the stream is a prefix of the log, then all of it', async () => {
    const b = await setup('property');
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 48 }), fc.integer({ min: 20, max: 160 }), fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { maxLength: 3 }), fc.boolean(),
      async (window, count, large, fromFeed) => {
        const store = new SqliteEventStore(join(tmpdir(), `ledger-fwd-property-${process.pid}-${run++}.sqlite`));
        const log = await appendLog(store, count, { large: new Set(large) });
        const pool = poolEventsOf(log);
        const firstRefused = Math.min(pool.length, ...large);
        await b.jsm.streams.delete(EVENT_STREAM).catch(() => undefined);
        await ensureEventStream(b.jsm);
        const config = (await b.jsm.streams.info(EVENT_STREAM)).config;
        await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: 1_024 });
        const feed = testFeed();
        const forwarder = await startEventForwarder(b.nc, store, { window, maxBackoffMs: 100, ...(fromFeed ? { feed } : {}) });
        try {
          if (firstRefused < pool.length) {
            await eventually(async () => (((await forwarder.check(Date.now(), DEFAULT_READINESS_LIMITS)) as { failing?: { attempts: number } }).failing?.attempts ?? 0) >= 2 ? true : undefined, 'failed attempts');
            const held = await streamed(b.jsm);
            expectPrefix(held, log);
            expect(held).toHaveLength(firstRefused);
          }
          await b.jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: -1 });
          await caughtUp(forwarder, log);
          const all = await streamed(b.jsm);
          expectPrefix(all, log);
          expect(all).toHaveLength(pool.length);
        } finally {
          await forwarder.stop();
          await store.close();
          rmSync(store.path, { force: true });
          for (const suffix of ['-wal', '-shm']) rmSync(store.path + suffix, { force: true });
        }
      },
    ), propertyParameters('forwarder window', 8));
  }, 120_000);
});
