// The risk desk's read side: pools, pool summary, governance, accounts sorted and paged, accounts
// at risk, every movement of an account, markets with parameters, events with a cursor and
// filters, the live event stream, fund health as of now and its history, metrics and the
// OpenAPI description, each route authenticated and authorized.
//
// The pool is the waterfall example (a fund draw that writes the junior tranche off and an ADL,
// then socialization into bad debt and a recapitalization), with lp1 asking to unstake 50 junior
// shares before the draw.

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import SwaggerParser from '@apidevtools/swagger-parser';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { buildHttpApp } from '../../services/http.js';
import { Metrics } from '../../services/metrics.js';
import { openApiDocument } from '../../services/openapi.js';
import * as codecs from '../../services/read-api.js';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PoolRegistry } from '../../services/pools.js';
import { bearer, principalsFixture, producerRoles } from '../support/principals.js';
import { exampleRootGovernors } from '../support/example-root.js';

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
const unstake = JSON.stringify({ type: 'RequestUnstake', schemaVersion: 1, commandId: 'ru-1', poolId: 'main', requestId: 'r1', stakerId: 'lp1', trancheId: 'junior', shares: '50' });
const dir = mkdtempSync(join(tmpdir(), 'ledger-http-reads-'));
const store = new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
const principals = principalsFixture(dir, {
  producer: { roles: producerRoles }, auditor: { roles: ['reader'] }, 'other-reader': { roles: ['reader'], pools: ['other'] },
});
const metrics = new Metrics();
let projection: ProjectionRunner;
let app: FastifyInstance;

const post = (body: string) => app.inject({ method: 'POST', url: '/v1/pools/main/commands', headers: { 'content-type': 'application/json', ...bearer(principals.tokens.producer) }, payload: body });
const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(principals.tokens.auditor) });
const json = async <T = Record<string, unknown>>(url: string): Promise<T> => {
  const response = await get(url);
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return response.json() as T;
};
/** Submit lines and wait for the read models to hold them. */
const submit = async (lines: ReadonlyArray<string>) => {
  for (const line of lines) await post(line);
  const events = await json<{ position: string }[]>('/v1/pools/main/events?limit=1000');
  await projection.caughtUp(BigInt(events.at(-1)!.position));
};

/** The rest of the example (resubmitted lines are answered as repeats, so this may run twice). */
let whole: Promise<void> | undefined;
const wholeExample = () => (whole ??= submit(waterfall.slice(14)));

beforeAll(async () => {
  const readModels = new MemoryReadModelStore();
  projection = new ProjectionRunner(store, readModels);
  await projection.start();
  app = buildHttpApp({
    pools: new PoolRegistry(store, { maxLatencyMs: 0, rootGovernors: exampleRootGovernors }), events: store, readModels, runner: projection, metrics,
    principals: principals.registry, streamPollMs: 10,
  });
  // Up to the BTC mark that puts alice below maintenance (line 14), lp1's request first.
  await submit([...waterfall.slice(0, 5), unstake, ...waterfall.slice(5, 14)]);
});

