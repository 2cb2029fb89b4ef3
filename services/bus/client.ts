// The producer client: submit a command over NATS and wait for its outcome, or follow a pool's
// events. It connects as one principal (its credentials, TLS, and its own inbox prefix, the only
// one the server lets it use) and publishes under that principal's subjects. Retries publish the
// same command id as the message id, so JetStream's duplicate window (and the ledger's own
// idempotency) make a retry safe. Events are yielded only if they chain onto the one before.

import { AckPolicy, connect, DeliverPolicy, headers as natsHeaders, type NatsConnection, type PubAck } from 'nats';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeEvent, decodeWith, encodeCommand, encodeEvent, parseJson, type Command, type Event, type InvalidInput } from '../../domain/index.js';
import { describeStoreError, Hash, logIndex, parseStoredText, type EventMetadata } from '../ledger/event-store.js';
import { chainHash, eventIdOf, GENESIS_HASH } from '../ledger/chain.js';
import { connectionOptions, inboxPrefixOf, type NatsAuth, type NatsTls } from './connection.js';
import { EVENT_STREAM, eventSubjects } from './event-forwarder.js';
import { commandSubject, CORRELATION_HEADER, lookupSubject, OUTCOME_STREAM, outcomeSubject, refusedSubject } from './nats-intake.js';

const Error_ = t.intersection([t.type({ code: t.string, message: t.string }), t.partial({ field: t.string, errors: t.array(t.unknown) })]);
/** An event from the wire (decimal strings) to the domain's types. */
const EventFromWire = new t.Type<Event, unknown, unknown>('Event', (_u): _u is Event => false, (u, c) => {
  const decoded = decodeEvent(u);
  return E.isRight(decoded) ? t.success(decoded.right) : t.failure(u, c, decoded.left.message);
}, encodeEvent);
/** An event as it travels, checked against the event codecs and kept in its wire form. */
const WireEvent = new t.Type<Record<string, unknown>, Record<string, unknown>, unknown>(
  'Event',
  (u): u is Record<string, unknown> => t.UnknownRecord.is(u) && E.isRight(decodeEvent(u)),
  (u, c) => E.map(() => u as Record<string, unknown>)(EventFromWire.validate(u, c)),
  t.identity,
);
/** An outcome as it travels: amounts as decimal strings, as HTTP gives it. */
const WireOutcomeCodec = t.intersection([
  t.type({ status: t.keyof({ accepted: null, rejected: null, invalid: null, forbidden: null, failed: null }) }),
  t.partial({ commandId: t.string, events: t.array(WireEvent), error: Error_, deduplicated: t.boolean }),
], 'Outcome');
export type WireOutcome = t.TypeOf<typeof WireOutcomeCodec>;

/** A message from the ledger, decoded; a malformed one is an error value naming its bad fields. */
const utf8 = new TextDecoder();
const decodeMessage = <A>(codec: t.Type<A, unknown, unknown>, data: Uint8Array): E.Either<InvalidInput, A> =>
  E.flatMap(parseJson(utf8.decode(data)), decodeWith(codec));

/** A ledger event as the forwarder publishes it, decoded to the domain's types. */
export interface ForwardedEvent {
  readonly poolId: string;
  readonly position: bigint;
  readonly revision: bigint;
  /** Derived from its hash. */
  readonly eventId: string;
  readonly event: Event;
  readonly metadata: EventMetadata;
  /** The hash of the event it says it follows. */
  readonly prevHash: string;
  readonly hash: string;
  /** Its stored text, as the hash covers it. */
  readonly text: string;
}
/** The body as it travels: the stored text is decoded separately (it is what gets hashed). */
const ForwardedBodyCodec = t.type({
  poolId: t.string,
  position: logIndex('Position'),
  revision: logIndex('Revision'),
  prevHash: Hash,
  hash: Hash,
  text: t.string,
}, 'ForwardedEvent');

/** A forwarded message's body, its stored text parsed and its event decoded. */
export const decodeForwarded = (data: Uint8Array): E.Either<InvalidInput, ForwardedEvent> => E.flatMap(decodeMessage(ForwardedBodyCodec, data), (body) => {
  const stored = parseStoredText(body.text, body.position);
  if (E.isLeft(stored)) {
    const message = describeStoreError(stored.left);
    return E.left({ code: 'INVALID_INPUT', message: `text: ${message}`, errors: [{ path: 'text', message }] });
  }
  return E.map((event: Event): ForwardedEvent => ({ ...body, eventId: eventIdOf(body.hash), event, metadata: stored.right.metadata }))(
    E.mapLeft((error: InvalidInput): InvalidInput => ({ ...error, message: `text.data: ${error.message}` }))(decodeEvent(stored.right.data)));
});

