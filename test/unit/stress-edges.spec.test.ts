// Given/when/then specifications of the stress engine's edges, with hand-computed numbers: the
// oracle's rounding and circuit breaker in both directions, the watch list that picks the
// candidates (its triggers, slack, order and heap), the run loop (refusals, socialized losses that
// make others liquidatable, several markets, progress reports, the commands sent) and the adequacy
// search's direction and range. The waterfall example's crashes are in `stress.spec`.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  compareTriggers, decide, decodeScenario, evolve, formatDecimal, initialState, SCHEMA_VERSION, lowerTriggerFirst, higherTriggerFirst, liquidationPrice, nextMark, runToEnd, shockPath, stress, triggerMark, units,
  StressWatch, WatchHeap, type KeyedWatched,
  type ActivePool, type Command, type PoolState, type StressEngine, type StressProgress, type StressResult, type StressScenario,
} from '../../domain/index.js';
import { active, BTC, createPool, ctx, deposit, ETH, given, listMarket, mark, stake, standardPool, trade } from '../support/builders.js';

const scenario = (input: unknown): StressScenario => {
  const decoded = decodeScenario(input);
  if (E.isLeft(decoded)) throw new Error(JSON.stringify(decoded.left));
  return decoded.right;
};

interface Outcome { readonly result: StressResult; readonly state: ActivePool; readonly progress: StressProgress[]; readonly commands: Command[] }

/** Runs the scenario to the end, recording every progress report and every command sent. */
const run = (state: PoolState, input: unknown): Outcome => {
  const progress: StressProgress[] = [];
  const commands: Command[] = [];
  const engine: StressEngine = { decide: (command, pool, context) => { commands.push(command); return decide(command, pool, context); }, evolve };
  const outcome = runToEnd(stress(state, scenario(input), ctx, engine), (report) => progress.push(report));
  if (E.isLeft(outcome)) throw new Error(JSON.stringify(outcome.left));
  return { ...outcome.right, progress, commands };
};

/** The pool with every market's mark replaced (the watch reads only marks, positions and collateral). */
const withMarks = (pool: ActivePool, marks: Record<string, bigint>): ActivePool =>
  ({ ...pool, markets: Object.entries(marks).reduce((markets, [id, price]) => markets.set(id, { ...markets.get(id)!, mark: price }), pool.markets) });

// BTC at 30000 and ETH at 1000, maintenance 5%, taker fee 0.05% (15 on 1 BTC at 30000), maker 0.02% (6).
// Lone BTC longs of 1 at 30000: amy collateral 3300, bea 3000, cat 3600; lone shorts: mm 3 BTC with
// 10000 (three makers' fees of 6 taken from 10018), eve 1 BTC with 3000. zed (long BTC and ETH) and
// abe (short BTC, long ETH) hold two markets; ned is short 2 ETH; nil holds nothing.
const watchedPool = active(standardPool(
  listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 2 }),
  deposit('mm', '10018'), deposit('amy', '3315'), deposit('bea', '3015'), deposit('cat', '3615'), deposit('eve', '3015'), deposit('liq', '100000'),
  deposit('zed', '5000'), deposit('abe', '5000'), deposit('ned', '5000'), deposit('nil', '100'),
  trade({ taker: 'amy', maker: 'mm', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'bea', maker: 'mm', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'cat', maker: 'mm', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'eve', maker: 'liq', side: 'sell', size: '1', price: '30000' }),
  trade({ taker: 'zed', maker: 'abe', side: 'buy', size: '0.1', price: '30000' }),
  trade({ taker: 'zed', maker: 'ned', side: 'buy', size: '1', price: '1000', marketId: ETH }),
  trade({ taker: 'abe', maker: 'ned', side: 'buy', size: '1', price: '1000', marketId: ETH }),
).state);

// Triggers (the mark at which the lone position turns liquidatable), floored to 1e-18:
// long (30000 - c) / 0.95: amy 26700 / 0.95 = 28105.263157894736842105..., bea 27000 / 0.95 =
// 28421.052631578947368421..., cat 26400 / 0.95 = 27789.473684210526315789...;
// short (c + 30000 |size|) / (|size| * 1.05): eve 33000 / 1.05 = 31428.571428571428571428...,
// mm 100000 / 3.15 = 31746.031746031746031746...
const trigger = { amy: 28105263157894736842105n, bea: 28421052631578947368421n, cat: 27789473684210526315789n, eve: 31428571428571428571428n, mm: 31746031746031746031746n };

