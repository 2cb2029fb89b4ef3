// Command intake over NATS JetStream. Translation only: messages are decoded with the same codec
// as every intake, checked against the principals file like every intake, and handed to the
// pool's writer.
//
//   ledger.<poolId>.cmd.<principalId>.<type>          commands (stream LEDGER_COMMANDS, Nats-Msg-Id = commandId)
//   ledger.<poolId>.outcome.<principalId>.<commandId> each command's outcome, core NATS, not stored (command ids may
//                                                     hold dots) (also to a Ledger-Reply-To header's subject, which
//                                                     must be in the principal's inbox)
//   ledger.<poolId>.refused.<principalId>.<commandId> a copy of each outcome the log does not record (invalid,
//                                                     forbidden, failed for good): stream LEDGER_OUTCOMES, one per
//                                                     subject, read back by direct get
//   ledger.<poolId>.lookup.<principalId>.<commandId>  a request for the outcome of a command the log records
//                                                     (accepted or rejected): answered from the writer's index of
//                                                     handled commands, to the principal's own inbox, and only for
//                                                     the principal's own commands
//   ledger.<poolId>.dlq                               a copy of every message refused, with its error
//                                                     (stream LEDGER_DLQ, so that none is lost while nobody listens)
//   ledger.<poolId>.ckpt.>                            reserved for the ledger
//
// So a command puts one message into a stream (the command itself) besides its events: its
// outcome travels once, to whoever listens, and a producer that retries after missing it (the
// retry is a duplicate to JetStream) gets it from the lookup or, for a refusal, by direct get.
//
// The principal in the subject is who sent it: the server's permissions (deploy/nats-server.conf)
// let each NATS user publish only under its own principal id, and the intake refuses a principal
// that the principals file does not know, that has no NATS identity, or that may not submit the
// command on the pool.
//
// A message is acknowledged only once its outcome is durable (accepted and appended, or refused).
// Undecodable or refused input is answered, copied to the DLQ and then acknowledged (not
// terminated: nats-server 2.9 ignores a termination with a reason and delivers the message again
// forever). A failure of the store is negatively acknowledged with a growing delay so that
// JetStream delivers the command again later, at most `maxDeliver` times in all: the last
// delivery that still fails goes to the DLQ with the reason. An exception while handling a
// message sends it to the DLQ too, once (the copy's message id is the command's stream sequence).

