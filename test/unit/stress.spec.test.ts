// Given/when/then specifications of the stress engine on examples/waterfall.jsonl: the scenario's
// numbers are the example's own (see the README's worked example), and its final state is the
// state the same commands give when decided one by one.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  canonicalStateJson, checkInvariants, decide, decodeCommand, decodeScenario, evolve, initialState, liquidationPrice, nextMark, parseJson, runToEnd,
  shockPath, stress, units, type ActivePool, type PoolState, type StressResult, type StressScenario,
} from '../../domain/index.js';
import { exampleRootGovernors } from '../support/example-root.js';

const ctx = { now: Date.UTC(2026, 0, 1), actor: 'test', rootGovernors: exampleRootGovernors };
const lines = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');

/** The example's state after its first `count` lines, each decided and applied. */
const exampleAfter = (count: number): PoolState => lines.slice(0, count).reduce<PoolState>((state, line) => {
  const command = E.chain(decodeCommand)(parseJson(line));
  if (E.isLeft(command)) throw new Error(command.left.message);
  const decision = decide(command.right, state, ctx);
  if (E.isLeft(decision)) return state; // the example's refused lines change nothing
  return decision.right.reduce(evolve, state);
}, initialState);

const scenario = (input: unknown): StressScenario => {
  const decoded = decodeScenario(input);
  if (E.isLeft(decoded)) throw new Error(JSON.stringify(decoded.left));
  return decoded.right;
};

const run = (state: PoolState, input: unknown): { result: StressResult; state: ActivePool } => {
  const outcome = runToEnd(stress(state, scenario(input), ctx));
  if (E.isLeft(outcome)) throw new Error(JSON.stringify(outcome.left));
  return outcome.right;
};

// Lines 1-13: the fund (junior 153.15, senior 101.05), alice long 1 BTC at 30000 against bob,
// dave long 20 ETH at 1000 against erin, liq with 1500. Line 14 moves BTC to 28300, line 15
// liquidates alice at 26000; line 16 moves ETH to 100, line 17 liquidates dave at 90.
const beforeCrash = exampleAfter(13);

describe('stress: the BTC crash of the waterfall example', () => {
  // 28300 * (1 - 81272 ppm) = 26000.0024, down to the tick: 26000, the example's price.
  const btcCrash = { liquidatorId: 'liq', markets: [{ marketId: 'BTC-PERP', path: ['28300'] }], depth: { baseDiscountPpm: 81_272, stepDiscountPpm: 0, maxDiscountPpm: 81_272 }, adequacy: false };

  it('given the pool before the crash, when BTC falls to 28300, then alice is liquidated at 26000 through the waterfall, as in the example', () => {
    const { result } = run(beforeCrash, btcCrash);
    expect(result.marks).toEqual([{ marketId: 'BTC-PERP', from: '30000', to: '28300', updates: 1 }]);
    expect(result).toMatchObject({ steps: 1, commands: 2, liquidations: 1, belowBankruptcy: 1, refused: { count: 0 } });
    // deficit 915 = -(1385 - 2300); the fund's 254.2 covers 0.2778 * 915 = 254.187
    expect(result.largestDeficit).toEqual({ amount: '915', accountId: 'alice', marketId: 'BTC-PERP' });
    expect(result.fund).toEqual({
      before: '254.2', after: '0.013', draws: 1, drawn: '254.187',
      tranches: [
        { trancheId: 'junior', before: '153.15', drawn: '153.15', after: '0', writtenOff: true },
        { trancheId: 'senior', before: '101.05', drawn: '101.037', after: '0.013', writtenOff: false },
      ],
    });
    // bob buys 0.7222 back at 26915 for 19438.013, 0.7222 * 1385 = 1000.247 less than at the mark of
    // 28300 (a loss against the mark of -1000.247); ADL covers 915 - 254.187 = 660.813 of the deficit
    expect(result.adl).toEqual({ events: 1, fills: 1, size: '0.7222', notional: '19438.013', lossAtMark: '-1000.247', deficitCovered: '660.813' });
    expect(result).toMatchObject({ socialized: { events: 0, total: '0', haircuts: 0 }, badDebt: '0', liquidatableAfter: 0, adequacy: [] });
  });

  it('leaves the pool as the same commands decided one by one do, and the given state untouched', () => {
    const before = canonicalStateJson(beforeCrash);
    const { state } = run(beforeCrash, btcCrash);
    expect(canonicalStateJson(state)).toBe(canonicalStateJson(exampleAfter(15)));
    expect(canonicalStateJson(beforeCrash)).toBe(before);
    expect(checkInvariants(state)).toEqual([]);
  });
});

