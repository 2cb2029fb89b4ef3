// What makes a command id always get the same answer: a command's fingerprint (what it asked for,
// exactly), and the record of a refusal that the log keeps like any other fact.
//
// The fingerprint is the sha256 (hex) of the canonical JSON (governance.ts) of the command's wire
// form (encodeCommand). It is taken from the decoded command, so the same request written
// differently ("100" and "100.0", keys in another order, other whitespace) has one fingerprint,
// and any difference in what it asks for (an account, an amount, the type, a signature) gives
// another.
//
// The hot commands (trades, marks, deposits, withdrawals) are flat: ids, decimals and the schema
// version. Their canonical JSON is written directly from a fixed, sorted list of their fields,
// which gives the same text as encoding the command and canonicalizing it (so the same
// fingerprint); any command not exactly of that shape (a field of another kind, a string that
// would need escaping, an extra key) takes the reference path.

import { hash } from 'node:crypto';
import { encodeCommand, SCHEMA_VERSION, type Command } from './commands.js';
import { domainError, type DomainError } from './errors.js';
import type { CommandRejected } from './events.js';
import { canonicalJson } from './governance.js';
import { formatDecimal } from './money.js';

/** The reference canonical JSON of a command: its wire form, canonicalized. */
export const referenceCommandText = (command: Command): string => canonicalJson(encodeCommand(command));

/** A field of a flat command: a string (an id or an enum), a decimal, or the schema version. */
type FieldKind = 'string' | 'decimal' | 'version';

/** Each flat command's fields in canonical (UTF-16 sorted) order, with their kinds. */
const FLAT: Partial<Record<Command['type'], ReadonlyArray<readonly [string, FieldKind]>>> = {
  ExecuteTrade: [
    ['commandId', 'string'], ['maker', 'string'], ['marketId', 'string'], ['poolId', 'string'], ['price', 'decimal'],
    ['schemaVersion', 'version'], ['size', 'decimal'], ['taker', 'string'], ['takerSide', 'string'], ['tradeId', 'string'], ['type', 'string'],
  ],
  UpdateMarkPrice: [
    ['commandId', 'string'], ['marketId', 'string'], ['poolId', 'string'], ['price', 'decimal'], ['schemaVersion', 'version'], ['type', 'string'],
  ],
  Deposit: [
    ['accountId', 'string'], ['amount', 'decimal'], ['commandId', 'string'], ['poolId', 'string'], ['schemaVersion', 'version'], ['type', 'string'],
  ],
  Withdraw: [
    ['accountId', 'string'], ['amount', 'decimal'], ['commandId', 'string'], ['poolId', 'string'], ['schemaVersion', 'version'], ['type', 'string'],
  ],
};

/** Strings JSON writes as they are, between quotes (ids are far narrower than this). */
const PLAIN = /^[A-Za-z0-9_:.-]*$/;

/** The canonical JSON of a flat command, or undefined when it is not exactly of its type's flat shape. */
const flatCommandText = (command: Command): string | undefined => {
  const fields = FLAT[command.type];
  if (fields === undefined) return undefined;
  const record = command as unknown as Record<string, unknown>;
  let keys = 0;
  for (const key in record) if (Object.prototype.hasOwnProperty.call(record, key)) keys++;
  if (keys !== fields.length) return undefined;
  let out = '{';
  for (let i = 0; i < fields.length; i++) {
    const [key, kind] = fields[i]!;
    const value = record[key];
    let text: string;
    if (kind === 'string') {
      if (typeof value !== 'string' || !PLAIN.test(value)) return undefined;
      text = `"${value}"`;
    } else if (kind === 'decimal') {
      if (typeof value !== 'bigint') return undefined;
      text = `"${formatDecimal(value)}"`;
    } else {
      if (value !== SCHEMA_VERSION) return undefined;
      text = String(SCHEMA_VERSION);
    }
    out += `${i === 0 ? '' : ','}"${key}":${text}`;
  }
  return `${out}}`;
};

/** The canonical JSON the fingerprint covers (the flat shortcut where it applies; the same text either way). */
export const commandText = (command: Command): string => flatCommandText(command) ?? referenceCommandText(command);

export const commandFingerprint = (command: Command): string => hash('sha256', commandText(command), 'hex');

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
