// The event forwarder: publishes every pool event of the log, in log order, to NATS JetStream as
// `ledger.<poolId>.evt.<EventType>` (stream LEDGER_EVENTS). Translation only.
//
// Its checkpoint is the stream itself: every message carries its log position in a header, so on
// start the forwarder reads the last message and resumes after that position. It publishes a
// window of events (256 by default) before it waits for the first one's acknowledgement, written
// to the socket together, and each publish names the message it must follow (JetStream's expected
// last sequence, and the expected last message id but on the first publish after reading the
// stream): the server refuses a publish whose predecessor is not the stream's last message, so
// when one event fails every later one in flight is refused too, and the stream always holds an
// unbroken prefix of the log. After a failure the forwarder reads the stream's last
// message again, as on start, and publishes again, in order, whatever the stream does not hold
// (from the log, should the stream have lost events it had acknowledged). The message id is the
// event id, so a publish repeated after a crash (or a timed-out ack) is dropped by JetStream's
// duplicate window instead of delivered twice.
//
// The stream is bound to the log it mirrors: every message names the log (the hash of the log's
// first event) and carries its event's hash. On start the last message must be this log's event
// at its position; when it is not (the store was reset or restored, or the stream holds another
// log's or a forged event) the forwarder refuses to start rather than skip anything, and names
// the recovery command. An event it cannot publish is retried with backoff, each failure logged
// and counted (once per attempt: not the later publishes the server refused after it), never
// skipped.
//
// With a committed feed (the service's SQLite store), events come in process from each durable
// append, not read back from the store: the forwarder listens to the feed before it catches up
// from the store, so nothing falls between the two, and skips what it has published already. If
// the feed runs too far ahead of NATS, it lets the queue go and reads the store again from where
// it is (memory stays bounded while NATS is away).

