// The NATS side without a server: the service's credentials and TLS decoded from its variables
// (one way of authenticating, secrets preferably in files, never in an error), and the client's
// chain check of forwarded events (a gap, a repeat, an altered or a forged event is not a link).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { CHAIN_START, decodeForwarded, nextLink, type ChainHead, type ForwardedEvent } from '../../services/bus/client.js';
import { forwardedBody } from '../../services/bus/event-forwarder.js';
import { connectionOptions, natsIdentityFrom, redactedServers } from '../../services/bus/connection.js';
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';

import type { NewEvent } from '../../services/ledger/event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-nats-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NATS credentials and TLS from the environment', () => {
  it('given a user and a password file, connects with the password read from the file', () => {
    const file = join(dir, 'password');
    writeFileSync(file, 's3cret-from-file\n');
    const identity = natsIdentityFrom({ NATS_USER: 'ledger', NATS_PASSWORD_FILE: file });
    expect(identity).toEqual(E.right({ auth: { kind: 'user', user: 'ledger', password: { file } }, inboxPrefix: '_INBOX_ledger' }));
    expect(connectionOptions(E.isRight(identity) ? identity.right : {})).toEqual({ user: 'ledger', pass: 's3cret-from-file', inboxPrefix: '_INBOX_ledger' });
  });

  it('given TLS files, passes them to the client', () => {
    const identity = natsIdentityFrom({ NATS_TOKEN_FILE: '/run/secrets/t', NATS_TLS_CA_FILE: '/ca.crt', NATS_TLS_CERT_FILE: '/c.crt', NATS_TLS_KEY_FILE: '/c.key', NATS_INBOX_PREFIX: '_INBOX_ledger2' });
    expect(identity).toEqual(E.right({ auth: { kind: 'token', token: { file: '/run/secrets/t' } }, tls: { caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' }, inboxPrefix: '_INBOX_ledger2' }));
  });

  it('given nothing, connects without credentials', () => {
    expect(natsIdentityFrom({})).toEqual(E.right({ inboxPrefix: '_INBOX_ledger' }));
  });

  it.each([
    ['a password inline and in a file', { NATS_USER: 'u', NATS_PASSWORD: 'pw-inline', NATS_PASSWORD_FILE: '/p' }, 'NATS_PASSWORD_FILE'],
    ['a user without a password', { NATS_USER: 'u' }, 'NATS_PASSWORD_FILE'],
    ['a password without a user', { NATS_PASSWORD: 'pw-inline' }, 'NATS_USER'],
    ['two ways of authenticating', { NATS_USER: 'u', NATS_PASSWORD: 'pw-inline', NATS_TOKEN: 'tok-inline' }, 'NATS_USER'],
    ['a client certificate without its key', { NATS_TLS_CERT_FILE: '/c.crt' }, 'NATS_TLS_KEY_FILE'],
    ['an empty password', { NATS_USER: 'u', NATS_PASSWORD: '' }, 'NATS_PASSWORD'],
    ['an inbox prefix with a wildcard', { NATS_INBOX_PREFIX: '_INBOX.*' }, 'NATS_INBOX_PREFIX'],
  ])('refuses %s, naming the variable and never a secret', (_what, env, path) => {
    const identity = natsIdentityFrom(env);
    expect(E.isLeft(identity) && identity.left.errors[0]?.path).toBe(path);
    expect(JSON.stringify(identity)).not.toMatch(/pw-inline|tok-inline/);
  });

  it('logs servers without the credentials a URL may carry', () => {
    expect(redactedServers('nats://ledger:pw@nats:4222,tls://t0k@other:4222')).toBe('nats://***@nats:4222,tls://***@other:4222');
  });
});

// A pool's chain of two deposits, sealed with the ledger's own chain function.
const deposit = (amount: string) => ({
  type: 'CollateralDeposited', schemaVersion: 1, accountId: 'ann', amount,
  postings: [{ from: { kind: 'external' }, to: { kind: 'collateral', accountId: 'ann' }, amount }],
});
const chain = (() => {
  const events: { event: NewEvent; prevHash: string }[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, amount] of ['5', '7'].entries()) {
    const event = sealed(prevHash, { type: 'CollateralDeposited', data: deposit(amount), metadata: { commandId: `c-${i}`, correlationId: `c-${i}`, causationId: `c-${i}`, timestamp: 1_700_000_000_000, actor: 'custody' } });
    events.push({ event, prevHash });
    prevHash = event.hash;
  }
  return events;
})();
/** A forwarded event as it travels (the forwarder's body), decoded as the client decodes it. */
const forwarded = (link: { event: NewEvent; prevHash: string }, revision: bigint, poolId = 'main'): [ForwardedEvent] => {
  const stored = { ...link.event, metadata: { ...link.event.metadata, schemaVersion: 1 }, streamId: `pool-${poolId}`, revision, position: revision + 10n };
  const decoded = decodeForwarded(new TextEncoder().encode(JSON.stringify(forwardedBody(stored, poolId, link.prevHash))));
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return [decoded.right];
};
const reason = (result: E.Either<{ readonly reason: string }, ChainHead>) => (E.isLeft(result) ? result.left.reason : 'link');

describe('the client checks the event chain', () => {
  it('given the pool\'s first two events in order, both are links', () => {
    const first = nextLink(CHAIN_START, 'main', ...forwarded(chain[0]!, 0n));
    expect(first).toEqual(E.right({ revision: 0n, hash: chain[0]!.event.hash }));
    expect(E.isRight(first) && nextLink(first.right, 'main', ...forwarded(chain[1]!, 1n))).toEqual(E.right({ revision: 1n, hash: chain[1]!.event.hash }));
  });

  it('when the second comes first, it is a gap', () => {
    expect(reason(nextLink(CHAIN_START, 'main', ...forwarded(chain[1]!, 1n)))).toBe('gap');
  });

  it('when the first comes again, it is a repeat', () => {
    const head = { revision: 0n, hash: chain[0]!.event.hash };
    expect(reason(nextLink(head, 'main', ...forwarded(chain[0]!, 0n)))).toBe('repeated');
  });

  it('when an amount was altered and the hash kept, the hash does not recompute', () => {
    const { event } = chain[0]!;
    const altered = { ...chain[0]!, event: { ...event, text: sealed(GENESIS_HASH, { ...event, data: deposit('5000') }).text } };
    expect(reason(nextLink(CHAIN_START, 'main', ...forwarded(altered, 0n)))).toBe('hash does not match the event');
  });

  it('when a forged event is sealed properly but chained onto something else, its prevHash does not match', () => {
    const forged = { event: sealed('f'.repeat(64), { ...chain[1]!.event, data: deposit('9') }), prevHash: 'f'.repeat(64) };
    const head = { revision: 0n, hash: chain[0]!.event.hash };
    expect(reason(nextLink(head, 'main', ...forwarded(forged, 1n)))).toBe('prevHash does not match the previous event');
  });

  it("when another pool's event arrives, it is not a link", () => {
    expect(reason(nextLink(CHAIN_START, 'main', ...forwarded(chain[0]!, 0n, 'other')))).toBe('another pool');
  });
});
