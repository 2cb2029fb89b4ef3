// The bus cannot wedge the ledger, nor the ledger the bus, against a real nats-server (the
// machine's 2.9.10) running the shipped configuration: a flood of junk does not hold up a valid
// command and nothing refused is delivered twice; an exception while handling a message sends it
// to the DLQ once; a bus that holds another log's history (a store reset, a forged event) is
// refused at start, naming the recovery command, and the command works; an event NATS will not
// take is retried, logged and counted; and a service whose NATS server died ends on SIGTERM
// within its bound.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import pino, { type Logger } from 'pino';
import { connect, headers, type NatsConnection } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { inboxPrefixOf } from '../../services/bus/connection.js';
import { EVENT_STREAM, eventSubject, POSITION_HEADER, RECOVERY_COMMAND } from '../../services/bus/event-forwarder.js';
import { COMMAND_STREAM, commandSubject, DLQ_STREAM, OUTCOME_STREAM, INTAKE_CONSUMER, REASON_HEADER, startNatsIntake } from '../../services/bus/nats-intake.js';
import { addPrincipal, writePrincipals } from '../../services/auth/principals.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { Metrics } from '../../services/metrics.js';
import { PoolRegistry } from '../../services/pools.js';
import { startService, type RunningService } from '../../services/service.js';
import { decodeCommand, type Command } from '../../domain/index.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { exited, freePort, listening, natsServerMissing } from '../support/nats-server.js';
import { capture, eventually, sleep } from '../support/waiting.js';
import { authOf, ledgerEnv, natsPasswords, passwordVariable, principalsFor, producers, startSecuredNats } from '../support/secured-nats.js';

const missing = natsServerMissing();
if (missing !== undefined) console.log(`NATS resilience suite skipped: ${missing}.`);

const createPool = (decodeCommand(JSON.parse(readFileSync('examples/trading.jsonl', 'utf8').split('\n')[0]!)) as E.Right<Command>).right;
const deposit = (commandId: string, amount = '5'): Command => (decodeCommand({ type: 'Deposit', schemaVersion: 1, commandId, poolId: 'main', accountId: 'alice', amount }) as E.Right<Command>).right;

/** A nats-server with the shipped configuration, a principals file with an operator token, and the service's setup. */
const bus = async (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `ledger-nats-${name}-`));
  const passwords = natsPasswords();
  const server = await startSecuredNats(dir, passwords);
  const added = addPrincipal(principalsFor(), { id: 'ops', roles: ['operator'], pools: ['*'] });
  if (E.isLeft(added)) throw new Error(added.left.message);
  writePrincipals(join(dir, 'principals.json'), added.right.file);
  const opened: NatsConnection[] = [];
  const ledger = async () => {
    const nc = await connect({ servers: server.url, user: 'ledger', pass: passwords[passwordVariable('ledger')]!, inboxPrefix: inboxPrefixOf('ledger') });
    opened.push(nc);
    return nc;
  };
  const start = (logger: Logger = pino({ level: 'silent' })): Promise<RunningService> => startService({
    port: 0, host: '127.0.0.1', logLevel: 'info', store: { kind: 'sqlite', path: join(dir, 'events.sqlite') }, natsUrl: server.url, natsAckWaitMs: 1_000,
    rootGovernors: exampleRootGovernors, nats: { auth: authOf(passwords, 'ledger'), inboxPrefix: inboxPrefixOf('ledger') },
  }, logger);
  const client = await producers(server.url, passwords);
  const poolEvents = async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    const read = await store.readStream(poolStream('main'), 0n, 100_000);
    await store.close();
    return E.isRight(read) ? read.right : [];
  };
  const close = async () => {
    await client.close().catch(() => undefined);
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, passwords, server, ledger, start, client, poolEvents, close, token: added.right.token };
};
type Bus = Awaited<ReturnType<typeof bus>>;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const dlqMessages = async (nc: NatsConnection) => (await (await nc.jetstreamManager()).streams.info(DLQ_STREAM)).state.messages;

