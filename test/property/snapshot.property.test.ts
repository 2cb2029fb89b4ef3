// A snapshot (the canonical state, decoded back) must behave exactly like the state it was taken
// from: the same commands afterwards give the same events and the same final state.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalState, canonicalStateJson, decide, evolve, initialState, stateFromCanonical, type Event, type PoolState } from '../../domain/index.js';
import { ctx } from '../support/builders.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb, type TimedCommand } from '../support/scenarios.js';

const continueFrom = (state: PoolState, commands: ReadonlyArray<TimedCommand>): { events: Event[]; state: PoolState } => {
  let current = state;
  const events: Event[] = [];
  for (const { command, now } of commands) {
    const decision = decide(command, current, { ...ctx, now });
    if (E.isRight(decision)) for (const event of decision.right) { current = evolve(current, event); events.push(event); }
  }
  return { events, state: current };
};

describe('snapshots', () => {
  it('a state restored from its canonical form continues exactly like the original', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (scenario, at) => {
      const run = runScenario(scenario);
      const split = Math.floor(run.commands.length * at);
      const before = continueFrom(initialState, run.commands.slice(0, split)).state;
      const restored = stateFromCanonical(JSON.parse(JSON.stringify(canonicalState(before))));
      if (E.isLeft(restored)) throw new Error(restored.left.message);
      expect(canonicalStateJson(restored.right)).toBe(canonicalStateJson(before));
      const original = continueFrom(before, run.commands.slice(split));
      const fromSnapshot = continueFrom(restored.right, run.commands.slice(split));
      expect(fromSnapshot.events).toEqual(original.events);
      expect(canonicalStateJson(fromSnapshot.state)).toBe(canonicalStateJson(original.state));
    }), propertyParameters('snapshot round trip', 100));
  });

  it('rejects a damaged snapshot with the path of the bad field', () => {
    const result = stateFromCanonical({ status: 'active', poolId: 'p' });
    expect(E.isLeft(result) && result.left.errors.map((e) => e.path)).toContain('quoteAsset');
  });
});
