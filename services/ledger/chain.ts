// The log's integrity: the hash chain over stored text (docs/design.md section 6), and the event
// ids derived from it.
//   text = the event's stored text: canonical JSON of type, data and compact metadata
//          (stored-text.ts), written once, on append
//   hash = sha256(prevHash ‖ text), prevHash being the previous event's hash as 64 lowercase hex
//          digits (64 zeros before a stream's first event); one digest per event
// Verification hashes the text as stored: nothing is parsed or re-serialized to check a link.

import { hash as digest } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { EventMetadata, NewEvent, StoreError, StoredLink } from './event-store.js';
import { storedText, storedTextOf } from './stored-text.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The chain hash of an event's stored text after the event whose hash is `prevHash`. */
export const chainHash = (prevHash: string, text: string): string => digest('sha256', prevHash + text, 'hex');

/** Seal an event after `prevHash`: its stored text and its hash. */
export const sealed = (prevHash: string, event: { readonly type: string; readonly data: unknown; readonly metadata: EventMetadata }): NewEvent => {
  const text = storedText(event.type, event.data, event.metadata);
  return { type: event.type, data: event.data, metadata: event.metadata, text, hash: chainHash(prevHash, text) };
};

/**
 * Seal an event whose data's canonical JSON is already written (`dataText`, equal to
 * `canonicalText(data())`): the same text and hash as `sealed`. The encoded data is built only
 * if something reads it (a store that keeps more than the text).
 */
export const sealedText = (
  prevHash: string,
  event: { readonly type: string; readonly dataText: string; readonly data: () => unknown; readonly metadata: EventMetadata },
): NewEvent => {
  const text = storedTextOf(event.type, event.dataText, event.metadata);
  let data: unknown;
  let built = false;
  return {
    type: event.type,
    get data(): unknown {
      if (!built) {
        data = event.data();
        built = true;
      }
      return data;
    },
    metadata: event.metadata,
    text,
    hash: chainHash(prevHash, text),
  };
};

/**
 * A version-5-shaped UUID derived from an event's hash, for the stores and buses that want an
 * id per event (EventStoreDB's idempotent append, JetStream's duplicate window). The same events
 * appended again at the same revision have the same hashes, so the same ids; any other event
 * there has another.
 */
