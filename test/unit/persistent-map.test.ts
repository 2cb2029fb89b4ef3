// Model-based test: every version of a PersistentMap must keep exactly the contents it had when
// it was made, however versions are created and read, compared with plain Map copies.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PersistentMap, PersistentSet } from '../../domain/persistent-map.js';
import { propertyParameters } from '../support/property.js';

type Op =
  | { readonly op: 'set'; readonly from: number; readonly key: number; readonly value: number }
  | { readonly op: 'setAll'; readonly from: number; readonly entries: [number, number][]; readonly asMap: boolean }
  | { readonly op: 'delete'; readonly from: number; readonly key: number }
  | { readonly op: 'read'; readonly version: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), from: fc.nat(), key: fc.nat(8), value: fc.integer() }),
  fc.record({ op: fc.constant('setAll' as const), from: fc.nat(), entries: fc.oneof(fc.array(fc.tuple(fc.nat(8), fc.integer()), { maxLength: 4 }), fc.array(fc.tuple(fc.nat(40), fc.integer()), { maxLength: 60 })), asMap: fc.boolean() }),
  fc.record({ op: fc.constant('delete' as const), from: fc.nat(), key: fc.nat(8) }),
  fc.record({ op: fc.constant('read' as const), version: fc.nat() }),
);

const contents = (m: PersistentMap<number, number>) => new Map(m.entries().sort(([a], [b]) => a - b));

describe('PersistentMap', () => {
  it('every version keeps its contents whichever versions are updated or read later', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const versions: PersistentMap<number, number>[] = [PersistentMap.empty()];
      const models: Map<number, number>[] = [new Map()];
      for (const op of ops) {
        if (op.op === 'read') {
          const i = op.version % versions.length;
          expect(contents(versions[i]!)).toEqual(new Map([...models[i]!].sort(([a], [b]) => a - b)));
          continue;
        }
        const i = op.from % versions.length;
        const model = new Map(models[i]!);
        let next: PersistentMap<number, number>;
        if (op.op === 'set') { next = versions[i]!.set(op.key, op.value); model.set(op.key, op.value); }
        else if (op.op === 'setAll') { next = versions[i]!.setAll(op.asMap ? new Map(op.entries) : op.entries); for (const [k, v] of op.entries) model.set(k, v); }
        else { next = versions[i]!.delete(op.key); model.delete(op.key); }
        versions.push(next);
        models.push(model);
      }
      versions.forEach((version, i) => {
        for (let key = 0; key <= 40; key++) expect(version.get(key)).toBe(models[i]!.get(key));
        expect(version.size).toBe(models[i]!.size);
      });
    }), propertyParameters('persistent map model', 300));
  });

  it('setDistinct holds what setAll holds for values with distinct keys, in the same order, and leaves the older version as it was', () => {
    const entry = fc.record({ k: fc.nat(40), v: fc.integer() });
    const distinct = fc.uniqueArray(entry, { selector: (e) => e.k, maxLength: 30 });
    fc.assert(fc.property(distinct, distinct, (initial, values) => {
      // given
      const base = PersistentMap.of(initial.map((e) => [e.k, e] as const));
      const before = base.entries();
      // when
      const distinctWay = base.setDistinct(values, (e) => e.k);
      const pairsWay = base.setAll(values.map((e) => [e.k, e] as const));
      // then
      expect(distinctWay.entries()).toEqual(pairsWay.entries());
      expect(base.entries()).toEqual(before);
      expect(distinctWay.entries()).toEqual(pairsWay.entries());
      expect(distinctWay.size).toBe(new Set([...initial, ...values].map((e) => e.k)).size);
    }), propertyParameters('persistent map setDistinct', 300));
  });

  it('a set keeps each key once and reports membership per version', () => {
    const a = PersistentSet.empty<string>();
    const b = a.add('x');
    const c = b.add('y').add('x');
    expect([a.has('x'), b.has('x'), b.has('y'), c.has('y')]).toEqual([false, true, false, true]);
    expect([a.size, b.size, c.size]).toEqual([0, 1, 2]);
    expect(c.values().sort()).toEqual(['x', 'y']);
  });

  it('addAll holds what adding one by one holds, in the same order, and leaves the older version as it was', () => {
    fc.assert(fc.property(fc.array(fc.nat(30), { maxLength: 20 }), fc.array(fc.nat(30), { maxLength: 60 }), (first, more) => {
      const base = first.reduce((set, key) => set.add(key), PersistentSet.empty<number>());
      const before = base.values();
      const one = more.reduce((set, key) => set.add(key), base);
      const all = base.addAll(more);
      expect(all.values()).toEqual(one.values());
      expect(base.values()).toEqual(before);
    }), propertyParameters('persistent set addAll', 200));
  });
});
