// One writer per store: a second process that opens the SQLite store for writing is refused while
// the first runs (the audit can still read), and allowed once it dies, even by SIGKILL. No store
// wait blocks the event loop: /healthz answers while another process holds SQLite's lock.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteEventStore, WriterLockError } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { audit } from '../../services/audit.js';
import { buildHttpApp } from '../../services/http.js';
import { Metrics } from '../../services/metrics.js';
import { PoolRegistry } from '../../services/pools.js';
import { PoolWriter, poolStream } from '../../services/ledger/pool-writer.js';
import { createPool, deposit, listMarket, rootGovernors, POOL } from '../support/builders.js';
import { bearer, principalsFixture, producerRoles } from '../support/principals.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-one-writer-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Start a child holding the store (see the fixture) and wait until it does. */
const holding = async (...args: string[]): Promise<{ readonly child: ChildProcess; readonly exited: Promise<NodeJS.Signals | null> }> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/hold-store.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line === 'holding' && resolve());
    void exited.then(() => reject(new Error('the child exited before holding the store')));
  });
  return { child, exited };
};

const withPool = async (file: string) => {
  const store = new SqliteEventStore(file, { writerLock: true });
  const writer = await PoolWriter.open(store, POOL, { rootGovernors, maxLatencyMs: 0 });
  await Promise.all([createPool(), listMarket(), deposit('alice', '100')].map((command) => writer.submit({ command, actor: 'test' })));
  await store.close();
};

describe('one writer per store', () => {
  it('refuses a second writer while the first process runs, lets the audit read, and allows a writer once the first is killed with SIGKILL', async () => {
    const file = join(tempDir(), 'events.sqlite');
    await withPool(file);
    const first = await holding('writer', file);
    expect(() => new SqliteEventStore(file, { writerLock: true })).toThrow(WriterLockError);
    expect(() => new SqliteEventStore(file, { writerLock: true })).toThrow(`another process is the writer of ${file} (it holds ${file}.writer-lock); one writer per store: stop it first`);
    const reader = new SqliteEventStore(file);
    expect(await audit(reader, { poolId: POOL, rootGovernors })).toMatchObject({ ok: true, eventsReplayed: 3 });
    await reader.close();
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const second = new SqliteEventStore(file, { writerLock: true });
    const read = await second.readStream(poolStream(POOL), 0n, 10);
    expect(E.isRight(read) && read.right.length).toBe(3);
    await second.close();
  }, 30_000);

  it('refuses a second writer in the same process too, and allows one after the first closes', async () => {
    const file = join(tempDir(), 'events.sqlite');
    const first = new SqliteEventStore(file, { writerLock: true });
    expect(() => new SqliteEventStore(file, { writerLock: true })).toThrow(WriterLockError);
    await first.close();
    const second = new SqliteEventStore(file, { writerLock: true });
    await second.close();
  });
});

describe('a store locked by another process', () => {
  it('does not block the event loop: /healthz answers at once while a command waits for the lock, and the command then succeeds', async () => {
    const dir = tempDir();
    const file = join(dir, 'events.sqlite');
    await withPool(file);
    // The store tells when the command's append has begun (to probe /healthz while it waits).
    let appending: () => void = () => undefined;
    const appendBegun = new Promise<void>((resolve) => {
      appending = resolve;
    });
    const store = new (class extends SqliteEventStore {
      override append(...args: Parameters<SqliteEventStore['append']>) {
        if (args[0] === 'pool-main') appending();
        return super.append(...args);
      }
    })(file, { writerLock: true, pollIntervalMs: 5 });
    const readModels = new MemoryReadModelStore();
    const runner = new ProjectionRunner(store, readModels);
    await runner.start();
    const principals = principalsFixture(dir, { producer: { roles: producerRoles } });
    const pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors });
    await pools.openAll(runner.pools());
    const app = buildHttpApp({ pools, events: store, readModels, runner, metrics: new Metrics(), principals: principals.registry });
    try {
      await holding('lock', file, '3000');
      const started = Date.now();
      const command = app.inject({
        method: 'POST', url: '/v1/pools/main/commands', headers: { 'content-type': 'application/json', ...bearer(principals.tokens.producer) },
        payload: JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'while-locked', poolId: 'main', accountId: 'bob', amount: '5' }),
      });
      let commandDone = false;
      void command.then(() => {
        commandDone = true;
      });
      await appendBegun;
      const asked = Date.now();
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect(Date.now() - asked).toBeLessThan(500);
      expect(commandDone).toBe(false);
      const outcome = await command;
      expect(outcome.statusCode).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await runner.stop();
      await app.close();
      await store.close();
    }
  }, 30_000);
});
