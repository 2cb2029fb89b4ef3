// The outcome of one submitted command, as every intake (CLI, bus, HTTP) reports it.

import type { DomainError, Event, InvalidInput } from '../domain/index.js';
import { encodeEvent } from '../domain/index.js';

export interface InfrastructureError {
  /** STORE_UNAVAILABLE, WRITE_CONFLICT (gave up after retries) or CORRUPT_LOG. */
  readonly code: string;
  readonly message: string;
}

export type Outcome =
  | {
    readonly status: 'accepted';
    readonly commandId: string;
    readonly events: ReadonlyArray<Event>;
    /** The command had been handled before: these are its original events, nothing was appended. */
    readonly deduplicated?: true;
  }
  | { readonly status: 'rejected'; readonly commandId: string; readonly error: DomainError; readonly deduplicated?: true }
  | { readonly status: 'invalid'; readonly commandId?: string; readonly error: InvalidInput }
  | { readonly status: 'failed'; readonly commandId: string; readonly error: InfrastructureError };

/** Wire form of an outcome: events encoded with their codecs (decimal strings). */
export const encodeOutcome = (outcome: Outcome): unknown =>
  outcome.status === 'accepted' ? { ...outcome, events: outcome.events.map(encodeEvent) } : outcome;
