// The auditor's replay: read a pool's whole log, verify the hash chain, decode every event,
// re-verify every governance approval, replay it through `evolve`, and check the invariants
// (1 to 4) as it goes; optionally stop at a position or a time and report the state there. It also
// checks what idempotency rests on: each command id is in the log once (one run of events), all of
// its events carry one fingerprint, and a recorded refusal names the fingerprint its metadata
// carries; it counts the refusals. Given signed checkpoints and the service's public key, it
// verifies each signature and that the log contains each checkpoint (the same hash at its
// revision, the same log identity: the hash of the first event), so a re-chained edit or a
// truncation behind a checkpoint fails, naming the checkpoint. Every snapshot kept is compared
// with the replayed state and the chain hash at its revision. Pure of any output: the CLI prints
// what this returns.

import * as E from 'fp-ts/lib/Either.js';
import {
  approvalProblem, canonicalJson, canonicalState, checkInvariants, checkWaterfall, decodeStoredEvent, evolve, initialState, poolView,
  type Event, type Governors, type InvariantViolation, type PoolState, type PoolView,
} from '../domain/index.js';
import { GENESIS_HASH, verifyChain } from './ledger/chain.js';
import { describeStoreError, type EventStore, type StoredEvent } from './ledger/event-store.js';
import { poolStream, snapshotContentHash, snapshotStream } from './ledger/pool-writer.js';
import { checkpointSignedBy, type Checkpoint } from './ledger/checkpoints.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { emptyModel, projectEvent, type Document } from '../projections/read-models.js';

export type AuditProblem =
  | { readonly kind: 'broken-chain'; readonly position: bigint; readonly revision: bigint; readonly message: string }
  | { readonly kind: 'undecodable-event'; readonly position: bigint; readonly revision: bigint; readonly message: string }
  | { readonly kind: 'governance'; readonly position: bigint; readonly revision: bigint; readonly message: string }
  | { readonly kind: 'invariant'; readonly position: bigint; readonly revision: bigint; readonly violation: InvariantViolation }
  /** A command id appended twice, or events of one command that disagree on its fingerprint. */
  | { readonly kind: 'idempotency'; readonly position: bigint; readonly revision: bigint; readonly message: string }
  /** A checkpoint whose signature does not verify, or that the log does not contain. */
  | { readonly kind: 'checkpoint'; readonly index: number; readonly checkpoint: Checkpoint; readonly message: string }
  /** A kept snapshot that is not the replayed state (or chain hash) at its revision. */
  | { readonly kind: 'snapshot'; readonly position: bigint; readonly revision: bigint; readonly message: string }
  | { readonly kind: 'store'; readonly message: string }
  | { readonly kind: 'read-model-diff'; readonly collection: string; readonly id: string; readonly message: string };

export interface AuditOptions {
  readonly poolId: string;
  /** Stop after the event at this position, or after the last event at or before this time. */
  readonly at?: { readonly position: bigint } | { readonly time: number };
  /** Check invariants 1 to 3 after every Nth event (1: every event; each check is O(accounts)). */
  readonly checkEvery?: number;
  /** Called every `progressEvery` events with the number replayed so far. */
  readonly onProgress?: (replayed: number) => void;
  readonly progressEvery?: number;
  /** Stored read models to compare with the ones the replay rebuilds (not with `at`). */
  readonly readModels?: ReadModelStore;
  /** The root governor set the pool's creation must have been approved by. */
  readonly rootGovernors?: Governors;
  /** Signed checkpoints the log must contain, and the public key (hex) they must be signed with. */
  readonly checkpoints?: { readonly list: ReadonlyArray<Checkpoint>; readonly publicKey: string };
}

export interface AuditReport {
  readonly poolId: string;
  readonly ok: boolean;
  readonly eventsReplayed: number;
  /** The last event replayed (where the state and view below stand). */
  readonly lastPosition?: bigint;
  readonly lastRevision?: bigint;
  readonly lastHash: string;
  readonly liquidationsChecked: number;
  /** Commands refused and recorded (CommandRejected events) among the events replayed. */
  readonly rejectionsRecorded: number;
  /** Governance events whose recorded approval was re-verified. */
  readonly approvalsVerified: number;
  /** Checkpoints whose signature verified and that the log contains. */
  readonly checkpointsVerified: number;
  /** Kept snapshots that match the replayed state at their revision. */
  readonly snapshotsVerified: number;
  /** The first problem found: the replay stops there. */
  readonly problem?: AuditProblem;
  readonly state: PoolState;
  readonly view?: PoolView;
}

const PAGE = 5_000;

const stopsBefore = (event: StoredEvent, at: AuditOptions['at']): boolean =>
  at !== undefined && ('position' in at ? event.position > at.position : event.metadata.timestamp > at.time);

