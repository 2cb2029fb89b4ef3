// A digest of everything the read side serves: every read-model document (collection, id,
// position and body, as JSON.stringify writes it, key order included) and what the HTTP API reads
// from the projection beyond documents (movements, governance changes, fund-health timelines).
// Two folds that give the same digest serve the same bytes. Tests pin digests captured from a
// reference fold, so a faster fold must reproduce them exactly.

import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { compactTradeText, decodeEvent, encodeEvent, type Event } from '../../domain/index.js';
import { projectAll } from '../../projections/runner.js';
import { GENESIS_HASH, sealed, sealedText } from '../../services/ledger/chain.js';
import { parseStoredText, type StoredEvent } from '../../services/ledger/event-store.js';
import {
  emptyModel, foldEvent, formatMovement, fundHealthHistory, projectEvent, resolutions, takeDocuments,
  type Collection, type Document, type PoolAggregates, type ProjectionModel, type ProjectionOptions, type Resolution,
} from '../../projections/read-models.js';
import type { ReadModelStore } from '../../projections/read-model-store.js';

const COLLECTIONS: ReadonlyArray<Collection> = ['fund-health', 'tranches', 'accounts', 'markets'];

const json = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Public keys and signatures are random in generated logs: replaced by a stable placeholder. */
const redact = (text: string, redactKeys: boolean): string => (redactKeys ? text.replace(/[0-9a-f]{64,}/g, '<key>') : text);

export interface DigestOptions {
  /** Replace hex runs of 64+ characters (public keys, signatures) with a placeholder. */
  readonly redactKeys?: boolean;
}

/** The documents, one line each, ordered by collection and id. */
export const renderDocuments = (documents: Iterable<Document>): string[] =>
  [...documents]
    .map((d) => ({ key: `${d.collection}\u0000${d.id}`, line: `${d.collection}\t${d.id}\t${d.position}\t${json(d.body)}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((d) => d.line);

/** What the HTTP API reads from a pool's aggregates, as text. */
export const renderAggregates = (poolId: string, aggregates: PoolAggregates): string[] => {
  const lines: string[] = [];
  for (const accountId of [...aggregates.movements.keys()].sort()) {
    lines.push(`movements\t${poolId}\t${accountId}\t${json(aggregates.movements.get(accountId)!.map(formatMovement))}`);
  }
  for (const change of aggregates.governance) lines.push(`governance\t${poolId}\t${json(change)}`);
  for (const resolution of Object.keys(resolutions) as Resolution[]) {
    lines.push(`timeline\t${poolId}\t${resolution}\t${json(fundHealthHistory(aggregates, resolution, -Infinity, Infinity, Number.MAX_SAFE_INTEGER))}`);
  }
  return lines;
};

const sha256 = (lines: ReadonlyArray<string>): string => createHash('sha256').update(lines.join('\n')).digest('hex');

/** Digest of documents plus, when given, the aggregates of every pool of a model. */
export const readModelDigest = (documents: Iterable<Document>, model?: ProjectionModel, options: DigestOptions = {}): string => {
  const lines = renderDocuments(documents);
  if (model !== undefined) {
    for (const poolId of [...model.pools.keys()].sort()) lines.push(...renderAggregates(poolId, model.pools.get(poolId)!.aggregates));
  }
  return sha256(lines.map((line) => redact(line, options.redactKeys ?? false)));
};

/** Every document a store holds for the given pools. */
export const storedDocuments = async (store: ReadModelStore, poolIds: Iterable<string>): Promise<Document[]> => {
  const documents: Document[] = [];
  for (const poolId of poolIds) {
    for (const collection of COLLECTIONS) {
      const listed = await store.list(collection, poolId);
      if (E.isLeft(listed)) throw new Error(listed.left.message);
      documents.push(...listed.right);
    }
  }
  return documents;
};

/** An event of a log as the projection sees it. */
export interface LoggedEvent {
  readonly poolId: string;
  readonly position: bigint;
  readonly timestamp: number;
  readonly event: Event;
}

/**
 * Fold a log through projectEvent, event by event, as stored and read back (encoded, JSON text,
 * decoded); the newest version of every document, and the model.
 */
export const foldLog = (log: Iterable<LoggedEvent>, options: ProjectionOptions = {}): { documents: Map<string, Document>; model: ProjectionModel } => {
  const model = emptyModel();
  const documents = new Map<string, Document>();
  for (const { poolId, position, timestamp, event } of log) {
    for (const document of projectEvent(model, poolId, position, timestamp, asStored(event, position), options)) documents.set(`${document.collection}/${document.id}`, document);
  }
  return { documents, model };
};

/** The same log folded whole, its documents built once at the end (as a catch-up builds them). */
export const foldLogAtOnce = (log: Iterable<LoggedEvent>, options: ProjectionOptions = {}): { documents: Map<string, Document>; model: ProjectionModel } => {
  const model = emptyModel();
  for (const { poolId, position, timestamp, event } of log) foldEvent(model, poolId, position, timestamp, asStored(event, position), options);
  return { documents: new Map(takeDocuments(model, options).map((d) => [`${d.collection}/${d.id}`, d])), model };
};

/**
 * A log as a store keeps it: each event sealed as the pool writer seals it (a trade's data text
 * written field by field, anything else encoded), its stored text parsed back as a store reads it.
 */
export function* storedLog(log: Iterable<LoggedEvent>): Generator<StoredEvent> {
  const heads = new Map<string, { readonly hash: string; readonly revision: bigint }>();
  for (const { poolId, position, timestamp, event } of log) {
    const head = heads.get(poolId) ?? { hash: GENESIS_HASH, revision: -1n };
    const commandId = `c${position}`;
    const metadata = { commandId, correlationId: commandId, causationId: commandId, timestamp, actor: 'digest' };
    const dataText = event.type === 'TradeExecuted' ? compactTradeText(event) : undefined;
    const record = dataText === undefined
      ? sealed(head.hash, { type: event.type, data: encodeEvent(event), metadata })
      : sealedText(head.hash, { type: event.type, dataText, data: () => encodeEvent(event), metadata });
    const parsed = parseStoredText(record.text, position);
    if (E.isLeft(parsed)) throw new Error(`event at ${position} does not parse: ${parsed.left.kind}`);
    const revision = head.revision + 1n;
    heads.set(poolId, { hash: record.hash, revision });
    yield { ...parsed.right, text: record.text, hash: record.hash, streamId: `pool-${poolId}`, revision, position };
  }
}

/** The same log replayed as the runner catches up: stored text, the runner's decoder and projectAll. */
export const foldStoredLog = (log: Iterable<LoggedEvent>, options: ProjectionOptions = {}): { documents: Map<string, Document>; model: ProjectionModel } => {
  const model = emptyModel();
  return { documents: projectAll(storedLog(log), model, options), model };
};

/** An event as read back from the log: encoded, JSON text, decoded. */
const asStored = (event: Event, position: bigint): Event => {
  const decoded = decodeEvent(JSON.parse(JSON.stringify(encodeEvent(event))));
  if (E.isLeft(decoded)) throw new Error(`event at ${position} does not decode: ${decoded.left.message}`);
  return decoded.right;
};
