// Signed checkpoints: the service's own ed25519 key signs `(log identity, pool, revision, chain
// hash, time)` of a pool's log, so that anyone who keeps the checkpoints can later show that the
// log still holds each one. An insider who edits an event and recomputes every later hash, or
// who deletes the tail, changes the hash at a revision someone holds a signed checkpoint for.
//
// - The log identity is the hash of the pool's first event: fixed when the pool is created, and
//   computable by anyone who has the log.
// - The signed bytes are the canonical JSON of the fields with a `kind` tag ('checkpoint' or
//   'snapshot'), so a signature for one can never pass for the other.
// - A read-model checkpoint (projections/fold-checkpoint.ts) is sealed the same way, with the
//   tag 'read-models', over its position, each pool's chain hash there and its content hash.
// - Checkpoints are kept in the event store (stream `checkpoint-pool-<poolId>`), published over
//   HTTP and, with NATS, on `ledger.<poolId>.ckpt.<revision>`.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { canonicalJson, decodeWith, Id, PublicKeyHex, Sha256Hex, SignatureHex, signatureVerifies, strictObject, type InvalidInput } from '../../domain/index.js';
import { logIndex } from './event-store.js';

export const checkpointStream = (poolId: string): string => `checkpoint-pool-${poolId}`;
export const CHECKPOINT_TYPE = 'Checkpoint';

/** A signed checkpoint, as stored and published (revision as a decimal string, time ISO 8601). */
export interface Checkpoint {
  readonly logId: string;
  readonly poolId: string;
  readonly revision: bigint;
  readonly hash: string;
  readonly time: string;
  readonly publicKey: string;
  readonly signature: string;
}

const IsoTime = new t.Type<string, string, unknown>('IsoTime', (u): u is string => typeof u === 'string',
  (u, c) => (typeof u === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(u) && !Number.isNaN(Date.parse(u)) ? t.success(u) : t.failure(u, c, 'expected an ISO 8601 UTC time')), t.identity);

export const CheckpointCodec: t.Type<Checkpoint, unknown, unknown> = strictObject({
  logId: Sha256Hex, poolId: Id, revision: logIndex('Revision'), hash: Sha256Hex, time: IsoTime, publicKey: PublicKeyHex, signature: SignatureHex,
}, 'Checkpoint') as unknown as t.Type<Checkpoint, unknown, unknown>;

export const encodeCheckpoint = (checkpoint: Checkpoint) => ({ ...checkpoint, revision: checkpoint.revision.toString() });

/** The bytes a checkpoint's signature covers. */
export const checkpointPayload = (c: Omit<Checkpoint, 'signature' | 'publicKey'>): Buffer =>
  Buffer.from(canonicalJson({ kind: 'checkpoint', logId: c.logId, poolId: c.poolId, revision: c.revision.toString(), hash: c.hash, time: c.time }), 'utf8');

/** What a snapshot's signature covers: where it stands in the chain and the hash of its content. */
export interface SnapshotSeal {
  readonly logId: string;
  readonly poolId: string;
  readonly revision: bigint;
  readonly hash: string;
  readonly contentHash: string;
}

export const snapshotPayload = (s: SnapshotSeal): Buffer =>
  Buffer.from(canonicalJson({ kind: 'snapshot', logId: s.logId, poolId: s.poolId, revision: s.revision.toString(), hash: s.hash, contentHash: s.contentHash }), 'utf8');

/**
 * What a read-model checkpoint's signature covers: the log position its fold state stands at, each
 * pool's place in its chain there (log identity, revision, hash), and the hash of its content.
 */
export interface ReadModelSeal {
  readonly position: bigint;
  readonly pools: ReadonlyArray<{ readonly poolId: string; readonly logId: string; readonly revision: bigint; readonly hash: string }>;
  readonly contentHash: string;
}

