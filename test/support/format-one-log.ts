// A log in format 1 (the format before stored text), written the way earlier versions wrote it:
// an event id per event, and prevHash and hash inside the metadata, with
//   hash = sha256(prevHash + canonical JSON of {eventId, type, data, metadata without hash}).
// The rule is written out here on its own (not imported from the code that verifies it), so the
// tests check the verifier against an independent writer. No database is committed: the tests
// build one from the events of a log made by the current writer.

import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { canonicalJson } from '../../domain/index.js';
import type { StoredEvent } from '../../services/ledger/event-store.js';
import type { Checkpoint } from '../../services/ledger/checkpoints.js';
import { checkpointStream, encodeCheckpoint } from '../../services/ledger/checkpoints.js';

/** Format 1's event id: a UUID (version 5 layout) from the pool, the command id and the event's index. */
export const eventIdFor = (poolId: string, commandId: string, index: number): string => {
  const bytes = createHash('sha256').update(`${poolId}/${commandId}/${index}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const formatOneHash = (event: { eventId: string; type: string; data: unknown; metadata: Record<string, unknown> & { prevHash: string } }): string =>
  createHash('sha256').update(event.metadata.prevHash).update(canonicalJson(event)).digest('hex');

export interface FormatOneRow {
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown> & { readonly hash: string };
}

/** The pool events re-chained with the format-1 rule, as an earlier version would have stored them. */
export const formatOneRows = (poolId: string, events: ReadonlyArray<StoredEvent>): FormatOneRow[] => {
  let prevHash = '0'.repeat(64);
  const indexInCommand = new Map<string, number>();
  return events.map((event) => {
    const index = indexInCommand.get(event.metadata.commandId) ?? 0;
    indexInCommand.set(event.metadata.commandId, index + 1);
    const { commandId, correlationId, causationId, timestamp, actor, fingerprint } = event.metadata;
    const metadata = { commandId, correlationId, causationId, timestamp, actor, schemaVersion: 1, prevHash, ...(fingerprint === undefined ? {} : { fingerprint }) };
    const eventId = eventIdFor(poolId, commandId, index);
    const hash = formatOneHash({ eventId, type: event.type, data: event.data, metadata });
    prevHash = hash;
    return { streamId: event.streamId, revision: Number(event.revision), eventId, type: event.type, data: event.data, metadata: { ...metadata, hash } };
  });
};

/** A checkpoint as a format-1 event of the checkpoint stream. */
export const formatOneCheckpoint = (checkpoint: Checkpoint, revision: number): FormatOneRow => ({
  streamId: checkpointStream(checkpoint.poolId), revision, eventId: eventIdFor(checkpoint.poolId, `checkpoint@${checkpoint.revision}`, 0), type: 'Checkpoint',
  data: encodeCheckpoint(checkpoint),
  metadata: { commandId: `checkpoint@${checkpoint.revision}`, correlationId: 'x', causationId: 'x', timestamp: 0, actor: 'pool-writer', schemaVersion: 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64) },
});

/** Write a store file in format 1 (its schema, its rows). */
export const writeFormatOneStore = (file: string, rows: ReadonlyArray<FormatOneRow>): void => {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE events (
        position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, revision));
      CREATE TABLE commands (stream_id TEXT NOT NULL, command_id TEXT NOT NULL, first_revision INTEGER NOT NULL, count INTEGER NOT NULL,
        fingerprint TEXT, PRIMARY KEY (stream_id, command_id)) WITHOUT ROWID;
    `);
    const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const row of rows) insert.run(row.streamId, row.revision, row.eventId, row.type, JSON.stringify(row.data), JSON.stringify(row.metadata));
    })();
  } finally {
    db.close();
  }
};