describe('stress edges: the oracle rounds towards the current mark and keeps to the breaker both ways', () => {
  const btc = watchedPool.markets.get(BTC)!;

  it('rounds half-tick steps of a 1 ppm move towards the mark: down 29999.985 -> 29999.99, up 30000.015 -> 30000.01', () => {
    // 1 ppm of 30000 is 0.03; in two steps the first is half of it, 0.015, off the 0.01 tick
    expect(shockPath(btc, -1, 2)).toEqual([units('29999.99'), units('29999.97')]);
    expect(shockPath(btc, 1, 2)).toEqual([units('30000.01'), units('30000.03')]);
    expect(shockPath(btc, 0, 3)).toEqual([]);
  });

  it('caps a rise at 20% of the mark per update and lets a smaller one through whole', () => {
    // 30000 * 1.2 = 36000
    expect(nextMark(btc, units('50000'))).toBe(units('36000'));
    expect(nextMark(btc, units('36000'))).toBe(units('36000'));
    expect(nextMark(btc, units('31000'))).toBe(units('31000'));
    // 30000 * 0.8 = 24000 down; the mark itself is where it stays
    expect(nextMark(btc, units('29000'))).toBe(units('29000'));
    expect(nextMark(btc, units('30000'))).toBe(units('30000'));
  });

  it('with a 100% breaker falls to one tick at most, never to zero', () => {
    const wide = { ...btc, maxMarkMovePpm: 1_000_000 };
    expect(nextMark(wide, units('0.01'))).toBe(units('0.01'));
    expect(nextMark(wide, units('60000'))).toBe(units('60000'));
    expect(nextMark(wide, units('70000'))).toBe(units('60000'));
  });

  it('with a 0% breaker allows no move either way', () => {
    const shut = { ...btc, maxMarkMovePpm: 0 };
    expect(nextMark(shut, units('29000'))).toBe(units('30000'));
    expect(nextMark(shut, units('31000'))).toBe(units('30000'));
  });

  it('prices a short\'s liquidation above the mark, deeper per liquidation of the step', () => {
    const depth = { baseDiscountPpm: 1_000, stepDiscountPpm: 1_000, maxDiscountPpm: 50_000 };
    // 30000 * 1.001 = 30030, 30000 * 1.003 = 30090; a long: 30000 * 0.999 = 29970
    expect(liquidationPrice(btc, false, 0, depth)).toBe(units('30030'));
    expect(liquidationPrice(btc, false, 2, depth)).toBe(units('30090'));
    expect(liquidationPrice(btc, true, 0, depth)).toBe(units('29970'));
  });
});

