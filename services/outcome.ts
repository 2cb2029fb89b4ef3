// The outcome of one submitted command, as every intake (CLI, bus, HTTP) reports it.

import type { DomainError, Event, InvalidInput } from '../domain/index.js';
import { encodeEvent } from '../domain/index.js';

export type Outcome =
  | { readonly status: 'accepted'; readonly commandId: string; readonly events: ReadonlyArray<Event> }
  | { readonly status: 'rejected'; readonly commandId: string; readonly error: DomainError }
  | { readonly status: 'invalid'; readonly commandId?: string; readonly error: InvalidInput };

/** Wire form of an outcome: events encoded with their codecs (decimal strings). */
export const encodeOutcome = (outcome: Outcome): unknown =>
  outcome.status === 'accepted' ? { ...outcome, events: outcome.events.map(encodeEvent) } : outcome;