afterAll(async () => {
  await projection.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('accounts at current marks', () => {
  it('lists the accounts nearest liquidation, flagging the liquidatable ones', async () => {
    // alice: long 1 BTC from 30000 with 3100 less a 15 taker fee: equity 3085 - 1700 = 1385 at
    // 28300, maintenance 5% of 28300 = 1415: liquidatable, ratio 1415 / 1385 = 1021660 ppm.
    const atRisk = await json<{ liquidatableNow: number; items: { accountId: string; marginRatioPpm: string; liquidatable: boolean }[] }>('/v1/pools/main/accounts/at-risk?limit=2');
    expect(atRisk.liquidatableNow).toBe(1);
    expect(atRisk.items.map((i) => [i.accountId, i.liquidatable])).toEqual([['alice', true], [expect.any(String), false]]);
    expect(atRisk.items[0]).toMatchObject({ equity: '1385', maintenanceMargin: '1415', marginRatioPpm: '1021660' });
  });

  it('sorts and pages every account, the cursor leading to the next page', async () => {
    const first = await json<{ items: { accountId: string; equity: string }[]; next: string | null }>('/v1/pools/main/accounts?sort=equity&limit=2');
    // bob (short 1 from 30000, 3500 less the 6 maker fee, +1700 at 28300) has the most equity.
    expect(first.items[0]).toMatchObject({ accountId: 'bob', equity: '5194' });
    expect(first.next).toBe('2');
    const rest = await json<{ items: { accountId: string }[]; next: string | null }>(`/v1/pools/main/accounts?sort=equity&limit=1000&cursor=${first.next}`);
    expect([...first.items, ...rest.items].map((i) => i.accountId).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'liq']);
    expect(rest.next).toBeNull();
    const byRatio = await json<{ items: { accountId: string }[] }>('/v1/pools/main/accounts?sort=marginRatio&limit=1');
    expect(byRatio.items[0]!.accountId).toBe('alice');
    const byAdl = await json<{ items: { accountId: string; adlRank: number | null }[] }>('/v1/pools/main/accounts?sort=adlRank');
    expect(byAdl.items.at(-1)!.adlRank).toBeNull();
    for (const query of ['sort=size', 'limit=0', 'cursor=-1']) {
      const response = await get(`/v1/pools/main/accounts?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ path: query.split('=')[0] }] });
    }
  });

  it('shows 0 ADL lights and no rank for a position the ADL rules make ineligible (equity not positive)', async () => {
    // dave: long 20 ETH from 1000 with 2100 less a 10 fee; at a mark of 100 his equity is 2090 - 18000 < 0.
    await submit([waterfall[14]!, waterfall[15]!]);
    try {
      const queue = await json<{ long: unknown[] }>('/v1/pools/main/markets/ETH-PERP/adl-queue');
      expect(queue.long).toEqual([{ accountId: 'dave', rank: null, lights: 0 }]);
      const dave = await json<{ positionsAtMark: unknown[] }>('/v1/pools/main/accounts/dave');
      expect(dave.positionsAtMark[0]).toMatchObject({ adlRank: null, adlLights: 0 });
    } finally {
      // the rest of the example, for the tests below
      await wholeExample();
    }
  });
});

describe('pool, governance, markets', () => {
  beforeAll(wholeExample);
  it('lists the pools a principal may read, and only those', async () => {
    expect(await json('/v1/pools')).toEqual({ items: [{ poolId: 'main', quoteAsset: 'USDC', fundAssets: '3722', badDebt: '0', markets: 2, accounts: 7 }] });
    const other = await app.inject({ method: 'GET', url: '/v1/pools', headers: bearer(principals.tokens['other-reader']) });
    expect(other.json()).toEqual({ items: [] });
  });

  it('summarizes the pool: treasury, bad debt, parameters, governors and tranches', async () => {
    const pool = await json('/v1/pools/main');
    expect(pool).toMatchObject({
      poolId: 'main', quoteDecimals: 6, badDebt: '0', fundAssets: '3722', governanceSeq: 3, markets: ['BTC-PERP', 'ETH-PERP'], pendingUnstakes: 1,
      governors: { threshold: expect.any(Number) }, tranches: [{ trancheId: 'junior', seniority: 0, assets: '3722' }, { trancheId: 'senior', seniority: 1 }],
    });
    expect(pool.treasury).toMatch(/^[0-9]+(\.[0-9]+)?$/);
  });

  it('shows the governors and every governance change with its signers', async () => {
    const governance = await json<{ history: { type: string; governanceSeq: number; signers: string[]; changes: Record<string, unknown> }[] }>('/v1/pools/main/governance');
    expect(governance.history.map((h) => [h.type, h.governanceSeq])).toEqual([['PoolCreated', 0], ['MarketListed', 1], ['MarketListed', 2], ['Recapitalized', 3]]);
    expect(governance.history[3]!.changes).toMatchObject({ trancheId: 'junior', amount: '10000', badDebtRepaid: '6278' });
    expect(governance.history.every((h) => h.signers.length > 0)).toBe(true);
  });

  it('lists markets with their parameters', async () => {
    const markets = await json<{ items: { marketId: string; parameters: Record<string, unknown> }[] }>('/v1/pools/main/markets');
    expect(markets.items.map((m) => m.marketId)).toEqual(['BTC-PERP', 'ETH-PERP']);
    expect(markets.items[0]!.parameters).toMatchObject({ initialMarginPpm: 100_000, maintenanceMarginPpm: 50_000, sizeDecimals: 4 });
    expect((await json('/v1/pools/main/markets/ETH-PERP')).parameters).toMatchObject({ liquidationPenaltyPpm: 10_000 });
  });
});

describe('account history', () => {
  beforeAll(wholeExample);
  it('holds every movement: deposits, withdrawals, trades with fees, liquidations, takeovers, ADL fills and haircuts', async () => {
    const alice = await json<{ items: Record<string, unknown>[] }>('/v1/pools/main/accounts/alice/history');
    expect(alice.items.map((m) => m.kind)).toEqual(['deposit', 'trade', 'liquidation']);
    expect(alice.items[1]).toMatchObject({ kind: 'trade', role: 'taker', marketId: 'BTC-PERP', size: '1', price: '30000', fee: '15', tradeId: 't1' });
    expect(alice.items[2]).toMatchObject({ kind: 'liquidation', size: '-1', price: '26000' });
    const bob = await json<{ items: Record<string, unknown>[] }>('/v1/pools/main/accounts/bob/history');
    expect(bob.items.map((m) => m.kind)).toEqual(['deposit', 'trade', 'adl', 'haircut']);
    expect(bob.items[2]).toMatchObject({ size: '0.7222', price: '26915' });
    const erin = await json<{ items: Record<string, unknown>[] }>('/v1/pools/main/accounts/erin/history');
    expect(erin.items.map((m) => m.kind)).toContain('haircut');
    const liq = await json<{ items: Record<string, unknown>[] }>('/v1/pools/main/accounts/liq/history');
    expect(liq.items[1]).toMatchObject({ kind: 'takeover', size: '0.2778' });
    const frank = await json<{ items: Record<string, unknown>[] }>('/v1/pools/main/accounts/frank/history');
    expect(frank.items.map((m) => [m.kind, m.amount])).toEqual([['deposit', '100'], ['withdrawal', '50']]);
  });

  it('pages with a cursor', async () => {
    const first = await json<{ items: { position: string }[]; next: string }>('/v1/pools/main/accounts/alice/history?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1]!.position);
    const second = await json<{ items: { kind: string }[]; next: string | null }>(`/v1/pools/main/accounts/alice/history?limit=2&cursor=${first.next}`);
    expect(second).toMatchObject({ items: [{ kind: 'liquidation' }], next: null });
    expect((await get('/v1/pools/main/accounts/nobody/history')).statusCode).toBe(404);
  });
});

describe('fund health', () => {
  beforeAll(wholeExample);
  it('is current after draws and ADL: the newest history point holds the fund as it is now', async () => {
    const health = await json<{ fundAssets: string; draws: { count: number; total: string }; deficits: Record<string, string | number>; stress: { shockPpm: number }; series: { fundAssets: string }[] }>('/v1/pools/main/fund-health');
    expect(health).toMatchObject({ fundAssets: '3722', badDebt: '0', socialized: { count: 1, total: '9821.987' } });
    // Two liquidations' deficits, 915 + 16100; the fund paid 153.15 + 101.037 for the first and
    // its last 0.013 for the second, socialization 9821.987, bad debt 6278: ADL covered
    // 17015 - 254.2 - 9821.987 - 6278 = 660.813.
    expect(health.deficits).toEqual({ count: 2, total: '17015', coveredByAdl: '660.813' });
    expect(health.draws).toEqual({ count: 2, total: '254.2' });
    expect(health.series.at(-1)!.fundAssets).toBe('3722');
    expect(health.stress.shockPpm).toBe(300_000);
    const history = await json<{ points: { fundAssets: string; tranches: { assets: string }[]; badDebt: string }[] }>('/v1/pools/main/fund-health/history?resolution=1m');
    expect(history.points.at(-1)).toMatchObject({ fundAssets: '3722', badDebt: '0', tranches: [{ assets: '3722' }, { assets: '0' }] });
    for (const resolution of ['1h', '1d']) {
      expect((await json<{ points: { fundAssets: string }[] }>(`/v1/pools/main/fund-health/history?resolution=${resolution}`)).points.at(-1)!.fundAssets).toBe('3722');
    }
    expect((await json<{ points: unknown[] }>('/v1/pools/main/fund-health/history?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).points).toEqual([]);
    for (const query of ['resolution=1s', 'from=yesterday', 'limit=0']) expect((await get(`/v1/pools/main/fund-health/history?${query}`)).statusCode).toBe(400);
  });

  it('takes the Cover-2 shock from the query: no shock, no deficit', async () => {
    const none = await json<{ stressDeficit: string; stress: { shockPpm: number } }>('/v1/pools/main/fund-health?shockPpm=0');
    expect(none).toMatchObject({ stressDeficit: '0', stress: { shockPpm: 0, deficit: '0' } });
    expect((await get('/v1/pools/main/fund-health?shockPpm=2000000')).statusCode).toBe(400);
  });

  it('shows a pending unstake of a written-off epoch at what it would pay now: nothing', async () => {
    const [junior] = await json<{ pendingUnstakes: Record<string, unknown>[] }[]>('/v1/pools/main/tranches');
    // 50 of lp1's 150 shares, worth 50 when asked; the draw wrote the junior tranche off.
    expect(junior!.pendingUnstakes).toEqual([{ requestId: 'r1', stakerId: 'lp1', shares: '50', value: '0', valueAtRequest: '50', writtenOff: true, availableAt: expect.any(Number) }]);
  });
});

describe('events', () => {
  beforeAll(wholeExample);
  it('filters by type and account, pages with a cursor in X-Next-After', async () => {
    const trades = await json<{ type: string }[]>('/v1/pools/main/events?type=TradeExecuted');
    expect(trades.map((e) => e.type)).toEqual(['TradeExecuted', 'TradeExecuted']);
    const frank = await json<{ type: string }[]>('/v1/pools/main/events?accountId=frank');
    // the refused withdrawal (gated while there was bad debt) moved nothing
    expect(frank.map((e) => e.type)).toEqual(['CollateralDeposited', 'CollateralWithdrawn']);
    const page = await get('/v1/pools/main/events?limit=3');
    expect(page.headers['x-next-after']).toBe('2');
    const next = await json<{ revision: string }[]>('/v1/pools/main/events?limit=3&after=2');
    expect(next.map((e) => e.revision)).toEqual(['3', '4', '5']);
    const all = await get('/v1/pools/main/events?limit=1000');
    expect(all.headers['x-next-after']).toBeUndefined();
  });

  it('filters by time and by revision range', async () => {
    const all = await json<{ metadata: { timestamp: number } }[]>('/v1/pools/main/events?limit=1000');
    const future = new Date(all.at(-1)!.metadata.timestamp + 60_000).toISOString();
    expect(await json(`/v1/pools/main/events?from=${future}`)).toEqual([]);
    const past = new Date(all[0]!.metadata.timestamp - 60_000).toISOString();
    expect((await json<unknown[]>(`/v1/pools/main/events?from=${past}&limit=1000`)).length).toBe(all.length);
    expect((await json<{ revision: string }[]>('/v1/pools/main/events?from=2&to=4')).map((e) => e.revision)).toEqual(['2', '3', '4']);
    for (const query of ['type=Nothing', 'accountId=a%20b', 'to=soon', 'after=-1']) {
      const response = await get(`/v1/pools/main/events?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ path: query.split('=')[0] }] });
    }
  });

  it('streams events live as server-sent events, resuming after Last-Event-ID', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const read = async (headers: Record<string, string>, url = '/v1/pools/main/events/stream', until = 2) => {
      const controller = new AbortController();
      const response = await fetch(`${address}${url}`, { headers: { ...bearer(principals.tokens.auditor), ...headers }, signal: controller.signal });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      while ((text.match(/^id: /gm) ?? []).length < until) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      return [...text.matchAll(/^id: (\d+)\nevent: (\w+)/gm)].map((m) => [m[1], m[2]]);
    };
    expect((await read({})).slice(0, 2)).toEqual([['0', 'PoolCreated'], ['1', 'MarketListed']]);
    expect((await read({ 'last-event-id': '5' })).slice(0, 2)).toEqual([['6', 'CollateralDeposited'], ['7', 'CollateralDeposited']]);
    expect((await read({}, '/v1/pools/main/events/stream?after=1', 1))[0]).toEqual(['2', 'MarketListed']);
    // a new event arrives on an open stream
    const all = await json<unknown[]>('/v1/pools/main/events?limit=1000');
    const live = read({ 'last-event-id': String(all.length - 1) }, undefined, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await post(JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: 'live-1', poolId: 'main', accountId: 'gina', amount: '1' }));
    expect(await live).toEqual([[String(all.length), 'CollateralDeposited']]);
    expect((await get('/v1/pools/none/events/stream')).statusCode).toBe(404);
    expect((await get('/v1/pools/main/events/stream?after=x')).statusCode).toBe(400);
  });
});

