// In-memory read models: the embedded default, rebuilt from the log at every start.

import * as E from 'fp-ts/lib/Either.js';
import type { Collection, Document } from '../../projections/read-models.js';
import type { DocumentIn, ReadModelError, ReadModelStore } from '../../projections/read-model-store.js';

export class MemoryReadModelStore implements ReadModelStore {
  private readonly documents = new Map<string, Document>();
  private readonly checkpoints = new Map<string, bigint>();

  async write(projection: string, documents: ReadonlyArray<Document>, checkpoint: bigint): Promise<E.Either<ReadModelError, void>> {
    for (const document of documents) {
      const key = `${document.collection}\u0000${document.id}`;
      const stored = this.documents.get(key);
      if (stored === undefined || stored.position < document.position) this.documents.set(key, document);
    }
    const previous = this.checkpoints.get(projection);
    if (previous === undefined || previous < checkpoint) this.checkpoints.set(projection, checkpoint);
    return E.right(undefined);
  }

  async get<C extends Collection>(collection: C, id: string): Promise<E.Either<ReadModelError, DocumentIn<C> | undefined>> {
    return E.right(this.documents.get(`${collection}\u0000${id}`) as DocumentIn<C> | undefined);
  }

  async list<C extends Collection>(collection: C, poolId: string): Promise<E.Either<ReadModelError, DocumentIn<C>[]>> {
    const found = [...this.documents.values()]
      .filter((d): d is DocumentIn<C> => d.collection === collection && d.body.poolId === poolId)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return E.right(found);
  }

  async checkpoint(projection: string): Promise<E.Either<ReadModelError, bigint | 'start'>> {
    return E.right(this.checkpoints.get(projection) ?? 'start');
  }

  async clear(projection: string): Promise<E.Either<ReadModelError, void>> {
    this.documents.clear();
    this.checkpoints.delete(projection);
    return E.right(undefined);
  }

  async close(): Promise<void> {
    return undefined;
  }
}
