// A fully persistent map with native-Map speed for the newest version (Baker's "rerooting"
// trick, as in Conchon and Filliatre's persistent arrays).
//
// Exactly one version (the root) owns a mutable Map; every other version is a diff saying how
// it differs from a newer (or older) neighbour. Updating the root costs one Map write and one
// small diff object. Reading an old version first "reroots" the map onto it by replaying the
// diffs in reverse, which costs the distance between the versions and leaves every version's
// observable contents unchanged. So the API is pure (a `set` never changes what an existing
// version contains), and the single writer, which only ever touches the newest state, pays no
// more than a native Map. General-purpose persistent maps (HAMTs, B-trees) cost ~1.5-2 us per
// update at 100,000 keys, which alone would exceed the per-trade budget.
//
// Iteration returns arrays (snapshots), because a lazy iterator over the shared Map would be
// invalidated when another version of the same map is read.

const ABSENT: unique symbol = Symbol('absent');
type Slot<V> = V | typeof ABSENT;

/** The value under `key`, or ABSENT; one hash lookup unless the stored value is `undefined`. */
const slotOf = <K, V>(map: Map<K, V>, key: K): Slot<V> => {
  const value = map.get(key);
  return value !== undefined || map.has(key) ? (value as V) : ABSENT;
};

type Node<K, V> =
  | { readonly kind: 'root'; readonly map: Map<K, V> }
  | { readonly kind: 'diff'; readonly keys: K[]; readonly values: Slot<V>[]; readonly next: PersistentMap<K, V> };

export class PersistentMap<K, V> {
  private node: Node<K, V>;

  private constructor(node: Node<K, V>) {
    this.node = node;
  }

  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ kind: 'root', map: new Map() });
  }

  static of<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ kind: 'root', map: new Map(entries) });
  }

  /** Make this version the root and return its Map (valid until another version is read). */
  private reroot(): Map<K, V> {
    if (this.node.kind === 'root') return this.node.map;
    const chain: PersistentMap<K, V>[] = [];
    let version: PersistentMap<K, V> = this;
    while (version.node.kind === 'diff') {
      chain.push(version);
      version = version.node.next;
    }
    const map = version.node.map;
    // Walk back from the root towards this version, moving the Map one step at a time and
    // leaving behind, on the version it leaves, the diff that undoes the step.
    for (let i = chain.length - 1; i >= 0; i--) {
      const target = chain[i]!;
      const diff = target.node as Extract<Node<K, V>, { kind: 'diff' }>;
      const undoValues: Slot<V>[] = new Array(diff.keys.length);
      for (let j = 0; j < diff.keys.length; j++) {
        const key = diff.keys[j]!;
        undoValues[j] = slotOf(map, key);
        const value = diff.values[j]!;
        if (value === ABSENT) map.delete(key);
        else map.set(key, value);
      }
      diff.next.node = { kind: 'diff', keys: diff.keys, values: undoValues, next: target };
      target.node = { kind: 'root', map };
    }
    return map;
  }

  get(key: K): V | undefined {
    return this.reroot().get(key);
  }

  has(key: K): boolean {
    return this.reroot().has(key);
  }

  get size(): number {
    return this.reroot().size;
  }

  /** A new version with `key` set; this version is unchanged. */
  set(key: K, value: V): PersistentMap<K, V> {
    const map = this.reroot();
    const old = slotOf(map, key);
    map.set(key, value);
    const next = new PersistentMap<K, V>({ kind: 'root', map });
    this.node = { kind: 'diff', keys: [key], values: [old], next };
    return next;
  }

  /** A new version with every entry set, in order, as one step. */
  setAll(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    const map = this.reroot();
    const keys: K[] = [];
    const values: Slot<V>[] = [];
    // A diff holds each key once (its value before this step), so its order never matters. A
    // Map's keys are distinct already; other entries are checked against a set (linear, where a
    // scan of the keys so far would be quadratic in the number of entries).
    const seen = entries instanceof Map ? undefined : new Set<K>();
    for (const [key, value] of entries) {
      if (seen === undefined || !seen.has(key)) {
        seen?.add(key);
        keys.push(key);
        values.push(slotOf(map, key));
      }
      map.set(key, value);
    }
    if (keys.length === 0) return this;
    const next = new PersistentMap<K, V>({ kind: 'root', map });
    this.node = { kind: 'diff', keys, values, next };
    return next;
  }

  /**
   * setAll for values whose keys (`keyOf`) are known to be distinct, such as a ledger draft's
   * accounts: no entry pairs to build and no set to check the keys against.
   */
  setDistinct(values: ReadonlyArray<V>, keyOf: (value: V) => K): PersistentMap<K, V> {
    if (values.length === 0) return this;
    const map = this.reroot();
    const keys: K[] = new Array(values.length);
    const old: Slot<V>[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      const key = keyOf(value);
      keys[i] = key;
      old[i] = slotOf(map, key);
      map.set(key, value);
    }
    const next = new PersistentMap<K, V>({ kind: 'root', map });
    this.node = { kind: 'diff', keys, values: old, next };
    return next;
  }

  /** A new version without `key`; this version is unchanged. */
  delete(key: K): PersistentMap<K, V> {
    const map = this.reroot();
    if (!map.has(key)) return this;
    const old = map.get(key) as V;
    map.delete(key);
    const next = new PersistentMap<K, V>({ kind: 'root', map });
    this.node = { kind: 'diff', keys: [key], values: [old], next };
    return next;
  }

  /**
   * The keys set or deleted between `older` and this version, if `older` is an ancestor still
   * linked forward to this one (the usual case for a writer moving forward); otherwise undefined,
   * and the caller must not assume anything about what changed.
   */
  keysChangedSince(older: PersistentMap<K, V>, limit = Number.POSITIVE_INFINITY): K[] | undefined {
    const keys: K[] = [];
    let version: PersistentMap<K, V> = older;
    while (version !== this) {
      if (version.node.kind !== 'diff' || keys.length > limit) return undefined;
      keys.push(...version.node.keys);
      version = version.node.next;
    }
    return keys;
  }

  values(): V[] {
    return [...this.reroot().values()];
  }

  keys(): K[] {
    return [...this.reroot().keys()];
  }

  entries(): [K, V][] {
    return [...this.reroot().entries()];
  }
}

/** A persistent set of strings on the same structure. */
export class PersistentSet<K> {
  private constructor(private readonly map: PersistentMap<K, true>) {}

  static empty<K>(): PersistentSet<K> {
    return new PersistentSet(PersistentMap.empty<K, true>());
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  add(key: K): PersistentSet<K> {
    return new PersistentSet(this.map.set(key, true));
  }

  /** A new version with every key added, in order, as one step (the same contents and order as adding them one by one). */
  addAll(keys: Iterable<K>): PersistentSet<K> {
    const entries: [K, true][] = [];
    for (const key of keys) entries.push([key, true]);
    const next = this.map.setAll(entries);
    return next === this.map ? this : new PersistentSet(next);
  }

  get size(): number {
    return this.map.size;
  }

  delete(key: K): PersistentSet<K> {
    const next = this.map.delete(key);
    return next === this.map ? this : new PersistentSet(next);
  }

  values(): K[] {
    return this.map.keys();
  }
}