describe('stress edges: the watch heap', () => {
  const keys = [5n, 1n, 9n, 3n, 7n, 2n, 8n, 6n, 4n, 0n, 11n, 10n];
  // An entry as the engine watches it: its trigger and the trigger's float.
  const watched = (id: string, at: bigint): KeyedWatched => ({ id, at, key: Number(at) });
  const drain = (heap: WatchHeap<KeyedWatched>) => {
    const out: bigint[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item.at);
    return out;
  };

  it('gives the highest trigger first for longs and the lowest first for shorts, then nothing', () => {
    const longs = new WatchHeap(higherTriggerFirst);
    const shorts = new WatchHeap(lowerTriggerFirst);
    expect(longs.top).toBeUndefined();
    expect(longs.pop()).toBeUndefined();
    for (const at of keys) {
      longs.push(watched(`a${at}`, at));
      shorts.push(watched(`a${at}`, at));
    }
    expect(longs.top).toEqual({ id: 'a11', at: 11n, key: 11 });
    expect(shorts.top).toEqual({ id: 'a0', at: 0n, key: 0 });
    expect(drain(longs)).toEqual([11n, 10n, 9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n]);
    expect(drain(shorts)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
    expect(longs.top).toBeUndefined();
    expect(shorts.pop()).toBeUndefined();
  });

  it('keeps its order through pushes between pops', () => {
    const heap = new WatchHeap(higherTriggerFirst);
    for (const at of [4n, 8n, 2n]) heap.push(watched(String(at), at));
    expect(heap.pop()?.at).toBe(8n);
    for (const at of [9n, 1n, 5n, 7n]) heap.push(watched(String(at), at));
    expect(heap.pop()?.at).toBe(9n);
    expect(heap.top?.at).toBe(7n);
    expect(drain(heap)).toEqual([7n, 5n, 4n, 2n, 1n]);
  });
});

describe('stress edges: the trigger of a lone position', () => {
  it('is (entry notional - collateral) / (size * (1 - mmr)) for a long, (collateral - entry notional) / (|size| * (1 + mmr)) for a short', () => {
    const account = (id: string) => watchedPool.accounts.get(id)!;
    for (const id of ['amy', 'bea', 'cat', 'eve', 'mm'] as const) {
      const { collateral, positions: [position] } = account(id);
      expect(triggerMark(collateral, position!.size, position!.entryNotional, 50_000)).toBe(trigger[id]);
    }
    // 2 BTC long at 60000 with 4500: 55500 / 1.9 = 29210.526315789473684210...
    expect(triggerMark(units('4500'), units('2'), units('60000'), 50_000)).toBe(29210526315789473684210n);
    // a short of 0.5 at 15000 (entry -15000) with 1000 and 10%: 16000 / 0.55 = 29090.909090909090909090...
    expect(triggerMark(units('1000'), units('-0.5'), units('-15000'), 100_000)).toBe(29090909090909090909090n);
  });
});

describe('stress edges: the watch list', () => {
  const at = (btc: string | bigint, eth = '1000') => withMarks(watchedPool, { [BTC]: typeof btc === 'bigint' ? btc : units(btc), [ETH]: units(eth) });

  it('given the marks of today, when asked, then lists only the accounts in two markets, by id', () => {
    expect(new StressWatch(watchedPool, 'liq').candidates(watchedPool)).toEqual(['abe', 'zed']);
  });

  it('lists longs by falling trigger once the mark reaches it, each once, then the accounts in two markets', () => {
    const watch = new StressWatch(watchedPool, 'liq');
    // 28000 is below bea's 28421.05 and amy's 28105.26, above cat's 27789.47
    expect(watch.candidates(at('28000'))).toEqual(['bea', 'amy', 'abe', 'zed']);
    expect(watch.candidates(at('28000'))).toEqual(['abe', 'zed']);
    expect(watch.candidates(at('27000'))).toEqual(['cat', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'liq').candidates(at('26000'))).toEqual(['bea', 'amy', 'cat', 'abe', 'zed']);
  });

  it('lists shorts by rising trigger, and ned in ETH by the ETH mark alone', () => {
    // 32000 is above eve's 31428.57 and mm's 31746.03
    expect(new StressWatch(watchedPool, 'liq').candidates(at('32000'))).toEqual(['eve', 'mm', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'liq').candidates(at('31500'))).toEqual(['eve', 'abe', 'zed']);
    // ned: (4999.6 + 2000) / (2 * 1.05) = 3333.142857...
    expect(new StressWatch(watchedPool, 'liq').candidates(at('30000', '3334'))).toEqual(['ned', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'liq').candidates(at('30000', '3333'))).toEqual(['abe', 'zed']);
  });

  it('lists a long exactly at its trigger plus the slack (mark / 1e12 + 1e-15), and not a unit of 1e-18 beyond', () => {
    // bea: m = 28421.052631607368422052 gives slack 28421053631e-18 (28421052631 + 1000), and
    // 28421.052631578947368421 + 0.000000028421053631 = m exactly
    const edge = 28421052631607368422052n;
    expect(new StressWatch(watchedPool, 'liq').candidates(at(edge))).toEqual(['bea', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'liq').candidates(at(edge + 1n))).toEqual(['abe', 'zed']);
  });

  it('lists a short exactly at its trigger less the slack, and not a unit of 1e-18 short of it', () => {
    // eve: m = 31428.571428539999999000 gives slack 31428572428e-18, and 31428.571428571428571428 - that = m
    const edge = 31428571428539999999000n;
    expect(new StressWatch(watchedPool, 'liq').candidates(at(edge))).toEqual(['eve', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'liq').candidates(at(edge - 1n))).toEqual(['abe', 'zed']);
  });

  it('lists a touched long or short by the same slack as the sorted list', () => {
    const watch = new StressWatch(watchedPool, 'liq');
    // every long and short listed once (26000, then 40000), then bea and eve touched unchanged
    watch.candidates(at('26000'));
    watch.candidates(at('40000'));
    watch.touched(watchedPool, 'bea');
    watch.touched(watchedPool, 'eve');
    expect(watch.candidates(at(28421052631607368422052n + 1n))).toEqual(['abe', 'zed']);
    expect(watch.candidates(at(28421052631607368422052n))).toEqual(['bea', 'abe', 'zed']);
    expect(watch.candidates(at(31428571428539999999000n - 1n))).toEqual(['abe', 'zed']);
    expect(watch.candidates(at(31428571428539999999000n))).toEqual(['eve', 'abe', 'zed']);
  });

  it('keeps accounts of equal trigger in account order', () => {
    const twins = active(standardPool(
      deposit('mm', '20000'), deposit('t3', '3015'), deposit('t1', '3015'), deposit('t2', '3015'), deposit('s3', '3015'), deposit('s1', '3015'), deposit('s2', '3015'),
      ...['t3', 't1', 't2'].map((taker) => trade({ taker, maker: 'mm', side: 'buy', size: '1', price: '30000' })),
      ...['s3', 's1', 's2'].map((taker) => trade({ taker, maker: 'mm', side: 'sell', size: '1', price: '30000' })),
    ).state);
    // each long 28421.05 (as bea), each short 31428.57 (as eve); mm is flat
    expect(new StressWatch(twins, 'liq').candidates(withMarks(twins, { [BTC]: units('28000') }))).toEqual(['t3', 't1', 't2']);
    expect(new StressWatch(twins, 'liq').candidates(withMarks(twins, { [BTC]: units('32000') }))).toEqual(['s3', 's1', 's2']);
  });

  describe('triggers closer than a float tells apart', () => {
    // Six lone positions of 1 BTC at 30000 with 3000 of collateral (3015 less the taker fee of
    // 15), placed in the order t3 t1 t2 s3 s1 s2; then t1 and s2 hold one unit of 1e-18 less, t2
    // and s1 one more. Floored triggers: a long with 3000 - 1e-18 at (27000 + 1e-18) / 0.95 =
    // 28421.052631578947368422 (.1...), with 3000 at 28421.052631578947368421 (.05...), with
    // 3000 + 1e-18 at 28421.052631578947368420 exactly (540000e18 - 20 = 19 * ...420); a short with 3000 - 1e-18 at
    // (33000 - 1e-18) / 1.05 = 31428.571428571428571427 (.6...), 3000 at ...428 (.57...), 3000 +
    // 1e-18 at ...429 (.5...). A float near 2.8e22 or 3.1e22 is exact to 2^22 units only, so
    // each three have one float: only the exact comparison orders them.
    const crowded = (() => {
      const pool = active(standardPool(
        deposit('mm', '20000'), deposit('t3', '3015'), deposit('t1', '3015'), deposit('t2', '3015'), deposit('s3', '3015'), deposit('s1', '3015'), deposit('s2', '3015'),
        ...['t3', 't1', 't2'].map((taker) => trade({ taker, maker: 'mm', side: 'buy', size: '1', price: '30000' })),
        ...['s3', 's1', 's2'].map((taker) => trade({ taker, maker: 'mm', side: 'sell', size: '1', price: '30000' })),
      ).state);
      const collateral: Record<string, bigint> = { t1: units('3000') - 1n, t2: units('3000') + 1n, s1: units('3000') + 1n, s2: units('3000') - 1n };
      return Object.entries(collateral).reduce((p, [id, c]) => ({ ...p, accounts: p.accounts.set(id, { ...p.accounts.get(id)!, collateral: c }) }), pool);
    })();
    const triggerOf = (id: string) => {
      const { collateral, positions: [position] } = crowded.accounts.get(id)!;
      return triggerMark(collateral, position!.size, position!.entryNotional, 50_000);
    };
    const longs = { t1: 28421052631578947368422n, t3: 28421052631578947368421n, t2: 28421052631578947368420n };
    const shorts = { s2: 31428571428571428571427n, s3: 31428571428571428571428n, s1: 31428571428571428571429n };

    it('given the triggers, then each three differ by a unit of 1e-18 and share one float', () => {
      for (const [id, at] of Object.entries({ ...longs, ...shorts })) expect(triggerOf(id)).toBe(at);
      expect(new Set(Object.values(longs).map(Number)).size).toBe(1);
      expect(new Set(Object.values(shorts).map(Number)).size).toBe(1);
    });

    it('compares two triggers of one float exactly, and equal triggers as equal', () => {
      const t = (at: bigint) => ({ at, key: Number(at) });
      expect(compareTriggers(t(longs.t3), t(longs.t1))).toBe(-1);
      expect(compareTriggers(t(longs.t1), t(longs.t3))).toBe(1);
      expect(compareTriggers(t(longs.t3), t(longs.t3))).toBe(0);
      // floats that differ decide alone: 1 and 3 differ by 2 (the bigints are not read)
      expect(compareTriggers({ at: 5n, key: 1 }, { at: 0n, key: 3 })).toBe(-2);
      expect(compareTriggers({ at: 0n, key: 3 }, { at: 5n, key: 1 })).toBe(2);
    });

    it('lists the sorted longs by falling and shorts by rising exact trigger, not in account order', () => {
      expect(new StressWatch(crowded, 'liq').candidates(withMarks(crowded, { [BTC]: units('28000') }))).toEqual(['t1', 't3', 't2']);
      expect(new StressWatch(crowded, 'liq').candidates(withMarks(crowded, { [BTC]: units('32000') }))).toEqual(['s2', 's3', 's1']);
    });

    it('lists the touched longs and shorts in the same exact order', () => {
      const watch = new StressWatch(crowded, 'liq');
      watch.candidates(withMarks(crowded, { [BTC]: units('26000') }));
      watch.candidates(withMarks(crowded, { [BTC]: units('40000') }));
      for (const id of ['t2', 't1', 't3', 's2', 's3', 's1']) watch.touched(crowded, id);
      expect(watch.candidates(withMarks(crowded, { [BTC]: units('28000') }))).toEqual(['t1', 't3', 't2']);
      expect(watch.candidates(withMarks(crowded, { [BTC]: units('32000') }))).toEqual(['s2', 's3', 's1']);
    });
  });

  it('skips the liquidator, and accounts without positions', () => {
    expect(new StressWatch(watchedPool, 'bea').candidates(at('26000'))).toEqual(['amy', 'cat', 'abe', 'zed']);
    expect(new StressWatch(watchedPool, 'zed').candidates(at('30000'))).toEqual(['abe']);
  });

  it('watches a touched account again with its trigger now, by falling trigger among the touched', () => {
    const watch = new StressWatch(watchedPool, 'liq');
    expect(watch.candidates(at('28000'))).toEqual(['bea', 'amy', 'abe', 'zed']);
    // cat's collateral falls to 2600 (trigger 27400 / 0.95 = 28842.10...), amy's to 3000 (28421.05),
    // eve's to 2000 (32000 / 1.05 = 30476.19...), mm's to 1000 (91000 / 3.15 = 28888.88...)
    const pool = ['cat', 'amy', 'eve', 'mm'].reduce((p, id, i) => {
      const account = p.accounts.get(id)!;
      return { ...p, accounts: p.accounts.set(id, { ...account, collateral: units(['2600', '3000', '2000', '1000'][i]!) }) };
    }, watchedPool);
    for (const id of ['amy', 'mm', 'cat', 'eve', 'nil', 'nobody']) watch.touched(pool, id);
    expect(watch.candidates(withMarks(pool, { [BTC]: units('28000') }))).toEqual(['cat', 'amy', 'abe', 'zed']);
    expect(watch.candidates(withMarks(pool, { [BTC]: units('31000') }))).toEqual(['mm', 'eve', 'abe', 'zed']);
  });

  it('moves a touched account that now holds two markets to the accounts checked at every step', () => {
    const watch = new StressWatch(watchedPool, 'liq');
    const amy = watchedPool.accounts.get('amy')!;
    const pool = { ...watchedPool, accounts: watchedPool.accounts.set('amy', { ...amy, positions: [...amy.positions, { ...amy.positions[0]!, marketId: ETH }] }) };
    watch.touched(pool, 'amy');
    expect(watch.candidates(pool)).toEqual(['abe', 'amy', 'zed']);
  });
});

/** The Liquidate commands sent, as "account@price". */
const liquidations = (commands: readonly Command[]) =>
  commands.flatMap((c) => (c.type === 'Liquidate' ? [`${c.accountId}@${formatDecimal(c.price)}`] : []));

// A fund of 10000 in the junior tranche (plus its share of the fees); s1 and s2 short 1 BTC at
// 30000 with 3000 each (liquidatable above 31428.57), l1 and l2 long 1 BTC with 3000 each
// (below 28421.05, bankrupt below 27000); mm is flat.
const twinsPool = standardPool(
  stake('lp', 'junior', '10000'), deposit('mm', '20000'), deposit('s1', '3015'), deposit('s2', '3015'), deposit('l1', '3015'), deposit('l2', '3015'),
  trade({ taker: 's1', maker: 'mm', side: 'sell', size: '1', price: '30000' }), trade({ taker: 's2', maker: 'mm', side: 'sell', size: '1', price: '30000' }),
  trade({ taker: 'l1', maker: 'mm', side: 'buy', size: '1', price: '30000' }), trade({ taker: 'l2', maker: 'mm', side: 'buy', size: '1', price: '30000' }),
).state;

describe('stress edges: liquidation prices and deficits within a step', () => {
  const btcTo = (price: string, depth: object) => run(twinsPool, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: [price] }], depth, adequacy: false });

  it('given two shorts, when BTC rises to 31500, then each is taken above the mark, the second deeper, both above bankruptcy', () => {
    const { result, commands } = btcTo('31500', { baseDiscountPpm: 1_000, stepDiscountPpm: 1_000, maxDiscountPpm: 50_000 });
    // 31500 * 1.001 = 31531.5, 31500 * 1.002 = 31563: below the bankruptcy price of 33000
    expect(liquidations(commands)).toEqual(['s1@31531.5', 's2@31563']);
    expect(result).toMatchObject({ liquidations: 2, belowBankruptcy: 0, largestDeficit: null, fund: { draws: 0, drawn: '0' } });
    expect(result.fund.tranches.map((t) => [t.trancheId, t.drawn, t.writtenOff])).toEqual([['junior', '0', false], ['senior', '0', false]]);
  });

  it('given two longs, when both are taken at 25200, then the equal deficits of 1800 report the first', () => {
    const { result, commands } = btcTo('28000', { baseDiscountPpm: 100_000, stepDiscountPpm: 0, maxDiscountPpm: 100_000 });
    // 28000 * 0.9 = 25200; deficit 3000 + (25200 - 30000) = -1800 each, drawn from the fund
    expect(liquidations(commands)).toEqual(['l1@25200', 'l2@25200']);
    expect(result).toMatchObject({ liquidations: 2, belowBankruptcy: 2, largestDeficit: { amount: '1800', accountId: 'l1' }, fund: { draws: 2, drawn: '3600' } });
  });

  it('given two longs, when the second is taken deeper, then its larger deficit is the largest', () => {
    const { result, commands } = btcTo('28000', { baseDiscountPpm: 50_000, stepDiscountPpm: 10_000, maxDiscountPpm: 100_000 });
    // 28000 * 0.95 = 26600 (deficit 400), 28000 * 0.94 = 26320 (deficit 680)
    expect(liquidations(commands)).toEqual(['l1@26600', 'l2@26320']);
    expect(result).toMatchObject({ belowBankruptcy: 2, largestDeficit: { amount: '680', accountId: 'l2' }, fund: { drawn: '1080' } });
  });
});

