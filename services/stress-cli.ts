// `ledger stress`: a what-if stress of a pool's current state, read from the store (the pool's
// whole stream replayed through decode and evolve), with progress on stderr. Nothing is appended.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeScenario, decodeStoredEvent, evolve, initialState, parseJson, runToEnd, stress,
  type InvalidInput, type PoolState, type StressProgress, type StressResult,
} from '../domain/index.js';
import { SqliteEventStore } from '../adapters/sqlite/sqlite-event-store.js';
import type { EventStore } from './ledger/event-store.js';
import { poolStream } from './ledger/pool-writer.js';
import { openStore, storeConfigFrom } from './ledger/store-config.js';

export const stressUsage = `  ledger stress [--data DIR] [--pool ID] (--scenario FILE | --shock PPM --liquidator ID) [--liquidator ID] [--json]
      run a what-if scenario on the pool's current state (from DIR/events.sqlite, else
      EVENTSTORE_URL or DATA_DIR) through the real decide and evolve, acting as oracle and
      liquidation engine, and print what the waterfall did and the fund's adequacy per market.
      Nothing is appended. Progress (steps, liquidations, rate, time left) goes to stderr.
      --scenario FILE     the scenario (JSON, see the README)
      --shock PPM         every market falls by PPM (400000: a 40% crash)
      --liquidator ID     the liquidation engine's account (overrides the scenario's)`;

const PAGE = 10_000;

/** The pool's state: its whole stream, decoded and applied. */
const loadPool = async (store: EventStore, poolId: string): Promise<E.Either<string, PoolState>> => {
  let state = initialState;
  for (let from = 0n; ; from += BigInt(PAGE)) {
    const page = await store.readStream(poolStream(poolId), from, PAGE);
    if (E.isLeft(page)) return E.left(page.left.kind === 'stream-not-found' ? `pool "${poolId}" not found` : `the store: ${page.left.kind}`);
    for (const stored of page.right) {
      const event = decodeStoredEvent(stored.data);
      if (E.isLeft(event)) return E.left(`event at position ${stored.position} does not decode: ${event.left.message}`);
      state = evolve(state, event.right);
    }
    if (page.right.length < PAGE) return E.right(state);
  }
};

const describeErrors = (error: InvalidInput) => error.errors.map((e) => `${e.path}: ${e.message}`).join('; ');

/** A progress line: steps, liquidations, their rate and the time left at the current pace. */
export const progressLine = (progress: StressProgress, elapsedMs: number): string => {
  const fraction = progress.stepsPlanned === 0 ? 1 : Math.min(1, progress.stepsDone / progress.stepsPlanned);
  const rate = elapsedMs > 0 ? Math.round((progress.liquidations * 1000) / elapsedMs) : 0;
  const left = fraction > 0 ? Math.round(((elapsedMs / fraction) - elapsedMs) / 1000) : undefined;
  return `stress: step ${progress.stepsDone.toLocaleString('en-US')}/${progress.stepsPlanned.toLocaleString('en-US')}, ${progress.liquidations.toLocaleString('en-US')} liquidations (${rate.toLocaleString('en-US')}/s), ${left === undefined ? '?' : `about ${left} s`} left`;
};

