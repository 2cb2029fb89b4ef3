// Who may call the HTTP API: bearer tokens of principals on every route with ledger data (401
// without a known one), roles and pools decided by `authorize` (403), nothing appended when
// refused, the principal recorded as the actor, principals managed by the operator, the JSON
// body parsed strictly, and the attacker's anonymous drain replayed and refused.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { commandRole, type CommandType } from '../../domain/index.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { addPrincipal, readPrincipals, writePrincipals } from '../../services/auth/principals.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { buildHttpApp } from '../../services/http.js';
import { Metrics } from '../../services/metrics.js';
import { PoolRegistry } from '../../services/pools.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { bearer, principalsFixture } from '../support/principals.js';

const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
const dir = mkdtempSync(join(tmpdir(), 'ledger-http-auth-'));
const store = new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
// One principal per producer role (named after it) on pool main, readers of one pool and of all,
// a custody principal of another pool, and the operator.
const principals = principalsFixture(dir, {
  'governance-relay': { roles: ['governance-relay'], pools: ['main'] },
  custody: { roles: ['custody'], pools: ['main'] },
  'matching-engine': { roles: ['matching-engine'], pools: ['main'] },
  oracle: { roles: ['oracle'], pools: ['main'] },
  'liquidation-engine': { roles: ['liquidation-engine'], pools: ['main'] },
  'main-reader': { roles: ['reader'], pools: ['main'] },
  auditor: { roles: ['reader'] },
  'other-custody': { roles: ['custody'], pools: ['other'] },
  operator: { roles: ['operator'] },
});
const { tokens } = principals;
const metrics = new Metrics();
let projection: ProjectionRunner;
let app: FastifyInstance;

type Headers = Record<string, string>;
const postAs = (headers: Headers, body: string, url = '/v1/pools/main/commands') =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
const getAs = (headers: Headers, url: string) => app.inject({ method: 'GET', url, headers });
/** Submit a command as the principal whose role sends its type. */
const submit = (line: string) => postAs(bearer(tokens[commandRole[(JSON.parse(line) as { type: CommandType }).type] as keyof typeof tokens]), line);
const read = (url: string) => getAs(bearer(tokens.auditor), url);

/** Every event of pool main: what must not change when a request is refused. */
const storedEvents = async () => {
  const events = await store.readStream(poolStream('main'), 0n, 100_000);
  if (E.isLeft(events)) throw new Error(events.left.kind);
  return events.right;
};

const deposit = (commandId: string, accountId: string, amount: string) =>
  JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId, poolId: 'main', accountId, amount });

beforeAll(async () => {
  const readModels = new MemoryReadModelStore();
  projection = new ProjectionRunner(store, readModels);
  await projection.start();
  app = buildHttpApp({ pools: new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors: exampleRootGovernors }), events: store, readModels, runner: projection, metrics, principals: principals.registry });
  // The example's set-up: pool, market, three funded accounts, alice long, bob short, carol long.
  for (const line of lines.slice(0, 8)) expect((await submit(line)).statusCode).toBe(200);
  await projection.caughtUp(7n);
});

afterAll(async () => {
  await projection.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const protectedRoutes: ReadonlyArray<{ readonly method: 'GET' | 'POST' | 'DELETE'; readonly url: string; readonly body?: string }> = [
  { method: 'POST', url: '/v1/pools/main/commands', body: deposit('anon-1', 'mallory', '1000000') },
  { method: 'GET', url: '/v1/pools/main/fund-health' },
  { method: 'GET', url: '/v1/pools/main/tranches' },
  { method: 'GET', url: '/v1/pools/main/accounts/alice' },
  { method: 'GET', url: '/v1/pools/main/markets/BTC-PERP' },
  { method: 'GET', url: '/v1/pools/main/markets/BTC-PERP/adl-queue' },
  { method: 'GET', url: '/v1/pools/main/events' },
  { method: 'GET', url: '/metrics' },
  { method: 'POST', url: '/v1/principals', body: JSON.stringify({ id: 'mallory', roles: ['custody'], pools: ['*'] }) },
  { method: 'GET', url: '/v1/principals' },
  { method: 'DELETE', url: '/v1/principals/custody' },
];

describe('authentication', () => {
  it.each([
    ['no credentials', {}],
    ['an unknown token', bearer('lgr_not-a-token-anyone-was-given')],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('operator:x').toString('base64')}` }],
    ['a token of a principal in the wrong scheme case', { authorization: `bearer ${tokens.operator}` }],
  ])('refuses every route with %s: 401 UNAUTHENTICATED, WWW-Authenticate: Bearer, nothing appended', async (_what, headers: Headers) => {
    const before = await storedEvents();
    for (const route of protectedRoutes) {
      const response = await app.inject({
        method: route.method, url: route.url, payload: route.body,
        headers: { ...(route.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.any(String) });
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await storedEvents()).toEqual(before);
    expect(principals.registry.list().map((p) => p.id)).not.toContain('mallory');
    expect(principals.registry.list().map((p) => p.id)).toContain('custody');
  });

  it('leaves /healthz and /openapi.json open: they show no ledger data', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('documents each route’s requirement in OpenAPI: the bearer scheme, 401 and 403', async () => {
    const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown>; description?: string }>>;
    };
    expect(openapi.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const route of protectedRoutes) {
      const path = route.url.replace('/main/', '/{poolId}/').replace('/alice', '/{accountId}').replace(/\/BTC-PERP/, '/{marketId}').replace('/custody', '/{id}');
      const operation = openapi.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${path}`).toBeDefined();
      expect(operation!.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(['401', '403']));
      expect(operation!.description).toMatch(/^Needs /);
    }
    expect(openapi.paths['/healthz']!.get!.security).toEqual([]);
  });
});

