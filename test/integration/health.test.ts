// Health routes of the service: /livez answers while the process runs; /readyz says whether it can
// take commands, with each check. The disk full is SQLite's own: the service's store connection is
// limited to the pages it has (PRAGMA max_page_count), so an append fails with SQLITE_FULL
// ("database or disk is full") exactly as on a full disk.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import pino from 'pino';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { startService, type RunningService } from '../../services/service.js';
import { bearer, principalsFixture, producerRoles } from '../support/principals.js';
import { exampleRootGovernors } from '../support/example-root.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-health-'));
const principals = principalsFixture(dir, { producer: { roles: [...producerRoles, 'operator'] } });
const logged: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => { logged.push(JSON.parse(line)); } });
let service: RunningService;
let store: SqliteEventStore;
const createPool = JSON.parse(readFileSync('examples/trading.jsonl', 'utf8').split('\n')[0]!) as Record<string, unknown>;

beforeAll(async () => {
  service = await startService({
    port: 0, host: '127.0.0.1', logLevel: 'info', store: { kind: 'sqlite', path: join(dir, 'events.sqlite') }, principalsFile: principals.path, rootGovernors: exampleRootGovernors,
  }, logger, { openStore: (config) => (store = new SqliteEventStore(config.kind === 'sqlite' ? config.path : ':memory:')) });
});

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const submit = (command: Record<string, unknown>) => fetch(`${service.address}/v1/pools/main/commands`, {
  method: 'POST', headers: { ...bearer(principals.tokens.producer), 'content-type': 'application/json' }, body: JSON.stringify(command),
});
const deposit = (commandId: string) => ({ type: 'Deposit', schemaVersion: 1, commandId, poolId: 'main', accountId: 'alice', amount: '10' });
const readyz = async () => {
  const response = await fetch(`${service.address}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { ok: boolean; reason?: string }> } };
};
/** The service's own connection to its store: only it can be made to see a full disk. */
const db = () => (store as unknown as { db: Database.Database }).db;

describe('health routes', () => {
  it('answers /livez, and /readyz and /healthz with every check when ready', async () => {
    expect((await fetch(`${service.address}/livez`)).status).toBe(200);
    expect((await submit(createPool)).status).toBe(200);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', checks: { store: { ok: true }, projection: { ok: true } } });
    expect((await fetch(`${service.address}/healthz`)).status).toBe(200);
  });

  it('is not ready while the disk is full, says why, logs it, and is ready again once appends succeed', async () => {
    const pages = db().pragma('page_count', { simple: true }) as number;
    db().pragma(`max_page_count = ${pages}`);
    // Fill the last pages: a few deposits fit, then the store is full.
    let failed: Response | undefined;
    for (let i = 0; i < 200 && failed === undefined; i++) {
      const response = await submit(deposit(`full-${i}`));
      if (response.status === 503) failed = response;
    }
    expect(failed?.status).toBe(503);
    expect(await failed!.json()).toMatchObject({ status: 'failed', error: { code: 'STORE_UNAVAILABLE' } });
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body.status).toBe('not ready');
    expect(notReady.body.checks.store).toMatchObject({ ok: false });
    expect(notReady.body.checks.store!.reason).toMatch(/full/);
    expect((await fetch(`${service.address}/healthz`)).status).toBe(503);
    expect((await fetch(`${service.address}/livez`)).status).toBe(200);
    expect(logged.some((l) => l.level === 50 && l.msg === 'the store did not take a command' && JSON.stringify(l).includes('full'))).toBe(true);
    const metrics = await (await fetch(`${service.address}/metrics`, { headers: bearer(principals.tokens.producer) })).text();
    expect(metrics).toMatch(/^ledger_ready 0$/m);
    expect(metrics).toMatch(/^ledger_last_append_error_timestamp_seconds [1-9]/m);

    db().pragma('max_page_count = 1073741823');
    expect((await submit(deposit('after-full'))).status).toBe(200);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.checks.store).toMatchObject({ ok: true });
    expect(await (await fetch(`${service.address}/metrics`, { headers: bearer(principals.tokens.producer) })).text()).toMatch(/^ledger_ready 1$/m);
  });
});
