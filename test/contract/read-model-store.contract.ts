// One contract for every ReadModelStore adapter.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { Document } from '../../projections/read-models.js';
import type { ReadModelStore } from '../../projections/read-model-store.js';

const market = (poolId: string, marketId: string, position: bigint, mark: string): Document => ({
  collection: 'markets', id: `${poolId}/${marketId}`, position,
  body: { poolId, marketId, mark, longSize: '1.5', shortSize: '1.5', openInterest: '45000.000000000000000001' },
});

const right = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
  return result.right;
};

export const readModelStoreContract = (name: string, open: () => Promise<ReadModelStore>): void => {
  describe(`read-model store contract: ${name}`, () => {
    const withStore = (test: (store: ReadModelStore, pool: string, projection: string) => Promise<void>) => async () => {
      const store = await open();
      try {
        await test(store, `pool-${randomUUID().slice(0, 8)}`, `projection-${randomUUID().slice(0, 8)}`);
      } finally {
        await store.close();
      }
    };

    it('stores documents and reads them back exactly, by id and per pool in id order', withStore(async (store, pool, projection) => {
      const a = market(pool, 'A', 5n, '100.25');
      const b = market(pool, 'B', 6n, '7');
      right(await store.write(projection, [b, a], 6n));
      expect(right(await store.get('markets', a.id))).toEqual(a);
      expect(right(await store.get('markets', `${pool}/none`))).toBeUndefined();
      expect(right(await store.list('markets', pool))).toEqual([a, b]);
      expect(right(await store.list('markets', `${pool}-other`))).toEqual([]);
    }));

    it('keeps the newer document when an older or repeated one arrives (a replayed event is a no-op)', withStore(async (store, pool, projection) => {
      right(await store.write(projection, [market(pool, 'A', 10n, '200')], 10n));
      right(await store.write(projection, [market(pool, 'A', 9n, '150')], 9n));
      right(await store.write(projection, [market(pool, 'A', 10n, 'tampered')], 10n));
      expect(right(await store.get('markets', `${pool}/A`))).toEqual(market(pool, 'A', 10n, '200'));
      expect(right(await store.checkpoint(projection))).toBe(10n);
    }));

    it('writes the checkpoint with the documents, starting from start, and clears for a rebuild', withStore(async (store, pool, projection) => {
      expect(right(await store.checkpoint(projection))).toBe('start');
      right(await store.write(projection, [market(pool, 'A', 3n, '1')], 3n));
      expect(right(await store.checkpoint(projection))).toBe(3n);
      right(await store.clear(projection));
      expect(right(await store.checkpoint(projection))).toBe('start');
      expect(right(await store.get('markets', `${pool}/A`))).toBeUndefined();
    }));
  });
};
