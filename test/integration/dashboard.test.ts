// The risk desk over HTTP and in a real browser: the service runs the waterfall example; the
// stress routes answer readers of the pool only (401, 403 otherwise) and append nothing; the
// dashboard page, opened in headless Debian chromium (driven by playwright-core, which never
// downloads a browser), asks for the token and shows the fund, its history, and a stress run.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { serviceConfigFrom, startService, type RunningService } from '../../services/service.js';
import { EXAMPLE_ROOT_GOVERNORS_FILE } from '../support/example-root.js';
import { principalsFixture, producerRoles } from '../support/principals.js';

const CHROMIUM = '/usr/bin/chromium';
const missingBrowser = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (missingBrowser !== undefined) console.log(`dashboard browser test skipped: ${missingBrowser}.`);

const dir = mkdtempSync(join(tmpdir(), 'ledger-dashboard-'));
const { path: principalsFile, tokens } = principalsFixture(dir, {
  producer: { roles: producerRoles, pools: ['main'] },
  desk: { roles: ['reader'], pools: ['main'] },
  auditor: { roles: ['reader'] },
  'other-reader': { roles: ['reader'], pools: ['other'] },
  oracle: { roles: ['oracle'], pools: ['main'] },
});
let service: RunningService;
const url = (path: string) => `${service.address}${path}`;
const call = async (path: string, token: string | undefined, init: { method?: string; body?: unknown } = {}) => {
  const response = await fetch(url(path), {
    method: init.method ?? 'GET',
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) as any };
};
const eventCount = async () => (await call('/v1/pools/main/events?limit=1000', tokens.desk)).body.length as number;

// A 10% rise on the example's final state: bob (short 0.2778 BTC from 30000, no collateral left)
// is liquidatable above 28571.43 and is taken over by liq, funded with 100000 on the copy.
const rise = { liquidatorId: 'liq', liquidatorDeposit: '100000', movePpm: 100_000, steps: 10 };