// ETH with no ADL and a 90% breaker, no fees; dave long 20 ETH at 1000 with 2100 against erin
// (2100), bob long 1 BTC at 30000 with 3000 against mm (10000), BTC already at 28500: bob's
// equity 3000 - 1500 = 1500 against a maintenance margin of 1425. The fund holds the fees' 4.2.
const cascadeBase = [
  listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 2, adlPolicy: 'none', maxMarkMovePpm: 900_000, takerFeePpm: 0, makerFeePpm: 0 }),
  deposit('mm', '10006'), deposit('bob', '3015'), deposit('dave', '2100'), deposit('erin', '2100'),
  trade({ taker: 'bob', maker: 'mm', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'dave', maker: 'erin', side: 'buy', size: '20', price: '1000', marketId: ETH }),
  mark('28500'),
];

describe('stress edges: a socialized loss makes others liquidatable at the same marks', () => {
  // dave at 99.8 (100 * 0.998): 2100 + 20 * (99.8 - 1000) = -15904; the fund's 4.2 drawn, 15899.8
  // socialized over erin, bob, mm and liq (2100 + 3000 + 10000 + 100000 = 115100): bob's part
  // 15899.8 * 3000 / 115100 = 414.41 leaves him 2585.59, equity 1085.59 < 1425; he is taken at
  // 28443 (28500 * 0.998) above bankruptcy.
  const expected = { liquidations: 2, belowBankruptcy: 1, socialized: { events: 1, total: '15899.8', haircuts: 4 }, largestDeficit: { amount: '15904', accountId: 'dave' }, liquidatableAfter: 0 };

  it('given dave already liquidatable at today\'s marks, when the stress starts, then dave goes first and bob after his haircut', () => {
    const { result, commands } = run(standardPool(...cascadeBase, mark('100', ETH)).state, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: ['28500'] }], adequacy: false });
    expect(liquidations(commands)).toEqual(['dave@99.8', 'bob@28443']);
    expect(result).toMatchObject({ ...expected, steps: 0 });
  });

  it('given ETH at 1000, when its last step falls 90%, then bob is taken after dave at the final marks', () => {
    const { result, commands } = run(standardPool(...cascadeBase).state, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: ETH, movePpm: -900_000 }], steps: 1, adequacy: false });
    expect(commands.map((c) => `${c.commandId} ${c.type}`)).toEqual(['stress-deposit Deposit', 'stress-1 UpdateMarkPrice', 'stress-2 Liquidate', 'stress-3 Liquidate']);
    expect(liquidations(commands)).toEqual(['dave@99.8', 'bob@28443']);
    expect(result).toMatchObject({ ...expected, steps: 1 });
  });
});

