// The hand-written cases both slot heaps must pass (the key-function heap and the float-keyed
// one): pushes in rising and falling order, and a slot taken out at the bottom, in the middle
// and near the top. Each spec runs them on its own heap, beside the cases of its own API.

import { describe, expect, it } from 'vitest';

/** What the cases use of a heap: the operations both heaps share. */
export interface Heap {
  readonly size: number;
  top(): number | undefined;
  push(slot: number): void;
  remove(slot: number): void;
}

export const slotHeapCases = <H extends Heap>(name: string, heapOf: (keys: number[]) => H, drain: (heap: H) => number[]): void => {
  describe(`${name}: pushes keep the largest key on top`, () => {
    it('pushed one by one, in rising order, the last (largest) comes to the top each time', () => {
      // keys by slot: 0 -> 10, 1 -> 20, ..., 6 -> 70
      const keys = [10, 20, 30, 40, 50, 60, 70];
      const heap = heapOf(keys);
      const tops: number[] = [];
      for (let slot = 0; slot < keys.length; slot++) {
        heap.push(slot);
        tops.push(heap.top()!);
      }
      expect(tops).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(heap.size).toBe(7);
      expect(drain(heap)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    });

    it('pushed in falling order, the first stays on top; drained, the keys come out from largest to smallest', () => {
      const keys = [90, 80, 70, 60, 50, 40, 30, 20, 10];
      const heap = heapOf(keys);
      for (let slot = 0; slot < keys.length; slot++) heap.push(slot);
      expect(heap.top()).toBe(0);
      expect(drain(heap)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(heap.size).toBe(0);
    });
  });

  describe(`${name}: taking a slot out wherever it stands`, () => {
    it('taking out the slot at the bottom leaves the rest in order', () => {
      const keys = [100, 90, 80, 70];
      const heap = heapOf(keys);
      for (const slot of [0, 1, 2, 3]) heap.push(slot);
      heap.remove(3); // the smallest, pushed last: it is the last item
      expect(heap.size).toBe(3);
      expect(drain(heap)).toEqual([0, 1, 2]);
    });

    it('taking out a slot from the middle: the last item moves up into its place when it is larger than the parent there', () => {
      // Pushed in this order, the heap is [100, 10, 90, 5, 6, 80, 85]: removing slot 3 (key 5, under 10)
      // puts the last item (85) under 10, where it must rise above it.
      const keys = [100, 10, 90, 5, 6, 80, 85];
      const heap = heapOf(keys);
      for (const slot of [0, 1, 2, 3, 4, 5, 6]) heap.push(slot);
      heap.remove(3);
      expect(heap.size).toBe(6);
      expect(heap.top()).toBe(0);
      expect(drain(heap).map((slot) => keys[slot])).toEqual([100, 90, 85, 80, 10, 6]);
    });

    it('taking out a slot near the top: the last item moves down into place', () => {
      const keys = [100, 90, 80, 70, 60, 50, 40, 30, 20];
      const heap = heapOf(keys);
      for (let slot = 0; slot < keys.length; slot++) heap.push(slot);
      heap.remove(1); // key 90, right under the top; the last item (20) replaces it and sinks
      expect(heap.top()).toBe(0);
      heap.remove(0); // the top itself
      expect(heap.top()).toBe(2);
      expect(drain(heap).map((slot) => keys[slot])).toEqual([80, 70, 60, 50, 40, 30, 20]);
    });
  });
};