export const audit = async (store: EventStore, options: AuditOptions): Promise<AuditReport> => {
  const checkEvery = Math.max(1, options.checkEvery ?? 1);
  const progressEvery = options.progressEvery ?? 100_000;
  let state: PoolState = initialState;
  let lastHash = GENESIS_HASH;
  let replayed = 0;
  let liquidationsChecked = 0;
  let rejectionsRecorded = 0;
  // Every command id met so far: a command's events are one run, so an id met again is a repeat.
  const commandIds = new Set<string>();
  let approvalsVerified = 0;
  let checkpointsVerified = 0;
  let snapshotsVerified = 0;
  let last: StoredEvent | undefined;
  let logId: string | undefined;
  // The events of the command being replayed, and the state before it (for the waterfall check).
  let command: { readonly id: string; readonly before: PoolState; readonly events: Event[]; readonly last: StoredEvent } | undefined;
  // The read models as the log says they should be (only when there are stored ones to compare).
  const rebuild = options.readModels !== undefined && options.at === undefined ? { model: emptyModel(), documents: new Map<string, Document>() } : undefined;

  const report = (problem?: AuditProblem): AuditReport => ({
    poolId: options.poolId,
    ok: problem === undefined,
    eventsReplayed: replayed,
    ...(last === undefined ? {} : { lastPosition: last.position, lastRevision: last.revision }),
    lastHash,
    liquidationsChecked,
    rejectionsRecorded,
    approvalsVerified,
    checkpointsVerified,
    snapshotsVerified,
    ...(problem === undefined ? {} : { problem }),
    state,
    ...(poolView(state) === undefined ? {} : { view: poolView(state)! }),
  });

  const closeCommand = (): AuditProblem | undefined => {
    if (command === undefined || state.status !== 'active' || command.before.status !== 'active') return undefined;
    if (!command.events.some((e) => e.type === 'PositionLiquidated')) return undefined;
    liquidationsChecked++;
    const [violation] = checkWaterfall(command.before, command.events, state);
    return violation === undefined ? undefined : { kind: 'invariant', position: command.last.position, revision: command.last.revision, violation };
  };

  // The checkpoints, signatures first; then by revision, to meet them during the replay.
  const checkpointsAt = new Map<bigint, { readonly index: number; readonly checkpoint: Checkpoint }[]>();
  for (const [index, checkpoint] of (options.checkpoints?.list ?? []).entries()) {
    const named = (message: string): AuditProblem => ({ kind: 'checkpoint', index, checkpoint, message });
    if (checkpoint.poolId !== options.poolId) return report(named(`it is of pool ${checkpoint.poolId}`));
    if (!checkpointSignedBy(checkpoint, options.checkpoints!.publicKey)) return report(named(`its signature does not verify with key ${options.checkpoints!.publicKey}`));
    checkpointsAt.set(checkpoint.revision, [...(checkpointsAt.get(checkpoint.revision) ?? []), { index, checkpoint }]);
  }
  const snapshots = await snapshotsOf(store, options.poolId);
  if (E.isLeft(snapshots)) return report(snapshots.left);

  for (let from = 0n; ;) {
    const page = await store.readStream(poolStream(options.poolId), from, PAGE);
    if (E.isLeft(page)) {
      if (page.left.kind === 'stream-not-found' && replayed === 0) return report({ kind: 'store', message: `pool "${options.poolId}" has no events` });
      if (page.left.kind === 'stream-not-found') break;
      return report({ kind: 'store', message: describeStoreError(page.left) });
    }
    if (page.right.length === 0) break;
    for (const stored of page.right) {
      if (stopsBefore(stored, options.at)) {
        // A command cut in two by --at is not judged as a whole (its invariants 1-3 still hold).
        const complete = command === undefined || command.id !== stored.metadata.commandId;
        return report(complete ? closeCommand() : undefined);
      }
      const chain = verifyChain([stored], { hash: lastHash, revision: last?.revision ?? -1n });
      if (!chain.ok) return report({ kind: 'broken-chain', position: chain.position, revision: chain.revision, message: chain.reason });
      const decoded = decodeStoredEvent(stored.data);
      if (E.isLeft(decoded)) return report({ kind: 'undecodable-event', position: stored.position, revision: stored.revision, message: decoded.left.message });
      if (command === undefined || command.id !== stored.metadata.commandId) {
        const problem = closeCommand();
        if (problem !== undefined) return report(problem);
        if (commandIds.has(stored.metadata.commandId)) {
          return report({ kind: 'idempotency', position: stored.position, revision: stored.revision, message: `command "${stored.metadata.commandId}" appears a second time in the log` });
        }
        commandIds.add(stored.metadata.commandId);
        command = { id: stored.metadata.commandId, before: state, events: [], last: stored };
      }
      const fingerprintProblem = fingerprintMismatch(command.last, stored, decoded.right);
      if (fingerprintProblem !== undefined) return report({ kind: 'idempotency', position: stored.position, revision: stored.revision, message: fingerprintProblem });
      if (decoded.right.type === 'CommandRejected') rejectionsRecorded++;
      // Every governance event's approval, re-verified against the governors in force before it.
      const approval = approvalProblem(decoded.right, state, stored.metadata.commandId, options.rootGovernors);
      if (approval !== undefined) return report({ kind: 'governance', position: stored.position, revision: stored.revision, message: approval });
      if ('signedCommand' in decoded.right) approvalsVerified++;
      state = evolve(state, decoded.right);
      if (rebuild !== undefined) {
        for (const d of projectEvent(rebuild.model, options.poolId, stored.position, stored.metadata.timestamp, decoded.right)) rebuild.documents.set(`${d.collection}/${d.id}`, d);
      }
      command = { ...command, events: [...command.events, decoded.right], last: stored };
      lastHash = chain.lastHash;
      last = stored;
      replayed++;
      if (stored.revision === 0n) logId = stored.hash;
      for (const { index, checkpoint } of checkpointsAt.get(stored.revision) ?? []) {
        if (checkpoint.hash !== stored.hash || checkpoint.logId !== logId) {
          return report({ kind: 'checkpoint', index, checkpoint, message: `the log does not contain it: at revision ${stored.revision} the hash is ${stored.hash} (log ${logId ?? '-'})` });
        }
        checkpointsVerified++;
      }
      for (const snapshot of snapshots.right.get(stored.revision) ?? []) {
        const mismatch = snapshotMismatch(snapshot, state, stored.hash);
        if (mismatch !== undefined) return report({ kind: 'snapshot', position: snapshot.position, revision: stored.revision, message: mismatch });
        snapshotsVerified++;
      }
      if (replayed % checkEvery === 0) {
        const [violation] = checkInvariants(state);
        if (violation !== undefined) return report({ kind: 'invariant', position: stored.position, revision: stored.revision, violation });
      }
      if (options.onProgress !== undefined && replayed % progressEvery === 0) options.onProgress(replayed);
    }
    from = page.right[page.right.length - 1]!.revision + 1n;
  }
  const problem = closeCommand();
  if (problem !== undefined) return report(problem);
  // A checkpoint beyond the end: the log was cut behind it.
  const head = last?.revision ?? -1n;
  for (const [revision, atRevision] of checkpointsAt) {
    if (revision <= head) continue;
    const { index, checkpoint } = atRevision[0]!;
    return report({ kind: 'checkpoint', index, checkpoint, message: `the log ends at revision ${head}, before it: events were removed` });
  }
  for (const [revision, kept] of snapshots.right) {
    if (revision > head) return report({ kind: 'snapshot', position: kept[0]!.position, revision, message: `a snapshot at revision ${revision}, beyond the end of the log (revision ${head})` });
  }
  // Whatever the sampling, the final state is always checked.
  const [violation] = checkInvariants(state);
  if (violation !== undefined && last !== undefined) return report({ kind: 'invariant', position: last.position, revision: last.revision, violation });
  if (rebuild !== undefined && options.readModels !== undefined) {
    const difference = await diffReadModels(options.readModels, options.poolId, rebuild.documents);
    if (difference !== undefined) return report(difference);
  }
  return report();
};

