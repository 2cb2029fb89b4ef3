// NATS intake against a real nats-server started by the test with the shipped configuration
// (free port, JetStream, a temporary store, a password per user): the producer clients (one per
// role), duplicates, the reply header, and malformed messages.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { connect, headers, type NatsConnection } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { LedgerClient } from '../../services/bus/client.js';
import { EVENT_STREAM } from '../../services/bus/event-forwarder.js';
import { commandSubject, DLQ_STREAM, dlqSubject, OUTCOME_STREAM, outcomeSubject, REPLY_HEADER } from '../../services/bus/nats-intake.js';
import { inboxPrefixOf } from '../../services/bus/connection.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { startService, type RunningService } from '../../services/service.js';
import { NatsServer, natsServerMissing } from '../support/nats-server.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { authOf, natsPasswords, passwordVariable, principalsFor, producers, startSecuredNats, writeTestPrincipals } from '../support/secured-nats.js';
import { decodeCommand, type Command } from '../../domain/index.js';
import { eventIdOf } from '../../services/ledger/chain.js';

// `.ci/run` installs nats-server when it is missing; where that failed, say so rather than pass.
const missing = natsServerMissing();
if (missing !== undefined) console.log(`NATS suites skipped: ${missing}.`);

const dir = mkdtempSync(join(tmpdir(), 'ledger-nats-'));
const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
const commands = lines.map((l) => decodeCommand(JSON.parse(l))).filter(E.isRight).map((c) => c.right as Command);
let natsServer: NatsServer;
let url: string;
let service: RunningService;
let client: Awaited<ReturnType<typeof producers>>;
let reader: LedgerClient;
/** The ledger's own user (the only one that may publish anything on any command subject and read the DLQ). */
let raw: NatsConnection;
const passwords = natsPasswords();

const startLedger = () => startService({
  port: 0, host: '127.0.0.1', logLevel: 'silent', store: { kind: 'sqlite', path: join(dir, 'events.sqlite') }, natsUrl: url, rootGovernors: exampleRootGovernors,
  nats: { auth: authOf(passwords, 'ledger'), inboxPrefix: inboxPrefixOf('ledger') },
}, pino({ level: 'silent' }));

beforeAll(async () => {
  if (missing !== undefined) return;
  natsServer = await startSecuredNats(dir, passwords);
  url = natsServer.url;
  writeTestPrincipals(join(dir, 'principals.json'), principalsFor());
  service = await startLedger();
  client = await producers(url, passwords);
  reader = await LedgerClient.connect(url, { principalId: 'reader', auth: authOf(passwords, 'reader') });
  raw = await connect({ servers: url, user: 'ledger', pass: passwords[passwordVariable('ledger')]!, inboxPrefix: inboxPrefixOf('ledger') });
});

