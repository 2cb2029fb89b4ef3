// `ledger nats-config`: the nats-server configuration made from a principals file. The shipped
// deploy/nats-server.conf is its output for deploy/principals.example.json, so the two cannot
// drift apart.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readPrincipals, type PrincipalsFile } from '../../services/auth/principals.js';
import { natsServerConfig, permissionsOf } from '../../services/bus/nats-config.js';

const example = readPrincipals('deploy/principals.example.json');

describe('ledger nats-config', () => {
  it('made deploy/nats-server.conf from deploy/principals.example.json', () => {
    expect(E.isRight(example)).toBe(true);
    const config = E.flatMap(natsServerConfig)(E.isRight(example) ? E.right(example.right) : E.left(new Error()));
    expect(config).toEqual(E.right(readFileSync('deploy/nats-server.conf', 'utf8')));
  });

  it("given a custody principal on pool main only, lets it publish its own two command types there and read (or look up) its own outcomes there", () => {
    expect(permissionsOf({ id: 'vault-7', roles: ['custody'], pools: ['main'], nats: { user: 'vault' } })).toEqual({
      publish: ['ledger.main.cmd.vault-7.Deposit', 'ledger.main.cmd.vault-7.Withdraw', '$JS.API.DIRECT.GET.LEDGER_OUTCOMES.ledger.main.refused.vault-7.>', 'ledger.main.lookup.vault-7.>'],
      subscribe: ['_INBOX_vault-7.>', 'ledger.main.outcome.vault-7.>'],
    });
  });

  it('given a reader, lets it only create, read and delete consumers of the event stream', () => {
    expect(permissionsOf({ id: 'audit', roles: ['reader'], pools: ['main'] })).toEqual({
      publish: ['$JS.API.CONSUMER.CREATE.LEDGER_EVENTS', '$JS.API.CONSUMER.INFO.LEDGER_EVENTS.*', '$JS.API.CONSUMER.MSG.NEXT.LEDGER_EVENTS.*', '$JS.API.CONSUMER.DELETE.LEDGER_EVENTS.*'],
      subscribe: ['_INBOX_audit.>'],
    });
  });

  it('leaves out principals without a NATS identity, and refuses one that would be the ledger', () => {
    const file: PrincipalsFile = { version: 1, principals: [{ id: 'ops', roles: ['operator'], pools: ['*'] }, { id: 'oracle', roles: ['oracle'], pools: ['*'], nats: { user: 'oracle' } }] };
    const config = natsServerConfig(file);
    expect(E.isRight(config) && config.right).toContain('user: "oracle"');
    expect(E.isRight(config) && config.right).not.toContain('"ops"');
    const impostor = natsServerConfig({ version: 1, principals: [{ id: 'x', roles: ['oracle'], pools: ['*'], nats: { user: 'ledger' } }] });
    expect(E.isLeft(impostor) && impostor.left.message).toContain('the ledger\'s own');
  });
});
