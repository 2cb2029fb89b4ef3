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
import { decodeStoredForReplay, type ReplayEvent } from '../domain/index.js';
import { StreamChains, verifyChainsTo, type ChainsAt, type StreamHead } from '../services/ledger/chain.js';
import type { CheckpointSigner } from '../services/ledger/checkpoints.js';
import { readAllOf, type EventStore, type StoreError, type StoredEvent, type StoredLink, type Subscription } from '../services/ledger/event-store.js';
import {
  claimedPosition, decodeFoldState, encodeFoldState, markAllStored, noteStored, openFoldCheckpoint, readFoldCheckpointFile, sealFoldCheckpoint, writeFoldCheckpointFile,
  type ChainHeadAt, type StoredIndex,
} from './fold-checkpoint.js';
import type { ReadModelStore } from './read-model-store.js';
import { changedDocuments, emptyModel, foldEvent, forgetChanges, takeDocuments, type Document, type ProjectionModel, type ProjectionOptions } from './read-models.js';

export const PROJECTION = 'read-models';
/** The streams the projection reads: the pools'. */
export const POOL_PREFIX = 'pool-';

/** The pool an event belongs to, if it is a pool stream's event. */
export const poolOf = (event: Pick<StoredEvent, 'streamId'>): string | undefined =>
  event.streamId.startsWith(POOL_PREFIX) ? event.streamId.slice(POOL_PREFIX.length) : undefined;