describe('stress edges: the run loop', () => {
  // ETH listed at 1000 beside BTC; bea long 1 BTC at 30000 with 3000 (liquidatable below 28421.05).
  const twoMarkets = standardPool(listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 2 }), deposit('mm', '100000'), deposit('bea', '3015'),
    trade({ taker: 'bea', maker: 'mm', side: 'buy', size: '1', price: '30000' })).state;

  it('given two paths, when BTC reaches each target in one update and ETH needs four, then each moves at every step and the progress counts them', () => {
    // ETH 1000 -> 800 -> 640 -> 512 -> 500 within the 20% breaker; bea is taken at 28000 * 0.998 = 27944 in step 2
    const { result, commands, progress } = run(twoMarkets, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: ['29000', '28000'] }, { marketId: ETH, path: ['500'] }], adequacy: false });
    expect(commands.map((c) => (c.type === 'UpdateMarkPrice' ? `${c.commandId} ${c.marketId} ${formatDecimal(c.price)}` : `${c.commandId} ${c.type}`))).toEqual([
      'stress-deposit Deposit', 'stress-1 BTC-PERP 29000', 'stress-2 ETH-PERP 800', 'stress-3 BTC-PERP 28000', 'stress-4 ETH-PERP 640', 'stress-5 Liquidate',
      'stress-6 ETH-PERP 512', 'stress-7 ETH-PERP 500',
    ]);
    // planned: the longest path, two marks
    expect(progress).toEqual([
      { stepsDone: 1, stepsPlanned: 2, liquidations: 0 }, { stepsDone: 2, stepsPlanned: 2, liquidations: 1 },
      { stepsDone: 3, stepsPlanned: 2, liquidations: 1 }, { stepsDone: 4, stepsPlanned: 2, liquidations: 1 },
    ]);
    expect(result).toMatchObject({ steps: 4, commands: 7, liquidations: 1 });
    expect(result.marks).toEqual([{ marketId: BTC, from: '30000', to: '28000', updates: 2 }, { marketId: ETH, from: '1000', to: '500', updates: 4 }]);
  });

  it('given paths that start at the current marks, when one has a target left, then it still moves there', () => {
    const { result } = run(twoMarkets, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: ETH, path: ['1000'] }, { marketId: BTC, path: ['30000', '28000'] }], adequacy: false });
    expect(result.marks).toEqual([{ marketId: BTC, from: '30000', to: '28000', updates: 1 }, { marketId: ETH, from: '1000', to: '1000', updates: 0 }]);
    expect(result).toMatchObject({ steps: 1, liquidations: 1 });
  });

  it('given an oracle update the ledger refuses, then that path ends there, counted, and the others go on', () => {
    // the ETH update sent one unit of 1e-18 off the tick
    const offTick: StressEngine = { decide: (command, pool, context) => decide(command.type === 'UpdateMarkPrice' && command.marketId === ETH ? { ...command, price: command.price + 1n } : command, pool, context), evolve };
    const outcome = runToEnd(stress(twoMarkets, scenario({ liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: ['29000', '28000'] }, { marketId: ETH, path: ['500'] }], adequacy: false }), ctx, offTick));
    if (E.isLeft(outcome)) throw new Error('refused');
    const { result } = outcome.right;
    expect(result.marks).toEqual([{ marketId: BTC, from: '30000', to: '28000', updates: 2 }, { marketId: ETH, from: '1000', to: '1000', updates: 0 }]);
    expect(result).toMatchObject({ steps: 2, commands: 4, liquidations: 1, refused: { count: 1, byCode: { PRECISION_EXCEEDED: 1 } } });
  });

  it('given a market whose breaker allows no move, then its path ends at once', () => {
    const shut = standardPool(listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 2, maxMarkMovePpm: 0 })).state;
    const { result } = run(shut, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: ETH, movePpm: -500_000 }], steps: 2, adequacy: false });
    expect(result).toMatchObject({ steps: 0, commands: 0, refused: { count: 0 } });
    expect(result.marks).toEqual([{ marketId: ETH, from: '1000', to: '1000', updates: 0 }]);
  });

  it('given a liquidation the liquidator cannot take, then the run goes on to later steps and takes what it can', () => {
    // whale: 10 BTC with 30000 (liquidatable below 28421.05), minnow: 0.1 BTC with 400 (below
    // 27368.42); liq's 1000 covers the 10% initial margin of 0.1 BTC (269.46) but not of 10 (27944)
    const pool = standardPool(deposit('mm', '100000'), deposit('whale', '30150'), deposit('minnow', '401.5'), deposit('liq', '1000'),
      trade({ taker: 'whale', maker: 'mm', side: 'buy', size: '10', price: '30000' }), trade({ taker: 'minnow', maker: 'mm', side: 'buy', size: '0.1', price: '30000' })).state;
    const { result, commands } = run(pool, { liquidatorId: 'liq', markets: [{ marketId: BTC, path: ['28000', '27000'] }], adequacy: false });
    // at 27000 minnow (from the list) first at 26946, then whale (watched again) at 27000 * 0.9975 = 26932.5
    expect(liquidations(commands)).toEqual(['whale@27944', 'minnow@26946', 'whale@26932.5']);
    expect(result).toMatchObject({ steps: 2, liquidations: 1, refused: { count: 2, byCode: { LIQUIDATOR_INSUFFICIENT_MARGIN: 2 } }, liquidatableAfter: 1 });
  });

  it('never liquidates the liquidator, nor counts it as liquidatable after', () => {
    // liq long 1 BTC with 3000: at 28000 its equity 1000 is below the 1400 maintenance margin
    const pool = standardPool(deposit('mm', '100000'), deposit('liq', '3015'), trade({ taker: 'liq', maker: 'mm', side: 'buy', size: '1', price: '30000' })).state;
    const { result } = run(pool, { liquidatorId: 'liq', markets: [{ marketId: BTC, path: ['28000'] }], adequacy: false });
    expect(result).toMatchObject({ commands: 1, liquidations: 0, refused: { count: 0 }, liquidatableAfter: 0 });
  });

  it('reports progress every 128 candidates within a step, and sends no liquidation for accounts that are not liquidatable', () => {
    // 130 accounts long 0.001 BTC and 0.01 ETH each (and mm short both): 131 accounts checked at every step
    const ids = Array.from({ length: 130 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const pool = standardPool(listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 2 }), deposit('mm', '100000'), ...ids.map((id) => deposit(id, '100')),
      ...ids.flatMap((id) => [trade({ taker: id, maker: 'mm', side: 'buy', size: '0.001', price: '30000' }), trade({ taker: id, maker: 'mm', side: 'buy', size: '0.01', price: '1000', marketId: ETH })])).state;
    const { result, progress } = run(pool, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: ['29900'] }], adequacy: false });
    // today's marks: one report at the 128th; step 1: one at the 128th and one at its end
    expect(progress).toEqual([{ stepsDone: 0, stepsPlanned: 1, liquidations: 0 }, { stepsDone: 1, stepsPlanned: 1, liquidations: 0 }, { stepsDone: 1, stepsPlanned: 1, liquidations: 0 }]);
    expect(result).toMatchObject({ commands: 1, liquidations: 0, refused: { count: 0 } });
  });
});