/** An event that does not chain onto the one before: missing events, or one that was altered or forged. */
export interface ChainError {
  readonly code: 'CHAIN_BROKEN';
  readonly message: string;
  readonly reason: 'gap' | 'repeated' | 'prevHash does not match the previous event' | 'hash does not match the event' | 'another pool';
  readonly position: bigint;
  readonly revision: bigint;
}
export type EventError = InvalidInput | ChainError;

/** The last event verified: the next must have the next revision and name this hash. */
export interface ChainHead {
  readonly revision: bigint;
  readonly hash: string;
}
/** Before a pool's first event. */
export const CHAIN_START: ChainHead = { revision: -1n, hash: GENESIS_HASH };

/**
 * Whether a forwarded event is the next link of the pool's chain after `head`: its hash
 * recomputes from its stored text as it came (the ledger's own chain function, nothing
 * re-serialized), its revision follows, and its prevHash is the head's hash.
 */
export const nextLink = (head: ChainHead, poolId: string, event: ForwardedEvent): E.Either<ChainError, ChainHead> => {
  const broken = (reason: ChainError['reason'], detail: string): E.Either<ChainError, never> =>
    E.left({ code: 'CHAIN_BROKEN', reason, message: `event at position ${event.position} (revision ${event.revision}): ${detail}`, position: event.position, revision: event.revision });
  if (event.poolId !== poolId) return broken('another pool', `belongs to pool "${event.poolId}", not "${poolId}"`);
  if (chainHash(event.prevHash, event.text) !== event.hash) return broken('hash does not match the event', 'its hash does not recompute from its content');
  if (event.revision > head.revision + 1n) return broken('gap', `expected revision ${head.revision + 1n} next: ${event.revision - head.revision - 1n} missing`);
  if (event.revision <= head.revision) return broken('repeated', `revision ${event.revision} came already (expected ${head.revision + 1n})`);
  if (event.prevHash !== head.hash) return broken('prevHash does not match the previous event', 'its prevHash is not the previous event\'s hash');
  return E.right({ revision: event.revision, hash: event.hash });
};

/** The direct get of the last message on a refusal's subject. */
export const directGetSubject = (outcome: string): string => `$JS.API.DIRECT.GET.${OUTCOME_STREAM}.${outcome}`;

export interface LedgerClientOptions {
  /** The principal this producer or reader is: its subjects and its inbox prefix. */
  readonly principalId: string;
  readonly auth?: NatsAuth;
  readonly tls?: NatsTls;
}

export class LedgerClient {
  private constructor(readonly connection: NatsConnection, readonly principalId: string) {}

  static async connect(servers: string | string[], options: LedgerClientOptions): Promise<LedgerClient> {
    const connection = await connect({
      ...connectionOptions({ ...options, inboxPrefix: inboxPrefixOf(options.principalId) }),
      servers, reconnect: true, maxReconnectAttempts: -1, name: options.principalId,
    });
    return new LedgerClient(connection, options.principalId);
  }

