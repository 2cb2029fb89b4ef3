// The float slot heap under the ADL ranking: the slot heap's max-heap of slots, with float keys
// read straight from a Float64Array the caller owns (and replaces when it grows it), built from
// the first `count` entries of a scratch array the caller refills. Given keys written out by
// hand, it always offers a largest key on top, takes out exactly the slot asked for, and holds
// exactly the slots it was last given. Which of two slots with equal keys comes first is left
// open (the ranking orders ties exactly itself), so no case here depends on it.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FloatSlotHeap } from '../../domain/slot-heap.js';
import { propertyParameters } from '../support/property.js';
import { slotHeapCases } from '../support/slot-heap-cases.js';

const heapOf = (keys: number[]): FloatSlotHeap => new FloatSlotHeap(Float64Array.from(keys));
/** Its slots drained top first (which empties it). */
const drain = (heap: FloatSlotHeap): number[] => {
  const out: number[] = [];
  for (let slot = heap.top(); slot !== undefined; slot = heap.top()) {
    out.push(slot);
    heap.remove(slot);
  }
  return out;
};

slotHeapCases('FloatSlotHeap', heapOf, drain);

describe('FloatSlotHeap: the largest key on top', () => {
  it('an empty heap has no top and size 0, and taking out a slot it does not hold does nothing', () => {
    const heap = heapOf([1, 2]);
    expect(heap.size).toBe(0);
    expect(heap.top()).toBeUndefined();
    heap.remove(1);
    expect(heap.size).toBe(0);
  });

  it('orders keys a unit of the last place apart, and infinities: -Infinity < 1 < 1 + 2^-52 < Infinity', () => {
    const keys = [1, Infinity, 1 + 2 ** -52, -Infinity];
    const heap = heapOf(keys);
    for (const slot of [3, 0, 2, 1]) heap.push(slot);
    expect(drain(heap)).toEqual([1, 2, 0, 3]);
  });
});

describe('FloatSlotHeap: reset from the first entries of a scratch array', () => {
  it('builds the heap from any order of slots: keys 3, 9, 1, 7, 5, 8, 2, 6, 4 drain as 9, 8, 7, ..., 1', () => {
    const keys = [3, 9, 1, 7, 5, 8, 2, 6, 4];
    const heap = heapOf(keys);
    heap.reset([0, 1, 2, 3, 4, 5, 6, 7, 8], 9);
    expect(heap.size).toBe(9);
    expect(heap.top()).toBe(1);
    expect(drain(heap).map((slot) => keys[slot])).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // The smallest first in the list, the largest last: the build moves it to the top.
    const rising = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const other = heapOf(rising);
    other.reset(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 12);
    expect(other.top()).toBe(11);
    expect(drain(other)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('takes only the first `count` slots: the rest of the scratch array is neither held nor placed', () => {
    // keys by slot: 0 -> 5, 1 -> 1, 2 -> 3, 3 -> 9, 4 -> 7; the scratch array holds 3 and 4 from an
    // older, longer fill.
    const keys = [5, 1, 3, 9, 7];
    const heap = heapOf(keys);
    heap.reset([1, 0, 2, 3, 4], 3);
    expect(heap.size).toBe(3);
    expect(heap.top()).toBe(0);
    heap.remove(3); // slot 3 stands right after the first three: not in the heap, nothing happens
    heap.remove(4);
    expect(heap.size).toBe(3);
    expect(drain(heap)).toEqual([0, 2, 1]);
  });

  it('replaces what the heap held, a longer heap by a shorter one: a slot of the old contents is no longer in it', () => {
    const keys = [50, 40, 30, 20, 10];
    const heap = heapOf(keys);
    heap.reset([0, 1, 2], 3);
    heap.reset([3, 4], 2);
    expect(heap.size).toBe(2);
    expect(heap.top()).toBe(3);
    heap.remove(0); // held before the reset only: nothing happens
    heap.remove(1);
    expect(heap.size).toBe(2);
    heap.push(1);
    expect(drain(heap)).toEqual([1, 3, 4]);
  });

  it('reset to nothing empties it', () => {
    const heap = heapOf([2, 1]);
    heap.reset([0, 1], 2);
    heap.reset([0, 1], 0);
    expect(heap.size).toBe(0);
    expect(heap.top()).toBeUndefined();
    heap.remove(0);
    expect(heap.size).toBe(0);
  });
});

describe('FloatSlotHeap: taking a slot out wherever it stands', () => {
  it('a slot taken out twice, or taken out and pushed back with a new key, is held once', () => {
    const keys = Float64Array.from([5, 7, 6]);
    const heap = new FloatSlotHeap(keys);
    for (const slot of [0, 1, 2]) heap.push(slot);
    heap.remove(1);
    heap.remove(1);
    expect(heap.size).toBe(2);
    keys[1] = 4; // its key changed while out
    heap.push(1);
    expect(drain(heap)).toEqual([2, 0, 1]);
  });

  it('reads the key array the caller hands over when it grows it', () => {
    const heap = new FloatSlotHeap(Float64Array.from([3, 1]));
    heap.push(0);
    heap.push(1);
    const grown = new Float64Array(4);
    grown.set([3, 1, 2, 8]);
    heap.keys = grown;
    heap.push(3);
    heap.push(2);
    expect(drain(heap)).toEqual([3, 0, 2, 1]);
  });
});

describe('FloatSlotHeap: a model check', () => {
  it('drains as a plain sort of the keys after any pushes, removals and resets', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), slot: fc.nat({ max: 29 }), key: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ kind: fc.constant('remove' as const), slot: fc.nat({ max: 29 }) }),
      fc.record({ kind: fc.constant('reset' as const), slots: fc.uniqueArray(fc.nat({ max: 29 }), { maxLength: 30 }), extra: fc.array(fc.nat({ max: 29 }), { maxLength: 5 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const keys = Float64Array.from({ length: 30 }, (_, i) => (i * 37) % 101 - 50);
      const heap = new FloatSlotHeap(keys);
      const held = new Set<number>();
      for (const o of ops) {
        if (o.kind === 'push') {
          if (held.has(o.slot)) continue; // a slot is pushed only when out, as the ranking does
          keys[o.slot] = o.key;
          heap.push(o.slot);
          held.add(o.slot);
        } else if (o.kind === 'remove') {
          heap.remove(o.slot);
          held.delete(o.slot);
        } else {
          // the scratch array: the slots, then leftovers of an older fill
          heap.reset([...o.slots, ...o.extra], o.slots.length);
          held.clear();
          for (const slot of o.slots) held.add(slot);
        }
        expect(heap.size).toBe(held.size);
        if (held.size > 0) expect(keys[heap.top()!]).toBe(Math.max(...[...held].map((slot) => keys[slot]!)));
      }
      const drained = drain(heap);
      expect([...drained].sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
      expect(drained.map((slot) => keys[slot]!)).toEqual([...held].map((slot) => keys[slot]!).sort((a, b) => b - a));
    }), propertyParameters('float slot heap equals a model', 200));
  });
});