describe('stress: the ETH crash of the waterfall example', () => {
  it('given the pool after alice, when ETH falls 90% in one update, then dave\'s 16100 goes to the fund, socialization and bad debt', () => {
    const afterAlice = exampleAfter(15);
    // ETH's breaker allows 90%; a depth model 10% deep gives the example's 90, on the band's edge.
    const depth = { baseDiscountPpm: 100_000, stepDiscountPpm: 0, maxDiscountPpm: 100_000 };
    const { result, state } = run(afterAlice, { liquidatorId: 'liq', markets: [{ marketId: 'ETH-PERP', movePpm: -900_000 }], steps: 1, depth, adequacy: false });
    expect(result.marks).toEqual([{ marketId: 'ETH-PERP', from: '1000', to: '100', updates: 1 }]);
    expect(result).toMatchObject({
      liquidations: 1, belowBankruptcy: 1, largestDeficit: { amount: '16100', accountId: 'dave', marketId: 'ETH-PERP' },
      fund: { before: '0.013', after: '0', draws: 1, drawn: '0.013' }, adl: { events: 0, fills: 0 },
      socialized: { events: 1, total: '9821.987', haircuts: 4 }, badDebt: '6278',
    });
    expect(canonicalStateJson(state)).toBe(canonicalStateJson(exampleAfter(17)));
  });
});

describe('stress: fund adequacy', () => {
  // alice (E = 3085 + m - 30000) is liquidatable below 28331.58 and her deficit is 26915 - p; at
  // p = 0.998 m the fund's 254.2 covers it while m >= 26714.23. With one update per move: a 10%
  // fall (27000, p 26946) is absorbed, 11% (26700, p 26646.6, deficit 268.4) needs ADL.
  // dave (E = 20m - 17900) is liquidatable below 942.11 with deficit 17900 - 20p: 11% (890, p
  // 888.22) is absorbed, 12% (880, p 878.24, deficit 335.2) is not.
  it('finds per market the largest fall the fund absorbs without ADL', () => {
    const { result } = run(beforeCrash, { liquidatorId: 'liq', liquidatorDeposit: '100000', movePpm: -110_000, steps: 1 });
    expect(result.adequacy).toEqual([
      { marketId: 'BTC-PERP', direction: 'down', absorbedPpm: 100_000, failsAtPpm: 110_000, resolutionPpm: 10_000 },
      { marketId: 'ETH-PERP', direction: 'down', absorbedPpm: 110_000, failsAtPpm: 120_000, resolutionPpm: 10_000 },
    ]);
    // the main run: both markets 11% down; alice's deficit of 268.4 is the largest (dave's is 135.6)
    expect(result.marks.map((m) => m.to)).toEqual(['26700', '890']);
    expect(result.largestDeficit).toEqual({ amount: '268.4', accountId: 'alice', marketId: 'BTC-PERP' });
  });

  it('counts a liquidation the liquidator cannot take as not absorbed', () => {
    // Without the deposit liq (1500) cannot take alice's whole BTC at 27000 (initial margin 2700).
    const { result } = run(beforeCrash, { liquidatorId: 'liq', markets: [{ marketId: 'BTC-PERP', movePpm: -100_000 }], steps: 1 });
    expect(result.refused).toEqual({ count: 1, byCode: { LIQUIDATOR_INSUFFICIENT_MARGIN: 1 } });
    expect(result.liquidatableAfter).toBe(1);
    expect(result.adequacy.find((a) => a.marketId === 'BTC-PERP')?.absorbedPpm).toBeLessThan(100_000);
  });
});

