// Two shortcuts that order by floats must give the exact order: the stress engine's watch lists
// compare trigger marks by their floats first (compareTriggers), and the ADL ranking's heaps read
// float keys from typed arrays (FloatSlotHeap). Checked against bigint comparison and against a
// plain scan for the maximum, on random values crowded near each other (so that many floats tie).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareTriggers } from '../../domain/stress.js';
import { FloatSlotHeap } from '../../domain/slot-heap.js';
import { propertyParameters } from '../support/property.js';

const exact = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Bigints around a few centres (up to 1e40), most too close to tell apart as floats. */
const crowded = fc.tuple(fc.constantFrom(0n, 10n ** 18n, 3n * 10n ** 22n, 2n ** 70n, 10n ** 40n), fc.bigInt({ min: -5_000n, max: 5_000n }), fc.boolean())
  .map(([centre, offset, negative]) => (negative ? -(centre + offset) : centre + offset));
const trigger = (at: bigint) => ({ at, key: Number(at) });

describe('ordering triggers by their floats first', () => {
  it('agrees with comparing the bigints', () => {
    fc.assert(fc.property(crowded, crowded, (a, b) => {
      expect(Math.sign(compareTriggers(trigger(a), trigger(b)))).toBe(exact(a, b));
    }), propertyParameters('compareTriggers agrees with bigint comparison', 2_000));
  });

  it('sorts as the exact comparison does, ties in their first order', () => {
    fc.assert(fc.property(fc.array(crowded, { maxLength: 200 }), (values) => {
      const items = values.map((at, i) => ({ ...trigger(at), i }));
      const byFloats = [...items].sort(compareTriggers).map((x) => x.i);
      const byBigints = [...items].sort((a, b) => exact(a.at, b.at)).map((x) => x.i);
      expect(byFloats).toEqual(byBigints);
    }), propertyParameters('sorting by compareTriggers equals the exact sort', 300));
  });
});

describe('the float slot heap', () => {
  type Op = { kind: 'push' | 'remove' | 'set'; slot: number; key: number } | { kind: 'reset'; slots: number[] };
  const SLOTS = 40;
  const key = fc.oneof(fc.integer({ min: -5, max: 5 }).map((n) => n / 4), fc.double({ noNaN: true, min: -1e30, max: 1e30 }), fc.constantFrom(Infinity, -Infinity));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), slot: fc.nat(SLOTS - 1), key }),
    fc.record({ kind: fc.constant('remove' as const), slot: fc.nat(SLOTS - 1), key }),
    fc.record({ kind: fc.constant('set' as const), slot: fc.nat(SLOTS - 1), key }),
    fc.record({ kind: fc.constant('reset' as const), slots: fc.uniqueArray(fc.nat(SLOTS - 1), { maxLength: SLOTS }) }),
  );

  it('keeps on top a slot with the largest key, through pushes, removals, resets and a grown key array', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      let keys = new Float64Array(8);
      const heap = new FloatSlotHeap(keys);
      const members = new Set<number>();
      for (const o of ops) {
        if (o.kind !== 'reset' && o.slot >= keys.length) {
          // The owner grows its key array and hands the new one over, as the ADL ranking does.
          const grown = new Float64Array(SLOTS);
          grown.set(keys);
          keys = grown;
          heap.keys = keys;
        }
        switch (o.kind) {
          case 'push':
            if (members.has(o.slot)) break;
            keys[o.slot] = o.key;
            heap.push(o.slot);
            members.add(o.slot);
            break;
          case 'remove':
            heap.remove(o.slot);
            members.delete(o.slot);
            break;
          case 'set':
            // A key changes only while its slot is out of the heap (as in the ranking).
            if (!members.has(o.slot)) keys[o.slot] = o.key;
            break;
          case 'reset': {
            if (o.slots.some((s) => s >= keys.length)) {
              const grown = new Float64Array(SLOTS);
              grown.set(keys);
              keys = grown;
              heap.keys = keys;
            }
            // Only the first `count` entries count: the rest of the scratch array is old.
            heap.reset(Int32Array.from([...o.slots, 0, 1]), o.slots.length);
            members.clear();
            for (const s of o.slots) members.add(s);
            break;
          }
        }
        expect(heap.size).toBe(members.size);
        const top = heap.top();
        if (members.size === 0) expect(top).toBeUndefined();
        else {
          expect(members.has(top!)).toBe(true);
          expect(keys[top!]).toBe(Math.max(...[...members].map((s) => keys[s]!)));
        }
      }
    }), propertyParameters('float slot heap keeps a largest key on top', 300));
  });
});