beforeAll(async () => {
  const config = serviceConfigFrom({ PORT: '0', DATA_DIR: dir, PRINCIPALS_FILE: principalsFile, ROOT_GOVERNORS_FILE: EXAMPLE_ROOT_GOVERNORS_FILE, LOG_LEVEL: 'silent' });
  if (E.isLeft(config)) throw new Error(config.left.message);
  service = await startService(config.right, pino({ level: 'silent' }));
  for (const line of readFileSync('examples/waterfall.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '')) {
    await call('/v1/pools/main/commands', tokens.producer, { method: 'POST', body: JSON.parse(line) });
  }
  // the projection has caught up once the recapitalization shows
  for (let i = 0; i < 200 && (await call('/v1/pools/main/fund-health', tokens.desk)).body?.fundAssets !== '3722'; i++) await new Promise((r) => setTimeout(r, 25));
}, 60_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the stress routes', () => {
  it('refuse no token, an unknown one (401), and a principal without read on the pool (403)', async () => {
    for (const [method, path] of [['POST', '/v1/pools/main/stress'], ['GET', '/v1/pools/main/stress/latest']] as const) {
      const body = method === 'POST' ? rise : undefined;
      expect((await call(path, undefined, { method, body })).status).toBe(401);
      expect((await call(path, 'not-a-token', { method, body })).status).toBe(401);
      expect((await call(path, tokens['other-reader'], { method, body })).status).toBe(403);
      expect((await call(path, tokens.oracle, { method, body })).status).toBe(403);
    }
  });

  it('answer a reader with the result, append nothing, and keep it as the latest', async () => {
    expect((await call('/v1/pools/main/stress/latest', tokens.desk)).status).toBe(404);
    const before = await eventCount();
    const { status, body } = await call('/v1/pools/main/stress', tokens.desk, { method: 'POST', body: rise });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      poolId: 'main', liquidatorId: 'liq', liquidations: 1, belowBankruptcy: 0, refused: { count: 0 },
      marks: [{ marketId: 'BTC-PERP', from: '28300', to: '31130', updates: 10 }, { marketId: 'ETH-PERP', from: '100', to: '110', updates: 10 }],
      fund: { before: '3722', draws: 0 }, adl: { fills: 0 }, socialized: { total: '0' }, badDebt: '0',
    });
    expect(body.adequacy.map((a: { marketId: string; direction: string }) => [a.marketId, a.direction])).toEqual([['BTC-PERP', 'up'], ['ETH-PERP', 'up']]);
    expect(await eventCount()).toBe(before);
    expect((await call('/v1/pools/main/fund-health', tokens.desk)).body.fundAssets).toBe('3722');
    expect((await call('/v1/pools/main/stress/latest', tokens.auditor)).body).toEqual(body);
  });

  it('refuse a bad scenario naming the field (400), and an unknown pool (404)', async () => {
    const bad = await call('/v1/pools/main/stress', tokens.desk, { method: 'POST', body: { liquidatorId: 'liq', movePpm: '-400000' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT', errors: [{ path: 'movePpm' }] } });
    const unknownMarket = await call('/v1/pools/main/stress', tokens.desk, { method: 'POST', body: { liquidatorId: 'liq', markets: [{ marketId: 'DOGE-PERP', movePpm: -1 }] } });
    expect(unknownMarket).toMatchObject({ status: 400, body: { errors: [{ path: 'markets.0.marketId' }] } });
    expect((await call('/v1/pools/nowhere/stress', tokens.auditor, { method: 'POST', body: rise })).status).toBe(404);
  });

  it('serves the page on an open route, with no ledger data in it', async () => {
    const response = await fetch(url('/'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toContain('Reader token');
    expect(html).not.toContain('3722');
    expect((await fetch(url('/dashboard/app.js'))).headers.get('content-type')).toContain('javascript');
    expect((await fetch(url('/dashboard/../package.json'))).status).toBe(404);
  });
});

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk header). */
const pngSize = (png: Buffer) => {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
};

describe.skipIf(missingBrowser !== undefined)('the dashboard in headless chromium', () => {
  it('asks for the token, shows the fund, its history and at-risk accounts, and runs a stress', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(url('/'));
      await page.fill('#token', tokens.desk);
      await page.click('#login button[type=submit]');
      await page.waitForSelector('#pool-view:not([hidden])', { timeout: 20_000 });
      expect(await page.isVisible('#login')).toBe(false);
      // the token lives in this tab's sessionStorage only
      expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('ledger-reader-token'))).toBe(tokens.desk);
      expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);

      // the fund: tranche names and figures as the read models have them
      expect(await page.textContent('#tranche-junior')).toContain('3,722');
      expect(await page.textContent('#tranche-senior')).toContain('0');
      expect(await page.textContent('#fund-assets')).toContain('3,722');
      expect(await page.textContent('#draws')).toContain('2 (254.2)');
      expect(await page.textContent('#adl')).toContain('1 (1 fills)');
      expect(await page.textContent('#socialized')).toContain('9,821.98');
      // the history: one line per tranche, and the waterfall's events on the timeline
      expect(await page.locator('#history svg.chart').count()).toBe(4);
      // coverage 37.74% against the example's 5% target
      expect(await page.textContent('#coverage')).toContain('37.74% of 5% target');
      expect(await page.locator('#history svg.gauge line.gauge-target').count()).toBe(1);
      expect(await page.locator('#history path[data-series=junior]').count()).toBe(1);
      expect(await page.locator('#history path[data-series=senior]').count()).toBe(1);
      expect(await page.locator('#history circle.InsuranceFundDrawn').count()).toBe(2);
      expect(await page.locator('#history circle.PositionsAutoDeleveraged').count()).toBe(1);
      expect(await page.locator('#history circle.LossSocialized').count()).toBe(1);
      expect(await page.locator('#history circle.BadDebtRecorded').count()).toBe(1);
      expect(await page.textContent('#waterfall-events')).toContain('bad debt 6,278');
      // the same history over time (the example's log took under a minute: one bucket)
      await page.selectOption('#x-axis', 'time');
      expect(await page.locator('#history svg.chart').count()).toBe(4);
      expect(await page.locator('#history path[data-series="coverage ppm"]').count()).toBe(1);
      expect(await page.locator('#history circle.InsuranceFundDrawn').count()).toBe(2);
      await page.selectOption('#x-axis', 'auto');
      await page.waitForSelector('#at-risk table');
      expect(await page.textContent('#at-risk tbody tr:first-child')).toContain('bob');

      // the latest stress (from the route test above), then a new one from the button
      expect(await page.textContent('#stress-liquidations')).toContain('1 (0 below bankruptcy)');
      // a 10% rise in 5 updates (the route test's ran 10): bob is taken over above bankruptcy
      await page.fill('#stress-move', '10');
      await page.fill('#stress-steps', '5');
      await page.fill('#stress-liquidator', 'liq');
      await page.fill('#stress-deposit', '100000');
      await page.click('#stress-run');
      await page.locator('#stress-result', { hasText: '(5 updates)' }).waitFor({ timeout: 20_000 });
      expect(await page.textContent('#stress-result')).toContain('BTC-PERP 28,300 → 31,130 (5 updates)');
      expect(await page.textContent('#stress-liquidations')).toContain('1 (0 below bankruptcy)');
      expect(await page.textContent('#stress-drawn')).toContain('0 of 3,722');
      expect(await page.textContent('#stress-adequacy')).toContain('BTC-PERP: a rise of');
      expect(problems).toEqual([]);

      await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
      const png = await page.screenshot();
      expect(png.length).toBeGreaterThan(10_000);
      expect(pngSize(png)).toEqual({ width: 1000, height: 1400 });
      if (process.env.SAVE_DASHBOARD_SCREENSHOT) writeFileSync(process.env.SAVE_DASHBOARD_SCREENSHOT, png);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