describe.skipIf(missing !== undefined)('NATS intake under junk', () => {
  let b: Bus;
  let service: RunningService;

  it('takes a valid deposit within seconds after 10,000 junk messages, and delivers none of them twice', async () => {
    b = await bus('junk');
    cleanups.push(() => b.close());
    service = await b.start();
    cleanups.push(() => service.stop());
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    const custody = (await b.client.clientOf('custody')).connection;
    for (let i = 0; i < 10_000; i++) custody.publish(commandSubject('main', 'custody', 'Deposit'), 'x');
    await custody.flush();
    const started = Date.now();
    const outcome = await b.client.submit(deposit('after-junk'), { timeoutMs: 20_000, attempts: 1 });
    const seconds = (Date.now() - started) / 1000;
    expect(outcome).toMatchObject({ status: 'accepted', commandId: 'after-junk' });
    expect(seconds).toBeLessThan(15);
    const ledger = await b.ledger();
    // Three ack waits later: each junk message is in the DLQ once, and none is pending or redelivered.
    await eventually(async () => ((await dlqMessages(ledger)) >= 10_000 ? true : undefined), 'the DLQ copies', 400);
    await sleep(3_000);
    expect(await dlqMessages(ledger)).toBe(10_000);
    const consumer = await (await ledger.jetstreamManager()).consumers.info(COMMAND_STREAM, INTAKE_CONSUMER);
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_redelivered).toBe(0);
    expect(consumer.num_pending).toBe(0);
  }, 90_000);

  it('dead-letters a deeply nested message exactly once', async () => {
    const ledger = await b.ledger();
    const before = await dlqMessages(ledger);
    const body = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const custody = (await b.client.clientOf('custody')).connection;
    await custody.jetstream().publish(commandSubject('main', 'custody', 'Deposit'), body);
    await eventually(async () => ((await dlqMessages(ledger)) > before ? true : undefined), 'the DLQ copy');
    await sleep(3_000);
    expect(await dlqMessages(ledger)).toBe(before + 1);
    const copy = await (await ledger.jetstreamManager()).streams.getMessage(DLQ_STREAM, { last_by_subj: 'ledger.main.dlq' });
    expect(copy.header.get(REASON_HEADER)).toBe('undecodable');
    expect(JSON.parse(copy.header.get('Ledger-Error'))).toMatchObject({ code: 'INVALID_INPUT' });
    const metrics = await (await fetch(`${service.address}/metrics`, { headers: { authorization: `Bearer ${b.token}` } })).text();
    expect(metrics).toMatch(/^ledger_intake_dlq_total\{reason="undecodable"\} 10001$/m);
    expect(metrics).toMatch(/^ledger_intake_redeliveries_total 0$/m);
  }, 30_000);
});

describe.skipIf(missing !== undefined)('an exception while handling a message', () => {
  it('sends the message to the DLQ once, with the error, and logs it at error', async () => {
    const b = await bus('exception');
    cleanups.push(() => b.close());
    const nc = await b.ledger();
    const store = new SqliteEventStore(':memory:');
    const { lines, logger } = capture();
    const metrics = new Metrics();
    // The principals cannot be read for this one message: the handler throws.
    const intake = await startNatsIntake(nc, new PoolRegistry(store), metrics, () => { throw new Error('principals unreadable'); }, { ackWaitMs: 1_000, logger });
    cleanups.push(async () => { await intake.stop(); await store.close(); });
    const custody = (await b.client.clientOf('custody')).connection;
    await custody.jetstream().publish(commandSubject('main', 'custody', 'Deposit'), JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'boom', poolId: 'main', accountId: 'a', amount: '1' }));
    await eventually(async () => ((await dlqMessages(nc)) > 0 ? true : undefined), 'the DLQ copy');
    await sleep(3_000);
    expect(await dlqMessages(nc)).toBe(1);
    const copy = await (await nc.jetstreamManager()).streams.getMessage(DLQ_STREAM, { last_by_subj: 'ledger.main.dlq' });
    expect(copy.header.get(REASON_HEADER)).toBe('exception');
    expect(JSON.parse(copy.header.get('Ledger-Error'))).toEqual({ code: 'INTERNAL', message: 'principals unreadable' });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/handling a message failed/);
    expect(await metrics.registry.getSingleMetricAsString('ledger_intake_dlq_total')).toMatch(/reason="exception"\} 1$/m);
  }, 30_000);
});