import type { Logger } from 'pino';
import { AckPolicy, DeliverPolicy, headers as natsHeaders, type ConsumerMessages, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import * as E from 'fp-ts/lib/Either.js';
import { authorize, commandTypes, CorrelationId, decodeCommand, Id, type CommandType, invalidInput, parseJson, type AccessDenied, type InvalidInput } from '../../domain/index.js';
import { grantOf, type Principal, type PrincipalsFile } from '../auth/principals.js';
import { inboxPrefixOf } from './connection.js';
import type { Metrics } from '../metrics.js';
import { encodeOutcome, type Outcome } from '../outcome.js';
import type { PoolRegistry } from '../pools.js';
import { MinuteRate, throttled, type CheckSource } from '../health.js';

export const COMMAND_STREAM = 'LEDGER_COMMANDS';
/** Keeps the outcomes the log does not record (refusals) for a day, for producers that retry or reconnect. */
export const OUTCOME_STREAM = 'LEDGER_OUTCOMES';
/** Keeps every undecodable message for 30 days, for whoever has to find out what went wrong. */
export const DLQ_STREAM = 'LEDGER_DLQ';
export const INTAKE_CONSUMER = 'ledger-intake';
export const REPLY_HEADER = 'Ledger-Reply-To';
export const CORRELATION_HEADER = 'Ledger-Correlation-Id';
export const commandSubject = (poolId: string, principalId: string, type: string): string => `ledger.${poolId}.cmd.${principalId}.${type}`;
export const outcomeSubject = (poolId: string, principalId: string, commandId: string): string => `ledger.${poolId}.outcome.${principalId}.${commandId}`;
/** Where a refusal's outcome is kept (stream LEDGER_OUTCOMES). */
export const refusedSubject = (poolId: string, principalId: string, commandId: string): string => `ledger.${poolId}.refused.${principalId}.${commandId}`;
/** Where a principal asks for the recorded outcome of one of its commands (core NATS request). */
export const lookupSubject = (poolId: string, principalId: string, commandId: string): string => `ledger.${poolId}.lookup.${principalId}.${commandId}`;
/** The lookup's answer for a command the log does not record for that principal (or not yet). */
export const UNKNOWN_COMMAND = 'unknown';
/** Every outcome of one principal (what its NATS user may subscribe to). */
export const outcomeSubjects = (principalId: string): string => `ledger.*.outcome.${principalId}.>`;
export const dlqSubject = (poolId: string): string => `ledger.${poolId}.dlq`;

/** An outcome the intake gives a message from a principal that may not send it. */
export type Refusal = { readonly status: 'forbidden'; readonly commandId?: string; readonly error: AccessDenied };
type IntakeOutcome = Outcome | Refusal;

/** The principals by id, computed once per file (a reloaded file is a new object). */
const byId = new WeakMap<PrincipalsFile, ReadonlyMap<string, Principal>>();
const principalsById = (file: PrincipalsFile): ReadonlyMap<string, Principal> => {
  let map = byId.get(file);
  if (map === undefined) {
    map = new Map(file.principals.map((p) => [p.id, p]));
    byId.set(file, map);
  }
  return map;
};

/** The principal a command subject names, if it may use NATS at all. */
export const natsPrincipal = (file: PrincipalsFile, principalId: string): E.Either<AccessDenied, Principal> => {
  const principal = principalsById(file).get(principalId);
  if (principal === undefined) return E.left({ code: 'FORBIDDEN', message: `unknown principal "${principalId}"` });
  if (principal.nats === undefined) return E.left({ code: 'FORBIDDEN', message: `principal "${principalId}" has no NATS identity` });
  return E.right(principal);
};

/** The command id of a message that may not decode, so that its refusal can name it. */
const commandIdOf = (parsed: E.Either<unknown, unknown>): string | undefined => {
  const json = E.isRight(parsed) ? parsed.right : undefined;
  const id = (json as { commandId?: unknown } | undefined)?.commandId;
  // Only a well-formed id: it becomes part of the outcome's subject.
  return Id.is(id) ? id : undefined;
};

const isCommandType = (type: string): type is CommandType => (commandTypes as ReadonlyArray<string>).includes(type);

const headerProblem = (header: string, message: string): InvalidInput => invalidInput([{ path: `header ${header}`, message }]);

/** How long JetStream waits for an ack before it delivers a command again (after a crash). */
const utf8 = new TextDecoder();

export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Deliveries of one command at most (a store failure is retried until then). */
export const DEFAULT_MAX_DELIVER = 10;
/** Why a message went to the DLQ (its Ledger-Reason header and the metric's label). */
export type DeadLetterReason = 'undecodable' | 'forbidden' | 'exception' | 'max-deliveries';
export const REASON_HEADER = 'Ledger-Reason';
/** The delay before a command the store could not take is delivered again: 1 s, doubling, at most 30 s. */
export const retryDelayMs = (delivery: number): number => Math.min(30_000, 1_000 * 2 ** Math.max(0, Math.min(delivery - 1, 5)));

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
export const ensureCommandStream = async (jsm: JetStreamManager, ackWaitMs = DEFAULT_ACK_WAIT_MS, maxDeliver = DEFAULT_MAX_DELIVER): Promise<void> => {
  await ensureStream(jsm, { name: COMMAND_STREAM, subjects: ['ledger.*.cmd.*.*'], duplicate_window: 10 * 60 * 1_000_000_000 });
  // allow_direct: producers read a stored outcome with a direct get whose subject names the
  // outcome's subject, so the server's permissions can limit each to its own.
  await ensureStream(jsm, { name: OUTCOME_STREAM, subjects: ['ledger.*.refused.*.>'], max_msgs_per_subject: 1, max_age: 24 * 3600 * 1_000_000_000, allow_direct: true });
  await ensureStream(jsm, { name: DLQ_STREAM, subjects: ['ledger.*.dlq'], max_age: 30 * 24 * 3600 * 1_000_000_000 });
  const consumer = { durable_name: INTAKE_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: ackWaitMs * 1_000_000, max_ack_pending: 20_000, max_deliver: maxDeliver };
  try {
    await jsm.consumers.info(COMMAND_STREAM, INTAKE_CONSUMER);
    await jsm.consumers.update(COMMAND_STREAM, INTAKE_CONSUMER, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending, max_deliver: consumer.max_deliver });
  } catch {
    await jsm.consumers.add(COMMAND_STREAM, consumer);
  }
};

