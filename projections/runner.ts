// The projection runner: feeds the pool streams of the log, in order, through the read-model fold
// and stores the documents with the checkpoint. On start it folds the events up to the checkpoint
// without writing (the model must know them; their documents are already stored), and the events
// after it, before it resolves; then it follows the log: by subscription (the default, as for
// EventStoreDB), or by the events the writer offers once they are durable (`offer`), with no
// second read or parse. An offered batch that does not follow the last event folded (a gap, a
// restart, another writer) is replaced by reading the store from there. Documents are built at
// flush, once per changed document, never per event. It folds only verified events: each pool
// event must chain onto the one before it (revision, prevHash, its own hash), and a break stops
// the runner with a ChainBrokenError naming the position. No domain rule lives here.

import * as E from 'fp-ts/lib/Either.js';
import { decodeStoredEvent, type Event } from '../domain/index.js';
import { GENESIS_HASH, verifyChain } from '../services/ledger/chain.js';
import { readAllOf, type EventStore, type StoredEvent, type Subscription } from '../services/ledger/event-store.js';
import type { ReadModelStore } from './read-model-store.js';
import { emptyModel, foldEvent, forgetChanges, takeDocuments, type Document, type ProjectionModel, type ProjectionOptions } from './read-models.js';

export const PROJECTION = 'read-models';
/** The streams the projection reads: the pools'. */
export const POOL_PREFIX = 'pool-';

/** The pool an event belongs to, if it is a pool stream's event. */
export const poolOf = (event: StoredEvent): string | undefined =>
  event.streamId.startsWith(POOL_PREFIX) ? event.streamId.slice(POOL_PREFIX.length) : undefined;

/** The one place the projection decodes stored event data. */
const decodeStored = (stored: StoredEvent): Event => {
  const decoded = decodeStoredEvent(stored.data);
  if (E.isLeft(decoded)) throw new Error(`event at position ${stored.position} does not decode: ${decoded.left.message}`);
  return decoded.right;
};

/** Fold one event of the log into the model (pool events only), marking the documents it changes. */
export const foldStored = (model: ProjectionModel, stored: StoredEvent, options: ProjectionOptions = {}): void => {
  const poolId = poolOf(stored);
  if (poolId === undefined) return;
  foldEvent(model, poolId, stored.position, stored.metadata.timestamp, decodeStored(stored), options);
};

const keyOf = (document: Document): string => `${document.collection}/${document.id}`;