describe('stress edges: only a socialized loss sends the engine over the same marks again', () => {
  // minnow: 0.1 BTC with 400 (liquidatable below 27368.42, bankrupt below 26000); whale: 10 BTC
  // with 55000 (liquidatable below 255000 / 9.5 = 25789.47, bankrupt below 24500); liq's 1000
  // cannot take 10 BTC. The fund holds the fees' 43.048236.
  const base = [deposit('mm', '100000'), deposit('whale', '55150'), deposit('minnow', '401.5'), deposit('liq', '1000'),
    trade({ taker: 'whale', maker: 'mm', side: 'buy', size: '10', price: '30000' }), trade({ taker: 'minnow', maker: 'mm', side: 'buy', size: '0.1', price: '30000' })];
  // At 25000: minnow at 24950 owes 0.1 * 5050 - 400 = 105, drawn from the fund and then ADL; whale
  // at 25000 * 0.9975 = 24937.5 (above bankruptcy) is refused, once.
  const expected = { liquidations: 1, belowBankruptcy: 1, refused: { count: 1, byCode: { LIQUIDATOR_INSUFFICIENT_MARGIN: 1 } }, fund: { draws: 1 }, adl: { events: 1, fills: 1 }, socialized: { events: 0 }, liquidatableAfter: 1 };

  it('given a last step with a fund draw and ADL, then the run ends with it', () => {
    const { result, commands } = run(standardPool(...base).state, { liquidatorId: 'liq', markets: [{ marketId: BTC, path: ['28000', '25000'] }], adequacy: false });
    expect(liquidations(commands)).toEqual(['minnow@24950', 'whale@24937.5']);
    expect(result).toMatchObject({ ...expected, commands: 4, largestDeficit: { amount: '105', accountId: 'minnow' } });
  });

  it('given unsettled funding, settled by the liquidation, then the run ends with the last step too', () => {
    // 100 ppm of 30000 per BTC: minnow long pays 0.3, so owes 105.3
    const funding: Command = { type: 'ApplyFunding', schemaVersion: SCHEMA_VERSION, commandId: 'funding-1', poolId: 'main', marketId: BTC, fundingRatePpm: 100 };
    const { result, commands } = run(standardPool(...base, funding).state, { liquidatorId: 'liq', markets: [{ marketId: BTC, path: ['28000', '25000'] }], adequacy: false });
    expect(liquidations(commands)).toEqual(['minnow@24950', 'whale@24937.5']);
    expect(result).toMatchObject({ ...expected, commands: 4, largestDeficit: { amount: '105.3', accountId: 'minnow' } });
  });

  it('given both already liquidatable at today\'s marks and no move, then each is tried once', () => {
    const { result, commands } = run(standardPool(...base, mark('25000')).state, { liquidatorId: 'liq', markets: [{ marketId: BTC, path: ['25000'] }], adequacy: false });
    expect(liquidations(commands)).toEqual(['minnow@24950', 'whale@24937.5']);
    expect(result).toMatchObject({ ...expected, steps: 0, commands: 2 });
  });
});

