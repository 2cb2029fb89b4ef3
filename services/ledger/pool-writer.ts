// The command side of one pool: the single writer of stream `pool-<poolId>` (docs/design.md section 3).
//
// - State lives in memory, loaded from the newest snapshot plus the tail of the stream (the hash
//   chain is checked and every event decoded while loading).
// - Commands queue up and are decided one after another; their events are appended in batches
//   (group commit) with the exact expected revision, and each caller learns its outcome only
//   after the append that holds its events is durable. A rejected command never blocks others.
// - A revision conflict (another writer) means reload and re-decide, a bounded number of times.
// - A command id always gets the same answer. Every event carries its command's fingerprint, and
//   a command `decide` refuses is recorded too (one CommandRejected event, in the same batch), so
//   a repeat with the same fingerprint gets the original outcome (accepted with its events, or
//   rejected with its error) and appends nothing: from the index of handled commands (rebuilt from
//   the log and the snapshot after a restart) or from the same batch (two copies at once). The same
//   id with another fingerprint is refused with COMMAND_ID_REUSED, and that is not recorded.
//   A refusal while the pool's stream does not exist is not recorded either: appending it would
//   create the stream of a pool that does not exist (so that id is not remembered).
// - Every `snapshotEvery` events the state is written to stream `snapshot-pool-<poolId>`.
// No domain rule lives here: `decide` and `evolve` make every decision.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  canonicalState, commandFingerprint, commandIdReused, commandRejected, decide, decodeEvent, decodeWith, encodeEvent, evolve, Id, initialState,
  recordedError, Sha256Hex, stateFromCanonical, SCHEMA_VERSION,
  type Command, type DomainError, type Event, type Governors, type PoolState,
} from '../../domain/index.js';
import type { Outcome } from '../outcome.js';
import { GENESIS_HASH, eventIdFor, sealed, verifyChain } from './chain.js';
import { describeStoreError, type EventStore, type ExpectedRevision, type NewEvent, type StoreError, type StoredEvent } from './event-store.js';

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
interface Handled {
  readonly firstRevision: bigint;
  readonly count: number;
  readonly fingerprint: string | undefined;
}

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

const SnapshotData = t.type({
  revision: RevisionString,
  lastHash: t.string,
  state: t.unknown,
  handled: t.array(HandledEntry),
}, 'PoolSnapshot');

export const SNAPSHOT_TYPE = 'PoolSnapshot';

// ---------------------------------------------------------------------------------------------

export class PoolWriter {
  private state: PoolState = initialState;
  private revision: ExpectedRevision = 'no-stream';
  private lastHash = GENESIS_HASH;
  private readonly handled = new Map<string, Handled>();
  private snapshotRevision: ExpectedRevision = 'no-stream';
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

  private constructor(readonly store: EventStore, readonly poolId: string, options: WriterOptions) {
    this.batchSize = options.batchSize ?? 256;
    this.maxLatencyMs = options.maxLatencyMs ?? 1;
    this.snapshotEvery = options.snapshotEvery ?? 10_000;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.clock = options.clock ?? Date.now;
    this.onAppend = options.onAppend;
    this.rootGovernors = options.rootGovernors;
  }

  /** A writer with the pool's state loaded from the newest snapshot and the tail of the stream. */
  static async open(store: EventStore, poolId: string, options: WriterOptions = {}): Promise<PoolWriter> {
    const writer = new PoolWriter(store, poolId, options);
    await writer.loadSnapshot();
    await writer.catchUp();
    return writer;
  }

