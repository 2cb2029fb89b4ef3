// Command intake over NATS JetStream (DESIGN section 7). Translation only: messages are decoded
// with the same codec as every intake and handed to the pool's writer.
//
//   ledger.<poolId>.cmd.<type>          commands (stream LEDGER_COMMANDS, Nats-Msg-Id = commandId)
//   ledger.<poolId>.outcome.<commandId> each command's outcome (also to a Ledger-Reply-To header's subject)
//   ledger.<poolId>.dlq                 a copy of every message that could not be decoded, with its error
//                                       (stream LEDGER_DLQ, so that none is lost while nobody listens)
//
// A message is acknowledged only once its outcome is durable (accepted and appended, or refused).
// Undecodable input is answered, copied to the DLQ and terminated: never redelivered. A failure
// of the store is negatively acknowledged so that JetStream delivers the command again later.

import { AckPolicy, DeliverPolicy, headers as natsHeaders, type ConsumerMessages, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand, invalidInput, parseJson } from '../../domain/index.js';
import type { Metrics } from '../metrics.js';
import { encodeOutcome, type Outcome } from '../outcome.js';
import type { PoolRegistry } from '../pools.js';

export const COMMAND_STREAM = 'LEDGER_COMMANDS';
/** Keeps the last outcome of every command for a day, for producers that retry or reconnect. */
export const OUTCOME_STREAM = 'LEDGER_OUTCOMES';
/** Keeps every undecodable message for 30 days, for whoever has to find out what went wrong. */
export const DLQ_STREAM = 'LEDGER_DLQ';
export const INTAKE_CONSUMER = 'ledger-intake';
export const REPLY_HEADER = 'Ledger-Reply-To';
export const commandSubject = (poolId: string, type: string): string => `ledger.${poolId}.cmd.${type}`;
export const outcomeSubject = (poolId: string, commandId: string): string => `ledger.${poolId}.outcome.${commandId}`;
export const dlqSubject = (poolId: string): string => `ledger.${poolId}.dlq`;

/** How long JetStream waits for an ack before it delivers a command again (after a crash). */
const utf8 = new TextDecoder();

export const DEFAULT_ACK_WAIT_MS = 30_000;

/** Largest command accepted, bytes (larger ones are answered and sent to the DLQ). */
export const MAX_COMMAND_BYTES = 256 * 1024;

/** Create the stream, or bring an existing one to this configuration. */
export const ensureStream = async (jsm: JetStreamManager, config: { readonly name: string; readonly subjects: string[] } & Record<string, unknown>): Promise<void> => {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch {
    await jsm.streams.add(config);
  }
};

