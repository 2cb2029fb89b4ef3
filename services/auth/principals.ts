// The principals file: every producer, reader and operator that may talk to the ledger, with its
// roles, its pools, the hash of its HTTP bearer token and its NATS identity. Decoded like any
// other input (a bad entry stops the start, naming it); written only with owner-only permissions.
// Tokens are 32 random bytes: their sha256 is stored, never the token, and it is shown once.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith, Id, parseJson, Role, strictObject, type Grant, type InvalidInput } from '../../domain/index.js';

const PRINCIPAL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A principal's id: it appears in NATS subjects and event metadata, so no `.`, `*`, `>` or spaces. */
export const PrincipalId = new t.Type<string, string, unknown>('PrincipalId', (u): u is string => typeof u === 'string' && PRINCIPAL_ID.test(u),
  (u, c) => (typeof u === 'string' && PRINCIPAL_ID.test(u) ? t.success(u) : t.failure(u, c, "expected a principal id (1-64 of letters, digits, '_', '-', starting with a letter or digit)")),
  t.identity);

const Sha256Hex = new t.Type<string, string, unknown>('Sha256Hex', (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[0-9a-f]{64}$/.test(u) ? t.success(u) : t.failure(u, c, 'expected a sha256 hash (64 lowercase hex digits)')),
  t.identity);

/** A pool a principal may act on: a pool id, or `*` for every pool. */
export const PoolGrant = t.union([t.literal('*'), Id], 'PoolGrant');

export const Principal = strictObject({
  id: PrincipalId,
  roles: t.array(Role, 'Roles'),
  /** Pool ids, or `*` for every pool. */
  pools: t.array(PoolGrant, 'Pools'),
}, 'Principal', {
  /** sha256 (hex) of the HTTP bearer token; without it the principal cannot use HTTP. */
  tokenSha256: Sha256Hex,
  /** The NATS user this principal connects as; without it the principal cannot use NATS. */
  nats: strictObject({ user: PrincipalId }, 'NatsIdentity'),
  description: t.string,
});
export type Principal = t.TypeOf<typeof Principal>;

export const PrincipalsFile = strictObject({
  version: t.literal(1),
  principals: t.array(Principal, 'Principals'),
}, 'PrincipalsFile');
export type PrincipalsFile = t.TypeOf<typeof PrincipalsFile>;

const problem = (path: string, message: string): InvalidInput => ({ code: 'INVALID_INPUT', message: `${path}: ${message}`, errors: [{ path, message }] });

/** Decode a principals file's content, refusing entries that would make access ambiguous. */
export const decodePrincipals = (json: unknown): E.Either<InvalidInput, PrincipalsFile> => {
  const decoded = decodeWith(PrincipalsFile)(json);
  if (E.isLeft(decoded)) return decoded;
  const ids = new Set<string>();
  const tokens = new Set<string>();
  const natsUsers = new Set<string>();
  for (const [i, p] of decoded.right.principals.entries()) {
    const at = `principals.${i}`;
    if (ids.has(p.id)) return E.left(problem(`${at}.id`, `principal "${p.id}" appears twice`));
    ids.add(p.id);
    if (p.roles.length === 0) return E.left(problem(`${at}.roles`, 'a principal needs at least one role'));
    if (p.pools.length === 0) return E.left(problem(`${at}.pools`, 'a principal needs at least one pool (or "*")'));
    if (p.tokenSha256 !== undefined) {
      if (tokens.has(p.tokenSha256)) return E.left(problem(`${at}.tokenSha256`, 'two principals share a token'));
      tokens.add(p.tokenSha256);
    }
    if (p.nats !== undefined) {
      if (natsUsers.has(p.nats.user)) return E.left(problem(`${at}.nats.user`, `NATS user "${p.nats.user}" belongs to two principals`));
      natsUsers.add(p.nats.user);
    }
  }
  return decoded;
};

/** Read and decode a principals file; an error names the file and the bad field. */
export const readPrincipals = (path: string): E.Either<Error, PrincipalsFile> => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return E.left(new Error(`cannot read principals file ${path}: ${(error as Error).message}`));
  }
  const decoded = E.flatMap(parseJson(text), decodePrincipals);
  return E.mapLeft((error: InvalidInput) => new Error(`principals file ${path}: ${error.message}`))(decoded);
};