  get current(): { readonly state: PoolState; readonly revision: ExpectedRevision; readonly lastHash: string } {
    return { state: this.state, revision: this.revision, lastHash: this.lastHash };
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
      const decided = this.decideBatch(batch);
      if (decided.events.length === 0) {
        await this.resolveAll(batch, decided.results);
        return;
      }
      const started = process.hrtime.bigint();
      const appended = await this.store.append(poolStream(this.poolId), this.revision, decided.events);
      if (E.isRight(appended)) {
        this.onAppend?.(decided.events.length, Number(process.hrtime.bigint() - started) / 1e9);
        this.state = decided.state;
        this.revision = appended.right.revision;
        this.lastHash = decided.lastHash;
        for (const [commandId, where] of decided.handled) this.handled.set(commandId, where);
        this.eventsSinceSnapshot += decided.events.length;
        await this.resolveAll(batch, decided.results);
        if (this.snapshotEvery > 0 && this.eventsSinceSnapshot >= this.snapshotEvery) await this.writeSnapshot();
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

  private decideBatch(batch: ReadonlyArray<Pending>) {
    let state = this.state;
    let lastHash = this.lastHash;
    let next = this.revision === 'no-stream' ? 0n : this.revision + 1n;
    const events: NewEvent[] = [];
    const handled = new Map<string, Handled>();
    const results: BatchResult[] = [];
    const firstInBatch = new Map<string, { readonly index: number; readonly fingerprint: string }>();
    batch.forEach(({ submission }, index) => {
      const { command, actor } = submission;
      const fingerprint = commandFingerprint(command);
      const known = this.handled.get(command.commandId);
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
      const decision = decide(command, state, { now, actor, ...(this.rootGovernors === undefined ? {} : { rootGovernors: this.rootGovernors }) });
      // A refusal is recorded, unless the stream does not exist yet (see the top of the file).
      const recorded: ReadonlyArray<Event> = E.isRight(decision) ? decision.right : next === 0n ? [] : [commandRejected(command, fingerprint, decision.left)];
      recorded.forEach((event, i) => {
        const record = sealed({
          eventId: eventIdFor(this.poolId, command.commandId, i),
          type: event.type,
          data: encodeEvent(event),
          metadata: {
            commandId: command.commandId,
            correlationId: submission.correlationId ?? command.commandId,
            causationId: submission.causationId ?? command.commandId,
            timestamp: now,
            actor,
            schemaVersion: SCHEMA_VERSION,
            prevHash: lastHash,
            fingerprint,
          },
        });
        lastHash = record.metadata.hash;
        events.push(record);
        state = evolve(state, event);
      });
      if (recorded.length > 0) handled.set(command.commandId, { firstRevision: next, count: recorded.length, fingerprint });
      results.push(E.isRight(decision) ? { kind: 'accepted', events: decision.right } : { kind: 'rejected', error: decision.left });
      next += BigInt(recorded.length);
    });
    return { state, lastHash, events, handled, results };
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

  /** The outcome a command had the first time: its events or its refusal, read back from the log. */
  private async originalOutcome(commandId: string, where: Handled): Promise<Outcome> {
    const read = await this.store.readStream(poolStream(this.poolId), where.firstRevision, where.count);
    if (E.isLeft(read)) return { status: 'failed', commandId, error: { code: 'STORE_UNAVAILABLE', message: describeStoreError(read.left) } };
    const events: Event[] = [];
    for (const stored of read.right) {
      const decoded = decodeEvent(stored.data);
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
    const decoded = decodeEvent(stored.data);
    if (E.isLeft(decoded)) throw new LoadError(`event at position ${stored.position} (revision ${stored.revision}) does not decode: ${decoded.left.message}`);
    this.state = evolve(this.state, decoded.right);
    const { commandId, fingerprint } = stored.metadata;
    const known = this.handled.get(commandId);
    this.handled.set(commandId, known !== undefined && known.firstRevision + BigInt(known.count) === stored.revision
      ? { ...known, count: known.count + 1 }
      : { firstRevision: stored.revision, count: 1, fingerprint });
    this.revision = stored.revision;
    this.lastHash = stored.metadata.hash;
    this.eventsSinceSnapshot++;
  }

  private async loadSnapshot(): Promise<void> {
    let newest: StoredEvent | undefined;
    for (let from = 0n; ;) {
      const page = await this.store.readStream(snapshotStream(this.poolId), from, 100);
      if (E.isLeft(page)) {
        if (page.left.kind === 'stream-not-found') break;
        throw new LoadError(describeStoreError(page.left));
      }
      if (page.right.length === 0) break;
      newest = page.right[page.right.length - 1];
      this.snapshotRevision = newest!.revision;
      from = newest!.revision + 1n;
    }
    if (newest === undefined) return;
    const decoded = decodeWith(SnapshotData)(newest.data);
    if (E.isLeft(decoded)) throw new LoadError(`snapshot at revision ${newest.revision} does not decode: ${decoded.left.message}`);
    const state = stateFromCanonical(decoded.right.state);
    if (E.isLeft(state)) throw new LoadError(`snapshot at revision ${newest.revision}: ${state.left.message}`);
    this.state = state.right;
    this.revision = decoded.right.revision;
    this.lastHash = decoded.right.lastHash;
    for (const [commandId, firstRevision, count, fingerprint] of decoded.right.handled) this.handled.set(commandId, { firstRevision, count, fingerprint });
  }

  private async writeSnapshot(): Promise<void> {
    if (this.revision === 'no-stream') return;
    const data = SnapshotData.encode({
      revision: this.revision,
      lastHash: this.lastHash,
      state: canonicalState(this.state),
      handled: [...this.handled].map(([commandId, h]) => [commandId, h.firstRevision, h.count, h.fingerprint] as const),
    });
    const snapshot: NewEvent = {
      eventId: eventIdFor(this.poolId, `snapshot@${this.revision}`, 0),
      type: SNAPSHOT_TYPE,
      data,
      metadata: {
        commandId: `snapshot@${this.revision}`,
        correlationId: poolStream(this.poolId), causationId: poolStream(this.poolId), timestamp: this.clock(), actor: 'pool-writer',
        schemaVersion: SCHEMA_VERSION, prevHash: GENESIS_HASH, hash: GENESIS_HASH,
      },
    };
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
