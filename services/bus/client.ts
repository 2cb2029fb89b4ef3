// The producer client: submit a command over NATS and wait for its outcome. Retries publish the
// same command id as the message id, so JetStream's duplicate window (and the ledger's own
// idempotency) make a retry safe.

import { AckPolicy, connect, DeliverPolicy, type NatsConnection, type PubAck } from 'nats';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeEvent, decodeWith, encodeCommand, encodeEvent, parseJson, type Command, type Event, type InvalidInput } from '../../domain/index.js';
import { EventMetadataCodec, logIndex, type EventMetadata } from '../ledger/event-store.js';
import { EVENT_STREAM, eventSubjects } from './event-forwarder.js';
import { commandSubject, OUTCOME_STREAM, outcomeSubject } from './nats-intake.js';

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
  t.type({ status: t.keyof({ accepted: null, rejected: null, invalid: null, failed: null }) }),
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
  readonly eventId: string;
  readonly event: Event;
  readonly metadata: EventMetadata;
}
const ForwardedEventCodec = t.type({
  poolId: t.string,
  position: logIndex('Position'),
  revision: logIndex('Revision'),
  eventId: t.string,
  event: EventFromWire,
  metadata: EventMetadataCodec,
}, 'ForwardedEvent');

export class LedgerClient {
  private constructor(readonly connection: NatsConnection) {}

  static async connect(servers: string | string[]): Promise<LedgerClient> {
    return new LedgerClient(await connect({ servers, reconnect: true, maxReconnectAttempts: -1 }));
  }

  /** Publish the command and resolve with its outcome; retries with the same id on a timeout. */
  async submit(command: Command, options: { readonly timeoutMs?: number; readonly attempts?: number } = {}): Promise<WireOutcome> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const attempts = options.attempts ?? 3;
    const subscription = this.connection.subscribe(outcomeSubject(command.poolId, command.commandId), { max: 1 });
    const outcome = (async () => {
      for await (const message of subscription) {
        const decoded = decodeMessage(WireOutcomeCodec, message.data);
        // A value, not a throw: this promise may settle while nobody awaits it.
        return E.isRight(decoded) ? decoded.right : { status: 'failed' as const, commandId: command.commandId, error: { code: 'MALFORMED_OUTCOME', message: decoded.left.message } };
      }
      return undefined;
    })();
    const js = this.connection.jetstream();
    const subject = outcomeSubject(command.poolId, command.commandId);
    // A command published before (JetStream drops the repeat) was answered then: read that outcome.
    const stored = async (): Promise<WireOutcome | undefined> => {
      try {
        const jsm = await this.connection.jetstreamManager();
        const message = await jsm.streams.getMessage(OUTCOME_STREAM, { last_by_subj: subject });
        const decoded = decodeMessage(WireOutcomeCodec, message.data);
        return E.isRight(decoded) ? decoded.right : undefined;
      } catch {
        return undefined;
      }
    };
    const body = JSON.stringify(encodeCommand(command));
    try {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let ack: PubAck;
        try {
          ack = await js.publish(commandSubject(command.poolId, command.type), body, { msgID: command.commandId });
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
   * Follow a pool's events, in log order, from the first one after `after` (a log position).
   * Each is decoded with the event codecs; one that does not decode comes as a Left naming the
   * bad field, in its place, rather than ending the iteration.
   */
  async *events(poolId: string, options: { readonly after?: bigint } = {}): AsyncGenerator<E.Either<InvalidInput, ForwardedEvent>> {
    // An ephemeral pull consumer of its own (JetStream's ordered consumers need a 2.10 server to
    // filter by subject; Debian ships 2.9). It is removed when the iteration ends, or by the
    // server after a minute without a reader.
    const jsm = await this.connection.jetstreamManager();
    const info = await jsm.consumers.add(EVENT_STREAM, { filter_subject: eventSubjects(poolId), ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 60 * 1_000_000_000 });
    const messages = await (await this.connection.jetstream().consumers.get(EVENT_STREAM, info.name)).consume();
    try {
      for await (const message of messages) {
        const decoded = decodeMessage(ForwardedEventCodec, message.data);
        if (E.isRight(decoded) && options.after !== undefined && decoded.right.position <= options.after) continue;
        yield decoded;
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