afterAll(async () => {
  await client?.close();
  await reader?.close();
  await raw?.close();
  await service?.stop();
  await natsServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const logged = async (commandId: string) => {
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  const read = await store.readStream(poolStream('main'), 0n, 100_000);
  await store.close();
  return E.isRight(read) ? read.right.filter((e) => e.metadata.commandId === commandId) : [];
};

describe.skipIf(missing !== undefined)('NATS intake', () => {
  it('takes commands from the producer client and answers each with its outcome', async () => {
    const outcomes = [];
    for (const command of commands) outcomes.push(await client.submit(command));
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'rejected']);
    expect(outcomes[5]).toMatchObject({ commandId: 'me-1', events: [{ type: 'TradeExecuted', price: '30000', takerFee: '15' }] });
    expect(outcomes[9]).toMatchObject({ error: { code: 'INSUFFICIENT_MARGIN', field: 'taker' } });
  });

  it('applies a command published twice once: by message id, and by command id', async () => {
    const deposit: Command = { type: 'Deposit', schemaVersion: 1, commandId: 'twice', poolId: 'main', accountId: 'erin', amount: 10n ** 18n };
    const first = await client.submit(deposit);
    const again = await client.submit(deposit);
    expect(first.status).toBe('accepted');
    expect(again.status).toBe('accepted');
    // the same command id without a message id (JetStream cannot see the repeat; a message id
    // other than the command id is refused): the ledger's own idempotency
    const js = raw.jetstream();
    const outcome = raw.subscribe(outcomeSubject('main', 'custody', 'twice'), { max: 1 });
    await js.publish(commandSubject('main', 'custody', 'Deposit'), JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'twice', poolId: 'main', accountId: 'erin', amount: '1' }));
    for await (const m of outcome) expect(JSON.parse(new TextDecoder().decode(m.data))).toMatchObject({ status: 'accepted', deduplicated: true });
    expect(await logged('twice')).toHaveLength(1);
  });

  it('sends the outcome to the subject in the Ledger-Reply-To header too', async () => {
    // The custody producer's own connection: replies go only to its own inbox.
    const custody = (await client.clientOf('custody')).connection;
    const inbox = custody.subscribe(`${inboxPrefixOf('custody')}.my-reply`, { max: 1 });
    const h = headers();
    h.set(REPLY_HEADER, `${inboxPrefixOf('custody')}.my-reply`);
    await custody.jetstream().publish(commandSubject('main', 'custody', 'Deposit'), JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'with-reply', poolId: 'main', accountId: 'frank', amount: '3' }), { msgID: 'with-reply', headers: h });
    for await (const m of inbox) expect(JSON.parse(new TextDecoder().decode(m.data))).toMatchObject({ status: 'accepted', commandId: 'with-reply' });
  });

  it.each([
    ['not JSON', 'Deposit', '{"type": "Deposit",', '(root)'],
    ['wrong types', 'Deposit', JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'bad-types', poolId: 'main', accountId: 7, amount: '1' }), 'accountId'],
    ['an unknown type', 'Steal', JSON.stringify({ type: 'Steal', schemaVersion: 1, commandId: 'bad-type', poolId: 'main' }), 'type'],
    ['bad decimals', 'Deposit', JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'bad-decimal', poolId: 'main', accountId: 'a', amount: '1e3' }), 'amount'],
    ['a huge payload', 'Deposit', JSON.stringify({ type: 'Deposit', padding: 'x'.repeat(300_000) }), '(root)'],
  ])('answers %s with an error, copies it to the DLQ, and appends nothing', async (_what, type, body, path) => {
    const dlq = raw.subscribe(dlqSubject('main'), { max: 1 });
    const copy = (async () => { for await (const m of dlq) return m; return undefined; })();
    await raw.jetstream().publish(commandSubject('main', 'custody', type), body, { msgID: `bad-${Math.random()}` });
    const message = await copy;
    expect(new TextDecoder().decode(message!.data)).toBe(body);
    expect(JSON.parse(message!.headers!.get('Ledger-Error'))).toMatchObject({ code: 'INVALID_INPUT', errors: [{ path }] });
    const id = (() => { try { return (JSON.parse(body) as { commandId?: string }).commandId; } catch { return undefined; } })();
    if (id !== undefined) expect(await logged(id)).toHaveLength(0);
  });

  it('keeps the DLQ copies in a stream, for when nobody was listening', async () => {
    const info = await (await raw.jetstreamManager()).streams.info(DLQ_STREAM);
    expect(info.state.messages).toBe(5);
  });

  it('stores no accepted or rejected outcome: a producer that missed one gets it from the lookup, a refusal by direct get', async () => {
    const custody = await client.clientOf('custody');
    const jsm = await raw.jetstreamManager();
    const storedOutcomes = async () => (await jsm.streams.info(OUTCOME_STREAM)).state.messages;
    const before = await storedOutcomes();
    // Published with nobody listening for its outcome (a producer that crashed before reading it).
    const body = JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'missed-1', poolId: 'main', accountId: 'erin', amount: '2' });
    await custody.connection.jetstream().publish(commandSubject('main', 'custody', 'Deposit'), body, { msgID: 'missed-1' });
    for (let i = 0; i < 200 && (await logged('missed-1')).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await storedOutcomes()).toBe(before);
    expect(await custody.recordedOutcome('main', 'missed-1')).toMatchObject({ status: 'accepted', commandId: 'missed-1', events: [{ type: 'CollateralDeposited', amount: '2' }] });
    // an invalid command's outcome is not in the log: it is kept in LEDGER_OUTCOMES
    const invalid = JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'missed-2', poolId: 'main', accountId: 'erin', amount: '-1' });
    await custody.connection.jetstream().publish(commandSubject('main', 'custody', 'Deposit'), invalid, { msgID: 'missed-2' });
    for (let i = 0; i < 200 && (await storedOutcomes()) === before; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await custody.recordedOutcome('main', 'missed-2')).toMatchObject({ status: 'invalid', commandId: 'missed-2' });
    // not known at all
    expect(await custody.recordedOutcome('main', 'never-sent')).toBeUndefined();
  });
});

