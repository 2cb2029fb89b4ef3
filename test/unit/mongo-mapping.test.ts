import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Long } from 'mongodb';
import { checkpointStored, fromStored, guardedReplace, toStored } from '../../adapters/mongodb/mapping.js';
import type { Document } from '../../projections/read-models.js';

const document: Document = {
  collection: 'markets', id: 'main/BTC-PERP', position: 9_007_199_254_740_993n,
  body: { poolId: 'main', marketId: 'BTC-PERP', mark: '28300', longSize: '1', shortSize: '1', openInterest: '28300' },
};

describe('MongoDB read-model mapping', () => {
  it('stores positions as int64, exactly, beyond 2^53, and reads them back', () => {
    const stored = toStored(document);
    expect(stored.position).toEqual(Long.fromBigInt(9_007_199_254_740_993n));
    expect(stored._id).toBe('main/BTC-PERP');
    expect(fromStored('markets', stored)).toEqual(E.right(document));
  });

  it('rejects a stored document without a proper envelope, naming the field', () => {
    const result = fromStored('markets', { _id: 'x', poolId: 'main', position: 'nine', body: { poolId: 'main' } });
    expect(E.isLeft(result) && result.left.errors[0]!.path).toBe('position');
  });

  it('guards replacement by position in one atomic update', () => {
    const [stage] = guardedReplace(toStored(document));
    expect(stage!.$set.position).toEqual({
      $cond: [{ $lt: [{ $ifNull: ['$position', Long.fromNumber(-1)] }, Long.fromBigInt(document.position)] }, Long.fromBigInt(document.position), '$position'],
    });
    expect(stage!.$set.body).toMatchObject({ $cond: [expect.anything(), { $literal: document.body }, '$body'] });
    expect(checkpointStored('read-models', 42n)).toMatchObject({ _id: 'read-models', position: Long.fromBigInt(42n) });
  });
});
