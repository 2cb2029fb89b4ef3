// The projection runner: feeds the pool streams of the log, in order, through projectEvent and
// stores the documents with the checkpoint. On start it folds the events up to the checkpoint
// without writing (the model must know them; their documents are already stored), and the events
// after it, before it resolves; then it follows the log live. It folds only verified events: each
// pool event must chain onto the one before it (revision, prevHash, its own hash), and a break
// stops the runner with a ChainBrokenError naming the position. No domain rule lives here.

import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent } from '../domain/index.js';
import { GENESIS_HASH, verifyChain } from '../services/ledger/chain.js';
import type { EventStore, StoredEvent, Subscription } from '../services/ledger/event-store.js';
import type { ReadModelStore } from './read-model-store.js';
import { emptyModel, projectEvent, type Document, type ProjectionModel, type ProjectionOptions } from './read-models.js';

export const PROJECTION = 'read-models';
const POOL_PREFIX = 'pool-';

/** The pool an event belongs to, if it is a pool stream's event. */
export const poolOf = (event: StoredEvent): string | undefined =>
  event.streamId.startsWith(POOL_PREFIX) ? event.streamId.slice(POOL_PREFIX.length) : undefined;

/** Fold events into the model; returns the newest version of every document they changed. */
export const projectAll = (events: Iterable<StoredEvent>, model: ProjectionModel = emptyModel(), options: ProjectionOptions = {}): Map<string, Document> => {
  const documents = new Map<string, Document>();
  for (const stored of events) {
    const poolId = poolOf(stored);
    if (poolId === undefined) continue;
    const decoded = decodeEvent(stored.data);
    if (E.isLeft(decoded)) throw new Error(`event at position ${stored.position} does not decode: ${decoded.left.message}`);
    for (const document of projectEvent(model, poolId, stored.position, stored.metadata.timestamp, decoded.right, options)) {
      documents.set(`${document.collection}/${document.id}`, document);
    }
  }
  return documents;
};

/** A pool's events do not chain: the runner stops, and so must whatever serves its read models. */
export class ChainBrokenError extends Error {
  constructor(readonly poolId: string, readonly position: bigint, readonly revision: bigint, reason: string) {
    super(`hash chain of pool ${poolId} broken at position ${position} (revision ${revision}): ${reason}`);
  }
}

/** Where each pool's chain stands: the next revision and the hash it must chain onto. */
export class ChainCheck {
  private readonly heads = new Map<string, { readonly next: bigint; readonly hash: string }>();

  /** Check one event of the log (pool events only); throws ChainBrokenError. */
  check(stored: StoredEvent): void {
    const poolId = poolOf(stored);
    if (poolId === undefined) return;
    const head = this.heads.get(poolId) ?? { next: 0n, hash: GENESIS_HASH };
    if (stored.revision !== head.next) throw new ChainBrokenError(poolId, stored.position, stored.revision, `expected revision ${head.next} (an event is missing)`);
    const chain = verifyChain([stored], head.hash);
    if (!chain.ok) throw new ChainBrokenError(poolId, chain.position, chain.revision, chain.reason);
    this.heads.set(poolId, { next: head.next + 1n, hash: chain.lastHash });
  }

  /** The pools seen so far. */
  pools(): string[] {
    return [...this.heads.keys()];
  }
}

export interface RunnerOptions extends ProjectionOptions {
  /** Store documents after at most this many events (and whenever the log goes quiet). */
  readonly batchSize?: number;
  readonly onError?: (error: Error) => void;
  /**
   * Catching up at start: called as events are folded (at most every `progressEveryMs`), and once
   * when the log's head (`upTo`, found at start) is reached.
   */
  readonly onCatchUp?: (progress: { readonly folded: bigint; readonly upTo: bigint; readonly done: boolean }) => void;
  /** The head of the log at start, for catch-up progress (omitted: none reported). */
  readonly logHead?: () => Promise<bigint>;
  readonly progressEveryMs?: number;
}