/** The kept snapshots of a pool, by the revision they stand at. */
const snapshotsOf = async (store: EventStore, poolId: string): Promise<E.Either<AuditProblem, Map<bigint, StoredEvent[]>>> => {
  const byRevision = new Map<bigint, StoredEvent[]>();
  for (let from = 0n; ;) {
    const page = await store.readStream(snapshotStream(poolId), from, 100);
    if (E.isLeft(page)) return page.left.kind === 'stream-not-found' ? E.right(byRevision) : E.left({ kind: 'store', message: describeStoreError(page.left) });
    if (page.right.length === 0) return E.right(byRevision);
    for (const stored of page.right) {
      const revision = (stored.data as { revision?: unknown } | null)?.revision;
      if (typeof revision !== 'string' || !/^(0|[1-9][0-9]{0,18})$/.test(revision)) {
        return E.left({ kind: 'snapshot', position: stored.position, revision: -1n, message: 'it names no revision' });
      }
      byRevision.set(BigInt(revision), [...(byRevision.get(BigInt(revision)) ?? []), stored]);
    }
    from = page.right[page.right.length - 1]!.revision + 1n;
  }
};

/** How a kept snapshot differs from the replay at its revision, if it does. */
const snapshotMismatch = (snapshot: StoredEvent, replayed: PoolState, hash: string): string | undefined => {
  const data = snapshot.data as { readonly revision: unknown; readonly lastHash: unknown; readonly state: unknown; readonly handled: unknown; readonly contentHash?: unknown };
  if (data.lastHash !== hash) return `it records chain hash ${String(data.lastHash)}, the log has ${hash} there`;
  if (data.contentHash !== undefined && data.contentHash !== snapshotContentHash(data)) return 'its content does not hash to the content hash it records';
  const kept = canonicalJson(data.state);
  const expected = canonicalJson(canonicalState(replayed));
  if (kept !== expected) {
    let i = 0;
    while (i < kept.length && kept[i] === expected[i]) i++;
    return `its state is not the replayed state (first difference at character ${i}: ${JSON.stringify(kept.slice(Math.max(0, i - 40), i + 40))}, replayed ${JSON.stringify(expected.slice(Math.max(0, i - 40), i + 40))})`;
  }
  return undefined;
};