describe.skipIf(missing !== undefined)('a store that keeps failing', () => {
  it('gets the command again a bounded number of times, then the DLQ has it with the reason and the producer hears of the failure', async () => {
    const b = await bus('max-deliver');
    cleanups.push(() => b.close());
    const nc = await b.ledger();
    const store = new SqliteEventStore(':memory:');
    // Every append fails, as on a full disk.
    const failing = Object.assign(Object.create(store) as SqliteEventStore, { append: async () => E.left({ kind: 'unavailable' as const, message: 'database or disk is full' }) });
    const { lines, logger } = capture();
    const metrics = new Metrics();
    const file = principalsFor();
    const intake = await startNatsIntake(nc, new PoolRegistry(failing, { rootGovernors: exampleRootGovernors }), metrics, () => file, { ackWaitMs: 1_000, maxDeliver: 2, logger });
    cleanups.push(async () => { await intake.stop(); await store.close(); });
    const started = Date.now();
    const outcome = await b.client.submit(createPool, { timeoutMs: 10_000, attempts: 1 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'STORE_UNAVAILABLE' } });
    // Delivered twice: the second a second later (the first retry's delay).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await eventually(async () => ((await dlqMessages(nc)) > 0 ? true : undefined), 'the DLQ copy');
    await sleep(2_500);
    expect(await dlqMessages(nc)).toBe(1);
    const copy = await (await nc.jetstreamManager()).streams.getMessage(DLQ_STREAM, { last_by_subj: 'ledger.main.dlq' });
    expect(copy.header.get(REASON_HEADER)).toBe('max-deliveries');
    expect(copy.header.get('Ledger-Deliveries')).toBe('2');
    expect(JSON.parse(copy.header.get('Ledger-Error'))).toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('disk is full') });
    expect(lines.filter((l) => l.level === 50 && /store did not take a command/.test(l.msg))).toHaveLength(2);
    expect(await metrics.registry.getSingleMetricAsString('ledger_intake_redeliveries_total')).toMatch(/ 1$/m);
    const consumer = await (await nc.jetstreamManager()).consumers.info(COMMAND_STREAM, INTAKE_CONSUMER);
    expect(consumer.num_ack_pending).toBe(0);
  }, 30_000);
});

describe.skipIf(missing !== undefined)('a bus that holds another log\'s history', () => {
  it('is refused at start, naming the recovery command; the command clears it and the new log is published', async () => {
    const b = await bus('reset');
    cleanups.push(() => b.close());
    let service = await b.start();
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    expect((await b.client.submit(deposit('reset-1'))).status).toBe('accepted');
    const ledger = await b.ledger();
    const jsm = await ledger.jetstreamManager();
    const published = (await b.poolEvents()).length;
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === published ? true : undefined), 'the events');
    await service.stop();

    // The store is reset: the event stream is now another log's.
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(join(b.dir, `events.sqlite${suffix}`))) renameSync(join(b.dir, `events.sqlite${suffix}`), join(b.dir, `old.sqlite${suffix}`));
    await expect(b.start()).rejects.toThrow(/does not mirror this event log: it holds \d+ events .* and the log is empty.*ledger nats-reset --confirm/);
    // The CLI says so too, and exits non-zero.
    const env = { ...process.env, DATA_DIR: b.dir, NATS_URL: b.server.url, ...ledgerEnv(join(b.dir, 'ledger.password')), ROOT_GOVERNORS_FILE: 'examples/root-governors.json', PORT: '0', LOG_LEVEL: 'silent' };
    writeFileSync(join(b.dir, 'ledger.password'), passwordOf(b), { mode: 0o600 });
    const serve = spawnSync(process.execPath, ['bin/ledger.js', 'serve'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(serve.status).toBe(1);
    expect(serve.stderr).toContain(RECOVERY_COMMAND);

    // Without --confirm nothing is deleted.
    const dry = spawnSync(process.execPath, ['bin/ledger.js', 'nats-reset'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(dry.status).toBe(1);
    expect(dry.stderr).toContain(`LEDGER_EVENTS: ${published} messages (would be deleted)`);
    expect((await jsm.streams.info(EVENT_STREAM)).state.messages).toBe(published);
    const reset = spawnSync(process.execPath, ['bin/ledger.js', 'nats-reset', '--confirm'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(reset.stderr).toContain(`LEDGER_EVENTS: ${published} messages, deleted`);
    expect(reset.status).toBe(0);

    service = await b.start();
    cleanups.push(() => service.stop());
    // A re-sent command is applied to the new log, not answered from the old log's outcome.
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    const again = await b.client.submit(deposit('reset-1'));
    expect(again).toMatchObject({ status: 'accepted' });
    expect(again.deduplicated).not.toBe(true);
    expect((await b.poolEvents()).map((e) => e.metadata.commandId)).toContain('reset-1');
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === (await b.poolEvents()).length ? true : undefined), 'the new log on the bus');
  }, 90_000);

  it('refuses outcome and command streams bound to another log, even with the event stream gone', async () => {
    const b = await bus('bound');
    cleanups.push(() => b.close());
    const service = await b.start();
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    const ledger = await b.ledger();
    const jsm = await ledger.jetstreamManager();
    const published = (await b.poolEvents()).length;
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === published ? true : undefined), 'the events');
    const identity = (await b.poolEvents())[0]!.hash;
    expect((await jsm.streams.info(OUTCOME_STREAM)).config.description).toBe(`ledger log ${identity}`);
    expect((await jsm.streams.info(COMMAND_STREAM)).config.description).toBe(`ledger log ${identity}`);
    await service.stop();
    await jsm.streams.delete(EVENT_STREAM);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(join(b.dir, `events.sqlite${suffix}`))) renameSync(join(b.dir, `events.sqlite${suffix}`), join(b.dir, `old.sqlite${suffix}`));
    await expect(b.start()).rejects.toThrow(new RegExp(`stream ${OUTCOME_STREAM} does not mirror this event log: it is bound to the log whose first event's hash is ${identity}; this log is empty.*ledger nats-reset --confirm`));
  }, 60_000);

  it('refuses a stream whose last event is forged with a position beyond the log', async () => {
    const b = await bus('forged');
    cleanups.push(() => b.close());
    const service = await b.start();
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    const ledger = await b.ledger();
    const jsm = await ledger.jetstreamManager();
    const published = (await b.poolEvents()).length;
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === published ? true : undefined), 'the events');
    await service.stop();
    const h = headers();
    h.set(POSITION_HEADER, '999999');
    await ledger.jetstream().publish(eventSubject('main', 'CollateralDeposited'), '{}', { headers: h });
    await expect(b.start()).rejects.toThrow(/position 999999, beyond the end of the log.*ledger nats-reset --confirm/);
  }, 60_000);
});