export interface NatsIntake {
  /** Stop taking messages and wait for those in hand. */
  stop(): Promise<void>;
  /** Backlog and redeliveries, for readiness. */
  readonly check: CheckSource;
}

export interface IntakeOptions {
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  readonly logger?: Logger;
  /** How often the backlog is read from the consumer's information, ms. */
  readonly backlogPollMs?: number;
}

/**
 * Take commands from JetStream. `principals` is asked for every message, so that a reloaded
 * principals file takes effect at once.
 */
export const startNatsIntake = async (nc: NatsConnection, pools: PoolRegistry, metrics: Metrics, principals: () => PrincipalsFile, options: IntakeOptions = {}): Promise<NatsIntake> => {
  const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
  const logger = options.logger;
  const jsm = await nc.jetstreamManager();
  await ensureCommandStream(jsm, options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS, maxDeliver);
  const consumer = await nc.jetstream().consumers.get(COMMAND_STREAM, INTAKE_CONSUMER);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
  const inHand = new Set<Promise<void>>();

  const publish = (poolId: string, principalId: string, replyTo: string | undefined, outcome: IntakeOutcome) => {
    const body = JSON.stringify(outcome.status === 'forbidden' ? outcome : encodeOutcome(outcome));
    if (outcome.commandId !== undefined) {
      nc.publish(outcomeSubject(poolId, principalId, outcome.commandId), body);
      // The log records accepted and rejected commands (the lookup answers those); the rest is kept here.
      if (outcome.status !== 'accepted' && outcome.status !== 'rejected') nc.publish(refusedSubject(poolId, principalId, outcome.commandId), body);
    }
    if (replyTo !== undefined) nc.publish(replyTo, body);
  };

  const js = nc.jetstream();
  const warnOnce = throttled(10_000);
  const redeliveries = new MinuteRate();
  let backlog: number | undefined;

  /**
   * Store a copy of the message in the DLQ with why, then acknowledge it: it is never delivered
   * again. The copy's message id makes a second copy of the same delivery a duplicate. If the
   * copy cannot be stored, the exception reaches the loop's handler (delivered again later).
   */
  const deadLetter = async (message: JsMsg, reason: DeadLetterReason, error: unknown): Promise<void> => {
    const [, poolId = ''] = message.subject.split('.');
    const copy = natsHeaders();
    copy.set('Ledger-Error', JSON.stringify(error));
    copy.set('Ledger-Subject', message.subject);
    copy.set(REASON_HEADER, reason);
    copy.set('Ledger-Deliveries', String(message.info.redeliveryCount));
    const stored = await js.publish(dlqSubject(poolId), message.data, { headers: copy, msgID: `${COMMAND_STREAM}-${message.info.streamSequence}` });
    message.ack();
    // A redelivery of a message already copied (its ack was lost) is not a second dead letter.
    if (stored.duplicate) return;
    metrics.intakeDlq.inc({ reason });
    warnOnce(`dlq-${reason}`, (held) => logger?.warn({ subject: message.subject, reason, error, deliveries: message.info.redeliveryCount, alsoSinceLastLogged: held }, 'NATS intake: message sent to the dead-letter stream'));
  };

  const refuse = async (poolId: string, principalId: string, message: JsMsg, outcome: IntakeOutcome, replyTo?: string): Promise<void> => {
    publish(poolId, principalId, replyTo, outcome);
    metrics.recordOutcome(outcome, 0);
    await deadLetter(message, outcome.status === 'forbidden' ? 'forbidden' : 'undecodable', outcome.status === 'invalid' || outcome.status === 'forbidden' ? outcome.error : {});
  };

  const handle = async (message: JsMsg): Promise<void> => {
    const [, poolId = '', , principalId = '', type = ''] = message.subject.split('.');
    const principal = natsPrincipal(principals(), principalId);
    if (E.isLeft(principal)) {
      const id = message.data.length > MAX_COMMAND_BYTES ? undefined : commandIdOf(parseJson(utf8.decode(message.data)));
      return refuse(poolId, principalId, message, { status: 'forbidden', ...(id === undefined ? {} : { commandId: id }), error: principal.left });
    }
    // Refused before its body is read when the subject already says it may not be sent (an unknown
    // type is refused by the decoding below).
    if (isCommandType(type)) {
      const allowed = authorize(grantOf(principal.right), { kind: 'command', commandType: type, poolId });
      if (E.isLeft(allowed)) {
        const id = message.data.length > MAX_COMMAND_BYTES ? undefined : commandIdOf(parseJson(utf8.decode(message.data)));
        return refuse(poolId, principalId, message, { status: 'forbidden', ...(id === undefined ? {} : { commandId: id }), error: allowed.left });
      }
    }
    // Replies go only to the principal's own inbox: the ledger's user may publish where the
    // producer may not, and must not be made to publish there on its behalf.
    const replyHeader = message.headers?.get(REPLY_HEADER);
    const replyTo = replyHeader === undefined || replyHeader === '' ? undefined : replyHeader;
    const replyProblem = replyTo === undefined || (replyTo.startsWith(`${inboxPrefixOf(principalId)}.`) && !/[\s*>]/.test(replyTo)) ? undefined
      : headerProblem(REPLY_HEADER, `expected a subject under ${inboxPrefixOf(principalId)}.`);
    const answerTo = replyProblem === undefined ? replyTo : undefined;
    if (message.data.length > MAX_COMMAND_BYTES) {
      return refuse(poolId, principalId, message, { status: 'invalid', error: invalidInput([{ path: '(root)', message: `message of ${message.data.length} bytes, at most ${MAX_COMMAND_BYTES}` }]) }, answerTo);
    }
    const parsed = parseJson(utf8.decode(message.data));
    if (E.isLeft(parsed)) return refuse(poolId, principalId, message, { status: 'invalid', error: parsed.left }, answerTo);
    const json = parsed.right;
    const commandId = commandIdOf(parsed);
    const command = decodeCommand(json);
    if (E.isLeft(command)) return refuse(poolId, principalId, message, { status: 'invalid', ...(commandId === undefined ? {} : { commandId }), error: command.left }, answerTo);
    const id = command.right.commandId;
    if (command.right.poolId !== poolId || command.right.type !== type) {
      return refuse(poolId, principalId, message, {
        status: 'invalid', commandId: id,
        error: invalidInput([{ path: command.right.poolId !== poolId ? 'poolId' : 'type', message: `does not match the subject ${message.subject}` }]),
      }, answerTo);
    }
    if (replyProblem !== undefined) return refuse(poolId, principalId, message, { status: 'invalid', commandId: id, error: replyProblem });
    // JetStream deduplicates by message id: one that is not the command id would let a repeat of
    // the command through to the ledger, and a producer's retry would not be recognized as one.
    const messageId = message.headers?.get('Nats-Msg-Id');
    if (messageId !== undefined && messageId !== '' && messageId !== id) {
      return refuse(poolId, principalId, message, { status: 'invalid', commandId: id, error: headerProblem('Nats-Msg-Id', `expected the command id "${id}" (or no message id)`) }, answerTo);
    }
    const correlation = message.headers?.get(CORRELATION_HEADER);
    const correlationId = correlation === undefined || correlation === '' ? E.right(id) : E.mapLeft(() => headerProblem(CORRELATION_HEADER, 'expected a correlation id (1-128 of letters, digits, \'_\', \'.\', \':\', \'-\', starting with a letter or digit)'))(CorrelationId.decode(correlation));
    if (E.isLeft(correlationId)) return refuse(poolId, principalId, message, { status: 'invalid', commandId: id, error: correlationId.left }, answerTo);
    const started = process.hrtime.bigint();
    let outcome: Outcome;
    try {
      outcome = await (await pools.writer(poolId)).submit({ command: command.right, actor: principalId, correlationId: correlationId.right });
    } catch (error) {
      outcome = { status: 'failed', commandId: id, error: { code: 'STORE_UNAVAILABLE', message: (error as Error).message } };
    }
    metrics.recordOutcome(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    if (outcome.status === 'failed') {
      const delivery = message.info.redeliveryCount;
      logger?.error({ commandId: id, poolId, error: outcome.error, delivery, maxDeliver }, 'NATS intake: the store did not take a command');
      if (delivery < maxDeliver) {
        // Nothing was appended: let JetStream deliver it again, later each time.
        message.nak(retryDelayMs(delivery));
        return;
      }
      // The last delivery: the producer hears of the failure, and the command waits in the DLQ.
      publish(poolId, principalId, answerTo, outcome);
      await deadLetter(message, 'max-deliveries', outcome.error);
      return;
    }
    publish(poolId, principalId, answerTo, outcome);
    message.ack();
  };

  const loop = (async () => {
    for await (const message of messages) {
      // Messages are taken in order and handed to the writers at once, so that group commit can
      // gather them; each writer keeps its pool's order.
      if (message.info.redeliveryCount > 1) {
        metrics.intakeRedeliveries.inc();
        redeliveries.record();
      }
      const done = handle(message).catch(async (error: unknown) => {
        const problem = { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
        logger?.error({ err: error, subject: message.subject, delivery: message.info.redeliveryCount }, 'NATS intake: handling a message failed; it goes to the dead-letter stream');
        try {
          await deadLetter(message, 'exception', problem);
        } catch (failure) {
          // Not even the copy could be stored (NATS is away): delivered again later, at most maxDeliver times.
          logger?.error({ err: failure, subject: message.subject }, 'NATS intake: could not store a dead letter; the message will be delivered again');
          message.nak(retryDelayMs(message.info.redeliveryCount));
        }
      });
      inHand.add(done);
      void done.finally(() => inHand.delete(done));
    }
  })();

  // Lookups: the recorded outcome of a principal's own command, to the principal's own inbox.
  const lookups = nc.subscribe('ledger.*.lookup.*.>');
  const lookingUp = (async () => {
    for await (const request of lookups) {
      const [, poolId = '', , principalId = '', ...rest] = request.subject.split('.');
      const commandId = rest.join('.');
      const replyTo = request.reply;
      // The server lets each principal publish only its own lookups; the reply must go to its own inbox.
      if (replyTo === undefined || !replyTo.startsWith(`${inboxPrefixOf(principalId)}.`) || /[\s*>]/.test(replyTo) || E.isLeft(natsPrincipal(principals(), principalId)) || !Id.is(poolId) || !Id.is(commandId)) {
        warnOnce('lookup', (held) => logger?.warn({ subject: request.subject, alsoSinceLastLogged: held }, 'NATS intake: lookup refused (unknown principal, bad pool or command id, or a reply subject outside the principal\'s inbox)'));
        continue;
      }
      const done = pools.recordedOutcome(poolId, commandId, principalId).then(
        (outcome) => nc.publish(replyTo, JSON.stringify(outcome === undefined ? { status: UNKNOWN_COMMAND, commandId } : encodeOutcome(outcome))),
        (error: unknown) => nc.publish(replyTo, JSON.stringify({ status: 'failed', commandId, error: { code: 'STORE_UNAVAILABLE', message: error instanceof Error ? error.message : String(error) } })),
      );
      inHand.add(done);
      void done.finally(() => inHand.delete(done));
    }
  })();

  // The backlog, from the consumer's information (pending and unacknowledged), for readiness and the metric.
  const poll = setInterval(() => {
    void jsm.consumers.info(COMMAND_STREAM, INTAKE_CONSUMER).then((info) => {
      backlog = info.num_pending + info.num_ack_pending;
      metrics.intakeBacklog.set(backlog);
    }, (error: unknown) => warnOnce('backlog', () => logger?.warn({ err: error }, 'NATS intake: cannot read the consumer\'s backlog')));
  }, options.backlogPollMs ?? 5_000);
  poll.unref();

  const check: CheckSource = (now, limits) => {
    const rate = redeliveries.perMinute(now);
    const details = { backlog: backlog ?? null, redeliveriesPerMinute: rate };
    if (backlog !== undefined && backlog > limits.intakeMaxBacklog) return { ok: false, reason: `${backlog} commands wait for the intake (at most ${limits.intakeMaxBacklog})`, ...details };
    if (rate > limits.intakeMaxRedeliveriesPerMinute) {
      warnOnce('storm', () => logger?.warn(details, 'NATS intake: redelivery storm'));
      return { ok: false, reason: `${rate} redeliveries in the last minute (at most ${limits.intakeMaxRedeliveriesPerMinute})`, ...details };
    }
    return { ok: true, ...details };
  };

  return {
    check,
    stop: async () => {
      clearInterval(poll);
      // Bounded: with the server away, closing the pull would wait for it.
      let timer: NodeJS.Timeout | undefined;
      lookups.unsubscribe();
      await Promise.race([Promise.all([messages.close(), loop, lookingUp]), new Promise((resolve) => { timer = setTimeout(resolve, 2_000); })]);
      clearTimeout(timer);
      await Promise.all(inHand);
    },
  };
};