/** Create or update the command and outcome streams and the durable intake consumer. */
export const ensureCommandStream = async (jsm: JetStreamManager, ackWaitMs = DEFAULT_ACK_WAIT_MS): Promise<void> => {
  await ensureStream(jsm, { name: COMMAND_STREAM, subjects: ['ledger.*.cmd.*'], duplicate_window: 10 * 60 * 1_000_000_000 });
  await ensureStream(jsm, { name: OUTCOME_STREAM, subjects: ['ledger.*.outcome.*'], max_msgs_per_subject: 1, max_age: 24 * 3600 * 1_000_000_000 });
  await ensureStream(jsm, { name: DLQ_STREAM, subjects: ['ledger.*.dlq'], max_age: 30 * 24 * 3600 * 1_000_000_000 });
  const consumer = { durable_name: INTAKE_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: ackWaitMs * 1_000_000, max_ack_pending: 10_000 };
  try {
    await jsm.consumers.info(COMMAND_STREAM, INTAKE_CONSUMER);
    await jsm.consumers.update(COMMAND_STREAM, INTAKE_CONSUMER, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
  } catch {
    await jsm.consumers.add(COMMAND_STREAM, consumer);
  }
};

export interface NatsIntake {
  /** Stop taking messages and wait for those in hand. */
  stop(): Promise<void>;
}

export const startNatsIntake = async (nc: NatsConnection, pools: PoolRegistry, metrics: Metrics, ackWaitMs = DEFAULT_ACK_WAIT_MS): Promise<NatsIntake> => {
  const jsm = await nc.jetstreamManager();
  await ensureCommandStream(jsm, ackWaitMs);
  const consumer = await nc.jetstream().consumers.get(COMMAND_STREAM, INTAKE_CONSUMER);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 1_000 });
  const inHand = new Set<Promise<void>>();

  const publish = (poolId: string, message: JsMsg, outcome: Outcome & { readonly commandId?: string }) => {
    const body = JSON.stringify(encodeOutcome(outcome));
    if (outcome.commandId !== undefined) nc.publish(outcomeSubject(poolId, outcome.commandId), body);
    const replyTo = message.headers?.get(REPLY_HEADER);
    if (replyTo !== undefined && replyTo !== '') nc.publish(replyTo, body);
  };

  const js = nc.jetstream();
  const refuse = async (poolId: string, message: JsMsg, outcome: Outcome): Promise<void> => {
    publish(poolId, message, outcome);
    const copy = natsHeaders();
    copy.set('Ledger-Error', JSON.stringify(outcome.status === 'invalid' ? outcome.error : {}));
    copy.set('Ledger-Subject', message.subject);
    // Terminated only once the copy is stored; if storing fails, the handler's catch redelivers.
    await js.publish(dlqSubject(poolId), message.data, { headers: copy });
    metrics.recordOutcome(outcome, 0);
    message.term('undecodable');
  };

  const handle = async (message: JsMsg): Promise<void> => {
    const [, poolId = '', , type = ''] = message.subject.split('.');
    if (message.data.length > MAX_COMMAND_BYTES) {
      return refuse(poolId, message, { status: 'invalid', error: invalidInput([{ path: '(root)', message: `message of ${message.data.length} bytes, at most ${MAX_COMMAND_BYTES}` }]) });
    }
    const parsed = parseJson(utf8.decode(message.data));
    if (E.isLeft(parsed)) return refuse(poolId, message, { status: 'invalid', error: parsed.left });
    const json = parsed.right;
    const commandId = typeof (json as { commandId?: unknown })?.commandId === 'string' ? (json as { commandId: string }).commandId : undefined;
    const command = decodeCommand(json);
    if (E.isLeft(command)) return refuse(poolId, message, { status: 'invalid', ...(commandId === undefined ? {} : { commandId }), error: command.left });
    if (command.right.poolId !== poolId || command.right.type !== type) {
      return refuse(poolId, message, {
        status: 'invalid', commandId: command.right.commandId,
        error: invalidInput([{ path: command.right.poolId !== poolId ? 'poolId' : 'type', message: `does not match the subject ${message.subject}` }]),
      });
    }
    const started = process.hrtime.bigint();
    let outcome: Outcome;
    try {
      outcome = await (await pools.writer(poolId)).submit({ command: command.right, actor: 'nats', correlationId: message.headers?.get('Ledger-Correlation-Id') || command.right.commandId });
    } catch (error) {
      outcome = { status: 'failed', commandId: command.right.commandId, error: { code: 'STORE_UNAVAILABLE', message: (error as Error).message } };
    }
    metrics.recordOutcome(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    if (outcome.status === 'failed') {
      // Nothing was appended: let JetStream deliver it again in a moment.
      message.nak(1_000);
      return;
    }
    publish(poolId, message, outcome);
    message.ack();
  };

  const loop = (async () => {
    for await (const message of messages) {
      // Messages are taken in order and handed to the writers at once, so that group commit can
      // gather them; each writer keeps its pool's order.
      const done = handle(message).catch(() => message.nak(1_000));
      inHand.add(done);
      void done.finally(() => inHand.delete(done));
    }
  })();

  return {
    stop: async () => {
      await messages.close();
      await loop;
      await Promise.all(inHand);
    },
  };
};