import type { JetStreamManager, MsgHdrs, NatsConnection } from 'nats';
import { createInbox, headers as natsHeaders } from 'nats';
import type { Logger } from 'pino';
import * as E from 'fp-ts/lib/Either.js';
import { describeStoreError, type EventStore, type StoredEvent, type Subscription } from '../ledger/event-store.js';
import { eventIdOf, GENESIS_HASH } from '../ledger/chain.js';
import type { CommittedFeed } from '../ledger/committed-feed.js';
import { poolOf } from '../../projections/runner.js';
import type { CheckSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import { COMMAND_STREAM, ensureStream, OUTCOME_STREAM } from './nats-intake.js';

export const EVENT_STREAM = 'LEDGER_EVENTS';
export const POSITION_HEADER = 'Ledger-Position';
/** The log a message comes from: the hash of the log's first event. */
export const LOG_HEADER = 'Ledger-Log';
/** The hash of the message's event. */
export const HASH_HEADER = 'Ledger-Hash';
/** What an operator runs when the bus holds another log's history. */
export const RECOVERY_COMMAND = 'ledger nats-reset --confirm';
export const eventSubject = (poolId: string, type: string): string => `ledger.${poolId}.evt.${type}`;
export const eventSubjects = (poolId: string): string => `ledger.${poolId}.evt.*`;

/**
 * What a forwarded event's body holds: where it is in the log, its stored text exactly as the
 * chain hash covers it (type, data with amounts as decimal strings, metadata), its hash and the
 * hash it chains onto, so that a consumer checks the link by hashing the text as it came.
 */
export const forwardedBody = (event: StoredEvent, poolId: string, prevHash: string) => ({
  poolId,
  position: event.position.toString(),
  revision: event.revision.toString(),
  eventId: eventIdOf(event.hash),
  prevHash,
  hash: event.hash,
  text: event.text,
});

export const ensureEventStream = (jsm: JetStreamManager): Promise<void> =>
  ensureStream(jsm, { name: EVENT_STREAM, subjects: ['ledger.*.evt.*'], duplicate_window: 10 * 60 * 1_000_000_000 });

/** A stream holds history that is not this log's: the service must not start on it. */
export class ForeignStreamError extends Error {
  constructor(detail: string, stream: string = EVENT_STREAM) {
    super(`the NATS stream ${stream} does not mirror this event log: ${detail}. Nothing was published. If the event log is the one to keep (it was reset or restored), stop the service and run \`${RECOVERY_COMMAND}\` (with the service's NATS_URL and credentials) to delete the ledger's NATS streams, then start the service: it publishes the whole log again`);
    this.name = 'ForeignStreamError';
  }
}

/** The identity of a log: the hash of its first event (undefined while it has none). */
export const logIdentity = async (events: EventStore): Promise<string | undefined> => {
  const first = await events.readAll('start', 1);
  if (E.isLeft(first)) throw new Error(describeStoreError(first.left));
  return first.right[0]?.hash;
};

/** The log's event at a position, if it has one there. */
const eventAt = async (events: EventStore, position: bigint): Promise<StoredEvent | undefined> => {
  const read = await events.readAll(position === 0n ? 'start' : position - 1n, 1);
  if (E.isLeft(read)) throw new Error(describeStoreError(read.left));
  const found = read.right[0];
  return found?.position === position ? found : undefined;
};

/**
 * The log position of the last event in the stream, or 'start' when it holds none, once that
 * event is checked to be this log's event at that position; a ForeignStreamError otherwise.
 */
export const forwardedUpTo = async (jsm: JetStreamManager, events: EventStore): Promise<bigint | 'start'> =>
  (await streamTail(jsm, events)).position;

/** What the stream holds: up to which log position, and its last sequence (what the next publish follows). */
interface StreamTail {
  readonly position: bigint | 'start';
  readonly sequence: number;
}

const streamTail = async (jsm: JetStreamManager, events: EventStore): Promise<StreamTail> => {
  const info = await jsm.streams.info(EVENT_STREAM);
  const sequence = info.state.last_seq;
  if (info.state.messages === 0) return { position: 'start', sequence };
  const last = await jsm.streams.getMessage(EVENT_STREAM, { seq: info.state.last_seq });
  const header = (name: string): string | undefined => {
    const value = last.header.get(name);
    return value === '' ? undefined : value;
  };
  const position = header(POSITION_HEADER);
  if (position === undefined || !/^[0-9]+$/.test(position)) throw new ForeignStreamError(`its last message (sequence ${info.state.last_seq}) has no ${POSITION_HEADER} header`);
  const identity = await logIdentity(events);
  const log = header(LOG_HEADER);
  if (identity === undefined) throw new ForeignStreamError(`it holds ${info.state.messages} events (up to position ${position}) and the log is empty`);
  // Messages published before the header existed carry none: their event is checked below.
  if (log !== undefined && log !== identity) throw new ForeignStreamError(`it mirrors the log whose first event's hash is ${log}; this log's is ${identity}`);
  const event = await eventAt(events, BigInt(position));
  if (event === undefined) throw new ForeignStreamError(`its last event is at position ${position}, beyond the end of the log`);
  const hash = header(HASH_HEADER);
  const eventId = header('Nats-Msg-Id');
  if ((hash !== undefined && hash !== event.hash) || (eventId !== undefined && eventId !== eventIdOf(event.hash))) {
    throw new ForeignStreamError(`its event at position ${position} is not the log's event there (event ${eventId ?? '?'}, the log has ${eventIdOf(event.hash)})`);
  }
  return { position: BigInt(position), sequence };
};

/** A stream's description that binds it to a log. */
export const bindingOf = (identity: string): string => `ledger log ${identity}`;
const boundTo = (description: string | undefined): string | undefined => /^ledger log ([0-9a-f]{64})$/.exec(description ?? '')?.[1];

/**
 * Check that each of the ledger's streams that exists is bound to this log (or to none yet), and
 * bind those that are not to it once the log has an identity: the outcomes and the duplicate
 * window of one log must never answer commands for another.
 */
export const bindStreams = async (jsm: JetStreamManager, identity: string | undefined): Promise<void> => {
  for (const stream of [EVENT_STREAM, OUTCOME_STREAM, COMMAND_STREAM]) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info === undefined) continue;
    const bound = boundTo(info.config.description);
    if (bound !== undefined && bound !== identity) {
      throw new ForeignStreamError(`it is bound to the log whose first event's hash is ${bound}; ${identity === undefined ? 'this log is empty' : `this log's is ${identity}`}`, stream);
    }
    if (bound === undefined && identity !== undefined) await jsm.streams.update(stream, { description: bindingOf(identity) });
  }
};

export interface EventForwarder {
  /** The log position of the last event published (and acknowledged by JetStream, with every one before it). */
  forwarded(): bigint | 'start';
  /** Bind the ledger's streams to the log, once it has an identity (after the intake made its streams). */
  bind(): Promise<void>;
  /** Stuck (failing to publish one event for too long) or too far behind `head()`. */
  readonly check: CheckSource;
  stop(): Promise<void>;
}