export const eventIdOf = (hash: string): string => {
  const hex = `${hash.slice(0, 12)}5${hash.slice(13, 16)}${((parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16)}${hash.slice(17, 32)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export type ChainBreak = {
  readonly position: bigint;
  readonly revision: bigint;
  readonly reason: 'prevHash does not match the previous event' | 'hash does not match the event';
};

/** Where a run of a stream's events starts: the hash and revision of the event before it. */
export interface ChainHead {
  readonly hash: string;
  /** -1n before a stream's first event; undefined when not known (the first event's revision is taken as it is). */
  readonly revision?: bigint;
}

/**
 * Check a run of one stream's events, in revision order, given the hash before the first (and
 * its revision, when known). Returns the first break, naming its position, or the hash after the
 * last event. A missing event (a revision skipped) breaks the link of the event after it; an
 * edited one, or one chained onto another event, does not hash to its hash.
 */
export const verifyChain = (events: Iterable<Omit<StoredLink, 'streamId'>>, previous: string | ChainHead = GENESIS_HASH): { readonly ok: true; readonly lastHash: string } | ({ readonly ok: false } & ChainBreak) => {
  let last = typeof previous === 'string' ? previous : previous.hash;
  let revision = typeof previous === 'string' ? (previous === GENESIS_HASH ? -1n : undefined) : previous.revision;
  for (const event of events) {
    if (revision !== undefined && event.revision !== revision + 1n) {
      return { ok: false, position: event.position, revision: event.revision, reason: 'prevHash does not match the previous event' };
    }
    if (chainHash(last, event.text) !== event.hash) return { ok: false, position: event.position, revision: event.revision, reason: 'hash does not match the event' };
    last = event.hash;
    revision = event.revision;
  }
  return { ok: true, lastHash: last };
};

/** A stream's place in its chain: its last event checked (revision, hash) and its first event's hash (the log's identity). */
export interface StreamHead {
  readonly streamId: string;
  readonly logId: string;
  readonly revision: bigint;
  readonly hash: string;
}

/**
 * The chains of the streams whose ids start with `prefix`, checked link by link in log order:
 * each event must have the next revision of its stream and hash to its hash after the one before
 * it. Others' links are passed over. The one check behind a projection's fold and a start's
 * verification, on whichever thread runs it.
 */
export class StreamChains {
  private readonly heads = new Map<string, { next: bigint; hash: string; readonly logId: string }>();

  constructor(readonly prefix: string, from: ReadonlyArray<StreamHead> = []) {
    for (const head of from) this.heads.set(head.streamId, { next: head.revision + 1n, hash: head.hash, logId: head.logId });
  }

  /** Check the next link: undefined when it holds, else why not. */
  check(link: StoredLink): string | undefined {
    if (!link.streamId.startsWith(this.prefix)) return undefined;
    const head = this.heads.get(link.streamId);
    const next = head?.next ?? 0n;
    if (link.revision !== next) return `expected revision ${next} (an event is missing)`;
    if (chainHash(head?.hash ?? GENESIS_HASH, link.text) !== link.hash) return 'hash does not match the event';
    if (head === undefined) this.heads.set(link.streamId, { next: 1n, hash: link.hash, logId: link.hash });
    else {
      head.next = next + 1n;
      head.hash = link.hash;
    }
    return undefined;
  }

  /** The streams seen so far. */
  streams(): string[] {
    return [...this.heads.keys()];
  }

  /** Each stream's last event checked. */
  headsAt(): StreamHead[] {
    return [...this.heads].map(([streamId, h]) => ({ streamId, logId: h.logId, revision: h.next - 1n, hash: h.hash }));
  }
}

/** What verifying the chains up to a position found. */
export type ChainsAt =
  | { readonly kind: 'verified'; readonly heads: ReadonlyArray<StreamHead> }
  | { readonly kind: 'broken'; readonly streamId: string; readonly position: bigint; readonly revision: bigint; readonly reason: string }
  /** The log does not hold that position (truncated, or another log). */
  | { readonly kind: 'missing'; readonly reason: string };

/** A page of links after a position, in log order (the text of streams outside the prefix may be left out). */
export type LinkReader = (after: bigint | 'start', maxCount: number) => Promise<E.Either<StoreError, ReadonlyArray<StoredLink>>>;

/**
 * Verify the chains of the streams under `prefix` from their first events up to `position`
 * (which must be in the log) by hashing the stored text as read, nothing parsed.
 */
export const verifyChainsTo = async (read: LinkReader, prefix: string, position: bigint, pageSize = 10_000): Promise<E.Either<StoreError, ChainsAt>> => {
  const chains = new StreamChains(prefix);
  let last: bigint | undefined;
  for (let after: bigint | 'start' = 'start'; ;) {
    const page = await read(after, pageSize);
    if (E.isLeft(page)) return page;
    for (const link of page.right) {
      if (link.position > position) break;
      const broken = chains.check(link);
      if (broken !== undefined) return E.right({ kind: 'broken', streamId: link.streamId, position: link.position, revision: link.revision, reason: broken });
      last = link.position;
    }
    const end = page.right[page.right.length - 1]?.position;
    if (end === undefined || end >= position) {
      if (last === position) return E.right({ kind: 'verified', heads: chains.headsAt() });
      return E.right({ kind: 'missing', reason: end === undefined ? `the log ends at position ${String(last ?? 0)}, before the checkpoint's position ${position}` : `the log has no event at position ${position}` });
    }
    after = end;
  }
};
