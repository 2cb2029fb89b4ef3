// The log format before stored text (format 1), kept only to verify an old log before it is
// migrated (`ledger migrate`): each event had an id, and its metadata held prevHash and
//   hash = sha256(prevHash + canonical JSON of {eventId, type, data, metadata without hash}).

import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { canonicalJson } from '../../domain/governance.js';
import { decodeWith, integerIn } from '../../domain/index.js';
import { Hash, type EventMetadata } from './event-store.js';

/** Format-1 metadata, as stored in an old log. */
export const FormatOneMetadataCodec = t.intersection([
  t.type({
    commandId: t.string,
    correlationId: t.string,
    causationId: t.string,
    timestamp: integerIn('Timestamp', 0, 8_640_000_000_000_000),
    actor: t.string,
    schemaVersion: integerIn('SchemaVersion', 1, 1_000),
    prevHash: Hash,
    hash: Hash,
  }),
  t.partial({ fingerprint: Hash }),
], 'FormatOneMetadata');
export type FormatOneMetadata = t.TypeOf<typeof FormatOneMetadataCodec>;

/** A format-1 event as read from an old log. */
export interface FormatOneEvent {
  readonly position: bigint;
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: FormatOneMetadata;
}

export const decodeFormatOneMetadata = (raw: unknown): E.Either<string, FormatOneMetadata> =>
  E.mapLeft((error: { readonly message: string }) => error.message)(decodeWith(FormatOneMetadataCodec)(raw));

/** The format-1 hash of an event. */
export const formatOneHash = (event: FormatOneEvent): string => {
  const { hash: _hash, ...unhashed } = event.metadata;
  return createHash('sha256')
    .update(event.metadata.prevHash)
    .update(canonicalJson({ eventId: event.eventId, type: event.type, data: event.data, metadata: unhashed }))
    .digest('hex');
};

/** Why an event does not follow `previous` in its stream's format-1 chain, or undefined. */
export const formatOneBreak = (previous: { readonly revision: bigint; readonly hash: string }, event: FormatOneEvent): string | undefined => {
  if (event.revision !== previous.revision + 1n || event.metadata.prevHash !== previous.hash) return 'prevHash does not match the previous event';
  if (formatOneHash(event) !== event.metadata.hash) return 'hash does not match the event';
  return undefined;
};

/** The metadata a format-1 event carries forward (its hashes are the old chain's, not kept). */
export const carriedMetadata = (m: FormatOneMetadata): EventMetadata => ({
  commandId: m.commandId, correlationId: m.correlationId, causationId: m.causationId, timestamp: m.timestamp, actor: m.actor,
  ...(m.fingerprint === undefined ? {} : { fingerprint: m.fingerprint }),
});
