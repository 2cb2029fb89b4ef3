// The service's checkpoints as a deployment sees them: signed with the key created under
// DATA_DIR, served over HTTP (reader role; the public key open), published on NATS under
// `ledger.<poolId>.ckpt.<revision>` where only the ledger may publish (the shipped
// configuration), and kept across restarts; a second service on the same DATA_DIR is refused,
// and a log edited behind the service stops its start, naming the position.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { connect } from 'nats';
import { decodeCommand, decodeWith, type Command } from '../../domain/index.js';
import { addPrincipal } from '../../services/auth/principals.js';
import { CHECKPOINT_STREAM, checkpointSubject } from '../../services/bus/checkpoint-publisher.js';
import { inboxPrefixOf } from '../../services/bus/connection.js';
import { CheckpointCodec, checkpointSignedBy, DEFAULT_KEY_FILE, type Checkpoint } from '../../services/ledger/checkpoints.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { startService, type RunningService, type ServiceConfig } from '../../services/service.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { natsServerMissing, type NatsServer } from '../support/nats-server.js';
import { authOf, natsPasswords, passwordVariable, principalsFor, producers, startSecuredNats, writeTestPrincipals } from '../support/secured-nats.js';

const missing = natsServerMissing();
if (missing !== undefined) console.log(`Checkpoints over NATS skipped: ${missing}.`);

const dir = mkdtempSync(join(tmpdir(), 'ledger-checkpoints-service-'));
const passwords = natsPasswords();
const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
const commands = lines.slice(0, 4).map((l) => (decodeCommand(JSON.parse(l)) as E.Right<Command>).right);
let server: NatsServer;
let service: RunningService | undefined;
let client: Awaited<ReturnType<typeof producers>>;
let auditorToken = '';
const readerToken = () => auditorToken;

const config = (): ServiceConfig => ({
  port: 0, host: '127.0.0.1', logLevel: 'silent', store: { kind: 'sqlite', path: join(dir, 'events.sqlite') }, dataDir: dir,
  natsUrl: server.url, rootGovernors: exampleRootGovernors, checkpointEvery: 1,
  nats: { auth: authOf(passwords, 'ledger'), inboxPrefix: inboxPrefixOf('ledger') },
});

beforeAll(async () => {
  if (missing !== undefined) return;
  server = await startSecuredNats(dir, passwords);
  // the configuration's users, and an auditor with a bearer token for HTTP
  const added = addPrincipal(principalsFor({}), { id: 'auditor', roles: ['reader'], pools: ['*'] });
  if (E.isLeft(added)) throw new Error(added.left.message);
  auditorToken = added.right.token;
  writeTestPrincipals(join(dir, 'principals.json'), added.right.file);
  service = await startService(config(), pino({ level: 'silent' }));
  client = await producers(server.url, passwords);
  for (const command of commands) expect((await client.submit(command)).status).toBe('accepted');
});

afterAll(async () => {
  await client?.close();
  await service?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)('the service\'s checkpoints', () => {
  it('are signed with the key created under DATA_DIR (mode 0600), served over HTTP, and the key is open', async () => {
    expect(statSync(join(dir, DEFAULT_KEY_FILE)).mode & 0o777).toBe(0o600);
    const key = await (await fetch(`${service!.address}/v1/checkpoint-key`)).json() as { publicKey: string; pem: string };
    expect(key.publicKey).toMatch(/^[0-9a-f]{64}$/);
    const unauthenticated = await fetch(`${service!.address}/v1/pools/main/checkpoints`);
    expect(unauthenticated.status).toBe(401);
    const response = await fetch(`${service!.address}/v1/pools/main/checkpoints`, { headers: { authorization: `Bearer ${readerToken()}` } });
    expect(response.status).toBe(200);
    const checkpoints = (await response.json() as unknown[]).map((c) => (decodeWith(CheckpointCodec)(c) as E.Right<Checkpoint>).right);
    expect(checkpoints.map((c) => c.revision)).toEqual([0n, 1n, 2n, 3n]);
    for (const checkpoint of checkpoints) expect(checkpointSignedBy(checkpoint, key.publicKey)).toBe(true);
  });

  it('are published on ledger.<poolId>.ckpt.<revision>, where a producer may not publish', async () => {
    const ledger = await connect({ servers: server.url, user: 'ledger', pass: passwords[passwordVariable('ledger')]!, inboxPrefix: inboxPrefixOf('ledger'), reconnect: false });
    const custody = await connect({ servers: server.url, user: 'custody', pass: passwords[passwordVariable('custody')]!, inboxPrefix: inboxPrefixOf('custody'), reconnect: false });
    try {
      const jsm = await ledger.jetstreamManager();
      const published = await jsm.streams.getMessage(CHECKPOINT_STREAM, { last_by_subj: checkpointSubject('main', 3n) });
      const checkpoint = (decodeWith(CheckpointCodec)(JSON.parse(new TextDecoder().decode(published.data))) as E.Right<Checkpoint>).right;
      expect(checkpoint).toMatchObject({ poolId: 'main', revision: 3n });
      const before = (await jsm.streams.info(CHECKPOINT_STREAM)).state.messages;
      await expect(custody.jetstream().publish(checkpointSubject('main', 99n), JSON.stringify({ ...checkpoint, revision: '99' }), { timeout: 2_000 }))
        .rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      expect((await jsm.streams.info(CHECKPOINT_STREAM)).state.messages).toBe(before);
    } finally {
      await ledger.close();
      await custody.close();
    }
  });

  it('refuses a second service on the same DATA_DIR while the first runs', async () => {
    await expect(startService(config(), pino({ level: 'silent' }))).rejects.toThrow(/^another process is the writer of .*events\.sqlite/);
  });

  it('keeps them across a restart, and refuses to start on a log edited behind it, naming the position', async () => {
    await service!.stop();
    service = await startService(config(), pino({ level: 'silent' }));
    const response = await fetch(`${service.address}/v1/pools/main/checkpoints`, { headers: { authorization: `Bearer ${readerToken()}` } });
    expect((await response.json() as unknown[]).length).toBe(4);
    await service.stop();
    service = undefined;
    const db = new Database(join(dir, 'events.sqlite'));
    db.prepare(`UPDATE events SET event = replace(event, '"quoteDecimals":6', '"quoteDecimals":7') WHERE revision = 0 AND stream_id = ?`).run(poolStream('main'));
    const position = (db.prepare('SELECT position FROM events WHERE revision = 0 AND stream_id = ?').get(poolStream('main')) as { position: number }).position;
    db.close();
    await expect(startService(config(), pino({ level: 'silent' }))).rejects.toThrow(`hash chain of pool main broken at position ${position} (revision 0): hash does not match the event`);
  });
});