const newRoutes = [
  '/v1/pools/main', '/v1/pools/main/governance', '/v1/pools/main/accounts', '/v1/pools/main/accounts/at-risk', '/v1/pools/main/accounts/alice/history',
  '/v1/pools/main/markets', '/v1/pools/main/fund-health/history', '/v1/pools/main/events/stream',
];

describe('authorization', () => {
  beforeAll(wholeExample);
  it('refuses every read route without a principal (401) and to a reader of another pool (403)', async () => {
    for (const url of [...newRoutes, '/v1/pools']) {
      const anonymous = await app.inject({ method: 'GET', url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    for (const url of newRoutes) {
      const other = await app.inject({ method: 'GET', url, headers: bearer(principals.tokens['other-reader']) });
      expect(other.statusCode, url).toBe(403);
      expect(other.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});

describe('metrics and OpenAPI', () => {
  beforeAll(wholeExample);
  it('counts HTTP answers by route and status (400s included), with fund gauges and totals per pool and tranche', async () => {
    await get('/v1/pools/main/accounts?limit=0');
    await app.inject({ method: 'GET', url: '/v1/pools/main/accounts', headers: bearer(principals.tokens['other-reader']) });
    const text = (await get('/metrics')).body;
    expect(text).toMatch(/ledger_http_requests_total\{method="GET",route="\/v1\/pools\/:poolId\/accounts",status="400"\} [1-9]/);
    expect(text).toMatch(/ledger_http_requests_total\{method="GET",route="\/v1\/pools\/:poolId\/accounts",status="403"\} [1-9]/);
    expect(text).toContain('ledger_fund_tranche_assets{pool="main",tranche="junior"} 3722');
    expect(text).toContain('ledger_fund_assets{pool="main"} 3722');
    expect(text).toContain('ledger_bad_debt{pool="main"} 0');
    expect(text).toContain('ledger_fund_draws_total{pool="main"} 2');
    expect(text).toContain('ledger_adl_fills_total{pool="main"} 1');
    expect(text).toContain('ledger_socializations_total{pool="main"} 1');
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('publishes a valid OpenAPI 3.1 description, generated from the codecs, with operation ids and every status', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as typeof openApiDocument;
    await SwaggerParser.validate(structuredClone(document) as never);
    const operations = Object.values(document.paths).flatMap((p) => Object.values(p as Record<string, { operationId?: string; responses: Record<string, unknown> }>));
    expect(operations.every((o) => typeof o.operationId === 'string')).toBe(true);
    expect(new Set(operations.map((o) => o.operationId)).size).toBe(operations.length);
    const submit = document.paths['/v1/pools/{poolId}/commands'].post;
    expect(Object.keys(submit.responses).sort()).toEqual(['200', '400', '401', '403', '409', '413', '422', '503']);
    // Every command's fields, from its codec: a trade's, and a liquidation's.
    const schemas = document.components.schemas as Record<string, { required?: string[]; properties?: Record<string, { pattern?: string }> }>;
    expect(schemas.ExecuteTrade!.required).toEqual(expect.arrayContaining(['tradeId', 'marketId', 'taker', 'maker', 'takerSide', 'size', 'price']));
    expect(schemas.Liquidate!.required).toEqual(expect.arrayContaining(['accountId', 'marketId', 'liquidatorId', 'price']));
    expect(schemas.Deposit!.properties!.amount!.pattern).toBeDefined();
    for (const path of ['/v1/pools', '/v1/pools/{poolId}/accounts/at-risk', '/v1/pools/{poolId}/events/stream', '/v1/pools/{poolId}/fund-health/history']) expect(Object.keys(document.paths)).toContain(path);
  });

  it('answers every read route in the shape its codec (and so the description) gives', async () => {
    const routes: ReadonlyArray<[string, t.Mixed]> = [
      ['/v1/pools', codecs.PoolListBody], ['/v1/pools/main', codecs.PoolBody], ['/v1/pools/main/governance', codecs.GovernanceBody],
      ['/v1/pools/main/fund-health', codecs.FundHealthBody], ['/v1/pools/main/fund-health/history?resolution=1m', codecs.FundHealthHistoryBody],
      ['/v1/pools/main/tranches', t.array(codecs.TrancheBody)], ['/v1/pools/main/accounts', codecs.AccountsBody], ['/v1/pools/main/accounts/at-risk', codecs.AtRiskBody],
      ['/v1/pools/main/accounts/bob', codecs.AccountBody], ['/v1/pools/main/accounts/bob/history', codecs.HistoryBody], ['/v1/pools/main/markets', codecs.MarketsBody],
      ['/v1/pools/main/markets/BTC-PERP', codecs.MarketBody], ['/v1/pools/main/markets/BTC-PERP/adl-queue', codecs.AdlQueueBody], ['/v1/pools/main/events', codecs.EventsBody],
    ];
    for (const [url, codec] of routes) {
      const decoded = codec.decode(await json(url));
      expect(E.isRight(decoded), url).toBe(true);
    }
    const notFound = codecs.ErrorBody.decode((await get('/v1/pools/main/accounts/nobody')).json());
    expect(E.isRight(notFound)).toBe(true);
  });

  it('the validator refuses a broken description (the check can fail)', async () => {
    const broken = structuredClone(openApiDocument) as unknown as { paths: Record<string, Record<string, { responses: unknown }>> };
    broken.paths['/v1/pools']!.get!.responses = { 200: { content: {} } };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });
});