describe('stress edges: the scenario is checked against the pool, each refusal with its message', () => {
  const checked = (state: PoolState, input: unknown) => runToEnd(stress(state, scenario(input), ctx));
  const pool = active(twinsPool);

  it('names every bad market entry, and goes on to the next', () => {
    expect(checked(pool, { liquidatorId: 'liq', markets: [
      { marketId: 'SOL-PERP', movePpm: -1 }, { marketId: BTC, movePpm: -1, path: ['29000'] }, { marketId: BTC }, { marketId: BTC, path: ['29000', '28999.995'] },
    ] })).toMatchObject({ left: { code: 'INVALID_INPUT', errors: [
      { path: 'markets.0.marketId', message: 'pool "main" has no market "SOL-PERP"' },
      { path: 'markets.1', message: 'expected exactly one of movePpm and path' },
      { path: 'markets.2', message: 'expected exactly one of movePpm and path' },
      { path: 'markets.3.path.1', message: 'not on the market\'s tick (2 decimals)' },
    ] } });
  });

  it('asks for a move, a pool and a liquidator account', () => {
    expect(checked(pool, { liquidatorId: 'liq' })).toMatchObject({ left: { errors: [{ path: 'movePpm', message: 'expected movePpm or markets' }] } });
    expect(checked(pool, { liquidatorId: 'liq', markets: [] })).toMatchObject({ left: { errors: [{ path: 'movePpm', message: 'expected movePpm or markets' }] } });
    expect(checked(initialState, { liquidatorId: 'liq', movePpm: -1 })).toEqual(E.left(expect.objectContaining({ errors: [{ path: 'poolId', message: 'the pool does not exist' }] })));
    expect(checked(pool, { liquidatorId: 'nobody', movePpm: -1 })).toMatchObject({ left: { errors: [
      { path: 'liquidatorId', message: 'pool "main" has no account "nobody" (give liquidatorDeposit to fund one on the copy)' },
    ] } });
  });

  it('refuses a liquidator deposit the ledger refuses, with the ledger\'s message', () => {
    const refused = decide(deposit('liq', '0.0000001'), pool, ctx);
    if (E.isRight(refused)) throw new Error('accepted');
    expect(checked(pool, { liquidatorId: 'liq', liquidatorDeposit: '0.0000001', movePpm: -1 })).toEqual(E.left(expect.objectContaining({ errors: [{ path: 'liquidatorDeposit', message: refused.left.message }] })));
    expect(refused.left.code).toBe('PRECISION_EXCEEDED');
  });
});