  /** Publish the command and resolve with its outcome; retries with the same id on a timeout. */
  async submit(command: Command, options: { readonly timeoutMs?: number; readonly attempts?: number; readonly correlationId?: string } = {}): Promise<WireOutcome> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const attempts = options.attempts ?? 3;
    const subject = outcomeSubject(command.poolId, this.principalId, command.commandId);
    const subscription = this.connection.subscribe(subject, { max: 1 });
    const outcome = (async () => {
      for await (const message of subscription) {
        const decoded = decodeMessage(WireOutcomeCodec, message.data);
        // A value, not a throw: this promise may settle while nobody awaits it.
        return E.isRight(decoded) ? decoded.right : { status: 'failed' as const, commandId: command.commandId, error: { code: 'MALFORMED_OUTCOME', message: decoded.left.message } };
      }
      return undefined;
    })();
    const js = this.connection.jetstream();
    // A command published before (JetStream drops the repeat) was answered then: ask again.
    const stored = () => this.recordedOutcome(command.poolId, command.commandId, Math.min(timeoutMs, 2_000));
    const body = JSON.stringify(encodeCommand(command));
    const h = natsHeaders();
    if (options.correlationId !== undefined) h.set(CORRELATION_HEADER, options.correlationId);
    try {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let ack: PubAck;
        try {
          ack = await js.publish(commandSubject(command.poolId, this.principalId, command.type), body, { msgID: command.commandId, ...(options.correlationId === undefined ? {} : { headers: h }) });
        } catch (error) {
          // Not stored, or stored without our hearing of it (the same message id makes the next
          // attempt safe either way): try again once the connection has had a moment.
          if (attempt === attempts) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 500)));
          continue;
        }
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const earlier = ack.duplicate ? await stored() : undefined;
          if (earlier !== undefined) return earlier;
          const result = await Promise.race([outcome, new Promise<'wait'>((resolve) => setTimeout(() => resolve('wait'), ack.duplicate ? 200 : timeoutMs))]);
          if (result !== 'wait' && result !== undefined) return result;
        }
      }
      throw new Error(`no outcome for ${command.commandId} after ${attempts} attempts`);
    } finally {
      subscription.unsubscribe();
    }
  }

  /**
   * The outcome of one of this principal's commands answered before, or undefined when there is
   * none (yet): a refusal the log does not record is read from LEDGER_OUTCOMES with a direct get by
   * subject (the one read of the stream the server allows us); an accepted or rejected command is
   * looked up in the ledger's index of handled commands (a core NATS request it answers to our inbox).
   */
  async recordedOutcome(poolId: string, commandId: string, timeoutMs = 2_000): Promise<WireOutcome | undefined> {
    const ask = async (subject: string): Promise<WireOutcome | undefined> => {
      try {
        const message = await this.connection.request(subject, undefined, { timeout: timeoutMs });
        if (message.headers !== undefined && message.headers.code >= 400) return undefined;
        const decoded = decodeMessage(WireOutcomeCodec, message.data);
        return E.isRight(decoded) ? decoded.right : undefined;
      } catch {
        return undefined;
      }
    };
    // $JS.API.DIRECT.GET.<stream>.<subject> (nats-server 2.9+, allow_direct): the subject is in
    // the request's subject, so permissions can allow each producer its own outcomes only.
    // (What nats.js's jsm.direct.getMessage sends, without its account-info round trip.)
    return await ask(directGetSubject(refusedSubject(poolId, this.principalId, commandId))) ?? ask(lookupSubject(poolId, this.principalId, commandId));
  }

  /**
   * Follow a pool's events, in log order, from the first one after `after` (a log position).
   * Every event of the pool is read from its first and checked against the hash chain (`nextLink`);
   * one that does not decode, or does not chain onto the last good one (a gap, an altered or a
   * forged event), comes as a Left in its place, rather than ending the iteration. Events after
   * a break are checked against the last good event, so a forged extra event is reported and the
   * genuine ones after it still pass; after a gap, nothing passes until the missing events come.
   */
  async *events(poolId: string, options: { readonly after?: bigint } = {}): AsyncGenerator<E.Either<EventError, ForwardedEvent>> {
    // An ephemeral pull consumer of its own (JetStream's ordered consumers need a 2.10 server to
    // filter by subject; Debian ships 2.9). It is removed when the iteration ends, or by the
    // server after a minute without a reader.
    const jsm = await this.connection.jetstreamManager({ checkAPI: false });
    const info = await jsm.consumers.add(EVENT_STREAM, { filter_subject: eventSubjects(poolId), ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 60 * 1_000_000_000 });
    const messages = await (await this.connection.jetstream().consumers.get(EVENT_STREAM, info.name)).consume();
    let head = CHAIN_START;
    try {
      for await (const message of messages) {
        const decoded = decodeForwarded(message.data);
        if (E.isLeft(decoded)) {
          yield decoded;
          continue;
        }
        const link = nextLink(head, poolId, decoded.right);
        if (E.isRight(link)) head = link.right;
        if (E.isRight(link) && options.after !== undefined && decoded.right.position <= options.after) continue;
        yield E.isRight(link) ? decoded : link;
      }
    } finally {
      // Not awaited: closing waits out the pull request in flight (up to its 30 s expiry).
      void messages.close().catch(() => undefined);
      await jsm.consumers.delete(EVENT_STREAM, info.name).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.drain();
  }
}
