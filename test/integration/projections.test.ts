// Read models: what the waterfall example projects (hand-checked figures), idempotency, the
// runner resuming after a restart, and the derived account view.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { runLines } from '../../services/cli.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { poolStream } from '../../services/ledger/pool-writer.js';
import { accountView, type AccountDocument, type Document } from '../../projections/read-models.js';
import { PROJECTION, ProjectionRunner, projectAll } from '../../projections/runner.js';
import type { StoredEvent } from '../../services/ledger/event-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const freshStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-projections-'));
  dirs.push(dir);
  return new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
};

const allEvents = async (store: SqliteEventStore): Promise<StoredEvent[]> => {
  const read = await store.readStream(poolStream('main'), 0n, 1_000_000);
  if (E.isLeft(read)) throw new Error('no log');
  return read.right;
};

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n');
const body = (documents: Map<string, Document>, key: string) => documents.get(key)?.body;

describe('read models', () => {
  it('project the waterfall example: fund health, tranches, accounts and markets', async () => {
    const store = freshStore();
    await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
    const documents = projectAll(await allEvents(store));
    // Draws: 254.187 for alice, 0.013 for dave; one ADL with one fill; 9821.987 socialized;
    // the 6278 of bad debt repaid by the recapitalization, which left junior with 3722.
    expect(body(documents, 'fund-health/main')).toMatchObject({
      fundAssets: '3722', badDebt: '0', draws: { count: 2, total: '254.2' }, adl: { count: 1, fills: 1 },
      socialized: { count: 1, total: '9821.987' }, tranches: [{ trancheId: 'junior', assets: '3722' }, { trancheId: 'senior', assets: '0' }],
    });
    // 3722 / 9861.74 in integer ppm, as a decimal string: the ratio is unbounded
    expect(body(documents, 'fund-health/main')).toMatchObject({ openInterest: '9861.74', coveragePpm: '377418' });
    // junior: fee income 2.25 + 0.9, lost 153.15, lp1's shares written off, 3722 protocol shares
    expect(body(documents, 'tranches/main/junior')).toMatchObject({
      income: '3.15', losses: '153.15', assets: '3722', shares: '3722', sharePrice: '1', stakers: [{ stakerId: 'protocol', shares: '3722' }],
    });
    expect(body(documents, 'tranches/main/senior')).toMatchObject({ income: '1.05', losses: '101.05', assets: '0', shares: '0' });
    expect((body(documents, 'accounts/main/alice') as AccountDocument).history.map((h) => h.kind)).toEqual(['liquidation']);
    expect((body(documents, 'accounts/main/bob') as AccountDocument).history.map((h) => [h.kind, h.amount])).toEqual([['adl', '0.7222'], ['haircut', expect.any(String)]]);
    // after the liquidation: the liquidator long 0.2778 against what ADL left of bob's short
    expect(body(documents, 'markets/main/BTC-PERP')).toMatchObject({ mark: '28300', longSize: '0.2778', shortSize: '0.2778' });
    await store.close();
  });

  it('are unchanged by applying any event twice', async () => {
    const store = freshStore();
    await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
    const events = await allEvents(store);
    const once = new MemoryReadModelStore();
    await once.write(PROJECTION, [...projectAll(events).values()], events.at(-1)!.position);
    const twice = new MemoryReadModelStore();
    const documents = [...projectAll(events).values()];
    await twice.write(PROJECTION, documents, events.at(-1)!.position);
    // every document again, and older versions of them, in any order
    const older = [...projectAll(events.slice(0, 15)).values()];
    await twice.write(PROJECTION, [...older, ...documents.reverse()], events.at(-1)!.position);
    for (const collection of ['fund-health', 'tranches', 'accounts', 'markets'] as const) {
      expect(await twice.list(collection, 'main')).toEqual(await once.list(collection, 'main'));
    }
    await store.close();
  });

  it('the runner follows the log, and after a restart mid-log resumes without applying anything twice', async () => {
    const store = freshStore();
    const readModels = new MemoryReadModelStore();
    await runLines(waterfall.slice(0, 15), { store, rootGovernors: exampleRootGovernors });
    const first = new ProjectionRunner(store, readModels);
    await first.start();
    const midway = (await allEvents(store)).at(-1)!.position;
    await first.caughtUp(midway);
    await first.stop();
    // more commands while no runner is running, then a new runner on the same read models
    await runLines(waterfall.slice(15), { store, rootGovernors: exampleRootGovernors });
    const second = new ProjectionRunner(store, readModels);
    await second.start();
    const end = (await allEvents(store)).at(-1)!.position;
    await second.caughtUp(end);
    const expected = projectAll(await allEvents(store));
    const fund = await readModels.get('fund-health', 'main');
    expect(E.isRight(fund) && fund.right?.body).toEqual(expected.get('fund-health/main')?.body);
    expect(second.lag()).toEqual({ seen: end, stored: end, behind: 0n });
    // and built again from zero, the read models come out the same
    const stray = expected.get('fund-health/main')!;
    await readModels.write('stray', [{ ...stray, position: end + 100n, body: { ...stray.body, badDebt: '1' } } as typeof stray], end);
    await second.rebuild();
    await second.caughtUp(end);
    const rebuilt = await readModels.get('fund-health', 'main');
    expect(E.isRight(rebuilt) && rebuilt.right?.body).toEqual(expected.get('fund-health/main')?.body);
    await second.stop();
    await store.close();
  });

  it('derive mark-dependent figures when read: equity, liquidation and bankruptcy prices, ADL rank', async () => {
    const store = freshStore();
    await runLines(waterfall.slice(0, 13), { store, rootGovernors: exampleRootGovernors });
    const runner = new ProjectionRunner(store, new MemoryReadModelStore());
    await runner.start();
    await runner.caughtUp((await allEvents(store)).at(-1)!.position);
    const pool = runner.poolState('main');
    const documents = projectAll(await allEvents(store));
    if (pool?.status !== 'active') throw new Error('no pool');
    // alice: long 1 from 30000 with 3085. Liquidatable below x with 3085 + (x - 30000) = 5% x,
    // x = 26915 / 0.95 = 28331.578947...; bankrupt at 30000 - 3085 = 26915.
    const view = accountView(pool, body(documents, 'accounts/main/alice') as AccountDocument)!;
    expect(view).toMatchObject({ equity: '3085', maintenanceMargin: '1500', liquidatable: false });
    // maintenance / equity = 1500 / 3085, in integer ppm, as a decimal string (exact at any size)
    expect(view.marginRatioPpm).toBe('486223');
    expect(view.positionsAtMark[0]).toMatchObject({
      marketId: 'BTC-PERP', unrealizedPnl: '0', liquidationPrice: '28331.578947368421052631', bankruptcyPrice: '26915', adlRank: 1, adlLights: 5,
    });
    await runner.stop();
    await store.close();
  });
});
