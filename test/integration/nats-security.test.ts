// The attacks on the NATS side, against a real nats-server running the shipped configuration
// (deploy/nats-server.conf) and the service connected as the ledger's user: what the server
// refuses (anonymous clients, a producer publishing another role's commands or a forged outcome,
// purging the command stream, deleting the intake consumer, reading another producer's
// outcomes), what the intake refuses (an unknown principal, one without a NATS identity or
// without the right, a message id other than the command id, a bad correlation id, a reply
// subject outside the producer's inbox), and forged events, which the client flags. Then TLS,
// with a CA and certificates made by openssl for the test.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { connect, headers, type Msg, type NatsConnection } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { LedgerClient, type EventError, type ForwardedEvent } from '../../services/bus/client.js';
import { inboxPrefixOf } from '../../services/bus/connection.js';
import { EVENT_STREAM, eventSubject, POSITION_HEADER } from '../../services/bus/event-forwarder.js';
import { COMMAND_STREAM, commandSubject, CORRELATION_HEADER, dlqSubject, INTAKE_CONSUMER, lookupSubject, OUTCOME_STREAM, outcomeSubject, refusedSubject, REPLY_HEADER } from '../../services/bus/nats-intake.js';
import { chainHash } from '../../services/ledger/chain.js';
import { eventOf, textOf } from '../support/insider.js';
import { natsServerConfig } from '../../services/bus/nats-config.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { startService, type RunningService } from '../../services/service.js';
import { decodeCommand, type Command } from '../../domain/index.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { NatsServer, natsServerMissing } from '../support/nats-server.js';
import { authOf, natsPasswords, passwordVariable, principalsFor, producers, SHIPPED_CONFIG, startSecuredNats, writeTestPrincipals, type NatsUser } from '../support/secured-nats.js';

const missing = natsServerMissing();
if (missing !== undefined) console.log(`NATS security suite skipped: ${missing}.`);

const dir = mkdtempSync(join(tmpdir(), 'ledger-nats-security-'));
const passwords = natsPasswords();
const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
// The pool and its market, from the example.
const setup = lines.slice(0, 2).map((l) => (decodeCommand(JSON.parse(l)) as E.Right<Command>).right);
let server: NatsServer;
let service: RunningService;
let client: Awaited<ReturnType<typeof producers>>;
let reader: LedgerClient;
let ledger: NatsConnection;
const opened: NatsConnection[] = [];

const as = async (user: NatsUser, url = server.url): Promise<NatsConnection> => {
  const nc = await connect({ servers: url, user, pass: passwords[passwordVariable(user)]!, inboxPrefix: inboxPrefixOf(user), reconnect: false });
  opened.push(nc);
  return nc;
};

beforeAll(async () => {
  if (missing !== undefined) return;
  server = await startSecuredNats(dir, passwords);
  writeTestPrincipals(join(dir, 'principals.json'), principalsFor({
    custody: { roles: ['custody'], pools: ['main'] },
    // present, but not allowed to use NATS
    'lp-gateway': { roles: ['lp-gateway'], pools: ['*'], nats: false },
    // a NATS identity, but not the role its commands need
    'liquidation-engine': { roles: ['custody'], pools: ['*'] },
  }));
  service = await startService({
    port: 0, host: '127.0.0.1', logLevel: 'silent', store: { kind: 'sqlite', path: join(dir, 'events.sqlite') }, natsUrl: server.url, rootGovernors: exampleRootGovernors,
    nats: { auth: authOf(passwords, 'ledger'), inboxPrefix: inboxPrefixOf('ledger') },
  }, pino({ level: 'silent' }));
  client = await producers(server.url, passwords);
  reader = await LedgerClient.connect(server.url, { principalId: 'reader', auth: authOf(passwords, 'reader') });
  ledger = await as('ledger');
  for (const command of setup) expect((await client.submit(command)).status).toBe('accepted');
});