export interface ForwarderOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** The last position of the log as far as this process knows (for the lag). */
  readonly head?: () => bigint | 'start';
  /** The longest wait between two attempts to publish an event, ms. */
  readonly maxBackoffMs?: number;
  /** The store's committed feed: events are taken from it instead of read back from the store. */
  readonly feed?: CommittedFeed;
  /** Most events held from the feed before the forwarder reads the store instead (default 100,000). */
  readonly maxQueued?: number;
  /** Most events published and not yet acknowledged (default `DEFAULT_WINDOW`; 1: one at a time). */
  readonly window?: number;
}

/** How many events the forwarder has in flight: enough to fill a round trip, few to send again after a failure. */
export const DEFAULT_WINDOW = 256;

/** JetStream's answer to one publish, as the forwarder reads it. */
type Answer = { readonly kind: 'stored' } | { readonly kind: 'failed'; readonly error: Error };
const STORED: Answer = { kind: 'stored' };
const STORED_NOW: Promise<Answer> = Promise.resolve(STORED);

/** A message ready to publish; the same headers go again with a retry. */
interface Message {
  readonly subject: string;
  readonly body: string;
  readonly msgID: string;
  readonly headers: MsgHdrs;
}

/** An event taken for the stream: its message (none for an event of no pool), and the answer once sent. */
interface Outgoing {
  readonly event: StoredEvent;
  readonly message: Message | undefined;
  answer: Promise<Answer> | undefined;
}

/** How long a publish waits for JetStream's answer, ms (as the client's own publish). */
const PUBLISH_TIMEOUT_MS = 5_000;

/** JetStream's answer to a publish: a PubAck, or an error. */
interface PubAnswer {
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
}

/**
 * Publishes to the event stream whose answers come to one subscription of the forwarder's own,
 * each told from the others by its reply subject: what the client's JetStream publish does per
 * message (a request with its own timer and promises, and an error object built for every
 * answer, even a good one) is most of the forwarder's client work, so one check of the oldest
 * unanswered publish, four times a second, stands in for the timers.
 */