describe('authorization', () => {
  it('refuses a principal without the command type’s role, or on another pool, with 403 FORBIDDEN and appends nothing', async () => {
    const before = await storedEvents();
    const asOracle = await postAs(bearer(tokens.oracle), deposit('forbidden-1', 'mallory', '1000000'));
    expect(asOracle.statusCode).toBe(403);
    expect(asOracle.json()).toEqual({ code: 'FORBIDDEN', message: 'principal "oracle" may not submit Deposit (needs role custody)' });
    const otherPool = await postAs(bearer(tokens['other-custody']), deposit('forbidden-2', 'mallory', '1000000'));
    expect(otherPool.statusCode).toBe(403);
    expect(otherPool.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('pool "main"') });
    expect(await storedEvents()).toEqual(before);
  });

  it('refuses a principal that may submit nothing on the pool before reading the body', async () => {
    // Not even JSON: a 400 would mean the body was parsed for someone who may not send it.
    for (const token of [tokens['main-reader'], tokens.operator, tokens['other-custody']]) {
      const response = await postAs(bearer(token), '{"type": "Deposit",');
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('lets a reader read its pool but not write, another pool, or the metrics of all pools', async () => {
    const reader = bearer(tokens['main-reader']);
    expect((await getAs(reader, '/v1/pools/main/fund-health')).statusCode).toBe(200);
    expect((await getAs(reader, '/v1/pools/main/events?limit=1')).statusCode).toBe(200);
    const write = await postAs(reader, deposit('reader-1', 'mallory', '1'));
    expect(write.statusCode).toBe(403);
    expect((await getAs(reader, '/v1/pools/other/fund-health')).json()).toMatchObject({ code: 'FORBIDDEN', message: 'principal "main-reader" may not read pool "other"' });
    expect((await getAs(reader, '/metrics')).statusCode).toBe(403);
    expect((await getAs(bearer(tokens.auditor), '/metrics')).statusCode).toBe(200);
    // A producer is not a reader.
    expect((await getAs(bearer(tokens.custody), '/v1/pools/main/accounts/alice')).statusCode).toBe(403);
  });

  it('lets the operator read and manage principals but submit no command', async () => {
    const operator = bearer(tokens.operator);
    expect((await getAs(operator, '/v1/pools/main/fund-health')).statusCode).toBe(200);
    expect((await getAs(operator, '/metrics')).statusCode).toBe(200);
    expect((await getAs(operator, '/v1/principals')).statusCode).toBe(200);
    const command = await postAs(operator, deposit('operator-1', 'mallory', '1'));
    expect(command.statusCode).toBe(403);
    // ... and no one else manages principals.
    for (const token of [tokens.custody, tokens.auditor]) {
      expect((await getAs(bearer(token), '/v1/principals')).statusCode).toBe(403);
      expect((await postAs(bearer(token), JSON.stringify({ id: 'mallory', roles: ['operator'], pools: ['*'] }), '/v1/principals')).statusCode).toBe(403);
      expect((await app.inject({ method: 'DELETE', url: '/v1/principals/operator', headers: bearer(token) })).statusCode).toBe(403);
    }
  });

  it('counts refusals in the metrics by reason', async () => {
    await getAs({}, '/v1/pools/main/fund-health');
    await getAs(bearer(tokens.custody), '/v1/pools/main/fund-health');
    const text = (await read('/metrics')).body;
    expect(text).toMatch(/ledger_http_auth_failures_total\{reason="unauthenticated"\} [1-9]/);
    expect(text).toMatch(/ledger_http_auth_failures_total\{reason="forbidden"\} [1-9]/);
  });
});

describe('what a command records', () => {
  it('records the principal as the actor, and the x-correlation-id header', async () => {
    const response = await postAs({ ...bearer(tokens.custody), 'x-correlation-id': 'batch-7:line-1' }, deposit('actor-1', 'alice', '1'));
    expect(response.statusCode).toBe(200);
    const last = (await storedEvents()).at(-1)!;
    expect(last.metadata).toMatchObject({ commandId: 'actor-1', actor: 'custody', correlationId: 'batch-7:line-1' });
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['with a space', 'a b'],
  ])('refuses an x-correlation-id %s with 400 naming the header', async (_what, value) => {
    const before = await storedEvents();
    const response = await postAs({ ...bearer(tokens.custody), 'x-correlation-id': value }, deposit('corr-1', 'alice', '1'));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', errors: [{ path: 'x-correlation-id' }] });
    expect(await storedEvents()).toEqual(before);
  });

  it('refuses a body with a repeated key with 400 naming the key, before anything is decided', async () => {
    // JSON.parse would keep the last amount: one reader could see 1, another 1000000.
    const body = '{"type":"Deposit","schemaVersion":1,"commandId":"dup-1","poolId":"main","accountId":"alice","amount":"1","amount":"1000000"}';
    const response = await postAs(bearer(tokens.custody), body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', errors: [{ path: 'amount', message: 'duplicate key "amount"' }] });
  });

  it('refuses a body nested 5,000 deep with 400, not 500', async () => {
    const body = `{"type":"Deposit","schemaVersion":1,"commandId":"deep-1","poolId":"main","accountId":"alice","amount":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const response = await postAs(bearer(tokens.custody), body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', errors: [{ message: 'nested more than 32 levels deep' }] });
    expect((response.json() as { errors: { path: string }[] }).errors[0]!.path).toMatch(/^amount(\.0)+$/);
  });
});

describe('managing principals', () => {
  it('creates a principal whose token works at once, lists principals without hashes, and deletes it', async () => {
    const operator = bearer(tokens.operator);
    const created = await postAs(operator, JSON.stringify({ id: 'custody-2', roles: ['custody'], pools: ['main'], natsUser: 'custody-2', description: 'second custody gateway' }), '/v1/principals');
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, ...principal } = created.json() as { token: string };
    expect(principal).toEqual({ id: 'custody-2', roles: ['custody'], pools: ['main'], http: true, natsUser: 'custody-2', description: 'second custody gateway' });
    expect(token).toMatch(/^lgr_/);
    // Persisted, as a hash.
    const file = readPrincipals(principals.path);
    expect(E.isRight(file) && file.right.principals.find((p) => p.id === 'custody-2')).toMatchObject({ tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/), nats: { user: 'custody-2' } });
    expect(readFileSync(principals.path, 'utf8')).not.toContain(token);

    const accepted = await postAs(bearer(token), deposit('custody-2-1', 'alice', '1'));
    expect(accepted.statusCode).toBe(200);
    expect((await storedEvents()).at(-1)!.metadata.actor).toBe('custody-2');

    const listed = (await getAs(operator, '/v1/principals')).json() as Record<string, unknown>[];
    expect(listed.map((p) => p.id)).toContain('custody-2');
    expect(JSON.stringify(listed)).not.toMatch(/tokenSha256|token"|[0-9a-f]{64}/);

    const deleted = await app.inject({ method: 'DELETE', url: '/v1/principals/custody-2', headers: operator });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ id: 'custody-2' });
    const refused = await postAs(bearer(token), deposit('custody-2-2', 'alice', '1'));
    expect(refused.statusCode).toBe(401);
    const after = readPrincipals(principals.path);
    expect(E.isRight(after) && after.right.principals.map((p) => p.id)).not.toContain('custody-2');
  });

  it.each([
    ['an existing id', { id: 'custody', roles: ['custody'], pools: ['main'] }, 409, 'PRINCIPAL_ALREADY_EXISTS'],
    ['an unknown role', { id: 'custody-4', roles: ['root'], pools: ['main'] }, 400, 'roles.0'],
    ['no role', { id: 'custody-5', roles: [], pools: ['main'] }, 400, 'roles'],
    ['no pool', { id: 'custody-6', roles: ['custody'], pools: [] }, 400, 'pools'],
    ['a bad id', { id: 'a.b', roles: ['custody'], pools: ['main'] }, 400, 'id'],
    ['a token given', { id: 'custody-7', roles: ['custody'], pools: ['main'], tokenSha256: 'a'.repeat(64) }, 400, 'tokenSha256'],
  ])('answers a request with %s', async (_what, body, status, codeOrPath) => {
    const response = await postAs(bearer(tokens.operator), JSON.stringify(body), '/v1/principals');
    expect(response.statusCode).toBe(status);
    if (status === 409) expect(response.json()).toMatchObject({ code: codeOrPath, field: 'id' });
    if (status === 400) expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', errors: [{ path: codeOrPath }] });
  });

  it('refuses a second principal with the same NATS user, deleting one that does not exist, and the last operator', async () => {
    const operator = bearer(tokens.operator);
    expect((await postAs(operator, JSON.stringify({ id: 'custody-3', roles: ['custody'], pools: ['main'], natsUser: 'custody-2x' }), '/v1/principals')).statusCode).toBe(201);
    const taken = await postAs(operator, JSON.stringify({ id: 'custody-8', roles: ['custody'], pools: ['main'], natsUser: 'custody-2x' }), '/v1/principals');
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'NATS_USER_TAKEN', field: 'natsUser' });
    expect((await app.inject({ method: 'DELETE', url: '/v1/principals/nobody', headers: operator })).statusCode).toBe(404);
    const last = await app.inject({ method: 'DELETE', url: '/v1/principals/operator', headers: operator });
    expect(last.statusCode).toBe(409);
    expect(last.json()).toMatchObject({ code: 'LAST_OPERATOR' });
    expect((await getAs(operator, '/v1/principals')).statusCode).toBe(200);
  });

  it('picks up a principal added to the file when reloaded, and keeps the old principals when the file is bad', async () => {
    const current = readPrincipals(principals.path);
    if (E.isLeft(current)) throw current.left;
    const added = addPrincipal(current.right, { id: 'oracle-2', roles: ['oracle'], pools: ['main'] });
    if (E.isLeft(added)) throw new Error(added.left.message);
    writePrincipals(principals.path, added.right.file);
    const price = JSON.stringify({ type: 'UpdateMarkPrice', schemaVersion: 1, commandId: 'oracle-2-1', poolId: 'main', marketId: 'BTC-PERP', price: '33000' });
    expect((await postAs(bearer(added.right.token), price)).statusCode).toBe(401);
    expect(E.isRight(principals.registry.reload())).toBe(true);
    expect((await postAs(bearer(added.right.token), price)).statusCode).toBe(200);

    const good = readFileSync(principals.path, 'utf8');
    const bad = JSON.parse(good) as { principals: { id: string; roles: string[] }[] };
    bad.principals.find((p) => p.id === 'oracle-2')!.roles = ['root'];
    writeFileSync(principals.path, JSON.stringify(bad));
    try {
      const reloaded = principals.registry.reload();
      expect(E.isLeft(reloaded) && reloaded.left.message).toMatch(/principals\.[0-9]+\.roles\.0/);
      expect((await postAs(bearer(added.right.token), JSON.stringify({ ...JSON.parse(price) as object, commandId: 'oracle-2-2' }))).statusCode).toBe(200);
    } finally {
      writeFileSync(principals.path, good);
      principals.registry.reload();
    }
  });
});

describe("the attacker's anonymous drain", () => {
  // The nine requests of the report, in order: money from nothing, a withdrawal from another
  // trader, a mark that makes a healthy account liquidatable, a liquidation at 0.01, trades
  // between other people's accounts, and the withdrawal of the proceeds.
  const drain = [
    deposit('atk-1', 'mallory', '1000000'),
    JSON.stringify({ type: 'Withdraw', schemaVersion: 1, commandId: 'atk-2', poolId: 'main', accountId: 'bob', amount: '5000' }),
    JSON.stringify({ type: 'UpdateMarkPrice', schemaVersion: 1, commandId: 'atk-3', poolId: 'main', marketId: 'BTC-PERP', price: '60000' }),
    JSON.stringify({ type: 'Liquidate', schemaVersion: 1, commandId: 'atk-4', poolId: 'main', accountId: 'bob', marketId: 'BTC-PERP', liquidatorId: 'mallory', price: '0.01' }),
    ...[1, 2, 3, 4].map((i) => JSON.stringify({
      type: 'ExecuteTrade', schemaVersion: 1, commandId: `atk-${4 + i}`, poolId: 'main', tradeId: `atk-t${i}`, marketId: 'BTC-PERP',
      taker: i % 2 === 0 ? 'alice' : 'carol', maker: i % 2 === 0 ? 'carol' : 'alice', takerSide: i % 2 === 0 ? 'sell' : 'buy', size: '0.1', price: i % 2 === 0 ? '1' : '60000',
    })),
    JSON.stringify({ type: 'Withdraw', schemaVersion: 1, commandId: 'atk-9', poolId: 'main', accountId: 'mallory', amount: '1007000' }),
  ];

  it('refuses each of the nine requests with 401 and leaves the fund and every balance as they were', async () => {
    expect(drain).toHaveLength(9);
    const before = await storedEvents();
    const views = async () => Promise.all(['/v1/pools/main/fund-health', '/v1/pools/main/tranches', '/v1/pools/main/accounts/alice', '/v1/pools/main/accounts/bob', '/v1/pools/main/accounts/carol', '/v1/pools/main/markets/BTC-PERP'].map(async (url) => (await read(url)).json() as unknown));
    const viewsBefore = await views();
    for (const body of drain) {
      const response = await app.inject({ method: 'POST', url: '/v1/pools/main/commands', headers: { 'content-type': 'application/json' }, payload: body });
      expect(response.statusCode, body).toBe(401);
      expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await storedEvents()).toEqual(before);
    expect(await views()).toEqual(viewsBefore);
    expect((await read('/v1/pools/main/accounts/mallory')).statusCode).toBe(404);
    // The same requests with a reader's token (a leaked read-only credential): 403, nothing appended.
    for (const body of drain) expect((await postAs(bearer(tokens.auditor), body)).statusCode).toBe(403);
    expect(await storedEvents()).toEqual(before);
    // Each producer may send only its own kind: the custody principal cannot move the mark, trade or liquidate.
    for (const body of drain.slice(2, 8)) expect((await postAs(bearer(tokens.custody), body)).statusCode).toBe(403);
    expect(await storedEvents()).toEqual(before);
  });

  it('refuses the authorized producers too where a risk bound stands: the mark jump and the liquidation at 0.01', async () => {
    const fundBefore = (await read('/v1/pools/main/fund-health')).json() as { fundAssets: string };
    // Step 3 by the oracle itself: 33000 to 60000 is beyond the 20% circuit breaker.
    const jump = await postAs(bearer(tokens.oracle), drain[2]!);
    expect(jump.statusCode).toBe(422);
    expect(jump.json()).toMatchObject({ status: 'rejected', error: { code: 'MARK_MOVE_OUT_OF_BAND', field: 'price' } });
    // Two moves within the bound (33000 -> 26400 -> 21120) make carol, long 0.5 from 33000, liquidatable.
    for (const [i, price] of ['26400', '21120'].entries()) {
      const step = JSON.stringify({ type: 'UpdateMarkPrice', schemaVersion: 1, commandId: `atk-mark-${i}`, poolId: 'main', marketId: 'BTC-PERP', price });
      expect((await postAs(bearer(tokens.oracle), step)).statusCode).toBe(200);
    }
    // Step 4 by the liquidation engine itself: a long taken over at 0.01 is far below mark * (1 - 10%).
    const lowball = JSON.stringify({ type: 'Liquidate', schemaVersion: 1, commandId: 'atk-4-authorized', poolId: 'main', accountId: 'carol', marketId: 'BTC-PERP', liquidatorId: 'bob', price: '0.01' });
    const refused = await postAs(bearer(tokens['liquidation-engine']), lowball);
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ status: 'rejected', error: { code: 'LIQUIDATION_PRICE_OUT_OF_BAND', field: 'price' } });
    await projection.caughtUp((await storedEvents()).at(-1)!.revision);
    expect(fundBefore.fundAssets).toMatch(/^[0-9]/);
    expect(((await read('/v1/pools/main/fund-health')).json() as { fundAssets: string }).fundAssets).toBe(fundBefore.fundAssets);
  });
});