afterAll(async () => {
  await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
  await client?.close();
  await reader?.close();
  await service?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const logged = async (commandId: string) => {
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  const read = await store.readStream(poolStream('main'), 0n, 100_000);
  await store.close();
  if (E.isLeft(read)) throw new Error('log unreadable');
  return read.right.filter((e) => e.metadata.commandId === commandId);
};
const deposit = (commandId: string, poolId = 'main', amount = '7'): Command =>
  (decodeCommand({ type: 'Deposit', schemaVersion: 1, commandId, poolId, accountId: 'zoe', amount }) as E.Right<Command>).right;
const body = (command: Command) => JSON.stringify({ ...command, amount: (command as { amount: bigint }).amount.toString() });
const first = async (messages: AsyncIterable<Msg>): Promise<Msg | undefined> => { for await (const m of messages) return m; return undefined; };
const json = (m: Msg | undefined) => JSON.parse(new TextDecoder().decode(m!.data)) as Record<string, unknown>;
/** The permission error a connection reports next (nats.js reports them on its status). */
const violation = async (nc: NatsConnection): Promise<string> => {
  for await (const status of nc.status()) if (status.type === 'error') return String(status.data);
  return 'closed';
};

/** Publish as `publisher` and collect the refusal: the outcome on the principal's subject and the DLQ copy. */
const refused = async (publisher: NatsConnection, poolId: string, principalId: string, type: string, payload: string, options: { msgID?: string; headers?: ReturnType<typeof headers>; commandId: string }) => {
  const outcome = first(ledger.subscribe(outcomeSubject(poolId, principalId, options.commandId), { max: 1 }));
  const dlq = first(ledger.subscribe(dlqSubject(poolId), { max: 1 }));
  await ledger.flush();
  await publisher.jetstream().publish(commandSubject(poolId, principalId, type), payload, { ...(options.msgID === undefined ? {} : { msgID: options.msgID }), ...(options.headers === undefined ? {} : { headers: options.headers }) });
  const [o, d] = await Promise.all([outcome, dlq]);
  return { outcome: json(o), dlqError: JSON.parse(d!.headers!.get('Ledger-Error')) as Record<string, unknown>, dlqBody: new TextDecoder().decode(d!.data) };
};

describe.skipIf(missing !== undefined)('NATS: what the server refuses (shipped configuration)', () => {
  it('refuses an anonymous connection, and a wrong password', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: server.url, user: 'custody', pass: 'guess', reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it("refuses the oracle's user publishing a Deposit, as the oracle or as custody", async () => {
    const oracle = await as('oracle');
    const before = (await (await ledger.jetstreamManager()).streams.info(COMMAND_STREAM)).state.messages;
    for (const principal of ['oracle', 'custody']) {
      await expect(oracle.jetstream().publish(commandSubject('main', principal, 'Deposit'), body(deposit(`oracle-dep-${principal}`)), { msgID: `oracle-dep-${principal}`, timeout: 2_000 }))
        .rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    expect((await (await ledger.jetstreamManager()).streams.info(COMMAND_STREAM)).state.messages).toBe(before);
    expect(await logged('oracle-dep-custody')).toHaveLength(0);
  });

  it('refuses a producer publishing a forged outcome (which a client would otherwise believe)', async () => {
    const custody = await as('custody');
    const reported = violation(custody);
    custody.publish(outcomeSubject('main', 'custody', 'forged-1'), JSON.stringify({ status: 'rejected', commandId: 'forged-1', error: { code: 'INSUFFICIENT_BALANCE', message: 'forged' } }));
    expect(await reported).toBe('PERMISSIONS_VIOLATION');
    const stored = await ledger.request(`$JS.API.DIRECT.GET.${OUTCOME_STREAM}.${outcomeSubject('main', 'custody', 'forged-1')}`, undefined, { timeout: 2_000 });
    expect(stored.headers?.code).toBe(404);
  });

  it('refuses a producer purging LEDGER_COMMANDS or deleting the intake consumer: the commands stay', async () => {
    const custody = await as('custody');
    const jsm = await ledger.jetstreamManager();
    const before = (await jsm.streams.info(COMMAND_STREAM)).state.messages;
    expect(before).toBeGreaterThan(0);
    const theirs = await custody.jetstreamManager({ checkAPI: false });
    await expect(theirs.streams.purge(COMMAND_STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(theirs.consumers.delete(COMMAND_STREAM, INTAKE_CONSUMER)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(theirs.streams.delete(COMMAND_STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    expect((await jsm.streams.info(COMMAND_STREAM)).state.messages).toBe(before);
    expect((await jsm.consumers.info(COMMAND_STREAM, INTAKE_CONSUMER)).name).toBe(INTAKE_CONSUMER);
  });

  it("refuses a producer subscribing to another producer's outcomes, or reading them from the stream", async () => {
    const custody = await as('custody');
    const subscription = custody.subscribe(outcomeSubject('main', 'governance-relay', '>'));
    await expect((async () => { for await (const _ of subscription) return 'message'; return 'ended'; })()).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    // gov-1's outcome is recorded; the governance relay may look it up, custody may not
    const subject = lookupSubject('main', 'governance-relay', 'gov-1');
    expect(json(await (await as('governance-relay')).request(subject, undefined, { timeout: 2_000 }))).toMatchObject({ status: 'accepted', commandId: 'gov-1' });
    await expect(custody.request(subject, undefined, { timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    // asking under its own name for another's command reveals nothing
    expect(json(await custody.request(lookupSubject('main', 'custody', 'gov-1'), undefined, { timeout: 2_000 }))).toEqual({ status: 'unknown', commandId: 'gov-1' });
    // nor may it read another's stored refusals
    await expect(custody.request(`$JS.API.DIRECT.GET.${OUTCOME_STREAM}.${refusedSubject('main', 'governance-relay', 'gov-1')}`, undefined, { timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    // nor on the general inbox, nor another's
    await expect((async () => { for await (const _ of custody.subscribe('_INBOX_oracle.>')) return 'message'; return 'ended'; })()).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
  });

  it("does not answer a lookup whose reply subject is outside the asking principal's inbox", async () => {
    const custody = await as('custody');
    const stolen = custody.subscribe(`${inboxPrefixOf('custody')}.stolen`, { max: 1 });
    await custody.flush();
    const relay = await as('governance-relay');
    relay.publish(lookupSubject('main', 'governance-relay', 'gov-1'), undefined, { reply: `${inboxPrefixOf('custody')}.stolen` });
    await relay.flush();
    const answered = await Promise.race([first(stolen).then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('nothing'), 1_000))]);
    expect(answered).toBe('nothing');
    // and its own inbox still gets the answer
    expect(json(await relay.request(lookupSubject('main', 'governance-relay', 'gov-1'), undefined, { timeout: 2_000 }))).toMatchObject({ status: 'accepted' });
  });

  it('refuses a reader anything but reading events', async () => {
    const readerNc = await as('reader');
    await expect(readerNc.jetstream().publish(commandSubject('main', 'reader', 'Deposit'), body(deposit('reader-dep')), { timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect((await readerNc.jetstreamManager({ checkAPI: false })).streams.purge(EVENT_STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
  });
});

describe.skipIf(missing !== undefined)('NATS: the service with its own credentials', () => {
  it('takes a deposit from the custody principal, answers it, forwards its event, and records custody as the actor', async () => {
    const outcome = await client.submit(deposit('e2e-1'), { correlationId: 'batch-42' });
    expect(outcome).toMatchObject({ status: 'accepted', commandId: 'e2e-1', events: [{ type: 'CollateralDeposited', amount: '7' }] });
    const [event] = await logged('e2e-1');
    expect(event?.metadata).toMatchObject({ actor: 'custody', correlationId: 'batch-42' });
    for await (const item of reader.events('main')) {
      if (E.isLeft(item)) throw new Error(item.left.message);
      if (item.right.metadata.commandId !== 'e2e-1') continue;
      expect(item.right.event.type).toBe('CollateralDeposited');
      break;
    }
  });

  it('reads the recorded outcome (a lookup) when a retry is a duplicate', async () => {
    const again = await client.submit(deposit('e2e-1'));
    expect(again).toMatchObject({ status: 'accepted', commandId: 'e2e-1' });
    expect(await logged('e2e-1')).toHaveLength(1);
  });
});

describe.skipIf(missing !== undefined)('NATS: what the intake refuses', () => {
  it('refuses a Nats-Msg-Id that is not the command id', async () => {
    const custody = await as('custody');
    const r = await refused(custody, 'main', 'custody', 'Deposit', body(deposit('msgid-1')), { msgID: 'something-else', commandId: 'msgid-1' });
    expect(r.outcome).toMatchObject({ status: 'invalid', commandId: 'msgid-1', error: { code: 'INVALID_INPUT', errors: [{ path: 'header Nats-Msg-Id' }] } });
    expect(r.dlqError).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await logged('msgid-1')).toHaveLength(0);
  });

  it('refuses a principal the principals file does not know', async () => {
    // Only the ledger's user may publish under a principal the server has no user for.
    const r = await refused(ledger, 'main', 'ghost', 'Deposit', body(deposit('ghost-1')), { msgID: 'ghost-1', commandId: 'ghost-1' });
    expect(r.outcome).toMatchObject({ status: 'forbidden', commandId: 'ghost-1', error: { code: 'FORBIDDEN', message: 'unknown principal "ghost"' } });
    expect(r.dlqError).toMatchObject({ code: 'FORBIDDEN' });
    expect(r.dlqBody).toBe(body(deposit('ghost-1')));
    expect(await logged('ghost-1')).toHaveLength(0);
  });

  it('refuses a principal without a NATS identity', async () => {
    const stake = JSON.stringify({ type: 'Stake', schemaVersion: 1, commandId: 'nonats-1', poolId: 'main', lpId: 'lp', amount: '1' });
    const r = await refused(await as('lp-gateway'), 'main', 'lp-gateway', 'Stake', stake, { msgID: 'nonats-1', commandId: 'nonats-1' });
    expect(r.outcome).toMatchObject({ status: 'forbidden', error: { code: 'FORBIDDEN', message: 'principal "lp-gateway" has no NATS identity' } });
    expect(await logged('nonats-1')).toHaveLength(0);
  });

  it('refuses a command type the principal has no role for, and a pool it may not act on', async () => {
    const liquidate = JSON.stringify({ type: 'Liquidate', schemaVersion: 1, commandId: 'norole-1', poolId: 'main', accountId: 'zoe' });
    const r = await refused(await as('liquidation-engine'), 'main', 'liquidation-engine', 'Liquidate', liquidate, { msgID: 'norole-1', commandId: 'norole-1' });
    expect(r.outcome).toMatchObject({ status: 'forbidden', commandId: 'norole-1', error: { code: 'FORBIDDEN' } });
    expect(String((r.outcome.error as { message: string }).message)).toContain('needs role liquidation-engine');
    const other = await client.submit(deposit('otherpool-1', 'other'));
    expect(other).toMatchObject({ status: 'forbidden', commandId: 'otherpool-1', error: { code: 'FORBIDDEN', message: 'principal "custody" may not act on pool "other"' } });
  });

  it('refuses a bad Ledger-Correlation-Id, and a reply subject outside the principal\'s inbox', async () => {
    const custody = await as('custody');
    const h = headers();
    h.set(CORRELATION_HEADER, 'has spaces and {braces}');
    const bad = await refused(custody, 'main', 'custody', 'Deposit', body(deposit('corr-1')), { msgID: 'corr-1', headers: h, commandId: 'corr-1' });
    expect(bad.outcome).toMatchObject({ status: 'invalid', error: { errors: [{ path: `header ${CORRELATION_HEADER}` }] } });
    const r = headers();
    r.set(REPLY_HEADER, `$JS.API.STREAM.PURGE.${COMMAND_STREAM}`);
    const reply = await refused(custody, 'main', 'custody', 'Deposit', body(deposit('reply-1')), { msgID: 'reply-1', headers: r, commandId: 'reply-1' });
    expect(reply.outcome).toMatchObject({ status: 'invalid', error: { errors: [{ path: `header ${REPLY_HEADER}` }] } });
    expect(await logged('corr-1')).toHaveLength(0);
    expect(await logged('reply-1')).toHaveLength(0);
    expect((await (await ledger.jetstreamManager()).streams.info(COMMAND_STREAM)).state.messages).toBeGreaterThan(0);
  });
});

describe.skipIf(missing !== undefined)('NATS: forged events', () => {
  /** The pool's events as the client yields them, until `until` has been seen. */
  const follow = async (until: (item: E.Either<EventError, ForwardedEvent>) => boolean) => {
    const items: E.Either<EventError, ForwardedEvent>[] = [];
    for await (const item of reader.events('main')) {
      items.push(item);
      if (until(item)) break;
    }
    return items;
  };
  const lastForwarded = async () => {
    const jsm = await ledger.jetstreamManager();
    const info = await jsm.streams.info(EVENT_STREAM);
    const last = await jsm.streams.getMessage(EVENT_STREAM, { seq: info.state.last_seq });
    return JSON.parse(new TextDecoder().decode(last.data)) as { poolId: string; position: string; revision: string; eventId: string; prevHash: string; hash: string; text: string };
  };
  const publishEvent = async (forged: Awaited<ReturnType<typeof lastForwarded>>) => {
    const h = headers();
    h.set(POSITION_HEADER, forged.position);
    await ledger.jetstream().publish(eventSubject('main', eventOf({ event: forged.text }).type), JSON.stringify(forged), { headers: h });
  };
  /** The stored text with the event's amount changed. */
  const withAmount = (text: string, amount: string) => {
    const event = eventOf({ event: text });
    return textOf({ ...event, data: { ...event.data, amount } });
  };

  it('flags a tampered copy, a forged event that names the wrong previous hash, and a gap; genuine events after them still pass', async () => {
    await client.submit(deposit('before-forgery'));
    const genuine = await lastForwarded();
    // An insider with the ledger's credentials: the amount changed, the hash left as it was.
    await publishEvent({ ...genuine, text: withAmount(genuine.text, '7000000000000000000000') });
    // The same, with a hash recomputed over the change, but chained onto nothing real.
    const rehashed = withAmount(genuine.text, '9');
    await publishEvent({ ...genuine, revision: String(BigInt(genuine.revision) + 1n), text: rehashed, prevHash: 'f'.repeat(64), hash: chainHash('f'.repeat(64), rehashed) });
    // A well-formed next link that skips a revision: a gap.
    await publishEvent({ ...genuine, revision: String(BigInt(genuine.revision) + 2n), prevHash: genuine.hash, hash: chainHash(genuine.hash, genuine.text) });
    await client.submit(deposit('after-forgery'));

    const items = await follow((item) => E.isRight(item) && item.right.metadata.commandId === 'after-forgery');
    const errors = items.filter(E.isLeft).map((item) => item.left);
    expect(errors.map((e) => (e.code === 'CHAIN_BROKEN' ? e.reason : e.code))).toEqual(['hash does not match the event', 'prevHash does not match the previous event', 'gap']);
    const valid = items.filter(E.isRight).map((item) => item.right);
    // Every valid one chains onto the one before, and the forged amounts were never yielded.
    expect(valid.map((e) => e.revision)).toEqual(valid.map((_, i) => BigInt(i)));
    expect(valid.find((e) => e.metadata.commandId === 'before-forgery')?.event).toMatchObject({ amount: 7n * 10n ** 18n });
    expect(valid.at(-1)?.metadata.commandId).toBe('after-forgery');
  });
});

describe.skipIf(missing !== undefined)('NATS: a configuration made by `ledger nats-config`', () => {
  it('restricts a principal to its pools at the server', async () => {
    const genDir = mkdtempSync(join(tmpdir(), 'ledger-nats-gen-'));
    const file = { version: 1 as const, principals: [{ id: 'vault', roles: ['custody' as const], pools: ['main'], nats: { user: 'vault' } }] };
    const config = natsServerConfig(file);
    if (E.isLeft(config)) throw config.left;
    writeFileSync(join(genDir, 'nats.conf'), config.right);
    const env = { NATS_LEDGER_PASSWORD: 'pwLedger1', NATS_VAULT_PASSWORD: 'pwVault1' };
    const generated = await NatsServer.start(genDir, { config: join(genDir, 'nats.conf'), env });
    const vault = await connect({ servers: generated.url, user: 'vault', pass: 'pwVault1', inboxPrefix: inboxPrefixOf('vault'), reconnect: false });
    try {
      const theirs = await connect({ servers: generated.url, user: 'ledger', pass: 'pwLedger1', inboxPrefix: inboxPrefixOf('ledger'), reconnect: false });
      await (await theirs.jetstreamManager()).streams.add({ name: COMMAND_STREAM, subjects: ['ledger.*.cmd.*.*'] });
      await theirs.close();
      expect((await vault.jetstream().publish(commandSubject('main', 'vault', 'Deposit'), body(deposit('v-1')), { msgID: 'v-1' })).seq).toBe(1);
      await expect(vault.jetstream().publish(commandSubject('other', 'vault', 'Deposit'), body(deposit('v-2', 'other')), { msgID: 'v-2', timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    } finally {
      await vault.close();
      await generated.stop();
      rmSync(genDir, { recursive: true, force: true });
    }
  });
});

// TLS: a CA, a server certificate for 127.0.0.1 and a client certificate, made here with openssl;
// the server runs the shipped configuration with a tls block that verifies clients.
const openssl = (() => { try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

describe.skipIf(missing !== undefined || !openssl)('NATS over TLS (skipped without openssl)', () => {
  const tlsDir = mkdtempSync(join(tmpdir(), 'ledger-nats-tls-'));
  const file = (name: string) => join(tlsDir, name);
  let tlsServer: NatsServer;
  let tlsService: RunningService | undefined;

  beforeAll(async () => {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: tlsDir, stdio: 'pipe' });
    const key = (name: string) => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
    key('ca.key');
    run('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=ledger test CA', '-days', '1', '-out', 'ca.crt');
    for (const [name, cn, ext] of [['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], ['client', 'ledger', 'extendedKeyUsage=clientAuth']] as const) {
      key(`${name}.key`);
      run('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    }
    copyFileSync(SHIPPED_CONFIG, file('ledger.conf'));
    writeFileSync(file('tls.conf'), `include ./ledger.conf\ntls {\n  cert_file: "${file('server.crt')}"\n  key_file: "${file('server.key')}"\n  ca_file: "${file('ca.crt')}"\n  verify: true\n}\n`);
    tlsServer = await startSecuredNats(tlsDir, passwords, file('tls.conf'));
    writeTestPrincipals(join(tlsDir, 'principals.json'), principalsFor());
  });

  afterAll(async () => {
    await tlsService?.stop();
    await tlsServer?.stop();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  const tls = () => ({ caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: file('client.key') });

  it('refuses a client without a certificate, or without TLS', async () => {
    await expect(connect({ servers: tlsServer.url, user: 'custody', pass: passwords[passwordVariable('custody')]!, tls: { caFile: file('ca.crt') }, reconnect: false, timeout: 3_000 })).rejects.toBeDefined();
    await expect(connect({ servers: tlsServer.url, user: 'custody', pass: passwords[passwordVariable('custody')]!, reconnect: false, timeout: 3_000 })).rejects.toBeDefined();
  });

  it('runs the service and a producer over TLS with client certificates, end to end', async () => {
    tlsService = await startService({
      port: 0, host: '127.0.0.1', logLevel: 'silent', store: { kind: 'sqlite', path: join(tlsDir, 'events.sqlite') }, natsUrl: tlsServer.url, rootGovernors: exampleRootGovernors,
      nats: { auth: authOf(passwords, 'ledger'), tls: tls(), inboxPrefix: inboxPrefixOf('ledger') },
    }, pino({ level: 'silent' }));
    const governance = await LedgerClient.connect(tlsServer.url, { principalId: 'governance-relay', auth: authOf(passwords, 'governance-relay'), tls: tls() });
    try {
      expect((await governance.submit(setup[0]!)).status).toBe('accepted');
    } finally {
      await governance.close();
    }
  });
});
