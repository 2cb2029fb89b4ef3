// A binary max-heap of slots (small integers indexing a caller's arrays) by a key the caller
// computes, with each slot's place kept so that a slot can be taken out in O(log n) when its
// figures change. Used for the ADL ranking's score intervals and the liquidatable-account index.

export class SlotHeap<Key extends number | bigint> {
  private items: number[] = [];
  /** slot -> its index in `items` plus one; 0 (or missing) when not in the heap. */
  private readonly place: number[] = [];

  constructor(private readonly key: (slot: number) => Key) {}

  get size(): number {
    return this.items.length;
  }

  top(): number | undefined {
    return this.items[0];
  }

  /** Makes the heap hold exactly `slots` (Floyd's linear-time heap construction). */
  reset(slots: number[]): void {
    for (const slot of this.items) this.place[slot] = 0;
    this.items = slots;
    for (let i = 0; i < slots.length; i++) this.place[slots[i]!] = i + 1;
    for (let i = (slots.length >>> 1) - 1; i >= 0; i--) this.down(i);
  }

  /**
   * Calls `visit` with every slot whose key `reaches` accepts, where `reaches` accepts every key
   * above any key it accepts (a threshold): children are only visited under accepted parents.
   */
  eachReaching(reaches: (key: Key) => boolean, visit: (slot: number) => void): void {
    const pending = [0];
    while (pending.length > 0) {
      const index = pending.pop()!;
      if (index >= this.items.length || !reaches(this.key(this.items[index]!))) continue;
      visit(this.items[index]!);
      pending.push(2 * index + 1, 2 * index + 2);
    }
  }

  push(slot: number): void {
    this.items.push(slot);
    this.place[slot] = this.items.length;
    this.up(this.items.length - 1);
  }

  /** Takes the slot out if it is in the heap. */
  remove(slot: number): void {
    const index = (this.place[slot] ?? 0) - 1;
    if (index < 0) return;
    this.place[slot] = 0;
    const last = this.items.pop()!;
    if (index === this.items.length) return;
    this.items[index] = last; // up() and down() record its place
    this.up(index);
    this.down(index);
  }

  private up(index: number): void {
    const items = this.items;
    const slot = items[index]!;
    const key = this.key(slot);
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (this.key(items[parent]!) >= key) break;
      items[index] = items[parent]!;
      this.place[items[index]!] = index + 1;
      index = parent;
    }
    items[index] = slot;
    this.place[slot] = index + 1;
  }

  private down(index: number): void {
    const items = this.items;
    const slot = items[index]!;
    const key = this.key(slot);
    for (;;) {
      let child = 2 * index + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && this.key(items[child + 1]!) > this.key(items[child]!)) child++;
      if (this.key(items[child]!) <= key) break;
      items[index] = items[child]!;
      this.place[items[index]!] = index + 1;
      index = child;
    }
    items[index] = slot;
    this.place[slot] = index + 1;
  }
}

/**
 * The same heap with float keys read straight from a Float64Array the caller owns (and replaces
 * here when it grows the array): no key function, so no float is boxed per comparison (the ADL
 * ranking heapifies tens of thousands of slots at each new mark).
 */
export class FloatSlotHeap {
  private readonly items: number[] = [];
  /** slot -> its index in `items` plus one; 0 (or missing) when not in the heap. */
  private readonly place: number[] = [];

  constructor(public keys: Float64Array) {}

  get size(): number {
    return this.items.length;
  }

  top(): number | undefined {
    return this.items[0];
  }

  /**
   * Makes the heap hold exactly the first `count` of `slots` (Floyd's linear-time heap
   * construction), copied into the heap's own array: refilled in place at every new mark, never
   * reallocated once large.
   */
  reset(slots: ArrayLike<number>, count: number): void {
    const items = this.items;
    for (const slot of items) this.place[slot] = 0;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      items[i] = slot;
      this.place[slot] = i + 1;
    }
    items.length = count;
    for (let i = (count >>> 1) - 1; i >= 0; i--) this.down(i);
  }

  push(slot: number): void {
    this.items.push(slot);
    this.place[slot] = this.items.length;
    this.up(this.items.length - 1);
  }

  /** Takes the slot out if it is in the heap. */
  remove(slot: number): void {
    const index = (this.place[slot] ?? 0) - 1;
    if (index < 0) return;
    this.place[slot] = 0;
    const last = this.items.pop()!;
    if (index === this.items.length) return;
    this.items[index] = last; // up() and down() record its place
    this.up(index);
    this.down(index);
  }

  private up(index: number): void {
    const items = this.items;
    const keys = this.keys;
    const slot = items[index]!;
    const key = keys[slot]!;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (keys[items[parent]!]! >= key) break;
      items[index] = items[parent]!;
      this.place[items[index]!] = index + 1;
      index = parent;
    }
    items[index] = slot;
    this.place[slot] = index + 1;
  }

  private down(index: number): void {
    const items = this.items;
    const keys = this.keys;
    const slot = items[index]!;
    const key = keys[slot]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && keys[items[child + 1]!]! > keys[items[child]!]!) child++;
      if (keys[items[child]!]! <= key) break;
      items[index] = items[child]!;
      this.place[items[index]!] = index + 1;
      index = child;
    }
    items[index] = slot;
    this.place[slot] = index + 1;
  }
}