export const describeStress = (r: StressResult, seconds: number): string => [
  `pool ${r.poolId}, liquidator ${r.liquidatorId}: ${r.marks.map((m) => `${m.marketId} ${m.from} -> ${m.to} (${m.updates} updates)`).join(', ')}`,
  `liquidations ${r.liquidations} (${r.belowBankruptcy} below bankruptcy), refused ${r.refused.count}${r.refused.count > 0 ? ` (${Object.entries(r.refused.byCode).map(([code, n]) => `${code} ${n}`).join(', ')})` : ''}`,
  `fund ${r.fund.before} -> ${r.fund.after}: ${r.fund.draws} draws, ${r.fund.drawn} drawn (${r.fund.tranches.map((t) => `${t.trancheId} ${t.before} -> ${t.after}${t.writtenOff ? ', written off' : ''}`).join('; ')})`,
  `ADL: ${r.adl.fills} fills in ${r.adl.events} liquidations, size ${r.adl.size}, notional ${r.adl.notional}, covering ${r.adl.deficitCovered} of deficit at a loss against the mark of ${r.adl.lossAtMark}`,
  `socialized ${r.socialized.total} (${r.socialized.haircuts} haircuts), bad debt ${r.badDebt}, largest deficit ${r.largestDeficit === null ? 'none' : `${r.largestDeficit.amount} (${r.largestDeficit.accountId}, ${r.largestDeficit.marketId})`}`,
  `still liquidatable: ${r.liquidatableAfter}`,
  ...r.adequacy.map((a) => `adequacy ${a.marketId}: the fund absorbs a ${a.direction === 'down' ? 'fall' : 'rise'} of ${a.absorbedPpm} ppm without ADL${a.failsAtPpm === null ? ' (the whole range searched)' : `; ${a.failsAtPpm} ppm needs ADL or worse`}`),
  `in ${seconds.toFixed(2)} s`,
].join('\n');

export const stressCommand = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      pool: { type: 'string', default: 'main' },
      scenario: { type: 'string' },
      shock: { type: 'string' },
      liquidator: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if ((values.scenario === undefined) === (values.shock === undefined)) {
    console.error(`expected one of --scenario FILE and --shock PPM\n${stressUsage}`);
    return 1;
  }
  let input: unknown;
  if (values.scenario !== undefined) {
    const parsed = parseJson(readFileSync(values.scenario, 'utf8'));
    if (E.isLeft(parsed)) {
      console.error(`--scenario ${values.scenario}: ${describeErrors(parsed.left)}`);
      return 1;
    }
    input = values.liquidator === undefined ? parsed.right : { ...(parsed.right as object), liquidatorId: values.liquidator };
  } else {
    if (!/^[0-9]{1,6}$/.test(values.shock!) || Number(values.shock) > 999_999) {
      console.error('--shock: expected a fall in ppm, 0 to 999999 (400000: a 40% crash)');
      return 1;
    }
    if (values.liquidator === undefined) {
      console.error('--shock needs --liquidator ID (the liquidation engine\'s account)');
      return 1;
    }
    input = { liquidatorId: values.liquidator, movePpm: -Number(values.shock) };
  }
  const scenario = decodeScenario(input);
  if (E.isLeft(scenario)) {
    console.error(`scenario: ${describeErrors(scenario.left)}`);
    return 1;
  }

  let store: EventStore;
  if (values.data !== undefined) store = new SqliteEventStore(join(values.data, 'events.sqlite'));
  else {
    const config = storeConfigFrom(process.env);
    if (E.isLeft(config)) {
      console.error(`configuration: ${config.left.message}`);
      return 1;
    }
    store = openStore(config.right);
  }
  try {
    const pool = await loadPool(store, values.pool ?? 'main');
    if (E.isLeft(pool)) {
      console.error(pool.left);
      return 1;
    }
    const started = Date.now();
    let reported = started;
    const outcome = runToEnd(stress(pool.right, scenario.right, { now: started, actor: 'stress' }), (progress) => {
      const now = Date.now();
      if (now - reported < 1_000) return;
      reported = now;
      process.stderr.write(`${progressLine(progress, now - started)}\n`);
    });
    if (E.isLeft(outcome)) {
      console.error(`scenario: ${describeErrors(outcome.left)}`);
      return 1;
    }
    const seconds = (Date.now() - started) / 1000;
    const { result } = outcome.right;
    process.stderr.write(`stress: done, ${result.liquidations.toLocaleString('en-US')} liquidations in ${seconds.toFixed(2)} s\n`);
    if (values.json) console.log(JSON.stringify({ ...result, seconds }, null, 2));
    else console.log(describeStress(result, seconds));
    return 0;
  } finally {
    await store.close();
  }
};

