// The slot heap under the ADL ranking and the liquidatable-account index: a max-heap of slots by a
// key the caller computes, whose slots can be taken out wherever they stand. Given keys written
// out by hand, it always offers a largest key on top, takes out exactly the slot asked for, and
// visits exactly the slots whose key reaches a threshold. Which of two slots with equal keys comes
// first is left open (the callers sort ties exactly themselves), so no case here depends on it.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SlotHeap } from '../../domain/slot-heap.js';
import { propertyParameters } from '../support/property.js';
import { slotHeapCases } from '../support/slot-heap-cases.js';

/** A heap over `keys` (slot -> key), and its slots drained top first (which empties it). */
const heapOf = (keys: number[]): SlotHeap<number> => new SlotHeap<number>((slot) => keys[slot]!);
const drain = (heap: SlotHeap<number>): number[] => {
  const out: number[] = [];
  for (let slot = heap.top(); slot !== undefined; slot = heap.top()) {
    out.push(slot);
    heap.remove(slot);
  }
  return out;
};
const reaching = (heap: SlotHeap<number>, keys: number[], threshold: number): { visited: number[]; asked: number } => {
  const visited: number[] = [];
  let asked = 0;
  heap.eachReaching((key) => {
    asked++;
    return key >= threshold;
  }, (slot) => visited.push(slot));
  return { visited: visited.sort((a, b) => keys[b]! - keys[a]!), asked };
};

slotHeapCases('SlotHeap', heapOf, drain);

describe('SlotHeap: the largest key on top', () => {
  it('an empty heap has no top and size 0', () => {
    const heap = heapOf([]);
    expect(heap.size).toBe(0);
    expect(heap.top()).toBeUndefined();
    heap.remove(3); // not in the heap: nothing happens
    expect(heap.size).toBe(0);
  });

  it('reset builds the heap from any order of slots: keys 3, 9, 1, 7, 5, 8, 2, 6, 4 drain as 9, 8, 7, ..., 1', () => {
    const keys = [3, 9, 1, 7, 5, 8, 2, 6, 4];
    const heap = heapOf(keys);
    heap.reset([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(heap.size).toBe(9);
    expect(heap.top()).toBe(1);
    expect(drain(heap).map((slot) => keys[slot])).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // The smallest first in the list, the largest last: the build moves it to the top.
    const rising = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const other = heapOf(rising);
    other.reset([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(other.top()).toBe(11);
    expect(drain(other)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('reset replaces what the heap held: a slot of the old contents is no longer in it', () => {
    const keys = [50, 40, 30, 20, 10];
    const heap = heapOf(keys);
    heap.reset([0, 1, 2]);
    heap.reset([3, 4]);
    expect(heap.size).toBe(2);
    heap.remove(0); // held before the reset only: nothing happens
    expect(heap.size).toBe(2);
    expect(heap.top()).toBe(3);
    heap.push(1);
    expect(drain(heap)).toEqual([1, 3, 4]);
  });
});

describe('SlotHeap: taking a slot out wherever it stands', () => {
  it('a slot taken out twice, or taken out and pushed back, is held once', () => {
    const keys = [5, 7, 6];
    const heap = heapOf(keys);
    for (const slot of [0, 1, 2]) heap.push(slot);
    heap.remove(1);
    heap.remove(1);
    expect(heap.size).toBe(2);
    keys[1] = 4; // its key changed while out
    heap.push(1);
    expect(drain(heap)).toEqual([2, 0, 1]);
  });
});

describe('SlotHeap: the slots whose key reaches a threshold', () => {
  it('visits exactly the slots with key >= the threshold, and asks about no slot under a refused one', () => {
    // Pushed in this order the heap is [9, 5, 8, 1, 2, 7]: at threshold 6, 9, 8 and 7 are visited,
    // 5 is refused, and its children 1 and 2 are never asked about: 4 questions in all.
    const keys = [9, 5, 8, 1, 2, 7];
    const heap = heapOf(keys);
    for (const slot of [0, 1, 2, 3, 4, 5]) heap.push(slot);
    expect(reaching(heap, keys, 6)).toEqual({ visited: [0, 2, 5], asked: 4 });
    expect(reaching(heap, keys, 10)).toEqual({ visited: [], asked: 1 });
    expect(reaching(heap, keys, 1)).toEqual({ visited: [0, 2, 5, 1, 4, 3], asked: 6 });
    expect(reaching(heapOf([]), [], 0)).toEqual({ visited: [], asked: 0 });
  });

  it('equals a plain filter of the keys after any pushes, removals and resets (model check)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), slot: fc.nat({ max: 29 }), key: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ kind: fc.constant('remove' as const), slot: fc.nat({ max: 29 }) }),
      fc.record({ kind: fc.constant('reset' as const), slots: fc.uniqueArray(fc.nat({ max: 29 }), { maxLength: 30 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: -50, max: 50 }), (ops, threshold) => {
      const keys: number[] = Array.from({ length: 30 }, (_, i) => (i * 37) % 101 - 50);
      const heap = heapOf(keys);
      const held = new Set<number>();
      for (const o of ops) {
        if (o.kind === 'push') {
          if (held.has(o.slot)) continue; // a slot is pushed only when out, as the callers do
          keys[o.slot] = o.key;
          heap.push(o.slot);
          held.add(o.slot);
        } else if (o.kind === 'remove') {
          heap.remove(o.slot);
          held.delete(o.slot);
        } else {
          heap.reset([...o.slots]);
          held.clear();
          for (const slot of o.slots) held.add(slot);
        }
        expect(heap.size).toBe(held.size);
        if (held.size > 0) expect(keys[heap.top()!]).toBe(Math.max(...[...held].map((slot) => keys[slot]!)));
      }
      const expected = [...held].filter((slot) => keys[slot]! >= threshold).sort((a, b) => a - b);
      const visited: number[] = [];
      heap.eachReaching((key) => key >= threshold, (slot) => visited.push(slot));
      expect(visited.sort((a, b) => a - b)).toEqual(expected);
      const drained = drain(heap).map((slot) => keys[slot]!);
      expect(drained).toEqual([...held].map((slot) => keys[slot]!).sort((a, b) => b - a));
    }), propertyParameters('slot heap equals a model', 200));
  });
});