/** Write a file readable and writable by its owner only, replacing it atomically. */
export const writeOwnerOnly = (path: string, content: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  // The mode given to writeFileSync is masked by the umask; make sure.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
};

export const writePrincipals = (path: string, file: PrincipalsFile): void =>
  writeOwnerOnly(path, `${JSON.stringify(PrincipalsFile.encode(file), null, 2)}\n`);

// ---------------------------------------------------------------------------------------------
// Tokens

/** A new bearer token: 32 random bytes, base64url, with a prefix that makes it easy to spot in a leak scan. */
export const newToken = (): string => `lgr_${randomBytes(32).toString('base64url')}`;

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * The principal a bearer token belongs to, or undefined. The presented token's hash is compared
 * with every principal's in constant time, without stopping at the first match, so the time taken
 * says nothing about which hash (or how much of one) matched.
 */
export const principalForToken = (file: PrincipalsFile, token: string): Principal | undefined => {
  const presented = Buffer.from(tokenHash(token), 'hex');
  let found: Principal | undefined;
  for (const principal of file.principals) {
    if (principal.tokenSha256 === undefined) continue;
    if (timingSafeEqual(presented, Buffer.from(principal.tokenSha256, 'hex')) && found === undefined) found = principal;
  }
  return found;
};

/** The access grant of a principal (what `authorize` needs). */
export const grantOf = (principal: Principal): Grant => ({ id: principal.id, roles: principal.roles, pools: principal.pools });

// ---------------------------------------------------------------------------------------------
// Set-up

export const PRINCIPALS_FILE_NAME = 'principals.json';
export const OPERATOR_TOKEN_FILE_NAME = 'operator.token';
export const BOOTSTRAP_OPERATOR = 'operator';

export interface Bootstrap {
  readonly principalsPath: string;
  /** Set when this call created the file: where the bootstrap operator's token was written. */
  readonly operatorTokenPath?: string;
}

/**
 * The principals file to use: the configured one (which must exist), or `DATA_DIR/principals.json`,
 * created on the first start with one bootstrap operator whose token goes to
 * `DATA_DIR/operator.token`, readable by its owner only.
 */
export const ensurePrincipals = (dataDir: string, configured?: string): E.Either<Error, Bootstrap> => {
  if (configured !== undefined) {
    return existsSync(configured) ? E.right({ principalsPath: configured }) : E.left(new Error(`PRINCIPALS_FILE ${configured} does not exist`));
  }
  const principalsPath = join(dataDir, PRINCIPALS_FILE_NAME);
  if (existsSync(principalsPath)) return E.right({ principalsPath });
  const token = newToken();
  const operatorTokenPath = join(dataDir, OPERATOR_TOKEN_FILE_NAME);
  writeOwnerOnly(operatorTokenPath, `${token}\n`);
  writePrincipals(principalsPath, {
    version: 1,
    principals: [{ id: BOOTSTRAP_OPERATOR, roles: ['operator'], pools: ['*'], tokenSha256: tokenHash(token), description: 'created on the first start' }],
  });
  return E.right({ principalsPath, operatorTokenPath });
};

export interface NewPrincipal {
  readonly id: string;
  readonly roles: ReadonlyArray<t.TypeOf<typeof Role>>;
  readonly pools: ReadonlyArray<string>;
  readonly natsUser?: string;
  readonly description?: string;
}

/** The file with the principal added and a fresh token for it (shown once, stored as a hash). */
export const addPrincipal = (file: PrincipalsFile, spec: NewPrincipal): E.Either<InvalidInput, { readonly file: PrincipalsFile; readonly token: string }> => {
  const token = newToken();
  const candidate = {
    version: 1,
    principals: [
      ...PrincipalsFile.encode(file).principals,
      {
        id: spec.id, roles: [...spec.roles], pools: [...spec.pools], tokenSha256: tokenHash(token),
        ...(spec.natsUser === undefined ? {} : { nats: { user: spec.natsUser } }),
        ...(spec.description === undefined ? {} : { description: spec.description }),
      },
    ],
  };
  return E.map((decoded: PrincipalsFile) => ({ file: decoded, token }))(decodePrincipals(candidate));
};

/** The file without the principal, or undefined when there is no such principal. */
export const removePrincipal = (file: PrincipalsFile, id: string): PrincipalsFile | undefined =>
  file.principals.some((p) => p.id === id) ? { ...file, principals: file.principals.filter((p) => p.id !== id) } : undefined;