const streamPublisher = (nc: NatsConnection, inboxPrefix: string | undefined) => {
  const inbox = createInbox(inboxPrefix);
  const waiting = new Map<number, { readonly sentAt: number; readonly answer: (answer: Answer) => void; readonly check: (ack: PubAnswer) => Answer }>();
  let next = 0;
  const failed = (message: string): Answer => ({ kind: 'failed', error: new Error(message) });
  const answers = nc.subscribe(`${inbox}.*`, {
    callback: (error, msg) => {
      if (error !== null) return;
      const token = Number(msg.subject.slice(inbox.length + 1));
      const publish = waiting.get(token);
      if (publish === undefined) return;
      waiting.delete(token);
      if (msg.data.length === 0) {
        publish.answer(failed(`no answer from JetStream (${msg.headers?.code ?? '?'} ${msg.headers?.description ?? ''})`.trim()));
        return;
      }
      let ack: PubAnswer;
      try {
        ack = JSON.parse(msg.string()) as PubAnswer;
      } catch {
        publish.answer(failed(`JetStream's answer is not JSON: ${msg.string().slice(0, 200)}`));
        return;
      }
      publish.answer(ack.error === undefined ? publish.check(ack) : failed(`${ack.error.description ?? 'refused'} (${ack.error.code ?? '?'}/${ack.error.err_code ?? '?'})`));
    },
  });
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const [token, publish] of waiting) {
      if (now - publish.sentAt < PUBLISH_TIMEOUT_MS) break;
      waiting.delete(token);
      publish.answer(failed(`JetStream did not answer within ${PUBLISH_TIMEOUT_MS} ms`));
    }
  }, 250);
  watchdog.unref();
  return {
    /**
     * Publish the message as the successor of the stream's message at `follows`, whose message
     * id is `followsId` when the forwarder published it since it last read the stream (JetStream
     * keeps the last message id only while it runs, and within the duplicate window across a
     * restart). The sequence alone would let a stranger's message stand in for a refused event;
     * the id does not. Anything else than stored right there (the server refused it, no answer
     * in time, or it was already in the duplicate window, so the stream's last sequence did not
     * move) is a failure.
     */
    publish: (message: Message, follows: number, followsId: string | undefined): Promise<Answer> => new Promise<Answer>((answer) => {
      const h = message.headers;
      h.set('Nats-Msg-Id', message.msgID);
      if (followsId === undefined) h.delete('Nats-Expected-Last-Msg-Id');
      else h.set('Nats-Expected-Last-Msg-Id', followsId);
      h.set('Nats-Expected-Last-Sequence', String(follows));
      const token = next++;
      waiting.set(token, {
        sentAt: Date.now(), answer,
        check: (ack) => (ack.duplicate !== true && ack.seq === follows + 1 ? STORED
          : failed(`JetStream already held event ${message.msgID} (sequence ${ack.seq}) though the stream's last sequence was ${follows}`)),
      });
      try {
        nc.publish(message.subject, message.body, { reply: `${inbox}.${token}`, headers: h });
      } catch (error) {
        waiting.delete(token);
        answer({ kind: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
      }
    }),
    close: (): void => {
      clearInterval(watchdog);
      answers.unsubscribe();
    },
  };
};

const isAfter = (position: bigint, than: bigint | 'start'): boolean => than === 'start' || position > than;

export const startEventForwarder = async (nc: NatsConnection, events: EventStore, options: ForwarderOptions = {}): Promise<EventForwarder> => {
  const { logger, metrics } = options;
  const windowSize = Math.max(1, options.window ?? DEFAULT_WINDOW);
  const jsm = await nc.jetstreamManager();
  await ensureEventStream(jsm);
  const start = await streamTail(jsm, events);
  /** The last position acknowledged (with every one before it). */
  let upTo = start.position;
  /** The last position taken into the window (at least `upTo`): later ones only are taken. */
  let taken = start.position;
  /** The stream's last sequence once every message sent is stored: the next publish follows it. */
  let lastSequence = start.sequence;
  /** The message id at `lastSequence`, once the forwarder has published since it read the stream. */
  let lastMsgId: string | undefined;
  // Known once the log has an event; every message names it.
  let identity = await logIdentity(events);
  await bindStreams(jsm, identity);
  // The answers come to the connection's inbox prefix, as the client's own requests do (the
  // principal may subscribe there only).
  const publisher = streamPublisher(nc, (nc as Partial<{ readonly options: { readonly inboxPrefix?: string } }>).options?.inboxPrefix);
  let boundTo_: string | undefined = identity;
  const bind = async (): Promise<void> => {
    if (identity === undefined) return;
    await bindStreams(jsm, identity);
    boundTo_ = identity;
  };
  let stopped = false;
  let wake: (() => void) | undefined;
  /** Since when the first event not acknowledged has failed to publish, and how often. */
  let failing: { readonly since: number; attempts: number; position: bigint; error: string } | undefined;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;

  const lag = (): bigint => {
    const head = options.head?.() ?? 'start';
    return head === 'start' ? 0n : head - (upTo === 'start' ? 0n : upTo);
  };

  /** The hash of the last event forwarded of each pool (what the next one chains onto). */
  const heads = new Map<string, { readonly revision: bigint; readonly hash: string }>();
  const prevHashOf = async (poolId: string, event: StoredEvent): Promise<string> => {
    if (event.revision === 0n) return GENESIS_HASH;
    const head = heads.get(poolId);
    if (head?.revision === event.revision - 1n) return head.hash;
    // Resumed mid-stream: the event before it is in the log.
    const before = await events.readStream(event.streamId, event.revision - 1n, 1);
    if (E.isLeft(before)) throw new Error(describeStoreError(before.left));
    const previous = before.right[0];
    if (previous?.revision !== event.revision - 1n) throw new Error(`the log has no event at revision ${event.revision - 1n} of ${event.streamId}`);
    return previous.hash;
  };

  const outgoing = async (event: StoredEvent): Promise<Outgoing> => {
    const poolId = poolOf(event);
    identity ??= event.hash;
    // The log's first event: from now on its streams are this log's.
    if (boundTo_ !== identity) {
      await bind().catch((error: unknown) => {
        metrics?.forwarderErrors.inc();
        logger?.error({ err: error }, 'event forwarder: cannot bind the ledger\'s streams to the log');
      });
    }
    if (poolId === undefined) return { event, message: undefined, answer: undefined };
    const h = natsHeaders();
    h.set(POSITION_HEADER, event.position.toString());
    h.set(LOG_HEADER, identity);
    h.set(HASH_HEADER, event.hash);
    h.set('Ledger-Event-Type', event.type);
    h.set('Ledger-Command-Id', event.metadata.commandId);
    h.set('Ledger-Correlation-Id', event.metadata.correlationId);
    const body = JSON.stringify(forwardedBody(event, poolId, await prevHashOf(poolId, event)));
    heads.set(poolId, { revision: event.revision, hash: event.hash });
    return { event, message: { subject: eventSubject(poolId, event.type), body, msgID: eventIdOf(event.hash), headers: h }, answer: undefined };
  };

  const send = (out: Outgoing): void => {
    if (out.message === undefined) {
      out.answer = STORED_NOW;
      return;
    }
    out.answer = publisher.publish(out.message, lastSequence, lastMsgId);
    lastSequence += 1;
    lastMsgId = out.message.msgID;
  };

  // Taken, in log order, not yet acknowledged; the last `unsent` of them not yet published.
  // Those taken within one turn of the event loop are published together: one socket write.
  const window: Outgoing[] = [];
  let unsent = 0;
  let recovering = false;
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (recovering || stopped) return;
    for (let i = window.length - unsent; i < window.length; i++) send(window[i]!);
    unsent = 0;
  };
  let room: (() => void) | undefined;
  const makeRoom = (): void => {
    room?.();
    room = undefined;
  };

  const backoff = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  }).finally(() => { wake = undefined; });

  /** Count and log a failed attempt on the first event not acknowledged; how long to wait before the next. */
  const failed = (event: StoredEvent, error: unknown): number => {
    const message = (error as Error).message;
    failing = failing === undefined ? { since: Date.now(), attempts: 1, position: event.position, error: message } : { ...failing, attempts: failing.attempts + 1, position: event.position, error: message };
    metrics?.forwarderErrors.inc();
    const delay = Math.min(maxBackoffMs, 100 * 2 ** Math.min(failing.attempts - 1, 10));
    logger?.error({ err: error, position: event.position.toString(), eventId: eventIdOf(event.hash), type: event.type, attempts: failing.attempts, failingFor: `${Math.round((Date.now() - failing.since) / 1000)} s`, retryInMs: delay },
      'event forwarder: cannot publish an event; retrying it (no later event is published before it)');
    return delay;
  };

  /** The log's events after `from` up to `through`, published again in order (the stream lost them). */
  const republish = async (from: bigint | 'start', through: bigint): Promise<void> => {
    let after = from;
    while (after === 'start' || after < through) {
      const page = await events.readAll(after, windowSize);
      if (E.isLeft(page)) throw new Error(describeStoreError(page.left));
      const lost: Outgoing[] = [];
      for (const event of page.right) if (event.position <= through) lost.push(await outgoing(event));
      if (lost.length === 0) return;
      lost.forEach(send);
      const answers = await Promise.all(lost.map((out) => out.answer!));
      for (const [i, answer] of answers.entries()) {
        if (answer.kind === 'failed') throw answer.error;
        upTo = lost[i]!.event.position;
      }
      after = upTo;
    }
  };

  /**
   * The oldest event in the window failed: once every answer is in, and after the backoff, read
   * what the stream really holds, as on start, and publish again everything after it in order.
   */
  const recover = async (first: Outgoing, error: Error): Promise<void> => {
    recovering = true;
    let cause: unknown = error;
    let event = first.event;
    try {
      while (!stopped) {
        const delay = failed(event, cause);
        await Promise.all(window.map((out) => out.answer));
        await backoff(delay);
        if (stopped) return;
        try {
          const tail = await streamTail(jsm, events);
          lastSequence = tail.sequence;
          lastMsgId = undefined;
          // The stream holds everything up to its last message's position.
          while (window.length > 0 && !isAfter(window[0]!.event.position, tail.position)) upTo = window.shift()!.event.position;
          // (Beyond what it took only if someone else published this log's events.)
          if (tail.position !== 'start' && isAfter(tail.position, taken)) taken = tail.position;
          makeRoom();
          if (upTo !== 'start' && isAfter(upTo, tail.position)) {
            const through = upTo;
            upTo = tail.position;
            await republish(tail.position, through);
          } else if (tail.position !== 'start') upTo = tail.position;
          for (const out of window) out.answer = undefined;
          unsent = window.length;
          recovering = false;
          flush();
          return;
        } catch (error_) {
          cause = error_;
          event = window[0]?.event ?? event;
        }
      }
    } finally {
      recovering = false;
    }
  };

  /** Take the answers in log order while the window holds events; recover from the first failure. */
  let settling: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    while (window.length > 0) {
      const oldest = window[0]!;
      if (oldest.answer === undefined) {
        if (stopped) break;
        flush();
      }
      const answer = await oldest.answer!;
      if (answer.kind === 'failed') {
        if (stopped) break;
        await recover(oldest, answer.error);
        continue;
      }
      window.shift();
      upTo = oldest.event.position;
      if (failing !== undefined && oldest.message !== undefined) {
        logger?.info({ position: oldest.event.position.toString(), attempts: failing.attempts }, 'event forwarder: published the event it was failing on');
        failing = undefined;
      }
      makeRoom();
    }
    settling = undefined;
  };

  // Events come one call at a time, in log order; never one skipped: a gap in the stream would
  // be a gap in every consumer's view of the ledger.
  const forward = async (event: StoredEvent): Promise<void> => {
    if (stopped || !isAfter(event.position, taken)) return;
    const out = await outgoing(event);
    while (window.length >= windowSize && !stopped) await new Promise<void>((resolve) => { room = resolve; });
    if (stopped) return;
    window.push(out);
    taken = event.position;
    unsent += 1;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
    settling ??= settle();
  };

  const readFailed = (error: unknown) => {
    metrics?.forwarderErrors.inc();
    logger?.error({ err: error }, 'event forwarder: reading the log failed');
  };
  const subscription: Subscription = options.feed === undefined
    ? events.subscribeAll({ after: upTo, onEvent: forward, onError: readFailed })
    : followFeed(options.feed, options.maxQueued ?? 100_000);

  /** Forward from the store up to its end, then from the feed (see the top of the file). */
  function followFeed(feed: CommittedFeed, maxQueued: number): Subscription {
    let queue: Array<ReadonlyArray<StoredEvent>> = [];
    let queued = 0;
    let reread = true;
    let signal: (() => void) | undefined;
    const stopListening = feed.onCommitted((batch) => {
      if (reread) return;
      queued += batch.length;
      if (queued > maxQueued) {
        queue = [];
        queued = 0;
        reread = true;
      } else queue.push(batch);
      signal?.();
    });
    const pause = (ms: number) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal = () => { clearTimeout(timer); resolve(); };
    });
    const loop = (async () => {
      while (!stopped) {
        if (reread) {
          // Listen first (events appended from now on are queued), then read the store to its end.
          reread = false;
          for (;;) {
            const page = await events.readAll(taken, 1_000);
            if (E.isLeft(page)) {
              readFailed(page.left);
              await pause(1_000);
              if (stopped) return;
              continue;
            }
            for (const event of page.right) {
              if (stopped) return;
              await forward(event);
            }
            if (page.right.length === 0 || stopped) break;
          }
          continue;
        }
        const batch = queue.shift();
        if (batch === undefined) {
          await pause(1_000);
          continue;
        }
        queued -= batch.length;
        for (const event of batch) {
          if (stopped) return;
          // Read from the store already, or taken before a reread.
          if (!isAfter(event.position, taken)) continue;
          await forward(event);
        }
      }
    })();
    return {
      stop: async () => {
        stopListening();
        signal?.();
        await loop;
      },
    };
  }

  const check: CheckSource = (now, limits) => {
    const behind = lag();
    const failingFor = failing === undefined ? 0 : now - failing.since;
    metrics?.forwarderLag.set(Number(behind));
    metrics?.forwarderFailingSeconds.set(failingFor / 1000);
    const details = { forwarded: upTo === 'start' ? null : upTo.toString(), lag: behind.toString(), ...(failing === undefined ? {} : { failing: { position: failing.position.toString(), attempts: failing.attempts, since: new Date(failing.since).toISOString(), error: failing.error } }) };
    if (failing !== undefined && failingFor >= limits.forwarderStuckMs) return { ok: false, reason: `stuck: the event at position ${failing.position} has failed to publish for ${Math.round(failingFor / 1000)} s (${failing.error})`, ...details };
    if (behind > BigInt(limits.forwarderMaxLag)) return { ok: false, reason: `${behind} events behind the log (at most ${limits.forwarderMaxLag})`, ...details };
    return { ok: true, ...details };
  };

  return {
    forwarded: () => upTo,
    bind,
    check,
    stop: async () => {
      stopped = true;
      wake?.();
      makeRoom();
      await subscription.stop();
      // The answers to what is in flight still count (forwarded() says what the stream holds).
      await settling;
      publisher.close();
    },
  };
};
