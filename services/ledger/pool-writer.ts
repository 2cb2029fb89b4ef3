// The command side of one pool: the single writer of stream `pool-<poolId>` (docs/design.md section 3).
//
// - State lives in memory, loaded from the newest snapshot the log vouches for plus the tail of
//   the stream (the hash chain is checked and every event decoded while loading). A snapshot is
//   used only if its content hash matches, the chain from the last verified point (the newest
//   signed checkpoint before it, or the first event) verifies and ends at the hash it records,
//   and, when the writer has a key, it is signed by that key. Otherwise it is set aside (a
//   warning) and the state is replayed from the first event. A snapshot that does not decode
//   stops the load. The newest signed checkpoint must be in the log (same hash at its revision),
//   or the load stops: events were removed or rewritten behind it.
// - Commands queue up and are decided one after another; their events are appended in batches
//   (group commit) with the exact expected revision, and each caller learns its outcome only
//   after the append that holds its events is durable. A rejected command never blocks others.
// - A revision conflict (another writer) means reload and re-decide, a bounded number of times.
// - A command id always gets the same answer. Every event carries its command's fingerprint, and
//   a command `decide` refuses is recorded too (one CommandRejected event, in the same batch), so
//   a repeat with the same fingerprint gets the original outcome (accepted with its events, or
//   rejected with its error) and appends nothing: from the index of handled commands (kept by the
//   store, written with the events; the writer holds only a bounded cache of recent ids) or from
//   the same batch (two copies at once). The same
//   id with another fingerprint is refused with COMMAND_ID_REUSED, and that is not recorded.
//   A refusal while the pool's stream does not exist is not recorded either: appending it would
//   create the stream of a pool that does not exist (so that id is not remembered).
// - Every `snapshotEvery` events the state is written to stream `snapshot-pool-<poolId>`, with
//   the chain hash at its revision, a hash of its content, a signature, and only the most recent
//   handled commands (so snapshot storage grows linearly with history).
// - With a key, every `checkpointEvery` events or `checkpointIntervalMs` (whichever first) a signed
//   checkpoint of the chain head is kept in stream `checkpoint-pool-<poolId>` and handed to
//   `onCheckpoint` (publication).
// No domain rule lives here: `decide` and `evolve` make every decision.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  canonicalState, commandFingerprint, commandIdReused, commandRejected, compactTradeText, decodeStoredEvent, decodeWith, encodeEvent, Id, initialState,
  recordedError, Sha256Hex, stateFromCanonical,
  type Command, type DomainError, type Event, type Governors, type PoolState,
} from '../../domain/index.js';
import type { Outcome } from '../outcome.js';
import { decideOnBook } from '../../domain/book/decide-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { canonicalJson } from '../../domain/governance.js';
import { GENESIS_HASH, sealed, sealedText, verifyChain } from './chain.js';
import {
  CHECKPOINT_TYPE, CheckpointCodec, checkpointSignedBy, checkpointStream, encodeCheckpoint, sha256Hex, snapshotPayload, type Checkpoint, type CheckpointSigner,
} from './checkpoints.js';
import { signatureVerifies } from '../../domain/index.js';
import { describeStoreError, type CommandRecord, type EventStore, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent } from './event-store.js';

export const poolStream = (poolId: string): string => `pool-${poolId}`;
export const snapshotStream = (poolId: string): string => `snapshot-pool-${poolId}`;

export interface WriterOptions {
  /** Most commands decided into one append. */
  readonly batchSize?: number;
  /** How long a command may wait for others to share its append, in ms (0: next tick). */
  readonly maxLatencyMs?: number;
  /** Write a snapshot every this many events (0: never). */
  readonly snapshotEvery?: number;
  /** Reloads and re-decisions after a revision conflict before giving up. */
  readonly maxConflictRetries?: number;
  /** The time commands are decided at (ms since the epoch). */
  readonly clock?: () => number;
  /** Told after every durable append: how many events, in how long (for metrics). */
  readonly onAppend?: (events: number, seconds: number) => void;
  /** The deployment's root governors, who alone may create a pool (none: CreatePool is refused). */
  readonly rootGovernors?: Governors;
  /** The service's key: signs checkpoints and snapshots, and only snapshots it signed are used. */
  readonly signer?: CheckpointSigner;
  /** Sign a checkpoint after this many events (default 1000)... */
  readonly checkpointEvery?: number;
  /** ...or once this many ms have passed since the last one with events since (default 60000). */
  readonly checkpointIntervalMs?: number;
  /** Told of every checkpoint once it is kept (to publish it). */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => void;
  /** Told of what is set aside while loading (a snapshot the log does not vouch for). */
  readonly onWarning?: (message: string) => void;
  /** Most handled command ids held in memory (the rest are looked up in the store). */
  readonly recentCommands?: number;
  /** Most recent handled commands a snapshot carries (to warm the cache after a restart). */
  readonly snapshotCommands?: number;
}

