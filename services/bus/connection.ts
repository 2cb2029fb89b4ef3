// How the service and the producer client connect to NATS: credentials (user and password, a
// token, an nkey seed file or a creds file), TLS (a CA, a client certificate and key) and the
// inbox prefix the server's permissions allow. Secrets are best given as files; they are read at
// connect time and never kept in anything that is logged.

import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import { decodeWith, invalidInput, type InvalidInput } from '../../domain/index.js';

/** A secret given inline, or (better) as the path of a file that holds it. */
export type Secret = { readonly file: string } | { readonly value: string };

export type NatsAuth =
  | { readonly kind: 'user'; readonly user: string; readonly password: Secret }
  | { readonly kind: 'token'; readonly token: Secret }
  | { readonly kind: 'nkey'; readonly seedFile: string }
  | { readonly kind: 'creds'; readonly credsFile: string };

export interface NatsTls {
  /** The CA that signed the server's certificate (otherwise the system's CAs). */
  readonly caFile?: string;
  /** A client certificate and its key, for servers that verify clients. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface NatsIdentity {
  readonly auth?: NatsAuth;
  readonly tls?: NatsTls;
  /** Where replies (PubAcks, direct gets, pulled messages) come: the server allows only its own. */
  readonly inboxPrefix?: string;
}

/** The service's inbox prefix unless NATS_INBOX_PREFIX says otherwise. */
export const LEDGER_INBOX_PREFIX = '_INBOX_ledger';
/** A principal's inbox prefix: the shipped server configuration lets it subscribe only there. */
export const inboxPrefixOf = (principalId: string): string => `_INBOX_${principalId}`;

const reveal = (secret: Secret): string => ('file' in secret ? readFileSync(secret.file, 'utf8').trim() : secret.value);

/** The nats.js options for an identity; reads the secret files now. */
export const connectionOptions = (identity: NatsIdentity): ConnectionOptions => {
  const auth = identity.auth;
  const credentials: ConnectionOptions = (() => {
    if (auth === undefined) return {};
    switch (auth.kind) {
      case 'user':
        return { user: auth.user, pass: reveal(auth.password) };
      case 'token':
        return { token: reveal(auth.token) };
      case 'nkey':
        return { authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(auth.seedFile, 'utf8').trim())) };
      case 'creds':
        return { authenticator: credsAuthenticator(readFileSync(auth.credsFile)) };
      default: {
        const unreachable: never = auth;
        return unreachable;
      }
    }
  })();
  const tls = identity.tls === undefined ? {} : {
    tls: {
      ...(identity.tls.caFile === undefined ? {} : { caFile: identity.tls.caFile }),
      ...(identity.tls.certFile === undefined ? {} : { certFile: identity.tls.certFile }),
      ...(identity.tls.keyFile === undefined ? {} : { keyFile: identity.tls.keyFile }),
    },
  };
  return { ...credentials, ...tls, ...(identity.inboxPrefix === undefined ? {} : { inboxPrefix: identity.inboxPrefix }) };
};

/** Servers as logged: any user:password@ in a URL replaced. */
export const redactedServers = (servers: string): string => servers.replace(/\/\/[^@/,]*@/g, '//***@');

// ---------------------------------------------------------------------------------------------
// From the environment

const NonEmpty = (name: string, expected: string) => new t.Type<string, string, unknown>(name, (u): u is string => typeof u === 'string' && u !== '',
  (u, c) => (typeof u === 'string' && u.trim() !== '' ? t.success(u) : t.failure(u, c, expected)), t.identity);
const Path = NonEmpty('Path', 'expected a file path');
const Subject = new t.Type<string, string, unknown>('InboxPrefix', (u): u is string => typeof u === 'string',
  (u, c) => (typeof u === 'string' && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(u) ? t.success(u) : t.failure(u, c, 'expected a subject prefix without wildcards, e.g. _INBOX_ledger')), t.identity);

export const NATS_VARIABLES = [
  'NATS_USER', 'NATS_PASSWORD', 'NATS_PASSWORD_FILE', 'NATS_TOKEN', 'NATS_TOKEN_FILE', 'NATS_NKEY_SEED_FILE', 'NATS_CREDS_FILE',
  'NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE', 'NATS_INBOX_PREFIX',
] as const;

const NatsEnvironment = t.partial({
  NATS_USER: NonEmpty('NatsUser', 'expected a NATS user name'),
  NATS_PASSWORD: NonEmpty('Secret', 'expected a non-empty password'),
  NATS_PASSWORD_FILE: Path,
  NATS_TOKEN: NonEmpty('Secret', 'expected a non-empty token'),
  NATS_TOKEN_FILE: Path,
  NATS_NKEY_SEED_FILE: Path,
  NATS_CREDS_FILE: Path,
  NATS_TLS_CA_FILE: Path,
  NATS_TLS_CERT_FILE: Path,
  NATS_TLS_KEY_FILE: Path,
  NATS_INBOX_PREFIX: Subject,
});