describe('stress edges: the adequacy search', () => {
  // No positions at all: every move is absorbed. ETH is listed before BTC; at a resolution of
  // 50% the search goes down to floor(990000 / 500000) = 1 level (50%), or up to 20 levels (10x).
  const empty = given(createPool(), listMarket({ marketId: ETH, markPrice: units('1000'), governanceSeq: 1 }), listMarket({ marketId: BTC, governanceSeq: 2 }), deposit('liq', '1000')).state;
  const down = (marketId: string) => ({ marketId, direction: 'down', absorbedPpm: 500_000, failsAtPpm: null, resolutionPpm: 500_000 });
  const up = (marketId: string) => ({ marketId, direction: 'up', absorbedPpm: 10_000_000, failsAtPpm: null, resolutionPpm: 500_000 });
  const adequacy = (input: object) => run(empty, { liquidatorId: 'liq', steps: 1, adequacyResolutionPpm: 500_000, ...input }).result.adequacy;

  it('searches down for a fall or no move, up for a rise, by market id', () => {
    expect(adequacy({ movePpm: 0 })).toEqual([down(BTC), down(ETH)]);
    expect(adequacy({ movePpm: 100_000 })).toEqual([up(BTC), up(ETH)]);
    expect(adequacy({ movePpm: -100_000 })).toEqual([down(BTC), down(ETH)]);
  });

  it('takes a market\'s own move over the scenario\'s, and down for a market the scenario does not move', () => {
    expect(adequacy({ markets: [{ marketId: ETH, movePpm: 100_000 }] })).toEqual([down(BTC), up(ETH)]);
    expect(adequacy({ movePpm: -100_000, markets: [{ marketId: ETH, movePpm: 100_000 }] })).toEqual([down(BTC), up(ETH)]);
    expect(adequacy({ movePpm: 100_000, markets: [{ marketId: ETH, movePpm: -100_000 }] })).toEqual([up(BTC), down(ETH)]);
  });

  it('takes a path\'s last mark against today\'s: up only above it', () => {
    expect(adequacy({ movePpm: 100_000, markets: [{ marketId: ETH, path: ['1100', '1000'] }] })).toEqual([up(BTC), down(ETH)]);
    expect(adequacy({ markets: [{ marketId: ETH, path: ['900', '1000.01'] }, { marketId: BTC, path: ['29000'] }] })).toEqual([down(BTC), up(ETH)]);
  });

  it('plans its runs in the progress: the main path, then per market the bisection rounds times the steps', () => {
    // main: BTC 31500, 33000 (2 marks); ETH down: ceil(log2(1 + 1)) = 1 round, BTC up: ceil(log2(20 + 1)) = 5; two steps each: 2 + 2 + 10
    const { progress, result } = run(empty, { liquidatorId: 'liq', movePpm: 100_000, markets: [{ marketId: ETH, path: ['1000'] }], steps: 2, adequacyResolutionPpm: 500_000 });
    expect(new Set(progress.map((p) => p.stepsPlanned))).toEqual(new Set([14]));
    expect(progress[0]).toEqual({ stepsDone: 1, stepsPlanned: 14, liquidations: 0 });
    expect(result.adequacy).toEqual([up(BTC), down(ETH)]);
    expect(result.marks).toEqual([{ marketId: BTC, from: '30000', to: '33000', updates: 2 }, { marketId: ETH, from: '1000', to: '1000', updates: 0 }]);
  });

  it('stops a search run at the first socialized loss, among the accounts already liquidatable too', () => {
    // dave is liquidatable at today's ETH mark of 100: the main run takes him and then bob (as in the
    // cascade above); each search run (BTC, then ETH, one level each) stops at dave's socialized loss
    const { result, commands } = run(standardPool(...cascadeBase, mark('100', ETH)).state, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: BTC, path: ['28500'] }], adequacyResolutionPpm: 500_000 });
    expect(liquidations(commands)).toEqual(['dave@99.8', 'bob@28443', 'dave@99.8', 'dave@99.8']);
    const failing = (marketId: string) => ({ marketId, direction: 'down', absorbedPpm: 0, failsAtPpm: 500_000, resolutionPpm: 500_000 });
    expect(result.adequacy).toEqual([failing(BTC), failing(ETH)]);
  });

  it('reports the top level as the one that fails when even that is not absorbed', () => {
    // One update of a 50% fall in ETH (breaker 90%): dave at 500 * 0.998 = 499 owes 2100 + 20 * (499 - 1000)
    // = -7920, beyond the fund's 4.2, and ETH has no ADL: socialized. BTC falls 20% per update: bob at
    // 22800 * 0.998 = 22754.4 owes 3000 + 22754.4 - 30000 = -4245.6, and the rest goes to ADL.
    const { result } = run(standardPool(...cascadeBase).state, { liquidatorId: 'liq', liquidatorDeposit: '100000', movePpm: -1, steps: 1, adequacyResolutionPpm: 500_000 });
    const failing = (marketId: string) => ({ marketId, direction: 'down', absorbedPpm: 0, failsAtPpm: 500_000, resolutionPpm: 500_000 });
    expect(result.adequacy).toEqual([failing(BTC), failing(ETH)]);
  });
});