export interface Submission {
  readonly command: Command;
  readonly actor: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/**
 * Where a handled command's events are in the stream (for a refused one, its CommandRejected
 * event), and its fingerprint (undefined for commands recorded before fingerprints were).
 */
type Handled = CommandRecord;

interface Pending {
  readonly submission: Submission;
  readonly resolve: (outcome: Outcome) => void;
}

export class LoadError extends Error {}

// ---------------------------------------------------------------------------------------------
// Snapshots

const RevisionString = new t.Type<bigint, string, unknown>(
  'Revision',
  (u): u is bigint => typeof u === 'bigint',
  (u, c) => (typeof u === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(u) ? t.success(BigInt(u)) : t.failure(u, c, 'expected a revision (a non-negative integer string)')),
  (a) => a.toString(),
);

// One handled command: [commandId, first revision, event count, fingerprint]. Entries of commands
// recorded before fingerprints were have no fourth element (exactly three: a malformed fingerprint
// is an error, not a missing one).
type HandledTuple = readonly [string, bigint, number, string | undefined];
const WithFingerprint = t.tuple([Id, RevisionString, t.number, Sha256Hex]);
const WithoutFingerprint = t.tuple([Id, RevisionString, t.number]);
const HandledEntry = new t.Type<HandledTuple, unknown, unknown>(
  'HandledEntry',
  (u): u is HandledTuple => Array.isArray(u) && u.length === 4 && (u[3] === undefined || Sha256Hex.is(u[3])) && WithoutFingerprint.is(u.slice(0, 3)),
  (u, c) => {
    if (Array.isArray(u) && u.length === 4) return WithFingerprint.validate(u, c);
    if (Array.isArray(u) && u.length === 3) return E.map(([id, revision, count]: [string, bigint, number]): HandledTuple => [id, revision, count, undefined])(WithoutFingerprint.validate(u, c));
    return t.failure(u, c, 'expected [commandId, revision, count, fingerprint]');
  },
  ([id, revision, count, fingerprint]) => (fingerprint === undefined ? WithoutFingerprint.encode([id, revision, count]) : WithFingerprint.encode([id, revision, count, fingerprint])),
);

const SnapshotData = t.intersection([
  t.type({
    revision: RevisionString,
    lastHash: t.string,
    state: t.unknown,
    /** The most recent handled commands (a warm cache; the store keeps the whole index). */
    handled: t.array(HandledEntry),
  }),
  t.partial({ logId: t.string, contentHash: t.string, publicKey: t.string, signature: t.string }),
], 'PoolSnapshot');

/** The hash of a snapshot's content as stored (what its signature covers, with its place in the chain). */
export const snapshotContentHash = (data: { readonly revision: unknown; readonly lastHash: unknown; readonly state: unknown; readonly handled: unknown }): string =>
  sha256Hex(canonicalJson({ revision: data.revision, lastHash: data.lastHash, state: data.state, handled: data.handled }));

export const SNAPSHOT_TYPE = 'PoolSnapshot';

// ---------------------------------------------------------------------------------------------

export class PoolWriter {
  /**
   * The committed state, as the pool book: hot commands are decided on an overlay of it and their
   * changes land in it only after the append that holds their events is durable.
   */
  private book: PoolBook = PoolBook.of(initialState);
  private revision: ExpectedRevision = 'no-stream';
  private lastHash = GENESIS_HASH;
  /** Recent handled commands, oldest first (bounded; the store has them all). */
  private readonly handled = new Map<string, Handled>();
  private snapshotRevision: ExpectedRevision = 'no-stream';
  /** The hash of the pool's first event: the log's identity (undefined before it exists). */
  private logId: string | undefined;
  private checkpointRevision: ExpectedRevision = 'no-stream';
  private lastCheckpoint: Checkpoint | undefined;
  /** Every trusted checkpoint, by revision (verification starts at the newest before the point it checks). */
  private readonly trusted: Checkpoint[] = [];
  private eventsSinceCheckpoint = 0;
  private lastCheckpointAt = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private eventsSinceSnapshot = 0;
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly maxLatencyMs: number;
  private readonly snapshotEvery: number;
  private readonly maxConflictRetries: number;
  private readonly clock: () => number;
  private readonly onAppend: ((events: number, seconds: number) => void) | undefined;
  private readonly rootGovernors: Governors | undefined;
  private readonly signer: CheckpointSigner | undefined;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly onCheckpoint: ((checkpoint: Checkpoint) => void) | undefined;
  private readonly onWarning: (message: string) => void;
  private readonly recentCommands: number;
  private readonly snapshotCommands: number;

