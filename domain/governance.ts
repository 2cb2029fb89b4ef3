// Governance commands must be signed with ed25519 by at least `threshold` distinct governor keys
// over the canonical JSON of the command's wire form without its `signatures`: keys sorted at
// every level, no whitespace. Verification is deterministic (no clock, no randomness), so it is
// part of `decide`.

import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  encodeCommand, type AddTranche, type ChangeParameters, type Command, type CreatePool, type Governors, type ListMarket, type PayFromFund, type Recapitalize,
} from './commands.js';
import { domainError, type DomainError } from './errors.js';

export type GovernanceCommand = CreatePool | ListMarket | ChangeParameters | AddTranche | Recapitalize | PayFromFund;

export const isGovernanceCommand = (command: Command): command is GovernanceCommand =>
  command.type === 'CreatePool' || command.type === 'ListMarket' || command.type === 'ChangeParameters' ||
  command.type === 'AddTranche' || command.type === 'Recapitalize' || command.type === 'PayFromFund';

/**
 * JSON with object keys sorted at every level (by UTF-16 code units, as Array#sort does) and no
 * whitespace; fields whose value is undefined are left out, as JSON.stringify does.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
    return json;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
    first = false;
  }
  return `${out}}`;
};

/** The exact bytes governors sign: the command's canonical wire JSON without `signatures`. */
export const signingPayload = (command: GovernanceCommand): Buffer => {
  const { signatures: _signatures, ...unsigned } = encodeCommand(command) as Record<string, unknown>;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
};

const publicKeys = new Map<string, KeyObject>();
const publicKeyOf = (hex: string): KeyObject => {
  let key = publicKeys.get(hex);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
    publicKeys.set(hex, key);
  }
  return key;
};

/** Whether `signatureHex` is a valid ed25519 signature of `payload` by `publicKeyHex` (false for malformed input). */
export const signatureVerifies = (payload: Buffer, publicKeyHex: string, signatureHex: string): boolean => {
  try {
    return verify(null, payload, publicKeyOf(publicKeyHex), Buffer.from(signatureHex, 'hex'));
  } catch {
    // A malformed key is a failed verification, not a crash.
    return false;
  }
};

/**
 * Why the signatures of a governance command are not enough, or undefined when they are. Every
 * cheap check (count, duplicates, unknown signers) runs before the first verification, so a
 * request can cost at most one verification per governor key.
 */
export const signatureError = (command: GovernanceCommand, governors: Governors): DomainError | undefined => {
  const { signatures } = command;
  if (signatures.length === 0) {
    return domainError('MISSING_SIGNATURES', `${command.type} must be signed by ${governors.threshold} governor keys`, 'signatures');
  }
  if (signatures.length > governors.publicKeys.length) {
    return domainError('TOO_MANY_SIGNATURES', `${signatures.length} signatures for ${governors.publicKeys.length} governor keys`, 'signatures');
  }
  const signers = new Set<string>();
  for (const [i, { publicKey }] of signatures.entries()) {
    if (signers.has(publicKey)) return domainError('DUPLICATE_SIGNATURE', `key ${publicKey} signed more than once`, `signatures.${i}.publicKey`);
    if (!governors.publicKeys.includes(publicKey)) return domainError('UNKNOWN_SIGNER', `key ${publicKey} is not a governor of this pool`, `signatures.${i}.publicKey`);
    signers.add(publicKey);
  }
  const payload = signingPayload(command);
  for (const [i, { publicKey, signature }] of signatures.entries()) {
    if (!signatureVerifies(payload, publicKey, signature)) return domainError('INVALID_SIGNATURE', `the signature by ${publicKey} does not match the command`, `signatures.${i}.signature`);
  }
  if (signers.size < governors.threshold) {
    return domainError('INSUFFICIENT_SIGNATURES', `${signers.size} valid signatures, ${governors.threshold} required`, 'signatures');
  }
  return undefined;
};

/** Governance commands after the pool's creation: each takes the next governance sequence number. */
export type SequencedGovernanceCommand = Exclude<GovernanceCommand, CreatePool>;

/**
 * A governance command must take exactly the pool's next sequence number: one already taken is a
 * replay or a stale command, a later one is out of order.
 */
export const sequenceError = (command: SequencedGovernanceCommand, lastSeq: number): DomainError | undefined =>
  command.governanceSeq === lastSeq + 1
    ? undefined
    : domainError('GOVERNANCE_SEQUENCE_MISMATCH', `expected governance sequence ${lastSeq + 1}, got ${command.governanceSeq}`, 'governanceSeq');