export const readModelPayload = (s: ReadModelSeal): Buffer =>
  Buffer.from(canonicalJson({
    kind: 'read-models', position: s.position.toString(), contentHash: s.contentHash,
    pools: s.pools.map((p) => ({ poolId: p.poolId, logId: p.logId, revision: p.revision.toString(), hash: p.hash })),
  }), 'utf8');

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The service's signing key: the private half never leaves this object (and is never logged). */
export class CheckpointSigner {
  readonly publicKey: string;
  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex');
  }

  static fromPem(pem: string): CheckpointSigner {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint key is not an ed25519 key');
    return new CheckpointSigner(key);
  }

  /** A fresh key (tests). */
  static generate(): CheckpointSigner {
    return new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
  }

  checkpoint(fields: Omit<Checkpoint, 'signature' | 'publicKey'>): Checkpoint {
    return { ...fields, publicKey: this.publicKey, signature: sign(null, checkpointPayload(fields), this.privateKey).toString('hex') };
  }

  sealSnapshot(seal: SnapshotSeal): { readonly publicKey: string; readonly signature: string } {
    return { publicKey: this.publicKey, signature: sign(null, snapshotPayload(seal), this.privateKey).toString('hex') };
  }

  sealReadModels(seal: ReadModelSeal): { readonly publicKey: string; readonly signature: string } {
    return { publicKey: this.publicKey, signature: sign(null, readModelPayload(seal), this.privateKey).toString('hex') };
  }

  /** The public key as PEM (SPKI), for people and tools that want one. */
  publicKeyPem(): string {
    return createPublicKey(this.privateKey).export({ format: 'pem', type: 'spki' }).toString();
  }
}

export const DEFAULT_KEY_FILE = 'checkpoint-key.pem';

/**
 * The service's checkpoint key: the file named by CHECKPOINT_KEY_FILE (it must exist), or
 * `<dataDir>/checkpoint-key.pem`, created on first start readable by its owner only.
 */
export const loadOrCreateSigner = (dataDir: string, keyFile: string | undefined): { readonly signer: CheckpointSigner; readonly path: string; readonly created: boolean } => {
  const path = keyFile ?? `${dataDir}/${DEFAULT_KEY_FILE}`;
  if (keyFile === undefined && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return { signer: CheckpointSigner.fromPem(pem), path, created: true };
  }
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the checkpoint key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return { signer: CheckpointSigner.fromPem(pem), path, created: false };
  } catch {
    // The message of a failed key parse could quote the key: name the file only.
    throw new Error(`the checkpoint key ${path} is not a PKCS#8 PEM ed25519 private key`);
  }
};

/** Whether the checkpoint is signed by `publicKey` (hex) and the signature matches it. */
export const checkpointSignedBy = (checkpoint: Checkpoint, publicKey: string): boolean =>
  checkpoint.publicKey === publicKey && signatureVerifies(checkpointPayload(checkpoint), publicKey, checkpoint.signature);

/** A public key given as 64 hex digits or an SPKI PEM, as hex. */
export const publicKeyHexOf = (text: string): E.Either<string, string> => {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/.test(trimmed)) return E.right(trimmed);
  try {
    const key = createPublicKey(trimmed);
    if (key.asymmetricKeyType !== 'ed25519') return E.left('not an ed25519 public key');
    return E.right(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex'));
  } catch {
    return E.left('expected an ed25519 public key: 64 hex digits or a PEM (SPKI)');
  }
};

/**
 * Checkpoints from a text: a JSON array (the HTTP route's answer), or JSON lines (one checkpoint
 * per line, as an auditor collects them). Each is decoded; an error names the line or index.
 */
export const parseCheckpoints = (text: string): E.Either<InvalidInput | Error, Checkpoint[]> => {
  const trimmed = text.trim();
  let items: { readonly where: string; readonly value: unknown }[];
  try {
    if (trimmed.startsWith('[')) items = (JSON.parse(trimmed) as unknown[]).map((value, i) => ({ where: `[${i}]`, value }));
    else items = trimmed.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [{ where: `line ${i + 1}`, value: JSON.parse(line) as unknown }]));
  } catch (error) {
    return E.left(new Error(`checkpoints: not JSON or JSON lines: ${(error as Error).message}`));
  }
  const checkpoints: Checkpoint[] = [];
  for (const { where, value } of items) {
    const decoded = decodeWith(CheckpointCodec)(value);
    if (E.isLeft(decoded)) return E.left({ ...decoded.left, message: `checkpoint at ${where}: ${decoded.left.message}` });
    checkpoints.push(decoded.right);
  }
  return E.right(checkpoints);
};