/** Why an event's fingerprint disagrees with the previous event of its command or with its own refusal, if it does. */
const fingerprintMismatch = (previous: StoredEvent, stored: StoredEvent, event: Event): string | undefined => {
  const { fingerprint } = stored.metadata;
  if (fingerprint !== previous.metadata.fingerprint) {
    return `command "${stored.metadata.commandId}" has events with different fingerprints (${previous.metadata.fingerprint ?? 'none'} at position ${previous.position}, ${fingerprint ?? 'none'} here)`;
  }
  if (event.type === 'CommandRejected' && event.fingerprint !== fingerprint) {
    return `the refusal of command "${stored.metadata.commandId}" names fingerprint ${event.fingerprint}, its metadata ${fingerprint ?? 'none'}`;
  }
  return undefined;
};

const firstDifferentField = (expected: Record<string, unknown>, actual: Record<string, unknown>): string | undefined =>
  [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort().find((key) => JSON.stringify(expected[key]) !== JSON.stringify(actual[key]));

/** The first stored read model that differs from the rebuilt one, or one that should not exist. */
export const diffReadModels = async (store: ReadModelStore, poolId: string, expected: ReadonlyMap<string, Document>): Promise<AuditProblem | undefined> => {
  for (const collection of ['fund-health', 'tranches', 'accounts', 'markets'] as const) {
    const stored = await store.list(collection, poolId);
    if (E.isLeft(stored)) return { kind: 'store', message: `read models: ${stored.left.message}` };
    const storedById = new Map(stored.right.map((d) => [d.id, d as Document]));
    for (const document of expected.values()) {
      if (document.collection !== collection) continue;
      const actual = storedById.get(document.id);
      if (actual === undefined) return { kind: 'read-model-diff', collection, id: document.id, message: `missing (the log puts it at position ${document.position})` };
      const field = firstDifferentField(document.body as unknown as Record<string, unknown>, actual.body as unknown as Record<string, unknown>);
      if (field !== undefined || actual.position !== document.position) {
        const what = field === undefined ? 'position' : field;
        const shown = (d: Document) => JSON.stringify(field === undefined ? d.position.toString() : (d.body as unknown as Record<string, unknown>)[field]);
        return { kind: 'read-model-diff', collection, id: document.id, message: `${what} is ${shown(actual)}, the log says ${shown(document)} (stored at position ${actual.position}, expected ${document.position})` };
      }
      storedById.delete(document.id);
    }
    const [extra] = storedById.keys();
    if (extra !== undefined) return { kind: 'read-model-diff', collection, id: extra, message: 'stored, but the log has no such document' };
  }
  return undefined;
};

export const describeProblem = (problem: AuditProblem): string => {
  switch (problem.kind) {
    case 'broken-chain':
      return `hash chain broken at position ${problem.position} (revision ${problem.revision}): ${problem.message}`;
    case 'undecodable-event':
      return `event at position ${problem.position} (revision ${problem.revision}) does not decode: ${problem.message}`;
    case 'governance':
      return `governance approval of the event at position ${problem.position} (revision ${problem.revision}) does not verify: ${problem.message}`;
    case 'invariant':
      return `invariant ${problem.violation.invariant} violated after the event at position ${problem.position} (revision ${problem.revision}): ${problem.violation.message}`;
    case 'idempotency':
      return `idempotency broken at position ${problem.position} (revision ${problem.revision}): ${problem.message}`;
    case 'checkpoint':
      return `checkpoint #${problem.index + 1} (revision ${problem.checkpoint.revision}, hash ${problem.checkpoint.hash}, ${problem.checkpoint.time}): ${problem.message}`;
    case 'snapshot':
      return `snapshot at revision ${problem.revision} (stream position ${problem.position}): ${problem.message}`;
    case 'store':
      return problem.message;
    case 'read-model-diff':
      return `read model ${problem.collection}/${problem.id}: ${problem.message}`;
    default: {
      const unreachable: never = problem;
      return unreachable;
    }
  }
};