const poolEvents = async () => {
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  const read = await store.readStream(poolStream('main'), 0n, 100_000);
  await store.close();
  if (E.isLeft(read)) throw new Error(`log unreadable: ${JSON.stringify(read.left)}`);
  return read.right;
};
const streamed = async () => (await (await raw.jetstreamManager()).streams.info(EVENT_STREAM)).state.messages;
const describe_ = async () => `${await streamed()} in the stream, ${(await poolEvents()).length} in the log`;
const eventually = async (check: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${await describe_()}`);
};
const deposit = (commandId: string, amount: string) =>
  decodeCommand({ type: 'Deposit', schemaVersion: 1, commandId, poolId: 'main', accountId: 'frank', amount }) as E.Right<Command>;

describe.skipIf(missing !== undefined)('NATS event forwarder', () => {
  it('publishes every pool event in log order, and the client decodes them to domain types', async () => {
    const log = await poolEvents();
    await eventually(async () => (await streamed()) === log.length, 'the forwarder to catch up');
    const received = [];
    for await (const item of reader.events('main')) {
      expect(E.isRight(item)).toBe(true);
      if (E.isRight(item)) received.push(item.right);
      if (received.length === log.length) break;
    }
    expect(received.map((e) => [e.position, e.eventId, e.event.type])).toEqual(log.map((e) => [e.position, eventIdOf(e.hash), e.type]));
    const trade = received.find((e) => e.event.type === 'TradeExecuted');
    expect(trade?.event).toMatchObject({ type: 'TradeExecuted', takerFee: 15n * 10n ** 18n });
    expect(trade?.metadata.commandId).toBe('me-1');
  });

  it('resumes after a restart of the service without repeating or skipping an event', async () => {
    await service.stop();
    // Submitted while the service is down: the command waits in JetStream for the intake.
    const submitted = client.submit(deposit('after-restart', '4').right, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    service = await startLedger();
    expect((await submitted).status).toBe('accepted');
    const log = await poolEvents();
    await eventually(async () => (await streamed()) === log.length, 'the forwarder to catch up');
    const after = log[log.length - 2]!.position;
    for await (const item of reader.events('main', { after })) {
      expect(E.isRight(item) && item.right.event.type).toBe('CollateralDeposited');
      expect(E.isRight(item) && item.right.metadata.commandId).toBe('after-restart');
      break;
    }
  });

  it('carries on when the NATS server restarts: commands are taken and events forwarded again', async () => {
    await natsServer.stop('SIGKILL');
    await natsServer.restart();
    const outcome = await client.submit(deposit('after-nats-restart', '5').right, { timeoutMs: 2_000, attempts: 10 });
    expect(outcome).toMatchObject({ status: 'accepted', commandId: 'after-nats-restart' });
    expect(await logged('after-nats-restart')).toHaveLength(1);
    const log = await poolEvents();
    await eventually(async () => (await streamed()) === log.length, 'the forwarder to catch up');
  });
});
