// Re-verifying a governance approval from the event alone (the audit): every governance event
// records the command exactly as it was signed. The approval holds when that command's signatures
// verify against the governor set in force just before the event (the pool's governors; for
// PoolCreated the root governors it records), when it is the command the event's metadata names,
// and when deciding it again on that state gives exactly this event (so the event's fields, and
// its governance sequence number, are what the governors signed).

import * as E from 'fp-ts/lib/Either.js';
import type { Governors } from './commands.js';
import { decide } from './decide.js';
import { encodeEvent, type Event } from './events.js';
import { canonicalJson, signatureError, type GovernanceCommand } from './governance.js';
import type { PoolState } from './state.js';

/** The events that record a governance approval (each carries the command exactly as signed). */
export type GovernanceEvent = Extract<Event, { readonly type: 'PoolCreated' | 'MarketListed' | 'ParametersChanged' | 'TrancheAdded' | 'Recapitalized' | 'FundPaidOut' }>;

export const isGovernanceEvent = (event: Event): event is GovernanceEvent => {
  switch (event.type) {
    case 'PoolCreated':
    case 'MarketListed':
    case 'ParametersChanged':
    case 'TrancheAdded':
    case 'Recapitalized':
    case 'FundPaidOut':
      return true;
    default:
      return false;
  }
};

const governanceCommandOf = (event: Event): GovernanceCommand | undefined => (isGovernanceEvent(event) ? event.signedCommand : undefined);

export const sameGovernors = (a: Governors, b: Governors): boolean =>
  a.threshold === b.threshold && a.publicKeys.length === b.publicKeys.length && [...a.publicKeys].sort().join() === [...b.publicKeys].sort().join();

/**
 * Why a governance event's recorded approval does not hold on the state before it, or undefined
 * when it does (and for events that need none). `expectedRoot`, when given, is the root governor
 * set a pool's creation must record.
 */
export const approvalProblem = (event: Event, before: PoolState, commandId: string, expectedRoot?: Governors): string | undefined => {
  const command = governanceCommandOf(event);
  if (command === undefined) return undefined;
  if (command.commandId !== commandId) return `${event.type} records signed command "${command.commandId}", but the event belongs to command "${commandId}"`;
  let governors: Governors;
  if (event.type === 'PoolCreated') {
    if (expectedRoot !== undefined && !sameGovernors(event.rootGovernors, expectedRoot)) {
      return `PoolCreated was approved by root governors ${canonicalJson(event.rootGovernors)}, not the expected ${canonicalJson(expectedRoot)}`;
    }
    governors = event.rootGovernors;
  } else {
    if (before.status !== 'active') return `${event.type} before the pool was created`;
    governors = before.governors;
  }
  const signatures = signatureError(command, governors);
  if (signatures !== undefined) return `${event.type} (command "${command.commandId}"): ${signatures.code} at ${signatures.field ?? 'signatures'}: ${signatures.message}`;
  const again = decide(command, before, { now: 0, actor: 'audit', rootGovernors: governors });
  if (E.isLeft(again)) return `${event.type} (command "${command.commandId}"): its signed command is refused when decided again: ${again.left.code}: ${again.left.message}`;
  const recorded = canonicalJson(encodeEvent(event));
  if (again.right.length !== 1 || canonicalJson(encodeEvent(again.right[0]!)) !== recorded) {
    return `${event.type} (command "${command.commandId}") is not the event its signed command gives`;
  }
  return undefined;
};
