// The service killed (SIGKILL) in the middle of a stream of commands arriving over NATS, then
// started again: every command is applied exactly once (nothing lost, nothing repeated), the
// commands it had taken but not acknowledged are delivered again, and the event stream on NATS
// is the log, once. The server runs the shipped configuration; the service connects as the
// ledger's user with its password in a file.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { connect } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { EVENT_STREAM } from '../../services/bus/event-forwarder.js';
import { commandSubject } from '../../services/bus/nats-intake.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { inboxPrefixOf } from '../../services/bus/connection.js';
import { exited, freePort, listening, NatsServer, natsServerMissing } from '../support/nats-server.js';
import { ledgerEnv, natsPasswords, passwordVariable, principalsFor, startSecuredNats, writeTestPrincipals, type NatsUser } from '../support/secured-nats.js';

const missing = natsServerMissing();
if (missing !== undefined) console.log(`NATS crash suite skipped: ${missing}.`);

const dir = mkdtempSync(join(tmpdir(), 'ledger-nats-crash-'));
let nats: NatsServer | undefined;
let service: ChildProcess | undefined;
const passwords = natsPasswords();
const passwordFile = join(dir, 'nats-ledger.password');
const as = (user: NatsUser) => connect({ servers: nats!.url, user, pass: passwords[passwordVariable(user)]!, inboxPrefix: inboxPrefixOf(user) });

const startLedger = async (natsUrl: string) => {
  const port = await freePort();
  service = spawn(process.execPath, ['bin/ledger.js', 'serve'], {
    stdio: 'ignore',
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, NATS_URL: natsUrl, NATS_ACK_WAIT_MS: '1000', LOG_LEVEL: 'silent', ROOT_GOVERNORS_FILE: 'examples/root-governors.json', ...ledgerEnv(passwordFile) },
  });
  await listening(port, 600);
};

afterAll(async () => {
  if (service !== undefined) { service.kill('SIGKILL'); await exited(service); }
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const COMMANDS = 400;
// The example's CreatePool, signed by the example's root governors: the deposits need a pool.
const createPool = readFileSync('examples/trading.jsonl', 'utf8').split('\n')[0]!;

describe.skipIf(missing !== undefined)('the service killed mid-stream', () => {
  it('loses nothing and repeats nothing', async () => {
    nats = await startSecuredNats(dir, passwords);
    writeFileSync(passwordFile, `${passwords[passwordVariable('ledger')]}\n`, { mode: 0o600 });
    writeTestPrincipals(join(dir, 'principals.json'), principalsFor());
    await startLedger(nats.url);
    const governance = await as('governance-relay');
    const nc = await as('custody');
    const js = nc.jetstream();
    const deposit = (i: number) => ({ type: 'Deposit', schemaVersion: 1, commandId: `d-${i}`, poolId: 'main', accountId: `a-${i % 37}`, amount: `${i + 1}` });
    await governance.jetstream().publish(commandSubject('main', 'governance-relay', 'CreatePool'), createPool, { msgID: 'gov-1' });
    await governance.close();
    const read = async () => {
      const store = new SqliteEventStore(join(dir, 'events.sqlite'));
      const events = await store.readStream(poolStream('main'), 0n, 100_000);
      await store.close();
      return E.isRight(events) ? events.right : [];
    };
    let atKill = 0;
    for (let i = 0; i < COMMANDS; i++) {
      await js.publish(commandSubject('main', 'custody', 'Deposit'), JSON.stringify(deposit(i)), { msgID: `d-${i}` });
      if (i === COMMANDS / 2) {
        // Kill it while it is working: some commands applied, more taken and not yet acked.
        for (let t = 0; t < 400 && (await read()).length < 20; t++) await new Promise((r) => setTimeout(r, 25));
        atKill = (await read()).length;
        service!.kill('SIGKILL');
        await exited(service!);
      }
    }
    await startLedger(nats.url);

    let log = await read();
    for (let i = 0; i < 400 && log.length < COMMANDS + 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      log = await read();
    }
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(COMMANDS + 1);
    const ids = log.map((e) => e.metadata.commandId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(['gov-1', ...Array.from({ length: COMMANDS }, (_, i) => `d-${i}`)].sort());

    await nc.close();
    // Stream information is the ledger's to read.
    const ledger = await as('ledger');
    const jsm = await ledger.jetstreamManager();
    for (let i = 0; i < 200 && (await jsm.streams.info(EVENT_STREAM)).state.messages < log.length; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await jsm.streams.info(EVENT_STREAM)).state.messages).toBe(log.length);
    await ledger.close();
  }, 60_000);
});
