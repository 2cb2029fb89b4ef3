// The hand-written stored-event decoder against io-ts, the reference: on stored events of random
// pools and on mutated copies of them (wrong types, missing and extra fields, bad decimals,
// out-of-range numbers, malformed fund parts), it accepts and refuses exactly what io-ts does and
// gives the same values; on well-formed hot events it takes its own path.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, decodeStoredEvent, encodeEvent, encodeEventV1, fastDecimal, fastDecodeEvent, parseDecimal, defaultDecimalFormat } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

type Json = Record<string, unknown>;

const clone = (u: unknown): Json => JSON.parse(JSON.stringify(u)) as Json;

/** Stored events of a few random pools, in both stored versions. */
const corpus = (seed: number): Json[] => {
  const out: Json[] = [];
  for (const scenario of fc.sample(scenarioArb({ maxSteps: 60 }), { seed, numRuns: 12 })) {
    for (const event of runScenario(scenario).events) {
      out.push(clone(encodeEvent(event)));
      if (event.type === 'TradeExecuted') out.push(clone(encodeEventV1(event)));
    }
  }
  return out;
};

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    undefined, null, true, 0, -0, 1, -1, 1.5, 1e6, 1_000_001, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY,
    '', '0', '-0', '1', '-1', '01', '00', '1.', '.5', '1.0', '-0.0', '1.000000000000000000', '0.0000000000000000001', '0.000000000000000001', '1e5', ' 1', '+1',
    'buy', 'sell', 'Buy', 'x.y', '1'.repeat(65), '1000000', '1000000000000000000000000', '1000000000000000000000000.000000000000000001', '-1000000000000000000000000',
    'acct-1', 'a.b', 'a b', '_a', 'a'.repeat(64), 'a'.repeat(65), [], {}, ['t0', '1', '1'], ['t0', '1'], ['t0', '1', '1', '1'], ['t0', 1, '1'], ['a.b', '1', '0'],
    [['t0', '1', '0']], [['t0', '-1', '0']], 'TradeExecuted', 2, 3,
  ),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.stringMatching(/^-?[0-9]{1,26}(\.[0-9]{0,20})?$/),
);

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'extra'; readonly name: string; readonly value: unknown }
  | { readonly kind: 'replace'; readonly key: number; readonly value: unknown }
  | { readonly kind: 'fund'; readonly entry: number; readonly index: number; readonly value: unknown }
  | { readonly kind: 'fundLength'; readonly entry: number; readonly length: number }
  | { readonly kind: 'retype'; readonly type: string; readonly version: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' } as const),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat() }),
  fc.record({ kind: fc.constant('extra' as const), name: fc.constantFrom('extra', 'postings', 'makerRebate', 'amount', '__proto__', 'constructor'), value: oddValue }),
  fc.record({ kind: fc.constant('replace' as const), key: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('fund' as const), entry: fc.nat(), index: fc.nat({ max: 3 }), value: oddValue }),
  fc.record({ kind: fc.constant('fundLength' as const), entry: fc.nat(), length: fc.nat({ max: 4 }) }),
  fc.record({
    kind: fc.constant('retype' as const),
    type: fc.constantFrom('TradeExecuted', 'CollateralDeposited', 'CollateralWithdrawn', 'MarkPriceUpdated', 'Staked'),
    version: fc.constantFrom<unknown>(1, 2, 3, '2', undefined),
  }),
);

const mutate = (event: Json, m: Mutation): Json => {
  const u = clone(event);
  const keys = Object.keys(u);
  switch (m.kind) {
    case 'none':
      return u;
    case 'delete':
      delete u[keys[m.key % keys.length]!];
      return u;
    case 'extra':
      // Own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(u, m.name, { value: m.value, enumerable: true, configurable: true, writable: true });
      return u;
    case 'replace':
      u[keys[m.key % keys.length]!] = m.value;
      return u;
    case 'fund': {
      const fund = u.fund;
      if (Array.isArray(fund) && fund.length > 0) {
        const entry = fund[m.entry % fund.length] as unknown[];
        entry[m.index % 3] = m.value;
      } else u.fund = [m.value];
      return u;
    }
    case 'fundLength': {
      const fund = u.fund;
      if (Array.isArray(fund) && fund.length > 0) {
        const entry = fund[m.entry % fund.length] as unknown[];
        entry.length = m.length;
        for (let i = 0; i < m.length; i++) entry[i] ??= '1';
      }
      return u;
    }
    case 'retype':
      u.type = m.type;
      u.schemaVersion = m.version;
      return u;
    default: {
      const unreachable: never = m;
      return unreachable;
    }
  }
};

describe('hand-written stored-event decoder', () => {
  it('accepts and refuses exactly what io-ts does, with the same values, on stored and mutated events', () => {
    const parameters = propertyParameters('stored decoder vs io-ts', 20_000);
    const events = corpus(parameters.seed ?? 1);
    let fast = 0;
    let accepted = 0;
    let refused = 0;
    fc.assert(fc.property(fc.nat({ max: events.length - 1 }), mutationArb, (index, mutation) => {
      const input = mutate(events[index]!, mutation);
      const reference = decodeEvent(input);
      const decoded = decodeStoredEvent(input);
      expect(E.isRight(decoded)).toBe(E.isRight(reference));
      if (E.isRight(reference)) {
        expect(decoded).toEqual(reference);
        accepted++;
      } else refused++;
      const own = fastDecodeEvent(input);
      if (own !== undefined) {
        fast++;
        expect(E.isRight(reference) && reference.right).toEqual(own);
      }
    }), parameters);
    console.log(`[property] stored decoder: ${accepted} accepted, ${refused} refused, ${fast} on the hand-written path (corpus ${events.length})`);
    expect(fast).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('takes the hand-written path for every stored compact trade, deposit, withdrawal and mark', () => {
    const hot = corpus(7).filter((e) => (e.schemaVersion === 2 || e.type === 'MarkPriceUpdated'));
    expect(hot.length).toBeGreaterThan(50);
    for (const e of hot) expect(fastDecodeEvent(e)).toEqual(E.getOrElseW(() => undefined)(decodeEvent(e)));
  });

  it('parses decimals exactly as parseDecimal does', () => {
    const text = fc.oneof(fc.stringMatching(/^-?[0-9]{1,30}(\.[0-9]{0,22})?$/), fc.string({ maxLength: 6 }), fc.constantFrom('-0', '0.0', '1'.repeat(64), '1'.repeat(65)));
    fc.assert(fc.property(text, fc.boolean(), fc.boolean(), (s, signed, positive) => {
      const reference = parseDecimal(s, { ...defaultDecimalFormat, signed });
      const expected = E.isRight(reference) && (!positive || reference.right > 0n) ? reference.right : undefined;
      expect(fastDecimal(s, signed, positive)).toBe(expected);
    }), propertyParameters('fast decimals', 5_000));
  });
});