const problem = (path: string, message: string): E.Either<InvalidInput, never> => E.left(invalidInput([{ path, message }]));

/**
 * The service's NATS identity from its variables: at most one way of authenticating (user with
 * NATS_PASSWORD or NATS_PASSWORD_FILE, NATS_TOKEN(_FILE), NATS_NKEY_SEED_FILE or NATS_CREDS_FILE),
 * TLS files, and the inbox prefix (default _INBOX_ledger). Errors name the variable, never a value.
 */
export const natsIdentityFrom = (env: Readonly<Record<string, string | undefined>>): E.Either<InvalidInput, NatsIdentity> => {
  const relevant = Object.fromEntries(NATS_VARIABLES.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]]])));
  const decoded = decodeWith(NatsEnvironment)(relevant);
  if (E.isLeft(decoded)) {
    // A secret's value must not travel in an error message.
    return E.left(invalidInput(decoded.left.errors.map((e) => ({ path: e.path, message: /PASSWORD|TOKEN/.test(e.path) ? 'expected a non-empty value' : e.message }))));
  }
  const v = decoded.right;
  if (v.NATS_PASSWORD !== undefined && v.NATS_PASSWORD_FILE !== undefined) return problem('NATS_PASSWORD_FILE', 'give NATS_PASSWORD or NATS_PASSWORD_FILE, not both');
  if (v.NATS_TOKEN !== undefined && v.NATS_TOKEN_FILE !== undefined) return problem('NATS_TOKEN_FILE', 'give NATS_TOKEN or NATS_TOKEN_FILE, not both');
  const password: Secret | undefined = v.NATS_PASSWORD_FILE !== undefined ? { file: v.NATS_PASSWORD_FILE } : v.NATS_PASSWORD !== undefined ? { value: v.NATS_PASSWORD } : undefined;
  const token: Secret | undefined = v.NATS_TOKEN_FILE !== undefined ? { file: v.NATS_TOKEN_FILE } : v.NATS_TOKEN !== undefined ? { value: v.NATS_TOKEN } : undefined;
  if ((v.NATS_USER === undefined) !== (password === undefined)) {
    return problem(v.NATS_USER === undefined ? 'NATS_USER' : 'NATS_PASSWORD_FILE', 'NATS_USER and a password (NATS_PASSWORD_FILE or NATS_PASSWORD) go together');
  }
  const methods: NatsAuth[] = [
    ...(v.NATS_USER !== undefined && password !== undefined ? [{ kind: 'user' as const, user: v.NATS_USER, password }] : []),
    ...(token === undefined ? [] : [{ kind: 'token' as const, token }]),
    ...(v.NATS_NKEY_SEED_FILE === undefined ? [] : [{ kind: 'nkey' as const, seedFile: v.NATS_NKEY_SEED_FILE }]),
    ...(v.NATS_CREDS_FILE === undefined ? [] : [{ kind: 'creds' as const, credsFile: v.NATS_CREDS_FILE }]),
  ];
  if (methods.length > 1) return problem('NATS_USER', 'give one way of authenticating: user and password, token, nkey seed file or creds file');
  if ((v.NATS_TLS_CERT_FILE === undefined) !== (v.NATS_TLS_KEY_FILE === undefined)) {
    return problem(v.NATS_TLS_CERT_FILE === undefined ? 'NATS_TLS_CERT_FILE' : 'NATS_TLS_KEY_FILE', 'a client certificate and its key go together');
  }
  const tlsGiven = v.NATS_TLS_CA_FILE !== undefined || v.NATS_TLS_CERT_FILE !== undefined;
  return E.right({
    ...(methods[0] === undefined ? {} : { auth: methods[0] }),
    ...(tlsGiven ? {
      tls: {
        ...(v.NATS_TLS_CA_FILE === undefined ? {} : { caFile: v.NATS_TLS_CA_FILE }),
        ...(v.NATS_TLS_CERT_FILE === undefined ? {} : { certFile: v.NATS_TLS_CERT_FILE, keyFile: v.NATS_TLS_KEY_FILE! }),
      },
    } : {}),
    inboxPrefix: v.NATS_INBOX_PREFIX ?? LEDGER_INBOX_PREFIX,
  });
};

/** What may be logged of an identity: how it authenticates, never with what. */
export const describeIdentity = (identity: NatsIdentity): Record<string, unknown> => ({
  auth: identity.auth === undefined ? 'none' : identity.auth.kind === 'user' ? `user ${identity.auth.user}` : identity.auth.kind,
  tls: identity.tls !== undefined,
  inboxPrefix: identity.inboxPrefix,
});
