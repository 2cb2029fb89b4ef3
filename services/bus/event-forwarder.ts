// The event forwarder: publishes every pool event of the log, in log order, to NATS JetStream as
// `ledger.<poolId>.evt.<EventType>` (stream LEDGER_EVENTS). Translation only.
//
// Its checkpoint is the stream itself: every message carries its log position in a header, so on
// start the forwarder reads the last message and resumes after that position. Publishes are
// awaited one after another, so the stream always holds an unbroken prefix of the log; the
// message id is the event id, so a publish repeated after a crash (or a timed-out ack) is dropped
// by JetStream's duplicate window instead of delivered twice.

import type { JetStreamManager, NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';
import type { EventStore, StoredEvent, Subscription } from '../ledger/event-store.js';
import { poolOf } from '../../projections/runner.js';
import { ensureStream } from './nats-intake.js';

export const EVENT_STREAM = 'LEDGER_EVENTS';
export const POSITION_HEADER = 'Ledger-Position';
export const eventSubject = (poolId: string, type: string): string => `ledger.${poolId}.evt.${type}`;
export const eventSubjects = (poolId: string): string => `ledger.${poolId}.evt.*`;

/** What a forwarded event's body holds: the event as stored, amounts as decimal strings. */
export const forwardedBody = (event: StoredEvent, poolId: string) => ({
  poolId,
  position: event.position.toString(),
  revision: event.revision.toString(),
  eventId: event.eventId,
  event: event.data,
  metadata: event.metadata,
});

export const ensureEventStream = (jsm: JetStreamManager): Promise<void> =>
  ensureStream(jsm, { name: EVENT_STREAM, subjects: ['ledger.*.evt.*'], duplicate_window: 10 * 60 * 1_000_000_000 });

/** The log position of the last event in the stream, or 'start' when it holds none. */
export const forwardedUpTo = async (jsm: JetStreamManager): Promise<bigint | 'start'> => {
  const info = await jsm.streams.info(EVENT_STREAM);
  if (info.state.messages === 0) return 'start';
  const last = await jsm.streams.getMessage(EVENT_STREAM, { seq: info.state.last_seq });
  const position = last.header.get(POSITION_HEADER);
  if (!/^[0-9]+$/.test(position)) throw new Error(`the last message of ${EVENT_STREAM} has no ${POSITION_HEADER} header`);
  return BigInt(position);
};

export interface EventForwarder {
  /** The log position of the last event published (and acknowledged by JetStream). */
  forwarded(): bigint | 'start';
  stop(): Promise<void>;
}

export const startEventForwarder = async (nc: NatsConnection, events: EventStore, onError: (error: Error) => void): Promise<EventForwarder> => {
  const jsm = await nc.jetstreamManager();
  await ensureEventStream(jsm);
  const js = nc.jetstream();
  let upTo = await forwardedUpTo(jsm);
  let stopped = false;

  const forward = async (event: StoredEvent): Promise<void> => {
    const poolId = poolOf(event);
    if (poolId === undefined) return;
    const h = natsHeaders();
    h.set(POSITION_HEADER, event.position.toString());
    h.set('Ledger-Event-Type', event.type);
    h.set('Ledger-Command-Id', event.metadata.commandId);
    h.set('Ledger-Correlation-Id', event.metadata.correlationId);
    const body = JSON.stringify(forwardedBody(event, poolId));
    // Keep trying this event (never skip to the next one) until JetStream has it or we stop:
    // a gap in the stream would be a gap in every consumer's view of the ledger.
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await js.publish(eventSubject(poolId, event.type), body, { msgID: event.eventId, headers: h });
        upTo = event.position;
        return;
      } catch (error) {
        onError(error as Error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  };

  const subscription: Subscription = events.subscribeAll({ after: upTo, onEvent: forward, onError: (error) => onError(error instanceof Error ? error : new Error(JSON.stringify(error))) });
  return {
    forwarded: () => upTo,
    stop: async () => {
      stopped = true;
      await subscription.stop();
    },
  };
};
