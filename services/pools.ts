// The writers of the pools this process serves: one PoolWriter per pool, opened on first use.

import type { EventStore } from './ledger/event-store.js';
import { PoolWriter, type WriterOptions } from './ledger/pool-writer.js';

export class PoolRegistry {
  private readonly writers = new Map<string, Promise<PoolWriter>>();

  constructor(private readonly store: EventStore, private readonly options: WriterOptions = {}) {}

  writer(poolId: string): Promise<PoolWriter> {
    let writer = this.writers.get(poolId);
    if (writer === undefined) {
      writer = PoolWriter.open(this.store, poolId, this.options);
      // A pool that failed to load is tried again on the next command.
      writer.catch(() => this.writers.delete(poolId));
      this.writers.set(poolId, writer);
    }
    return writer;
  }

  /** Finish every batch in flight. */
  async drain(): Promise<void> {
    await Promise.all([...this.writers.values()].map(async (w) => (await w.catch(() => undefined))?.drain()));
  }
}