export class ProjectionRunner {
  private model: ProjectionModel = emptyModel();
  private chain = new ChainCheck();
  private broken: ChainBrokenError | undefined;
  private subscription: Subscription | undefined;
  private pending = new Map<string, Document>();
  private pendingUpTo: bigint | undefined;
  private stored: bigint | 'start' = 'start';
  private seen: bigint | 'start' = 'start';
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly events: EventStore, private readonly readModels: ReadModelStore, private readonly options: RunnerOptions = {}) {}

  private catchUp: { readonly upTo: bigint; lastReport: number } | undefined;

  /** The domain state of a pool as the projection has it (for derived, mark-dependent views). */
  poolState(poolId: string) {
    return this.model.pools.get(poolId)?.state;
  }

  /** What the projection carries for a pool beyond its state (histories, running totals). */
  poolAggregates(poolId: string) {
    return this.model.pools.get(poolId)?.aggregates;
  }

  /** The pools the projection has seen, by id. */
  poolIds(): string[] {
    return [...this.model.pools.keys()].sort();
  }

  /** How far the stored read models are behind the last event seen: positions, and the checkpoint. */
  lag(): { readonly seen: bigint | 'start'; readonly stored: bigint | 'start'; readonly behind: bigint } {
    const seen = this.seen === 'start' ? 0n : this.seen;
    const stored = this.stored === 'start' ? 0n : this.stored;
    return { seen: this.seen, stored: this.stored, behind: seen - stored };
  }

  /** The pools whose events the runner has verified and folded. */
  pools(): string[] {
    return this.chain.pools();
  }

  /** The chain break that stopped the runner, if one did. */
  get chainBroken(): ChainBrokenError | undefined {
    return this.broken;
  }

  /**
   * Verify and fold the whole log as it is now (the stored read models brought up to date), then
   * follow it. Rejects with a ChainBrokenError if a pool's chain is broken.
   */
  async start(): Promise<void> {
    const checkpoint = await this.readModels.checkpoint(PROJECTION);
    if (E.isLeft(checkpoint)) throw new Error(checkpoint.left.message);
    this.stored = checkpoint.right;
    if (this.options.logHead !== undefined && this.options.onCatchUp !== undefined) {
      const upTo = await this.options.logHead();
      if (upTo > (checkpoint.right === 'start' ? 0n : checkpoint.right)) this.catchUp = { upTo, lastReport: Date.now() };
    }
    let after = checkpoint.right === 'start' ? 'start' as const : await this.foldUpTo(checkpoint.right);
    this.seen = this.stored;
    for (;;) {
      const page = await this.events.readAll(after, 5_000);
      if (E.isLeft(page)) throw new Error(`cannot read the log: ${page.left.kind}`);
      for (const event of page.right) await this.handle(event);
      if (page.right.length === 0) break;
      after = page.right[page.right.length - 1]!.position;
    }
    await this.flush();
    this.subscription = this.events.subscribeAll({
      after,
      onEvent: async (event) => this.handle(event),
      onError: (error) => {
        if (error instanceof ChainBrokenError) this.broken = error;
        this.options.onError?.(error instanceof Error ? error : new Error(JSON.stringify(error)));
      },
    });
  }

  /** Stop following the log after storing what is pending. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
    await this.flush();
  }

  /** Forget the stored read models and build them again from the first event. */
  async rebuild(): Promise<void> {
    await this.stop();
    const cleared = await this.readModels.clear(PROJECTION);
    if (E.isLeft(cleared)) throw new Error(cleared.left.message);
    this.model = emptyModel();
    this.chain = new ChainCheck();
    this.stored = 'start';
    await this.start();
  }

  /** Resolves once every event up to `position` is stored. */
  async caughtUp(position: bigint, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.stored === 'start' || this.stored < position) {
      if (Date.now() > deadline) throw new Error(`projection did not reach position ${position} in ${timeoutMs} ms (stored: ${String(this.stored)})`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Fold (verified) the events up to the checkpoint without storing; returns the last position folded. */
  private async foldUpTo(checkpoint: bigint): Promise<bigint | 'start'> {
    for (let after: bigint | 'start' = 'start'; ;) {
      const page = await this.events.readAll(after, 5_000);
      if (E.isLeft(page)) throw new Error(`cannot read the log: ${page.left.kind}`);
      const upTo = page.right.filter((e) => e.position <= checkpoint);
      for (const event of upTo) this.chain.check(event);
      projectAll(upTo, this.model, this.options);
      if (upTo.length > 0) {
        after = upTo[upTo.length - 1]!.position;
        this.reportCatchUp(after);
      }
      if (upTo.length < page.right.length || page.right.length === 0) return after;
    }
  }

  private reportCatchUp(folded: bigint): void {
    const catchUp = this.catchUp;
    if (catchUp === undefined) return;
    const done = folded >= catchUp.upTo;
    const now = Date.now();
    if (!done && now - catchUp.lastReport < (this.options.progressEveryMs ?? 1_000)) return;
    catchUp.lastReport = now;
    if (done) this.catchUp = undefined;
    this.options.onCatchUp?.({ folded, upTo: catchUp.upTo, done });
  }

  private async handle(stored: StoredEvent): Promise<void> {
    this.chain.check(stored);
    this.seen = stored.position;
    this.reportCatchUp(stored.position);
    for (const [key, document] of projectAll([stored], this.model, this.options)) this.pending.set(key, document);
    this.pendingUpTo = stored.position;
    if (this.pending.size >= (this.options.batchSize ?? 500)) await this.flush();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, 2);
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pendingUpTo === undefined) return;
      const documents = [...this.pending.values()];
      const upTo = this.pendingUpTo;
      this.pending = new Map();
      this.pendingUpTo = undefined;
      const written = await this.readModels.write(PROJECTION, documents, upTo);
      if (E.isLeft(written)) {
        // Keep them for the next flush, unless a newer version arrived meanwhile.
        for (const document of documents) {
          const key = `${document.collection}/${document.id}`;
          if (!this.pending.has(key)) this.pending.set(key, document);
        }
        this.pendingUpTo ??= upTo;
        this.options.onError?.(new Error(written.left.message));
        return;
      }
      this.stored = upTo;
    });
    return this.flushing;
  }
}
