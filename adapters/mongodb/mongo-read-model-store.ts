// Read models on MongoDB: I/O only (translation in mapping.ts). Documents keyed by id, writes
// guarded by position, the checkpoint written in the same transaction as the documents,
// majority write concern, an index on poolId for the per-pool queries.

import * as E from 'fp-ts/lib/Either.js';
import { MongoClient, type Db } from 'mongodb';
import type { Collection, Document } from '../../projections/read-models.js';
import type { DocumentIn, ReadModelError, ReadModelStore } from '../../projections/read-model-store.js';
import { checkpointStored, fromStored, guardedReplace, toStored } from './mapping.js';

const COLLECTIONS: ReadonlyArray<Collection> = ['fund-health', 'tranches', 'accounts', 'markets'];
const CHECKPOINTS = 'checkpoints';

const failed = (error: unknown): E.Either<ReadModelError, never> =>
  E.left({ kind: 'unavailable', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });

export class MongoReadModelStore implements ReadModelStore {
  private constructor(private readonly client: MongoClient, private readonly db: Db) {}

  static async connect(url: string, database = 'ledger'): Promise<MongoReadModelStore> {
    const client = new MongoClient(url, { writeConcern: { w: 'majority' } });
    await client.connect();
    const db = client.db(database);
    await Promise.all(COLLECTIONS.map((c) => db.collection(c).createIndex({ poolId: 1 })));
    return new MongoReadModelStore(client, db);
  }

  async write(projection: string, documents: ReadonlyArray<Document>, checkpoint: bigint): Promise<E.Either<ReadModelError, void>> {
    const session = this.client.startSession();
    try {
      await session.withTransaction(async () => {
        for (const collection of COLLECTIONS) {
          const mine = documents.filter((d) => d.collection === collection);
          if (mine.length === 0) continue;
          await this.db.collection<{ _id: string }>(collection).bulkWrite(
            mine.map((d) => {
              const stored = toStored(d);
              return { updateOne: { filter: { _id: stored._id }, update: guardedReplace(stored), upsert: true } };
            }),
            { session, ordered: true },
          );
        }
        await this.db.collection<{ _id: string }>(CHECKPOINTS)
          .updateOne({ _id: projection }, guardedReplace(checkpointStored(projection, checkpoint)), { upsert: true, session });
      });
      return E.right(undefined);
    } catch (error) {
      return failed(error);
    } finally {
      await session.endSession();
    }
  }

  async get<C extends Collection>(collection: C, id: string): Promise<E.Either<ReadModelError, DocumentIn<C> | undefined>> {
    try {
      const raw = await this.db.collection<{ _id: string }>(collection).findOne({ _id: id });
      if (raw === null) return E.right(undefined);
      const decoded = fromStored(collection, raw);
      return E.isLeft(decoded) ? E.left({ kind: 'unavailable', message: `stored ${collection}/${id}: ${decoded.left.message}` }) : E.right(decoded.right as DocumentIn<C>);
    } catch (error) {
      return failed(error);
    }
  }

  async list<C extends Collection>(collection: C, poolId: string): Promise<E.Either<ReadModelError, DocumentIn<C>[]>> {
    try {
      const raws = await this.db.collection(collection).find({ poolId }).sort({ _id: 1 }).toArray();
      const documents: DocumentIn<C>[] = [];
      for (const raw of raws) {
        const decoded = fromStored(collection, raw);
        if (E.isLeft(decoded)) return E.left({ kind: 'unavailable', message: `stored ${collection}/${String(raw._id)}: ${decoded.left.message}` });
        documents.push(decoded.right as DocumentIn<C>);
      }
      return E.right(documents);
    } catch (error) {
      return failed(error);
    }
  }

  async checkpoint(projection: string): Promise<E.Either<ReadModelError, bigint | 'start'>> {
    try {
      const raw = await this.db.collection<{ _id: string }>(CHECKPOINTS).findOne({ _id: projection });
      if (raw === null) return E.right('start');
      const decoded = fromStored('markets', raw);
      return E.isLeft(decoded) ? E.left({ kind: 'unavailable', message: decoded.left.message }) : E.right(decoded.right.position);
    } catch (error) {
      return failed(error);
    }
  }

  async clear(projection: string): Promise<E.Either<ReadModelError, void>> {
    try {
      await Promise.all(COLLECTIONS.map((c) => this.db.collection(c).deleteMany({})));
      await this.db.collection<{ _id: string }>(CHECKPOINTS).deleteOne({ _id: projection });
      return E.right(undefined);
    } catch (error) {
      return failed(error);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