const passwordOf = (b: Bus) => `${b.passwords[passwordVariable('ledger')]}\n`;

describe.skipIf(missing !== undefined)('an event NATS will not take', () => {
  it('is retried, each failure logged at error and counted, and published once NATS takes it', async () => {
    const b = await bus('unpublishable');
    cleanups.push(() => b.close());
    const { lines, logger } = capture();
    const service = await b.start(logger);
    cleanups.push(() => service.stop());
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    const ledger = await b.ledger();
    const jsm = await ledger.jetstreamManager();
    const published = (await b.poolEvents()).length;
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === published ? true : undefined), 'the events');
    // The stream takes no message this large any more: the next event cannot be published.
    const config = (await jsm.streams.info(EVENT_STREAM)).config;
    await jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: 64 });
    expect((await b.client.submit(deposit('unpublishable'))).status).toBe('accepted');
    const failing = await eventually(async () => {
      const body = (await (await fetch(`${service.address}/readyz`)).json()) as { checks: { forwarder: { failing?: { attempts: number; position: string } } } };
      return (body.checks.forwarder.failing?.attempts ?? 0) >= 3 ? body.checks.forwarder.failing : undefined;
    }, 'failed attempts');
    const log = await b.poolEvents();
    expect(failing.position).toBe(log[log.length - 1]!.position.toString());
    expect(lines.filter((l) => l.level === 50 && /cannot publish an event/.test(l.msg)).length).toBeGreaterThanOrEqual(3);
    const metrics = await (await fetch(`${service.address}/metrics`, { headers: { authorization: `Bearer ${b.token}` } })).text();
    expect(Number(/^ledger_forwarder_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^ledger_forwarder_failing_seconds [0-9.]+$/m);
    expect((await jsm.streams.info(EVENT_STREAM)).state.messages).toBe(published);

    await jsm.streams.update(EVENT_STREAM, { ...config, max_msg_size: -1 });
    await eventually(async () => ((await jsm.streams.info(EVENT_STREAM)).state.messages === published + 1 ? true : undefined), 'the event published', 400);
    expect(lines.some((l) => /published the event it was failing on/.test(l.msg))).toBe(true);
  }, 60_000);
});

describe.skipIf(missing !== undefined)('SIGTERM after the NATS server died', () => {
  it('ends the process within its bound', async () => {
    const b = await bus('sigterm');
    cleanups.push(() => b.close());
    writeFileSync(join(b.dir, 'ledger.password'), passwordOf(b), { mode: 0o600 });
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['bin/ledger.js', 'serve'], {
      stdio: 'ignore',
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: b.dir, NATS_URL: b.server.url, LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '3000', ROOT_GOVERNORS_FILE: 'examples/root-governors.json', ...ledgerEnv(join(b.dir, 'ledger.password')) },
    });
    cleanups.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited(child); } });
    await listening(port, 600);
    expect((await b.client.submit(createPool)).status).toBe('accepted');
    await b.server.stop('SIGKILL');
    await sleep(500);
    const stopping = Date.now();
    child.kill('SIGTERM');
    await Promise.race([exited(child), sleep(8_000)]);
    expect(child.exitCode ?? child.signalCode).not.toBeNull();
    expect(Date.now() - stopping).toBeLessThan(3_000 + 2_000);
    await b.server.restart();
  }, 60_000);
});
