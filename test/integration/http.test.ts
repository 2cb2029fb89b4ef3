// The HTTP API: every route, bad input of every kind, and the service as a process (start,
// serve, stop cleanly on SIGTERM, refuse a bad configuration).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { buildHttpApp } from '../../services/http.js';
import { Metrics } from '../../services/metrics.js';
import { PoolRegistry } from '../../services/pools.js';
import { bearer, principalsFixture, producerRoles } from '../support/principals.js';
import { exampleRootGovernors } from '../support/example-root.js';

const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
const dir = mkdtempSync(join(tmpdir(), 'ledger-http-'));
const store = new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
let projection: ProjectionRunner;
let app: FastifyInstance;
// A producer that may submit every command, and a reader.
const principals = principalsFixture(dir, { producer: { roles: producerRoles }, auditor: { roles: ['reader'] } });
let pools: PoolRegistry;

const post = (body: string) => app.inject({ method: 'POST', url: '/v1/pools/main/commands', headers: { 'content-type': 'application/json', ...bearer(principals.tokens.producer) }, payload: body });
const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(principals.tokens.auditor) });

beforeAll(async () => {
  const readModels = new MemoryReadModelStore();
  projection = new ProjectionRunner(store, readModels);
  await projection.start();
  pools = new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors: exampleRootGovernors });
  app = buildHttpApp({ pools, events: store, readModels, runner: projection, metrics: new Metrics(), principals: principals.registry, bodyLimit: 64 * 1024 });
  for (const line of lines.slice(0, 10)) await post(line);
  await projection.caughtUp(9n);
});