describe('stress: the oracle and the depth model keep to the market\'s bounds', () => {
  const btc = (active: PoolState) => (active as ActivePool).markets.get('BTC-PERP')!;
  it('steps a 40% fall as 20% moves at most (30000 -> 24000 -> 19200 -> 18000)', () => {
    const market = btc(beforeCrash);
    expect(nextMark(market, units('18000'))).toBe(units('24000'));
    const { result } = run(beforeCrash, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: 'BTC-PERP', movePpm: -400_000 }], steps: 1, adequacy: false });
    expect(result.marks).toEqual([{ marketId: 'BTC-PERP', from: '30000', to: '18000', updates: 3 }]);
    expect(result.refused.count).toBe(0);
  });

  it('follows a path that repeats the current mark', () => {
    const { result } = run(beforeCrash, { liquidatorId: 'liq', liquidatorDeposit: '100000', markets: [{ marketId: 'BTC-PERP', path: ['30000', '30000', '29000', '29000', '28900'] }], adequacy: false });
    expect(result.marks).toEqual([{ marketId: 'BTC-PERP', from: '30000', to: '28900', updates: 2 }]);
  });

  it('spreads a move over equal steps on the tick, never beyond the move asked', () => {
    expect(shockPath(btc(beforeCrash), -100_000, 4).map(String)).toEqual(['29250', '28500', '27750', '27000'].map((p) => String(units(p))));
    // 1 ppm of 30000 is 0.03: three steps of a tick; a rise rounds down, towards the mark
    expect(shockPath(btc(beforeCrash), -1, 3).map(String)).toEqual(['29999.99', '29999.98', '29999.97'].map((p) => String(units(p))));
    expect(shockPath(btc(beforeCrash), 1, 6).map(String)).toEqual(['30000.01', '30000.02', '30000.03'].map((p) => String(units(p))));
  });

  it('prices liquidations deeper for each one in a step, clamped to the band', () => {
    const market = btc(beforeCrash);
    const depth = { baseDiscountPpm: 2_000, stepDiscountPpm: 500, maxDiscountPpm: 300_000 };
    expect(liquidationPrice(market, true, 0, depth)).toBe(units('29940'));
    expect(liquidationPrice(market, true, 2, depth)).toBe(units('29910'));
    expect(liquidationPrice(market, false, 0, depth)).toBe(units('30060'));
    // 300000 ppm asked, but the band is 10%: 27000 for a long, 33000 for a short
    expect(liquidationPrice(market, true, 1_000, depth)).toBe(units('27000'));
    expect(liquidationPrice(market, false, 1_000, depth)).toBe(units('33000'));
  });
});

describe('stress: the scenario is decoded and checked', () => {
  it('refuses floats, unknown fields, unknown markets, prices off the tick and an unknown liquidator, naming the field', () => {
    expect(decodeScenario({ liquidatorId: 'liq', movePpm: -0.5 })).toMatchObject({ _tag: 'Left', left: { code: 'INVALID_INPUT', errors: [{ path: 'movePpm' }] } });
    expect(decodeScenario({ liquidatorId: 'liq', markets: [{ marketId: 'BTC-PERP', path: [28300] }] })).toMatchObject({ left: { errors: [{ path: 'markets.0.path.0' }] } });
    expect(decodeScenario({ liquidatorId: 'liq', movePpm: -1, shock: 1 })).toMatchObject({ left: { errors: [{ path: 'shock' }] } });
    const checked = (input: unknown) => runToEnd(stress(beforeCrash, scenario(input), ctx));
    expect(checked({ liquidatorId: 'liq', markets: [{ marketId: 'SOL-PERP', movePpm: -1 }] })).toMatchObject({ left: { errors: [{ path: 'markets.0.marketId' }] } });
    expect(checked({ liquidatorId: 'liq', markets: [{ marketId: 'BTC-PERP', path: ['28300.001'] }] })).toMatchObject({ left: { errors: [{ path: 'markets.0.path.0' }] } });
    expect(checked({ liquidatorId: 'nobody', movePpm: -1 })).toMatchObject({ left: { errors: [{ path: 'liquidatorId' }] } });
    expect(checked({ liquidatorId: 'liq' })).toMatchObject({ left: { errors: [{ path: 'movePpm' }] } });
  });
});