  private constructor(readonly store: EventStore, readonly poolId: string, options: WriterOptions) {
    this.batchSize = options.batchSize ?? 256;
    this.maxLatencyMs = options.maxLatencyMs ?? 1;
    this.snapshotEvery = options.snapshotEvery ?? 10_000;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.clock = options.clock ?? Date.now;
    this.onAppend = options.onAppend;
    this.rootGovernors = options.rootGovernors;
    this.signer = options.signer;
    this.checkpointEvery = options.checkpointEvery ?? 1_000;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 60_000;
    this.onCheckpoint = options.onCheckpoint;
    this.onWarning = options.onWarning ?? (() => undefined);
    this.recentCommands = Math.max(1, options.recentCommands ?? 10_000);
    this.snapshotCommands = Math.max(0, options.snapshotCommands ?? 1_000);
  }

  /**
   * A writer with the pool's state loaded from the newest snapshot the log vouches for and the
   * tail of the stream, the chain verified from the last verified point to the head.
   */
  static async open(store: EventStore, poolId: string, options: WriterOptions = {}): Promise<PoolWriter> {
    const writer = new PoolWriter(store, poolId, options);
    await writer.loadCheckpoints();
    await writer.loadSnapshot();
    await writer.catchUp();
    await writer.checkNewestCheckpoint();
    return writer;
  }

  /** The committed state as a persistent pool value (what queries, snapshots and stress read). */
  private get state(): PoolState {
    return this.book.toPool();
  }

  get current(): { readonly state: PoolState; readonly revision: ExpectedRevision; readonly lastHash: string; readonly logId: string | undefined } {
    return { state: this.state, revision: this.revision, lastHash: this.lastHash, logId: this.logId };
  }

  /** The newest signed checkpoint kept (undefined before the first). */
  get newestCheckpoint(): Checkpoint | undefined {
    return this.lastCheckpoint;
  }

  /** Stop the checkpoint timer (after `drain`). */
  async close(): Promise<void> {
    if (this.checkpointTimer !== undefined) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    await this.checkpointing;
  }

