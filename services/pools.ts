// The writers of the pools this process serves: one PoolWriter per pool whose stream exists,
// opened on first use and kept.
//
// A command for a pool whose stream does not exist keeps nothing in memory: the domain decides it
// against the initial state, so anything but a command that creates the pool is refused there
// (UNKNOWN_POOL; not recorded, as there is no stream to record it in). Only a command the domain
// would accept there gets a writer, and that writer is let go again if the pool still does not
// exist once the command is answered (its creation was refused, or the store failed).

import * as E from 'fp-ts/lib/Either.js';
import { decide, initialState } from '../domain/index.js';
import { describeStoreError, type EventStore } from './ledger/event-store.js';
import { PoolWriter, poolStream, type Submission, type WriterOptions } from './ledger/pool-writer.js';
import type { Outcome } from './outcome.js';

/** Where a pool's commands go: its writer, or the answer for a pool that does not exist. */
export interface PoolCommands {
  submit(submission: Submission): Promise<Outcome>;
}

export class PoolRegistry {
  private readonly writers = new Map<string, Promise<PoolWriter>>();
  /** Commands on their way to create a pool, per pool: its writer is kept only if they succeed. */
  private readonly creating = new Map<string, number>();

  constructor(private readonly store: EventStore, private readonly options: WriterOptions = {}) {}

  /** How many writers this registry holds (one per pool that exists, or is being created). */
  get writerCount(): number {
    return this.writers.size;
  }

  /** Where the pool's commands go; rejects when the store cannot tell whether the pool exists. */
  async writer(poolId: string): Promise<PoolCommands> {
    const kept = this.writers.get(poolId);
    if (kept !== undefined) return kept;
    if (await this.exists(poolId)) return this.open(poolId);
    return { submit: (submission) => this.submitToAbsentPool(poolId, submission) };
  }

  /**
   * A handled command's outcome if `actor` sent it (see PoolWriter.recordedOutcome); undefined
   * for a pool that does not exist (no writer is opened for it).
   */
  async recordedOutcome(poolId: string, commandId: string, actor: string): Promise<Outcome | undefined> {
    const kept = this.writers.get(poolId);
    const writer = kept !== undefined ? await kept : await this.exists(poolId) ? await this.open(poolId) : undefined;
    return writer?.recordedOutcome(commandId, actor);
  }

  /** Finish every batch in flight. */
  async drain(): Promise<void> {
    await Promise.all([...this.writers.values()].map(async (w) => (await w.catch(() => undefined))?.drain()));
  }

  /** Open (load and verify) the writers of these pools now; rejects with the first that fails to load. */
  async openAll(poolIds: ReadonlyArray<string>): Promise<void> {
    for (const poolId of poolIds) await this.open(poolId);
  }

  /** The writers held, once open (for their checkpoints). */
  async openWriters(): Promise<PoolWriter[]> {
    const opened = await Promise.all([...this.writers.values()].map((w) => w.catch(() => undefined)));
    return opened.filter((w): w is PoolWriter => w !== undefined);
  }

  /** Finish what is in flight, then stop the writers' timers. */
  async close(): Promise<void> {
    await this.drain();
    await Promise.all((await this.openWriters()).map((w) => w.close()));
  }

  private async exists(poolId: string): Promise<boolean> {
    const first = await this.store.readStream(poolStream(poolId), 0n, 1);
    if (E.isRight(first)) return first.right.length > 0;
    if (first.left.kind === 'stream-not-found') return false;
    throw new Error(describeStoreError(first.left));
  }

  private open(poolId: string): Promise<PoolWriter> {
    let writer = this.writers.get(poolId);
    if (writer === undefined) {
      const opening = PoolWriter.open(this.store, poolId, this.options);
      // A pool that failed to load is tried again on the next command.
      opening.catch(() => {
        if (this.writers.get(poolId) === opening) this.writers.delete(poolId);
      });
      this.writers.set(poolId, opening);
      writer = opening;
    }
    return writer;
  }

  private async submitToAbsentPool(poolId: string, submission: Submission): Promise<Outcome> {
    // Created in the meantime: its writer decides.
    const kept = this.writers.get(poolId);
    if (kept !== undefined) return (await kept).submit(submission);
    const { command, actor } = submission;
    const decision = decide(command, initialState, {
      now: (this.options.clock ?? Date.now)(), actor, ...(this.options.rootGovernors === undefined ? {} : { rootGovernors: this.options.rootGovernors }),
    });
    if (E.isLeft(decision)) return { status: 'rejected', commandId: command.commandId, error: decision.left };
    this.creating.set(poolId, (this.creating.get(poolId) ?? 0) + 1);
    const opening = this.open(poolId);
    let writer: PoolWriter | undefined;
    try {
      writer = await opening;
      return await writer.submit(submission);
    } finally {
      const left = this.creating.get(poolId)! - 1;
      if (left > 0) this.creating.set(poolId, left);
      else {
        this.creating.delete(poolId);
        if (writer?.current.revision === 'no-stream' && this.writers.get(poolId) === opening) this.writers.delete(poolId);
      }
    }
  }
}
