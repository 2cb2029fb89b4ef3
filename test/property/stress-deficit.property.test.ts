// Cover-2's stress deficit finds its two largest accounts with a float filter and an exact
// comparison of the candidates: after every event of random scenarios (where a trade's two sides
// often tie on notional), it must equal the plain exact computation, ties going to the first met;
// so must the fold's, which scans its pool book and brings up to date only the accounts the events
// since its last scan changed (every event here in a minute of its own, so every event scans).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { marketsOf, mulDivFloor, notional, PPM, unsettledFunding, type ActivePool } from '../../domain/index.js';
import { emptyCover2Cache, emptyModel, foldEvent, stressDeficit } from '../../projections/read-models.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

/** The reference: every account valued exactly, the two largest kept by a stable sort. */
const exactStressDeficit = (pool: ActivePool, shockPpm: number): bigint => {
  const largest: { notional: bigint; shortfall: bigint }[] = [];
  const markets = marketsOf(pool);
  for (const account of pool.accounts.values()) {
    if (account.positions.length === 0) continue;
    let exposure = 0n;
    let shocked = account.collateral;
    for (const p of account.positions) {
      const market = markets(p.marketId);
      if (market === undefined) continue;
      shocked += unsettledFunding(p, market);
      const moved = p.size > 0n ? market.mark - mulDivFloor(market.mark, BigInt(shockPpm), PPM) : market.mark + mulDivFloor(market.mark, BigInt(shockPpm), PPM);
      exposure += notional(p.size < 0n ? -p.size : p.size, market.mark);
      shocked += notional(p.size, moved) - p.entryNotional;
    }
    largest.push({ notional: exposure, shortfall: shocked < 0n ? -shocked : 0n });
    largest.sort((a, b) => (a.notional > b.notional ? -1 : a.notional < b.notional ? 1 : 0));
    if (largest.length > 2) largest.pop();
  }
  return largest.reduce((sum, a) => sum + a.shortfall, 0n);
};

describe('the stress deficit', () => {
  it('equals the exact computation after every event', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.integer({ min: 0, max: 1_000_000 }), (scenario, shockPpm) => {
      runScenario(scenario, {
        afterEvent: (state) => {
          if (state.status === 'active') expect(stressDeficit(state, shockPpm)).toBe(exactStressDeficit(state, shockPpm));
        },
      });
    }), propertyParameters('stress deficit', 100));
  });

  it('is the same with a cache kept from one event to the next (as the projection keeps it)', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.integer({ min: 0, max: 1_000_000 }), (scenario, shockPpm) => {
      const cache = emptyCover2Cache();
      runScenario(scenario, {
        afterEvent: (state) => {
          if (state.status === 'active') expect(stressDeficit(state, shockPpm, cache)).toBe(exactStressDeficit(state, shockPpm));
        },
      });
    }), propertyParameters('stress deficit, cached', 100));
  });

  it('is the same as the fold samples it, event after event', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.integer({ min: 0, max: 1_000_000 }), (scenario, shockPpm) => {
      const model = emptyModel();
      let position = 0n;
      runScenario(scenario, {
        afterEvent: (state, event) => {
          position++;
          foldEvent(model, 'prop', position, Number(position) * 60_000, event, { stressShockPpm: shockPpm });
          if (state.status !== 'active' || event.type === 'CommandRejected') return;
          const minutes = model.pools.get('prop')!.aggregates.timelines['1m'];
          expect(minutes[minutes.length - 1]!.stressDeficit).toBe(exactStressDeficit(state, shockPpm));
        },
      });
    }), propertyParameters('stress deficit, folded', 100));
  });
});