/** The one place the projection decodes stored event data (a stored trade stays compact: the fold posts from its flows). */
const decodeStored = (stored: StoredEvent): ReplayEvent => {
  const decoded = decodeStoredForReplay(stored.data);
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

/** Where each pool's chain stands: the next revision, the hash it must chain onto, and the log's identity. */
export class ChainCheck {
  private constructor(private readonly chains: StreamChains) {}

  static empty(): ChainCheck {
    return new ChainCheck(new StreamChains(POOL_PREFIX));
  }

  /** A check that goes on from verified heads (a read-model checkpoint the log vouches for). */
  static from(heads: ReadonlyArray<ChainHeadAt>): ChainCheck {
    return new ChainCheck(new StreamChains(POOL_PREFIX, heads.map((h) => ({ streamId: `${POOL_PREFIX}${h.poolId}`, logId: h.logId, revision: h.revision, hash: h.hash }))));
  }

  /** Check one event of the log (pool events only), by hashing its stored text; throws ChainBrokenError. */
  check(stored: StoredLink): void {
    const broken = this.chains.check(stored);
    if (broken !== undefined) throw new ChainBrokenError(poolOf(stored)!, stored.position, stored.revision, broken);
  }

  /** The pools seen so far. */
  pools(): string[] {
    return this.chains.streams().map((streamId) => streamId.slice(POOL_PREFIX.length));
  }

  /** Each pool's last event checked: its revision and hash, and the log's identity. */
  headsAt(): ChainHeadAt[] {
    return poolHeads(this.chains.headsAt());
  }
}

/** Pool streams' heads as pools' heads, by pool id. */
const poolHeads = (heads: ReadonlyArray<StreamHead>): ChainHeadAt[] =>
  heads.map((h) => ({ poolId: h.streamId.slice(POOL_PREFIX.length), logId: h.logId, revision: h.revision, hash: h.hash })).sort((a, b) => (a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : 0));

/** Keeping the fold state in a read-model checkpoint (projections/fold-checkpoint.ts). */
export interface FoldCheckpointOptions {
  /** The checkpoint file. */
  readonly path: string;
  /** The service's key: signs the checkpoints written; only checkpoints it signed are used. */
  readonly signer: CheckpointSigner;
  /** Write one after at most this many events folded since the last (default 100,000), and on stop. */
  readonly every?: number;
  /** Told why a checkpoint was set aside or not written. */
  readonly onWarning?: (message: string) => void;
  /** Told of each checkpoint used at start or written: its position, and how long it took (ms). */
  readonly onCheckpoint?: (what: {
    readonly kind: 'used' | 'written'; readonly position: bigint; readonly ms: number; readonly bytes: number;
    /** Used: ms spent reading and checking the file (hash, signature), decoding it, verifying the log's chain up to it, building the documents. */
    readonly phases?: { readonly open: number; readonly decode: number; readonly verify: number; readonly documents: number };
  }) => void;
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
  /**
   * Keep the fold state in a signed read-model checkpoint, and start from it when the log vouches
   * for it (only with a read-model store that starts empty: the documents are built from it).
   */
  readonly checkpoint?: FoldCheckpointOptions;
}

export class ProjectionRunner {
  private model: ProjectionModel = emptyModel();
  private chain = ChainCheck.empty();
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
  /**
   * Where each stored document stands (for read-model checkpoints); undefined when not known
   * (the store held documents at start, so the runner has not built them all).
   */
  private storedIndex: StoredIndex | undefined;
  /** Events folded since the last read-model checkpoint written or used. */
  private foldedSinceCheckpoint = 0;
  private checkpointing: Promise<void> = Promise.resolve();

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
    this.storedIndex = checkpoint.right === 'start' ? new Map() : undefined;
    this.foldedSinceCheckpoint = 0;
    // An empty store: start from the read-model checkpoint if the log vouches for it.
    if (checkpoint.right === 'start' && this.options.checkpoint !== undefined) await this.startFromCheckpoint(this.options.checkpoint);
    if (this.options.logHead !== undefined && this.options.onCatchUp !== undefined) {
      const upTo = await this.options.logHead();
      if (upTo > (this.stored === 'start' ? 0n : this.stored)) this.catchUp = { upTo, lastReport: Date.now() };
    }
    if (checkpoint.right !== 'start') await this.foldUpTo(checkpoint.right);
    this.seen = this.stored;
    await this.readOn(undefined, this.options.catchUpBatchSize ?? 100_000);
    await this.flush();
    // A long catch-up is kept for the next start (once the service is up, not before).
    if (this.checkpointDue()) setImmediate(() => void this.writeCheckpoint());
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
    if (this.options.checkpoint !== undefined && this.foldedSinceCheckpoint > 0) await this.writeCheckpoint();
    await this.checkpointing;
  }

  /** Forget the stored read models and build them again from the first event. */
  async rebuild(): Promise<void> {
    await this.stop();
    const cleared = await this.readModels.clear(PROJECTION);
    if (E.isLeft(cleared)) throw new Error(cleared.left.message);
    this.model = emptyModel();
    this.chain = ChainCheck.empty();
    this.unwritten = new Map();
    this.pendingUpTo = undefined;
    this.foldedSinceFlush = 0;
    this.stored = 'start';
    this.seen = 'start';
    this.storedIndex = undefined;
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
    this.foldedSinceCheckpoint++;
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
      if (this.storedIndex !== undefined) noteStored(this.storedIndex, this.model);
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
      if (this.live && this.checkpointDue()) void this.writeCheckpoint();
    });
    return this.flushing;
  }

  private checkpointDue(): boolean {
    const every = this.options.checkpoint?.every ?? 100_000;
    return this.options.checkpoint !== undefined && this.storedIndex !== undefined && this.foldedSinceCheckpoint >= every;
  }

  /**
   * Keep the fold state as it is now in a read-model checkpoint, if everything folded is stored
   * (otherwise the next flush tries again). Never throws: a checkpoint only saves time.
   */
  private writeCheckpoint(): Promise<void> {
    const options = this.options.checkpoint;
    const index = this.storedIndex;
    if (options === undefined || index === undefined || this.seen === 'start' || this.stored !== this.seen || changedDocuments(this.model) > 0 || this.broken !== undefined) return this.checkpointing;
    const started = Date.now();
    const position = this.seen;
    let text: string;
    try {
      // Sealed now, synchronously: the model must not move while it is encoded.
      text = sealFoldCheckpoint(options.signer, position, this.chain.headsAt(), encodeFoldState(this.model, index));
    } catch (error) {
      options.onWarning?.(`read-model checkpoint at position ${position} not written: ${(error as Error).message}`);
      return this.checkpointing;
    }
    this.foldedSinceCheckpoint = 0;
    this.checkpointing = this.checkpointing.then(async () => {
      try {
        await writeFoldCheckpointFile(options.path, text);
        options.onCheckpoint?.({ kind: 'written', position, ms: Date.now() - started, bytes: text.length });
      } catch (error) {
        options.onWarning?.(`read-model checkpoint at position ${position} not written: ${(error as Error).message}`);
      }
    });
    return this.checkpointing;
  }

  /**
   * Start from the read-model checkpoint, if there is one and the log vouches for it: the chain
   * verified from the first event to its position (hashing the stored text, nothing parsed) ends
   * at exactly the heads it records. Otherwise (a warning) the whole log is folded. Where the
   * store verifies on another thread, that starts at once, at the position the header names,
   * while this thread checks the signature and decodes; nothing is used before both are done.
   */
  private async startFromCheckpoint(options: FoldCheckpointOptions): Promise<void> {
    const started = Date.now();
    const read = readFoldCheckpointFile(options.path);
    const refuse = (why: string) => options.onWarning?.(`read-model checkpoint ${options.path} set aside, folding the whole log: ${why}`);
    if (E.isLeft(read)) return refuse(read.left);
    if (read.right === undefined) return;
    const early = new AbortController();
    const claimed = this.events.verifyChainsElsewhere === undefined ? undefined : claimedPosition(read.right);
    const verifying = claimed === undefined ? undefined : { position: claimed, chains: this.events.verifyChainsElsewhere!(POOL_PREFIX, claimed, early.signal) };
    try {
      const opened = openFoldCheckpoint(read.right, options.signer.publicKey);
      if (E.isLeft(opened)) return refuse(opened.left);
      const { header, content } = opened.right;
      const opening = Date.now();
      const decoded = decodeFoldState(content);
      if (E.isLeft(decoded)) return refuse(decoded.left);
      const decoding = Date.now();
      // The header read before the signature was checked named this position (the same bytes); else verified again here.
      const verified = chainCheckOf(await (verifying?.position === header.position ? verifying.chains : this.verifyLogTo(header.position)));
      const verifyingDone = Date.now();
      if (E.isLeft(verified)) return refuse(verified.left);
      const heads = verified.right.headsAt();
      const recorded = header.pools.map((p) => `${p.poolId} ${p.logId} ${p.revision} ${p.hash}`).sort().join(', ');
      const found = heads.map((p) => `${p.poolId} ${p.logId} ${p.revision} ${p.hash}`).sort().join(', ');
      if (recorded !== found) return refuse(`at position ${header.position} the log's chains stand at [${found}], the checkpoint records [${recorded}]`);
      const { model, index } = decoded.right;
      if ([...model.pools.keys()].some((poolId) => !heads.some((h) => h.poolId === poolId))) return refuse('it holds a pool the log does not have');
      // Trusted: the documents as stored are built again from it, and the fold goes on after it.
      markAllStored(index, model);
      const documents = takeDocuments(model, this.options);
      const written = await this.readModels.write(PROJECTION, documents, header.position);
      if (E.isLeft(written)) throw new Error(written.left.message);
      this.model = model;
      this.chain = verified.right;
      this.storedIndex = index;
      this.stored = header.position;
      const now = Date.now();
      options.onCheckpoint?.({
        kind: 'used', position: header.position, ms: now - started, bytes: read.right.length,
        phases: { open: opening - started, decode: decoding - opening, verify: verifyingDone - decoding, documents: now - verifyingDone },
      });
    } finally {
      // Set aside, or done: a verification still running is not wanted.
      early.abort();
    }
  }

  /**
   * Verify every pool's chain from its first event up to `position` (which must be in the log) by
   * hashing the stored text as read, on this thread.
   */
  private verifyLogTo(position: bigint): Promise<E.Either<StoreError, ChainsAt>> {
    // Only pool events are checked: the others (snapshots, checkpoints) are read for their place only.
    return verifyChainsTo((after, max) => (this.events.readLinks === undefined ? this.events.readAll(after, max) : this.events.readLinks(after, max, POOL_PREFIX)), POOL_PREFIX, position);
  }
}

/** What the verification found, as the check the fold goes on with; a break throws ChainBrokenError, as folding would. */
const chainCheckOf = (found: E.Either<StoreError, ChainsAt>): E.Either<string, ChainCheck> => {
  if (E.isLeft(found)) throw new Error(`cannot read the log: ${found.left.kind}${found.left.kind === 'unavailable' ? ` (${found.left.message})` : ''}`);
  const chains = found.right;
  switch (chains.kind) {
    case 'verified': return E.right(ChainCheck.from(poolHeads(chains.heads)));
    case 'broken': throw new ChainBrokenError(chains.streamId.slice(POOL_PREFIX.length), chains.position, chains.revision, chains.reason);
    case 'missing': return E.left(chains.reason);
  }
};
