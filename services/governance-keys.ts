// Key generation and signing for governance producers and tests. Signing is deterministic for
// ed25519; key generation needs randomness, which is why this lives outside the domain.

import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  checkGovernors, decodeWith, Governors, invalidInput, parseJson, PublicKeyHex, strictObject, signingPayload, type GovernanceCommand, type InvalidInput,
} from '../domain/index.js';

export interface GovernorKey {
  /** Raw 32-byte public key, hex: what goes into `governors.publicKeys`. */
  readonly publicKey: string;
  /** PKCS#8 PEM private key: keep it secret. */
  readonly privateKeyPem: string;
}

export const generateGovernorKey = (): GovernorKey => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    publicKey: Buffer.from(jwk.x ?? '', 'base64url').toString('hex'),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
};

const privateKeyOf = (key: GovernorKey): KeyObject => createPrivateKey(key.privateKeyPem);

/** The command with one signature added per key (keys that already signed are skipped). */
export const signCommand = <C extends GovernanceCommand>(command: C, ...keys: ReadonlyArray<GovernorKey>): C => {
  const payload = signingPayload(command);
  const signatures = [...command.signatures];
  for (const key of keys) {
    if (signatures.some((s) => s.publicKey === key.publicKey)) continue;
    signatures.push({ publicKey: key.publicKey, signature: sign(null, payload, privateKeyOf(key)).toString('hex') });
  }
  return { ...command, signatures };
};

/** The JSON key file `ledger keygen` writes. */
export const GovernorKeyFile = strictObject({ publicKey: PublicKeyHex, privateKeyPem: t.string }, 'GovernorKeyFile');

/** Read and decode a key file, checking that its private key is an ed25519 key for its public key. */
export const readGovernorKey = (path: string): E.Either<InvalidInput | Error, GovernorKey> => {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return E.left(new Error(`cannot read key file ${path}: ${(error as Error).message}`));
  }
  const decoded = decodeWith(GovernorKeyFile)(json);
  if (E.isLeft(decoded)) return decoded;
  try {
    const privateKey = createPrivateKey(decoded.right.privateKeyPem);
    const publicKey = Buffer.from(privateKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex');
    if (privateKey.asymmetricKeyType !== 'ed25519' || publicKey !== decoded.right.publicKey) {
      return E.left(new Error(`key file ${path}: the private key is not the ed25519 key of ${decoded.right.publicKey}`));
    }
  } catch (error) {
    return E.left(new Error(`key file ${path}: ${(error as Error).message}`));
  }
  return E.right(decoded.right);
};

/**
 * Read and decode a governor set file ({"publicKeys": [hex...], "threshold": n}): the deployment's
 * root governors. A bad file is an error naming the field.
 */
export const readGovernorsFile = (path: string): E.Either<InvalidInput | Error, Governors> => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return E.left(new Error(`cannot read governors file ${path}: ${(error as Error).message}`));
  }
  const decoded = E.chain(decodeWith(Governors))(parseJson(text));
  if (E.isLeft(decoded)) return decoded;
  const unusable = checkGovernors(decoded.right, '');
  if (unusable !== undefined) return E.left(invalidInput([{ path: unusable.field?.replace(/^\./, '') ?? '(root)', message: unusable.message }]));
  return decoded;
};
