// The pure half of the MongoDB read-model adapter: documents to and from their stored form.
// Positions are stored as int64 (Long) so that the guard compares them as numbers; bodies keep
// their decimal strings.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Long } from 'mongodb';
import { decodeWith, type InvalidInput } from '../../domain/index.js';
import type { Collection, Document } from '../../projections/read-models.js';

export interface StoredDocument {
  readonly _id: string;
  readonly poolId: string;
  readonly position: Long;
  readonly body: Record<string, unknown>;
}

export const toStored = (document: Document): StoredDocument => ({
  _id: document.id,
  poolId: document.body.poolId,
  position: Long.fromBigInt(document.position),
  body: document.body as unknown as Record<string, unknown>,
});

/** A projection's checkpoint, stored like a document so that the same guard keeps it moving forward. */
export const checkpointStored = (projection: string, position: bigint): StoredDocument => ({
  _id: projection, poolId: '', position: Long.fromBigInt(position), body: { poolId: '' },
});

const LongPosition = new t.Type<bigint, Long, unknown>(
  'Position',
  (u): u is bigint => typeof u === 'bigint',
  (u, c) => (u instanceof Long ? t.success(u.toBigInt()) : typeof u === 'number' && Number.isSafeInteger(u) ? t.success(BigInt(u)) : t.failure(u, c, 'expected an int64 position')),
  (a) => Long.fromBigInt(a),
);

const StoredEnvelope = t.type({
  _id: t.string,
  poolId: t.string,
  position: LongPosition,
  body: t.type({ poolId: t.string }),
}, 'StoredReadModel');

/** A stored document read back, its envelope decoded (the body is what the projection wrote). */
export const fromStored = (collection: Collection, raw: unknown): E.Either<InvalidInput, Document> =>
  E.map((decoded: t.TypeOf<typeof StoredEnvelope>) => ({ collection, id: decoded._id, position: decoded.position, body: decoded.body } as unknown as Document))(
    decodeWith(StoredEnvelope)(raw),
  );

/**
 * An update that replaces the document only if it comes from a later event: an aggregation
 * pipeline, so that it is one atomic operation and never fails on an existing newer version.
 */
export const guardedReplace = (document: StoredDocument) => {
  const newer = { $lt: [{ $ifNull: ['$position', Long.fromNumber(-1)] }, document.position] };
  return [{
    $set: {
      poolId: { $cond: [newer, document.poolId, '$poolId'] },
      body: { $cond: [newer, { $literal: document.body }, '$body'] },
      position: { $cond: [newer, document.position, '$position'] },
    },
  }];
};