/** Fold events into the model; returns the newest version of every document they changed, each built once. */
export const projectAll = (events: Iterable<StoredEvent>, model: ProjectionModel = emptyModel(), options: ProjectionOptions = {}): Map<string, Document> => {
  for (const stored of events) foldStored(model, stored, options);
  return new Map(takeDocuments(model, options).map((document) => [keyOf(document), document]));
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
  /** Catching up at start: store documents after at most this many events (default 100,000; at the end in any case). */
  readonly catchUpBatchSize?: number;
  /**
   * How the runner follows the log once caught up: 'subscribe' (the default) reads new events
   * from the store; 'offered' takes them from `offer` (the writer's committed events).
   */
  readonly follow?: 'subscribe' | 'offered';
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
  /** Documents built whose write failed: stored with the next flush unless rebuilt by then. */
  private unwritten = new Map<string, Document>();
  /** The last event folded whose documents are not stored yet. */
  private pendingUpTo: bigint | undefined;
  private foldedSinceFlush = 0;
  private stored: bigint | 'start' = 'start';
  private seen: bigint | 'start' = 'start';
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Store reads in place of offered events, and the offered batches behind them, in order. */
  private following: Promise<void> = Promise.resolve();
  /** Whether the runner is caught up and following (offered events are folded at once). */
  private live = false;
  /** Offered work queued behind a store read. */
  private queued = 0;
  /** The newest event offered while not following (read from the store before following). */
  private offeredUpTo: bigint | undefined;

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
    if (checkpoint.right !== 'start') await this.foldUpTo(checkpoint.right);
    this.seen = this.stored;
    await this.readOn(undefined, this.options.catchUpBatchSize ?? 100_000);
    await this.flush();
    // Events offered meanwhile may be past the store's end as it was read.
    while (this.offeredUpTo !== undefined && (this.seen === 'start' || this.seen < this.offeredUpTo)) await this.readOn(this.offeredUpTo, this.options.batchSize ?? 500);
    this.offeredUpTo = undefined;
    this.live = true;
    if (this.options.follow === 'offered') return;
    this.subscription = this.events.subscribeAll({
      after: this.seen,
      onEvent: async (event) => {
        if (!this.isNew(event)) return;
        this.fold(event);
        await this.flushOrSchedule();
      },
      onError: (error) => this.report(error),
    });
  }

  /**
   * Committed events, in log order, once each, after they are durable: folded at once when they
   * follow the last event folded; otherwise the store is read from there up to them.
   */
  offer(events: ReadonlyArray<StoredEvent>): void {
    const last = events[events.length - 1];
    if (last === undefined || this.broken !== undefined) return;
    if (!this.live) {
      // Not following (starting, stopped): the store is read up to here before following.
      if (this.offeredUpTo === undefined || last.position > this.offeredUpTo) this.offeredUpTo = last.position;
      return;
    }
    if (this.queued > 0) this.enqueue(() => this.takeOffered(events, false));
    else this.takeOffered(events, false);
  }

  /** Fold what follows of an offered batch; read the store in place of what does not (once). */
  private takeOffered(events: ReadonlyArray<StoredEvent>, afterRead: boolean): void {
    try {
      for (const [i, event] of events.entries()) {
        if (!this.isNew(event)) continue;
        if (this.seen === 'start' || event.position !== this.seen + 1n) {
          if (afterRead) throw new Error(`offered event at position ${event.position} is not in the log after position ${String(this.seen)}`);
          // A gap, or no event folded yet to follow: the store says what lies between.
          const upTo = events[events.length - 1]!.position;
          const rest = events.slice(i);
          this.enqueue(async () => {
            await this.readOn(upTo, this.options.batchSize ?? 500);
            this.takeOffered(rest, true);
          });
          break;
        }
        this.fold(event);
      }
    } catch (error) {
      this.report(error);
      return;
    }
    void this.flushOrSchedule();
  }

  private enqueue(work: () => void | Promise<void>): void {
    this.queued++;
    this.following = this.following.then(work).catch((error: unknown) => this.report(error)).finally(() => { this.queued--; });
  }

  /** Stop following the log after storing what is pending. */
  async stop(): Promise<void> {
    this.live = false;
    await this.subscription?.stop();
    this.subscription = undefined;
    await this.following;
    await this.flush();
  }

  /** Forget the stored read models and build them again from the first event. */
  async rebuild(): Promise<void> {
    await this.stop();
    const cleared = await this.readModels.clear(PROJECTION);
    if (E.isLeft(cleared)) throw new Error(cleared.left.message);
    this.model = emptyModel();
    this.chain = new ChainCheck();
    this.unwritten = new Map();
    this.pendingUpTo = undefined;
    this.foldedSinceFlush = 0;
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

  private isNew(event: StoredEvent): boolean {
    return this.seen === 'start' || event.position > this.seen;
  }

  private report(error: unknown): void {
    if (error instanceof ChainBrokenError) this.broken = error;
    this.options.onError?.(error instanceof Error ? error : new Error(JSON.stringify(error)));
  }

  /** Fold (verified) the events up to the checkpoint without storing: their documents are stored already. */
  private async foldUpTo(checkpoint: bigint): Promise<void> {
    for (let after: bigint | 'start' = 'start'; ;) {
      // The pools' events only: the others (snapshots, checkpoints) are not even parsed.
      const page = await readAllOf(this.events, POOL_PREFIX, after, 5_000);
      if (E.isLeft(page)) throw new Error(`cannot read the log: ${page.left.kind}`);
      for (const event of page.right.events) {
        if (event.position > checkpoint) {
          forgetChanges(this.model);
          return;
        }
        this.chain.check(event);
        foldStored(this.model, event, this.options);
        this.reportCatchUp(event.position);
      }
      const last = page.right.last;
      if (last === undefined || last >= checkpoint) {
        forgetChanges(this.model);
        return;
      }
      after = last;
      this.reportCatchUp(last);
    }
  }

  /** Read the store after the last event folded and fold what it holds (up to `upTo`, else to its end). */
  private async readOn(upTo: bigint | undefined, flushEvery: number): Promise<void> {
    while (upTo === undefined || this.seen === 'start' || this.seen < upTo) {
      // The pools' events only: the others (snapshots, checkpoints) are not even parsed.
      const page = await readAllOf(this.events, POOL_PREFIX, this.seen, 5_000);
      if (E.isLeft(page)) throw new Error(`cannot read the log: ${page.left.kind}`);
      const last = page.right.last;
      if (last === undefined) return;
      for (const event of page.right.events) if (this.isNew(event)) this.fold(event);
      this.passOver(last);
      if (this.foldedSinceFlush >= flushEvery) await this.flush();
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

  /** Events up to `position` of other streams than the pools' were read past: seen, as if folded (they change nothing). */
  private passOver(position: bigint): void {
    if (this.seen !== 'start' && position <= this.seen) return;
    this.seen = position;
    this.pendingUpTo = position;
    this.reportCatchUp(position);
  }

  /** Verify and fold one event; its documents are built at the next flush. */
  private fold(stored: StoredEvent): void {
    this.chain.check(stored);
    foldStored(this.model, stored, this.options);
    this.seen = stored.position;
    this.pendingUpTo = stored.position;
    this.foldedSinceFlush++;
    this.reportCatchUp(stored.position);
  }

  private flushOrSchedule(): Promise<void> {
    if (this.foldedSinceFlush >= (this.options.batchSize ?? 500)) return this.flush();
    this.scheduleFlush();
    return Promise.resolve();
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
      // Built now, from the state after the last event folded: each changed document once.
      for (const document of takeDocuments(this.model, this.options)) this.unwritten.set(keyOf(document), document);
      const upTo = this.pendingUpTo;
      const documents = [...this.unwritten.values()];
      this.unwritten = new Map();
      this.pendingUpTo = undefined;
      this.foldedSinceFlush = 0;
      const written = await this.readModels.write(PROJECTION, documents, upTo);
      if (E.isLeft(written)) {
        // Kept for the next flush, unless a newer version is built by then.
        for (const document of documents) if (!this.unwritten.has(keyOf(document))) this.unwritten.set(keyOf(document), document);
        this.pendingUpTo ??= upTo;
        this.options.onError?.(new Error(written.left.message));
        return;
      }
      this.stored = upTo;
    });
    return this.flushing;
  }
}
