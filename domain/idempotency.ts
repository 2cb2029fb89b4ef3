// What makes a command id always get the same answer: a command's fingerprint (what it asked for,
// exactly), and the record of a refusal that the log keeps like any other fact.
//
// The fingerprint is the sha256 (hex) of the canonical JSON (governance.ts) of the command's wire
// form (encodeCommand). It is taken from the decoded command, so the same request written
// differently ("100" and "100.0", keys in another order, other whitespace) has one fingerprint,
// and any difference in what it asks for (an account, an amount, the type, a signature) gives
// another.

import { createHash } from 'node:crypto';
import { encodeCommand, SCHEMA_VERSION, type Command } from './commands.js';
import { domainError, type DomainError } from './errors.js';
import type { CommandRejected } from './events.js';
import { canonicalJson } from './governance.js';

export const commandFingerprint = (command: Command): string =>
  createHash('sha256').update(canonicalJson(encodeCommand(command)), 'utf8').digest('hex');

/** The event that records `decide`'s refusal of a command. */
export const commandRejected = (command: Command, fingerprint: string, error: DomainError): CommandRejected => ({
  type: 'CommandRejected',
  schemaVersion: SCHEMA_VERSION,
  commandType: command.type,
  fingerprint,
  error: error.field === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, field: error.field },
});

/** The refusal a recorded rejection stands for, as `decide` gave it. */
export const recordedError = (event: CommandRejected): DomainError => domainError(event.error.code, event.error.message, event.error.field);

/**
 * The answer to a command id used before by a command with another fingerprint. It names neither
 * fingerprint: the first command's could be used to test guesses of what it asked for.
 */
export const commandIdReused = (commandId: string, recordedWithoutFingerprint: boolean): DomainError =>
  domainError(
    'COMMAND_ID_REUSED',
    recordedWithoutFingerprint
      ? `command id "${commandId}" was used before by a command recorded without a fingerprint, so this one cannot be shown to be the same`
      : `command id "${commandId}" was used before by a different command`,
    'commandId',
  );
