// The read-model store port: where projected documents live. Implemented in memory (the
// embedded default, rebuilt from the log at start) and on MongoDB; one contract suite checks both.
//
// Every write is guarded by position: a document is replaced only by one projected from a later
// event, so applying an event twice changes nothing. A projection's checkpoint is written with
// its documents, so a restart resumes exactly after the last event whose documents were stored.

import type * as E from 'fp-ts/lib/Either.js';
import type { Collection, Document } from './read-models.js';

export interface ReadModelError {
  readonly kind: 'unavailable';
  readonly message: string;
}

export type DocumentIn<C extends Collection> = Extract<Document, { readonly collection: C }>;

export interface ReadModelStore {
  /** Store documents (each only if newer than the stored one) and the projection's checkpoint, together. */
  write(projection: string, documents: ReadonlyArray<Document>, checkpoint: bigint): Promise<E.Either<ReadModelError, void>>;
  get<C extends Collection>(collection: C, id: string): Promise<E.Either<ReadModelError, DocumentIn<C> | undefined>>;
  /** Every document of a collection belonging to a pool, by id. */
  list<C extends Collection>(collection: C, poolId: string): Promise<E.Either<ReadModelError, DocumentIn<C>[]>>;
  /** Position of the last event a projection stored ('start' before the first). */
  checkpoint(projection: string): Promise<E.Either<ReadModelError, bigint | 'start'>>;
  /** Forget a projection's documents and checkpoint (to rebuild it from zero). */
  clear(projection: string): Promise<E.Either<ReadModelError, void>>;
  close(): Promise<void>;
}