  /** Decide the command in turn; resolves once its events are durable (or it was refused). */
  submit(submission: Submission): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      this.queue.push({ submission, resolve });
      if (this.queue.length >= this.batchSize) this.startDraining();
      else if (this.timer === undefined && this.draining === undefined) this.timer = setTimeout(() => this.startDraining(), this.maxLatencyMs);
    });
  }

  /** Finish what is queued and in flight. */
  async drain(): Promise<void> {
    if (this.queue.length > 0) this.startDraining();
    while (this.draining !== undefined) await this.draining;
  }

  private startDraining(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.draining !== undefined) return;
    this.draining = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchSize);
        await this.processBatch(batch);
      }
      this.draining = undefined;
    })();
  }

  private async processBatch(batch: ReadonlyArray<Pending>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const unknown = [...new Set(batch.map((p) => p.submission.command.commandId).filter((id) => !this.handled.has(id)))];
      const found = unknown.length === 0 || this.revision === 'no-stream' ? E.right(new Map<string, Handled>()) : await this.store.findCommands(poolStream(this.poolId), unknown);
      if (E.isLeft(found)) {
        for (const pending of batch) pending.resolve({ status: 'failed', commandId: pending.submission.command.commandId, error: { code: 'STORE_UNAVAILABLE', message: describeStoreError(found.left) } });
        return;
      }
      const decided = this.decideBatch(batch, found.right);
      if (decided.events.length === 0) {
        await this.resolveAll(batch, decided.results);
        return;
      }
      const started = process.hrtime.bigint();
      const appended = await this.store.append(poolStream(this.poolId), this.revision, decided.events);
      if (E.isRight(appended)) {
        this.onAppend?.(decided.events.length, Number(process.hrtime.bigint() - started) / 1e9);
        this.book = decided.book.commit();
        if (this.revision === 'no-stream') this.logId = decided.events[0]!.hash;
        this.revision = appended.right.revision;
        this.lastHash = decided.lastHash;
        for (const [commandId, where] of decided.handled) this.remember(commandId, where);
        this.eventsSinceSnapshot += decided.events.length;
        this.eventsSinceCheckpoint += decided.events.length;
        await this.resolveAll(batch, decided.results);
        if (this.snapshotEvery > 0 && this.eventsSinceSnapshot >= this.snapshotEvery) await this.writeSnapshot();
        await this.checkpointIfDue();
        return;
      }
      if (appended.left.kind === 'revision-conflict' && attempt < this.maxConflictRetries) {
        // Another writer got there first: take its events in, then decide again.
        await this.catchUp();
        continue;
      }
      const error = appended.left.kind === 'revision-conflict'
        ? { code: 'WRITE_CONFLICT', message: `gave up after ${attempt + 1} revision conflicts: ${describeStoreError(appended.left)}` }
        : { code: 'STORE_UNAVAILABLE', message: describeStoreError(appended.left) };
      for (const pending of batch) pending.resolve({ status: 'failed', commandId: pending.submission.command.commandId, error });
      return;
    }
  }

  /** Keep a handled command in the bounded cache of recent ones (the oldest goes first). */
  private remember(commandId: string, where: Handled): void {
    this.handled.delete(commandId);
    this.handled.set(commandId, where);
    if (this.handled.size > this.recentCommands) this.handled.delete(this.handled.keys().next().value!);
  }

  private decideBatch(batch: ReadonlyArray<Pending>, found: ReadonlyMap<string, Handled>) {
    // Decided on an overlay: the committed book is untouched until the append is durable.
    const overlay = this.book.begin();
    let lastHash = this.lastHash;
    let next = this.revision === 'no-stream' ? 0n : this.revision + 1n;
    const events: NewEvent[] = [];
    const handled = new Map<string, Handled>();
    const results: BatchResult[] = [];
    const firstInBatch = new Map<string, { readonly index: number; readonly fingerprint: string }>();
    batch.forEach(({ submission }, index) => {
      const { command, actor } = submission;
      const fingerprint = commandFingerprint(command);
      const known = this.handled.get(command.commandId) ?? found.get(command.commandId);
      if (known !== undefined) {
        results.push(known.fingerprint === fingerprint ? { kind: 'duplicate', handled: known } : { kind: 'reused', recorded: known.fingerprint });
        return;
      }
      const earlier = firstInBatch.get(command.commandId);
      if (earlier !== undefined) {
        results.push(earlier.fingerprint === fingerprint ? { kind: 'same-as', index: earlier.index } : { kind: 'reused', recorded: earlier.fingerprint });
        return;
      }
      firstInBatch.set(command.commandId, { index, fingerprint });
      const now = this.clock();
      const decision = decideOnBook(command, overlay, { now, actor, ...(this.rootGovernors === undefined ? {} : { rootGovernors: this.rootGovernors }) });
      // A refusal is recorded, unless the stream does not exist yet (see the top of the file).
      const recorded: ReadonlyArray<Event> = E.isRight(decision) ? decision.right : next === 0n ? [] : [commandRejected(command, fingerprint, decision.left)];
      recorded.forEach((event) => {
        const metadata = {
          commandId: command.commandId,
          correlationId: submission.correlationId ?? command.commandId,
          causationId: submission.causationId ?? command.commandId,
          timestamp: now,
          actor,
          fingerprint,
        };
        // A trade's stored text is written field by field (the same bytes); anything else is encoded, then written.
        const dataText = event.type === 'TradeExecuted' ? compactTradeText(event) : undefined;
        const record = dataText === undefined
          ? sealed(lastHash, { type: event.type, data: encodeEvent(event), metadata })
          : sealedText(lastHash, { type: event.type, dataText, data: () => encodeEvent(event), metadata });
        lastHash = record.hash;
        events.push(record);
      });
      if (recorded.length > 0) handled.set(command.commandId, { firstRevision: next, count: recorded.length, fingerprint });
      results.push(E.isRight(decision) ? { kind: 'accepted', events: decision.right } : { kind: 'rejected', error: decision.left });
      next += BigInt(recorded.length);
    });
    return { book: overlay, lastHash, events, handled, results };
  }

  private async resolveAll(batch: ReadonlyArray<Pending>, results: ReadonlyArray<BatchResult>): Promise<void> {
    const outcomes: Outcome[] = [];
    for (const [i, { submission }] of batch.entries()) {
      const result = results[i]!;
      const commandId = submission.command.commandId;
      let outcome: Outcome;
      switch (result.kind) {
        case 'accepted':
          outcome = { status: 'accepted', commandId, events: result.events };
          break;
        case 'rejected':
          outcome = { status: 'rejected', commandId, error: result.error };
          break;
        case 'same-as': {
          const first = outcomes[result.index]!;
          outcome = first.status === 'accepted' || first.status === 'rejected' ? { ...first, deduplicated: true } : first;
          break;
        }
        case 'duplicate':
          outcome = await this.originalOutcome(commandId, result.handled);
          break;
        case 'reused':
          outcome = { status: 'rejected', commandId, error: commandIdReused(commandId, result.recorded === undefined) };
          break;
        default: {
          const unreachable: never = result;
          outcome = unreachable;
        }
      }
      outcomes.push(outcome);
      batch[i]!.resolve(outcome);
    }
  }

  /**
   * The outcome a handled command had, if `actor` sent it: from the index of handled commands and
   * the log (a producer asking again after its answer was lost). Undefined for a command not
   * handled yet (still queued, or never sent) and for another actor's command (not revealed).
   */
  async recordedOutcome(commandId: string, actor: string): Promise<Outcome | undefined> {
    let where = this.handled.get(commandId);
    if (where === undefined && this.revision !== 'no-stream') {
      const found = await this.store.findCommands(poolStream(this.poolId), [commandId]);
      if (E.isLeft(found)) return { status: 'failed', commandId, error: { code: 'STORE_UNAVAILABLE', message: describeStoreError(found.left) } };
      where = found.right.get(commandId);
    }
    return where === undefined ? undefined : this.originalOutcome(commandId, where, actor);
  }

  /**
   * The outcome a command had the first time: its events or its refusal, read back from the log
   * (undefined if `actor` is given and is not who sent it).
   */
  private async originalOutcome(commandId: string, where: Handled): Promise<Outcome>;
  private async originalOutcome(commandId: string, where: Handled, actor: string): Promise<Outcome | undefined>;
  private async originalOutcome(commandId: string, where: Handled, actor?: string): Promise<Outcome | undefined> {
    const read = await this.store.readStream(poolStream(this.poolId), where.firstRevision, where.count);
    if (E.isLeft(read)) return { status: 'failed', commandId, error: { code: 'STORE_UNAVAILABLE', message: describeStoreError(read.left) } };
    if (actor !== undefined && read.right[0]?.metadata.actor !== actor) return undefined;
    const events: Event[] = [];
    for (const stored of read.right) {
      const decoded = decodeStoredEvent(stored.data);
      if (E.isLeft(decoded)) return { status: 'failed', commandId, error: { code: 'CORRUPT_LOG', message: `event at position ${stored.position}: ${decoded.left.message}` } };
      events.push(decoded.right);
    }
    const [first] = events;
    if (first?.type === 'CommandRejected') return { status: 'rejected', commandId, error: recordedError(first), deduplicated: true };
    return { status: 'accepted', commandId, events, deduplicated: true };
  }

  /** Take in every event of the stream after the current revision (checking chain and codecs). */
  async catchUp(): Promise<void> {
    for (;;) {
      const from = this.revision === 'no-stream' ? 0n : this.revision + 1n;
      const page = await this.store.readStream(poolStream(this.poolId), from, 1000);
      if (E.isLeft(page)) {
        if (page.left.kind === 'stream-not-found') return;
        throw new LoadError(describeStoreError(page.left));
      }
      if (page.right.length === 0) return;
      const chain = verifyChain(page.right, this.lastHash);
      if (!chain.ok) throw new LoadError(`hash chain broken at position ${chain.position} (revision ${chain.revision}): ${chain.reason}`);
      for (const stored of page.right) this.apply(stored);
    }
  }

  private apply(stored: StoredEvent): void {
    const decoded = decodeStoredEvent(stored.data);
    if (E.isLeft(decoded)) throw new LoadError(`event at position ${stored.position} (revision ${stored.revision}) does not decode: ${decoded.left.message}`);
    this.book.evolveCold([decoded.right]);
    const { commandId, fingerprint } = stored.metadata;
    const known = this.handled.get(commandId);
    this.remember(commandId, known !== undefined && known.firstRevision + BigInt(known.count) === stored.revision
      ? { ...known, count: known.count + 1 }
      : { firstRevision: stored.revision, count: 1, fingerprint });
    if (stored.revision === 0n) this.logId = stored.hash;
    this.revision = stored.revision;
    this.lastHash = stored.hash;
    this.eventsSinceSnapshot++;
    this.eventsSinceCheckpoint++;
  }

  /** The signed checkpoints kept for this pool: the newest one signed by this writer's key is trusted. */
  private async loadCheckpoints(): Promise<void> {
    for (let from = 0n; ;) {
      const page = await this.store.readStream(checkpointStream(this.poolId), from, 1000);
      if (E.isLeft(page)) {
        if (page.left.kind === 'stream-not-found') return;
        throw new LoadError(describeStoreError(page.left));
      }
      if (page.right.length === 0) return;
      for (const stored of page.right) {
        this.checkpointRevision = stored.revision;
        const decoded = decodeWith(CheckpointCodec)(stored.data);
        if (E.isLeft(decoded)) throw new LoadError(`checkpoint at position ${stored.position} does not decode: ${decoded.left.message}`);
        const checkpoint = decoded.right;
        if (this.signer === undefined || checkpoint.poolId !== this.poolId) continue;
        if (!checkpointSignedBy(checkpoint, this.signer.publicKey)) {
          this.onWarning(`checkpoint of pool ${this.poolId} at revision ${checkpoint.revision} is not signed by this service's key: not trusted`);
          continue;
        }
        if (this.lastCheckpoint === undefined || checkpoint.revision >= this.lastCheckpoint.revision) this.lastCheckpoint = checkpoint;
        this.trusted.push(checkpoint);
      }
      from = page.right[page.right.length - 1]!.revision + 1n;
    }
  }

  /** The newest trusted checkpoint at or before `revision`, or undefined (trust starts at the first event). */
  private checkpointAtOrBefore(revision: bigint): Checkpoint | undefined {
    let found: Checkpoint | undefined;
    for (const checkpoint of this.trusted) if (checkpoint.revision <= revision && (found === undefined || checkpoint.revision > found.revision)) found = checkpoint;
    return found;
  }

  /** A run of the pool's stream as stored links (text and hash, nothing parsed) where the store has them. */
  private readLinks(from: bigint, count: number) {
    const streamId = poolStream(this.poolId);
    return this.store.readStreamLinks === undefined ? this.store.readStream(streamId, from, count) : this.store.readStreamLinks(streamId, from, count);
  }

  /**
   * Verify the chain from the last verified point (a trusted checkpoint, else the first event) to
   * `revision`; returns the hash there and the log identity, or why not.
   */
  private async verifiedHashAt(revision: bigint): Promise<E.Either<string, { readonly hash: string; readonly logId: string }>> {
    // From the nearest trusted checkpoint before it: only the events since are hashed. Should that
    // fail, the answer (and the reason given) is the one from the newest checkpoint, else the first event.
    const nearest = this.checkpointAtOrBefore(revision);
    const newest = this.lastCheckpoint !== undefined && this.lastCheckpoint.revision <= revision ? this.lastCheckpoint : undefined;
    if (nearest !== newest) {
      const fromNearest = await this.verifiedHashFrom(nearest, revision);
      if (E.isRight(fromNearest)) return fromNearest;
    }
    return this.verifiedHashFrom(newest, revision);
  }

  private async verifiedHashFrom(checkpoint: Checkpoint | undefined, revision: bigint): Promise<E.Either<string, { readonly hash: string; readonly logId: string }>> {
    let from = checkpoint?.revision ?? 0n;
    let previous: { hash: string; revision: bigint } | undefined = checkpoint === undefined ? { hash: GENESIS_HASH, revision: -1n } : undefined;
    if (previous === undefined && from > 0n) {
      // The checkpoint vouches for the hash of its own event, which chains onto the event before it.
      const before = await this.readLinks(from - 1n, 1);
      if (E.isLeft(before)) return E.left(describeStoreError(before.left));
      if (before.right[0]?.revision !== from - 1n) return E.left(`the log has no event at revision ${from - 1n}`);
      previous = { hash: before.right[0].hash, revision: from - 1n };
    }
    previous ??= { hash: GENESIS_HASH, revision: -1n };
    let last: string | undefined;
    let logId = checkpoint?.logId;
    while (from <= revision) {
      const page = await this.readLinks(from, Math.min(5_000, Number(revision - from + 1n)));
      if (E.isLeft(page)) return E.left(describeStoreError(page.left));
      if (page.right.length === 0) return E.left(`the log ends before revision ${revision}`);
      const [first] = page.right;
      // The checkpoint's own event must still have (and hash to) the hash it vouches for.
      if (checkpoint !== undefined && first!.revision === checkpoint.revision && first!.hash !== checkpoint.hash) {
        return E.left(`the event at revision ${checkpoint.revision} does not have the hash of the signed checkpoint there`);
      }
      if (first!.revision === 0n) logId = first!.hash;
      const chain = verifyChain(page.right, previous);
      if (!chain.ok) return E.left(`hash chain broken at position ${chain.position} (revision ${chain.revision}): ${chain.reason}`);
      previous = { hash: chain.lastHash, revision: page.right[page.right.length - 1]!.revision };
      last = chain.lastHash;
      from = page.right[page.right.length - 1]!.revision + 1n;
    }
    return last === undefined || logId === undefined ? E.left('nothing to verify') : E.right({ hash: last, logId });
  }

  private async loadSnapshot(): Promise<void> {
    const streamId = snapshotStream(this.poolId);
    const newestRevision = await this.newestSnapshotRevision(streamId);
    if (newestRevision === undefined) return;
    this.snapshotRevision = newestRevision;
    const page = await this.store.readStream(streamId, newestRevision, 1);
    if (E.isLeft(page)) throw new LoadError(describeStoreError(page.left));
    const newest = page.right[0];
    if (newest === undefined) throw new LoadError(`the snapshot at revision ${newestRevision} is gone`);
    const decoded = decodeWith(SnapshotData)(newest.data);
    if (E.isLeft(decoded)) throw new LoadError(`snapshot at revision ${newest.revision} does not decode: ${decoded.left.message}`);
    const state = stateFromCanonical(decoded.right.state);
    if (E.isLeft(state)) throw new LoadError(`snapshot at revision ${newest.revision}: ${state.left.message}`);
    const refusal = await this.snapshotRefusal(decoded.right, newest.data as Parameters<typeof snapshotContentHash>[0]);
    if (refusal !== undefined) {
      // The log is the truth and a snapshot only saves time: replay from the first event instead.
      this.onWarning(`snapshot of pool ${this.poolId} at revision ${decoded.right.revision} (stream position ${newest.position}) set aside, replaying the log from the first event: ${refusal}`);
      return;
    }
    this.book = PoolBook.of(state.right);
    this.revision = decoded.right.revision;
    this.lastHash = decoded.right.lastHash;
    for (const [commandId, firstRevision, count, fingerprint] of decoded.right.handled) this.remember(commandId, { firstRevision, count, fingerprint });
  }

  /**
   * The revision of the newest snapshot, undefined when there is none. Only the newest is parsed:
   * the store tells its head where it can, else the stream is paged through as stored links (the
   * others' text is never parsed).
   */
  private async newestSnapshotRevision(streamId: string): Promise<bigint | undefined> {
    if (this.store.streamHead !== undefined) {
      const head = await this.store.streamHead(streamId);
      if (E.isLeft(head)) throw new LoadError(describeStoreError(head.left));
      return head.right === 'no-stream' ? undefined : head.right;
    }
    const read = (from: bigint, count: number) => (this.store.readStreamLinks === undefined ? this.store.readStream(streamId, from, count) : this.store.readStreamLinks(streamId, from, count));
    let newestRevision: bigint | undefined;
    for (let from = 0n; ;) {
      const page = await read(from, 100);
      if (E.isLeft(page)) {
        if (page.left.kind === 'stream-not-found') return newestRevision;
        throw new LoadError(describeStoreError(page.left));
      }
      if (page.right.length === 0) return newestRevision;
      newestRevision = page.right[page.right.length - 1]!.revision;
      from = newestRevision + 1n;
    }
  }

  /** Why the log does not vouch for this snapshot, or undefined when it does. */
  private async snapshotRefusal(snapshot: t.TypeOf<typeof SnapshotData>, raw: Parameters<typeof snapshotContentHash>[0]): Promise<string | undefined> {
    const contentHash = snapshotContentHash(raw);
    if (snapshot.contentHash !== contentHash) return `its content hash is ${snapshot.contentHash ?? 'missing'}, its content hashes to ${contentHash}`;
    if (this.signer !== undefined) {
      const { logId, publicKey, signature } = snapshot;
      if (logId === undefined || publicKey !== this.signer.publicKey || signature === undefined
        || !signatureVerifies(snapshotPayload({ logId, poolId: this.poolId, revision: snapshot.revision, hash: snapshot.lastHash, contentHash }), publicKey, signature)) {
        return 'it is not signed by this service\'s key';
      }
    }
    const verified = await this.verifiedHashAt(snapshot.revision);
    if (E.isLeft(verified)) return verified.left;
    if (verified.right.hash !== snapshot.lastHash) return `the log's hash at revision ${snapshot.revision} is ${verified.right.hash}, the snapshot records ${snapshot.lastHash}`;
    if (snapshot.logId !== undefined && snapshot.logId !== verified.right.logId) return `it is of log ${snapshot.logId}, this pool's log is ${verified.right.logId}`;
    this.logId = verified.right.logId;
    return undefined;
  }

  /** The newest trusted checkpoint must be in the log as loaded (nothing removed or rewritten behind it). */
  private async checkNewestCheckpoint(): Promise<void> {
    const checkpoint = this.lastCheckpoint;
    if (checkpoint === undefined) return;
    const head = this.revision === 'no-stream' ? -1n : this.revision;
    if (checkpoint.revision > head) {
      throw new LoadError(`the log of pool ${this.poolId} ends at revision ${head}, before its signed checkpoint at revision ${checkpoint.revision} (hash ${checkpoint.hash}): events were removed`);
    }
    const read = await this.store.readStream(poolStream(this.poolId), checkpoint.revision, 1);
    if (E.isLeft(read)) throw new LoadError(describeStoreError(read.left));
    const [event] = read.right;
    if (event?.hash !== checkpoint.hash || (this.logId !== undefined && this.logId !== checkpoint.logId)) {
      throw new LoadError(`the log of pool ${this.poolId} does not contain its signed checkpoint at revision ${checkpoint.revision}: hash ${event?.hash ?? 'none'} there, the checkpoint says ${checkpoint.hash}`);
    }
    this.lastCheckpointAt = Date.parse(checkpoint.time);
  }

  /** Sign and keep a checkpoint of the head if enough events or time have passed; else set a timer. */
  private async checkpointIfDue(): Promise<void> {
    if (this.signer === undefined || this.eventsSinceCheckpoint === 0) return;
    const now = this.clock();
    if (this.eventsSinceCheckpoint >= this.checkpointEvery || now - this.lastCheckpointAt >= this.checkpointIntervalMs) {
      await this.checkpointNow();
      return;
    }
    if (this.checkpointTimer === undefined) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        void this.checkpointNow();
      }, Math.max(1, this.lastCheckpointAt + this.checkpointIntervalMs - now));
      this.checkpointTimer.unref();
    }
  }

  /** Sign a checkpoint of the current head and keep it (one at a time). */
  checkpointNow(): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      if (this.signer === undefined || this.revision === 'no-stream' || this.logId === undefined) return;
      if (this.lastCheckpoint !== undefined && this.lastCheckpoint.revision === this.revision) return;
      const time = new Date(this.clock()).toISOString();
      const checkpoint = this.signer.checkpoint({ logId: this.logId, poolId: this.poolId, revision: this.revision, hash: this.lastHash, time });
      const id = `checkpoint@${checkpoint.revision}`;
      // Checkpoints and snapshots are not chained: each is sealed on its own (its own signature vouches for it).
      const appended = await this.store.append(checkpointStream(this.poolId), this.checkpointRevision, [sealed(GENESIS_HASH, {
        type: CHECKPOINT_TYPE, data: encodeCheckpoint(checkpoint),
        metadata: { commandId: id, correlationId: poolStream(this.poolId), causationId: poolStream(this.poolId), timestamp: this.clock(), actor: 'pool-writer' },
      })]);
      if (E.isLeft(appended)) {
        this.onWarning(`checkpoint of pool ${this.poolId} at revision ${checkpoint.revision} not kept: ${describeStoreError(appended.left)}`);
        if (appended.left.kind === 'revision-conflict' && appended.left.actual !== 'no-stream') this.checkpointRevision = appended.left.actual;
        return;
      }
      this.checkpointRevision = appended.right.revision;
      this.lastCheckpoint = checkpoint;
      this.lastCheckpointAt = this.clock();
      this.eventsSinceCheckpoint = 0;
      this.onCheckpoint?.(checkpoint);
    });
    return this.checkpointing;
  }

  private async writeSnapshot(): Promise<void> {
    if (this.revision === 'no-stream' || this.logId === undefined) return;
    const recent = [...this.handled].slice(-this.snapshotCommands);
    const content = SnapshotData.encode({
      revision: this.revision,
      lastHash: this.lastHash,
      state: canonicalState(this.state),
      handled: recent.map(([commandId, h]) => [commandId, h.firstRevision, h.count, h.fingerprint] as const),
    });
    const contentHash = snapshotContentHash(content);
    const seal = this.signer?.sealSnapshot({ logId: this.logId, poolId: this.poolId, revision: this.revision, hash: this.lastHash, contentHash });
    const data = { ...content, logId: this.logId, contentHash, ...(seal === undefined ? {} : seal) };
    const snapshot: NewEvent = sealed(GENESIS_HASH, {
      type: SNAPSHOT_TYPE,
      data,
      metadata: {
        commandId: `snapshot@${this.revision}`,
        correlationId: poolStream(this.poolId), causationId: poolStream(this.poolId), timestamp: this.clock(), actor: 'pool-writer',
      },
    });
    const appended = await this.store.append(snapshotStream(this.poolId), this.snapshotRevision, [snapshot]);
    // A snapshot is an optimization: if another writer wrote one, or the store is down, go on.
    if (E.isRight(appended)) this.snapshotRevision = appended.right.revision;
    this.eventsSinceSnapshot = 0;
  }
}

type BatchResult =
  | { readonly kind: 'accepted'; readonly events: ReadonlyArray<Event> }
  | { readonly kind: 'rejected'; readonly error: DomainError }
  | { readonly kind: 'duplicate'; readonly handled: Handled }
  /** The id was used by a command with another fingerprint (`recorded`, undefined if it has none). */
  | { readonly kind: 'reused'; readonly recorded: string | undefined }
  | { readonly kind: 'same-as'; readonly index: number };

export type { StoreError };
