// The stored event format (schema version 2 with v1 upcast), over domain-decided events of random
// pools: decoding what was encoded gives the event back for every type, compact trades rebuild
// their postings exactly, and a log stored in v1 folds to the same state as the same log in v2.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decodeEvent, encodeEvent, encodeEventV1, evolveAll, initialState, type Event } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

/** Through JSON text, as a store keeps it. */
const stored = (encoded: unknown): unknown => JSON.parse(JSON.stringify(encoded)) as unknown;

const decodeAll = (data: ReadonlyArray<unknown>): Event[] => data.map((d) => {
  const decoded = decodeEvent(d);
  if (E.isLeft(decoded)) throw new Error(`stored event does not decode: ${decoded.left.message}`);
  return decoded.right;
});

describe('stored event format', () => {
  it('decode(encode(e)) is e for every domain-decided event; trades, deposits and withdrawals are stored compact', () => {
    const byType = new Map<string, { v1: number; v2: number }>();
    fc.assert(fc.property(scenarioArb({ maxSteps: 80 }), (scenario) => {
      const run = runScenario(scenario);
      for (const event of run.events) {
        const data = stored(encodeEvent(event)) as { schemaVersion: number };
        expect(decodeEvent(data)).toEqual(E.right(event));
        const count = byType.get(event.type) ?? { v1: 0, v2: 0 };
        if (data.schemaVersion === 2) count.v2++;
        else count.v1++;
        byType.set(event.type, count);
        // The v1 form still decodes to the same event (upcast on read).
        expect(decodeEvent(stored(encodeEventV1(event)))).toEqual(E.right(event));
      }
    }), propertyParameters('stored format round trip', 120));
    console.log(`[property] stored format: ${[...byType].map(([t, n]) => `${t} v1 ${n.v1} v2 ${n.v2}`).join(', ')}`);
    // Every decided trade, deposit and withdrawal has postings the compact form rebuilds.
    for (const type of ['TradeExecuted', 'CollateralDeposited', 'CollateralWithdrawn']) {
      expect(byType.get(type)?.v2 ?? 0).toBeGreaterThan(0);
      expect(byType.get(type)?.v1).toBe(0);
    }
    expect(byType.size).toBeGreaterThan(12);
  });

  it('a log stored in v1 and the same log stored in v2 fold to the same state', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 80 }), (scenario) => {
      const run = runScenario(scenario);
      const fromV1 = evolveAll(initialState, decodeAll(run.events.map((e) => stored(encodeEventV1(e)))));
      const fromV2 = evolveAll(initialState, decodeAll(run.events.map((e) => stored(encodeEvent(e)))));
      expect(canonicalStateJson(fromV2)).toBe(canonicalStateJson(fromV1));
      expect(canonicalStateJson(fromV2)).toBe(canonicalStateJson(run.state));
    }), propertyParameters('v1 and v2 logs fold alike', 60));
  });
});
