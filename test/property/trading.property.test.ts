// Invariants of docs/design.md section 6 checked after every event of random command sequences.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalStateJson, checkInvariants, evolveAll, initialState, type MarkScenario, type PoolState } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { rerun, runScenario, scenarioArb } from '../support/scenarios.js';

/** Other marks to value every position at: zero, half, double, and an odd off-tick price. */
const markScenarios = (state: PoolState): MarkScenario[] => {
  if (state.status !== 'active') return [];
  const markets = [...state.markets.values()];
  return [
    new Map(markets.map((m) => [m.marketId, 0n])),
    new Map(markets.map((m) => [m.marketId, m.mark / 2n])),
    new Map(markets.map((m) => [m.marketId, m.mark * 2n])),
    new Map(markets.map((m) => [m.marketId, m.mark / 3n + 7n])),
  ];
};

describe('trading and margin invariants', () => {
  it('hold after every event: conservation at several marks, long == short, no negative collateral without positions', () => {
    let events = 0;
    let accepted = 0;
    let rejected = 0;
    const byType = new Map<string, number>();
    fc.assert(fc.property(scenarioArb(), (scenario) => {
      const run = runScenario(scenario, {
        afterEvent: (state, event, index) => {
          const violations = checkInvariants(state, markScenarios(state));
          if (violations.length > 0) {
            throw new Error(`after event ${index} (${event.type}): ${violations.map((v) => `${v.invariant}: ${v.message}`).join('; ')}`);
          }
        },
      });
      events += run.events.length;
      for (const e of run.events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      accepted += run.accepted;
      rejected += run.rejected;
    }), propertyParameters('trading invariants', 150));
    console.log(`[property] trading invariants: ${events} events checked, ${accepted} commands accepted, ${rejected} rejected; ${[...byType].map(([t, n]) => `${t} ${n}`).join(', ')}`);
    // The generator must exercise both paths, or the property proves little.
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expect(byType.get('TradeExecuted') ?? 0).toBeGreaterThan(100);
  });

  it('are deterministic: the same commands give the same events, and replaying the events gives the same state', () => {
    fc.assert(fc.property(scenarioArb(), (scenario) => {
      const live = runScenario(scenario);
      const again = rerun(live.commands);
      expect(again.events).toEqual(live.events);
      expect(canonicalStateJson(evolveAll(initialState, live.events))).toBe(canonicalStateJson(live.state));
    }), propertyParameters('determinism', 100));
  });

  it('decide never modifies the state it is given', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 30 }), (scenario) => {
      // Keep every state a command was decided on, and compare it after the whole run.
      const states: { state: PoolState; json: string }[] = [];
      runScenario(scenario, { beforeCommand: (state) => { states.push({ state, json: canonicalStateJson(state) }); } });
      for (const { state, json } of states) expect(canonicalStateJson(state)).toBe(json);
    }), propertyParameters('decide purity', 50));
  });
});