afterAll(async () => {
  await projection.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/pools/:poolId/commands', () => {
  it('accepts a command with its events as decimal strings, and repeats it without appending', async () => {
    const deposit = JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'http-dep', poolId: 'main', accountId: 'dave', amount: '25.5' });
    const first = await post(deposit);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'accepted', commandId: 'http-dep', events: [{ type: 'CollateralDeposited', amount: '25.5' }] });
    const again = await post(deposit);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'accepted', deduplicated: true });
  });

  it('answers domain rejections with their code: 422, or 409 when someone got there first', async () => {
    const margin = await post(lines[9]!);
    expect(margin.statusCode).toBe(422);
    expect(margin.json()).toMatchObject({ status: 'rejected', error: { code: 'INSUFFICIENT_MARGIN', field: 'taker' } });
    const trade = JSON.parse(lines[5]!) as Record<string, unknown>;
    const duplicate = await post(JSON.stringify({ ...trade, commandId: 'another-id' }));
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ error: { code: 'DUPLICATE_TRADE' } });
  });

  it('answers a command id used before by a different command 409 COMMAND_ID_REUSED, appending nothing', async () => {
    const deposit = { type: 'Deposit', schemaVersion: 1, commandId: 'http-reuse', poolId: 'main', accountId: 'erin', amount: '10' };
    expect((await post(JSON.stringify(deposit))).statusCode).toBe(200);
    const before = (await get('/v1/pools/main/events?limit=1000')).json() as unknown[];
    for (const other of [{ ...deposit, amount: '10000' }, { ...deposit, accountId: 'mallory' }, { ...deposit, type: 'Withdraw' }]) {
      const response = await post(JSON.stringify(other));
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ status: 'rejected', commandId: 'http-reuse', error: { code: 'COMMAND_ID_REUSED', field: 'commandId' } });
    }
    // the same command written differently is the same command
    const same = await post(JSON.stringify({ ...deposit, amount: '10.000' }));
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ status: 'accepted', deduplicated: true });
    expect((await get('/v1/pools/main/events?limit=1000')).json()).toEqual(before);
  });

  it('answers a repeated rejected command with the same rejection (422, then 422, deduplicated), recorded once', async () => {
    const withdraw = JSON.stringify({ type: 'Withdraw', schemaVersion: 1, commandId: 'http-refused', poolId: 'main', accountId: 'alice', amount: '99999999' });
    const first = await post(withdraw);
    expect(first.statusCode).toBe(422);
    expect(first.json()).toMatchObject({ status: 'rejected', error: { code: 'INSUFFICIENT_COLLATERAL', field: 'amount' } });
    const again = await post(withdraw);
    expect(again.statusCode).toBe(422);
    expect(again.json()).toEqual({ ...(first.json() as object), deduplicated: true });
    const events = (await get('/v1/pools/main/events?limit=1000')).json() as { type: string; metadata: { commandId: string } }[];
    expect(events.filter((e) => e.metadata.commandId === 'http-refused').map((e) => e.type)).toEqual(['CommandRejected']);
  });

  it('answers a command for a pool that does not exist 422 UNKNOWN_POOL, keeping no writer for it', async () => {
    const response = await app.inject({
      method: 'POST', url: '/v1/pools/nowhere/commands', headers: { 'content-type': 'application/json', ...bearer(principals.tokens.producer) },
      payload: JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'http-ghost', poolId: 'nowhere', accountId: 'a', amount: '5' }),
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_POOL', field: 'poolId' } });
    expect(pools.writerCount).toBe(1);
    expect((await get('/v1/pools/nowhere/events')).statusCode).toBe(404);
  });

  it.each([
    ['a bad decimal', lines[10]!, 'amount'],
    ['an unknown type', JSON.stringify({ type: 'Steal', schemaVersion: 1, commandId: 'x', poolId: 'main' }), 'type'],
    ['a wrong field type', JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'x', poolId: 'main', accountId: 'a', amount: 5 }), 'amount'],
    ['a pool other than the path', JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'x', poolId: 'other', accountId: 'a', amount: '5' }), 'poolId'],
    ['malformed JSON', '{"type": "Deposit",', '(root)'],
  ])('refuses %s with 400 and the field path', async (_what, body, path) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', errors: [{ path }] });
  });

  it('refuses a huge body with 413 in the same structured form', async () => {
    const response = await post(JSON.stringify({ type: 'Deposit', padding: 'x'.repeat(100_000) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('queries', () => {
  it('GET fund-health, tranches, markets and the ADL queue', async () => {
    expect((await get('/v1/pools/main/fund-health')).json()).toMatchObject({ poolId: 'main', fundAssets: '9.96618735', openInterest: '33000' });
    const tranches = (await get('/v1/pools/main/tranches')).json() as { trancheId: string }[];
    expect(tranches.map((t) => t.trancheId)).toEqual(['junior', 'senior']);
    expect((await get('/v1/pools/main/markets/BTC-PERP')).json()).toMatchObject({ mark: '33000', longSize: '1' });
    expect((await get('/v1/pools/main/markets/BTC-PERP/adl-queue')).json()).toMatchObject({ long: expect.any(Array), short: [{ accountId: 'bob', rank: 1, lights: 5 }] });
  });

  it('GET an account with its mark-dependent figures', async () => {
    const alice = (await get('/v1/pools/main/accounts/alice')).json();
    expect(alice).toMatchObject({ collateral: '10476.75', equity: '11976.75', positionsAtMark: [{ marketId: 'BTC-PERP', unrealizedPnl: '1500' }] });
  });

  it('GET events with from and limit, and refuses bad ones', async () => {
    const events = (await get('/v1/pools/main/events?from=1&limit=2')).json() as { revision: string; type: string }[];
    expect(events.map((e) => [e.revision, e.type])).toEqual([['1', 'MarketListed'], ['2', 'CollateralDeposited']]);
    for (const query of ['from=-1', 'from=abc', 'limit=0', 'limit=5000']) {
      const response = await get(`/v1/pools/main/events?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ path: query.split('=')[0] }] });
    }
  });

  it('answers 404 for what does not exist and 400 for a malformed id', async () => {
    for (const url of ['/v1/pools/none/fund-health', '/v1/pools/none/tranches', '/v1/pools/main/accounts/nobody', '/v1/pools/main/markets/DOGE-PERP', '/v1/pools/main/markets/DOGE-PERP/adl-queue', '/v1/pools/none/events']) {
      expect((await get(url)).statusCode).toBe(404);
    }
    const bad = await get('/v1/pools/main/accounts/has%20space');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errors: [{ path: 'accountId' }] });
  });

  it('serves /healthz, /metrics and /openapi.json', async () => {
    expect((await get('/healthz')).json()).toMatchObject({ status: 'ok', projection: { behind: expect.any(String) } });
    const metrics = (await get('/metrics')).body;
    expect(metrics).toContain('ledger_commands_total{status="rejected",code="INSUFFICIENT_MARGIN"}');
    expect(metrics).toContain('ledger_projection_lag_events');
    const openapi = (await get('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toContain('/v1/pools/{poolId}/markets/{marketId}/adl-queue');
  });
});

describe('the service process', () => {
  it('starts with the embedded defaults, serves, and stops cleanly on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ledger-serve-'));
    const { tokens } = principalsFixture(data, { relay: { roles: ['governance-relay'] } });
    const child = spawn(process.execPath, ['bin/ledger.js', 'serve'], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: data, LOG_LEVEL: 'info', ROOT_GOVERNORS_FILE: 'examples/root-governors.json' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let buffer = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const match = /"address":"(http:\/\/[^"]+)"/.exec(buffer);
          if (match !== null) resolve(match[1]!);
        });
        child.on('exit', () => reject(new Error('the service exited')));
      });
      const health = await fetch(`${address}/healthz`);
      expect(health.status).toBe(200);
      const accepted = await fetch(`${address}/v1/pools/main/commands`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.relay) }, body: lines[0] });
      expect(accepted.status).toBe(200);
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('refuses to start on a bad configuration, naming it', () => {
    const result = spawnSync(process.execPath, ['bin/ledger.js', 'serve'], { env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
  });
});
