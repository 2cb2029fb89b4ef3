// The loss waterfall under random sequences with price shocks, liquidations, staking and
// unstaking: every invariant of docs/design.md section 6 (1 to 4) after every event, the waterfall
// order and the "made whole" rule after every liquidation, replay equality, and the cached ADL
// ranking against a fresh one.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  adlRanking, adlRankingUncached, canonicalStateJson, checkInvariants, checkWaterfall, evolveAll, initialState,
  type MarkScenario, type PoolState,
} from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

const markScenarios = (state: PoolState): MarkScenario[] => {
  if (state.status !== 'active') return [];
  const markets = state.markets.values();
  return [
    new Map(markets.map((m) => [m.marketId, m.mark / 2n])),
    new Map(markets.map((m) => [m.marketId, m.mark * 3n + 1n])),
  ];
};

const summary = (ranking: ReturnType<typeof adlRanking>) =>
  ranking.map((p) => [p.accountId, p.size, p.unrealizedPnl, p.notional, p.basis, p.equity].map(String).join(' '));

describe('the loss waterfall under random price shocks and liquidations', () => {
  it('keeps invariants 1 to 4 after every event, and each liquidation follows the waterfall', () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(scenarioArb({ maxSteps: 80 }), (scenario) => {
      const run = runScenario(scenario, {
        afterEvent: (state, event, index) => {
          const violations = checkInvariants(state, markScenarios(state));
          if (violations.length > 0) throw new Error(`after event ${index} (${event.type}): ${violations.map((v) => `${v.invariant}: ${v.message}`).join('; ')}`);
        },
        afterCommand: (before, command, events, after) => {
          for (const e of events) seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
          if (command.type !== 'Liquidate' || before.status !== 'active' || after.status !== 'active') return;
          const violations = checkWaterfall(before, events, after);
          if (violations.length > 0) throw new Error(`liquidation ${command.commandId}: ${violations.map((v) => v.message).join('; ')}`);
          for (const side of ['long', 'short'] as const) {
            expect(summary(adlRanking(after, command.marketId, side))).toEqual(summary(adlRankingUncached(after, command.marketId, side)));
          }
        },
      });
      expect(canonicalStateJson(evolveAll(initialState, run.events))).toBe(canonicalStateJson(run.state));
    }), propertyParameters('waterfall invariants', 200));
    console.log(`[property] waterfall invariants: events ${[...seen].map(([t, n]) => `${t} ${n}`).join(', ')}`);
    // The generator must reach every step of the waterfall, or the property proves little.
    for (const type of [
      'PositionLiquidated', 'InsuranceFundDrawn', 'PositionsAutoDeleveraged', 'LossSocialized', 'Staked', 'UnstakeCompleted',
      'FundingRateApplied', 'FundingSettled', 'FundPaidOut',
    ]) {
      expect(seen.get(type) ?? 0, type).toBeGreaterThan(0);
    }
  });
});
