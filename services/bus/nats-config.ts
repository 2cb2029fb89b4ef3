// The nats-server configuration for a principals file (`ledger nats-config`): one user per
// principal with a NATS identity and one for the ledger, passwords from environment variables,
// and subject permissions that let each principal publish only its own commands (its roles'
// command types, on its pools), read or look up only its own outcomes and use only its own inbox.
// deploy/nats-server.conf is this file's output for deploy/principals.example.json.

import * as E from 'fp-ts/lib/Either.js';
import { commandRole, commandTypes, type CommandType } from '../../domain/index.js';
import type { Principal, PrincipalsFile } from '../auth/principals.js';
import { inboxPrefixOf } from './connection.js';
import { COMMAND_STREAM, INTAKE_CONSUMER, OUTCOME_STREAM } from './nats-intake.js';
import { EVENT_STREAM } from './event-forwarder.js';

export const LEDGER_NATS_USER = 'ledger';

/** The environment variable that holds a NATS user's password. */
export const passwordVariableOf = (user: string): string => `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

interface Permissions {
  readonly publish: ReadonlyArray<string>;
  readonly subscribe: ReadonlyArray<string>;
}

/** The command types a principal's roles allow. */
const commandsOf = (principal: Principal): CommandType[] => commandTypes.filter((type) => principal.roles.includes(commandRole[type]));
const poolTokens = (principal: Principal): string[] => (principal.pools.includes('*') ? ['*'] : [...principal.pools]);
const reads = (principal: Principal): boolean => principal.roles.includes('reader') || principal.roles.includes('operator');

/** What a principal's NATS user may do; undefined when none of its roles uses NATS. */
export const permissionsOf = (principal: Principal): Permissions | undefined => {
  const id = principal.id;
  const commands = commandsOf(principal);
  const pools = poolTokens(principal);
  const publish: string[] = [];
  const subscribe: string[] = [];
  if (commands.length > 0) {
    for (const pool of pools) for (const type of commands) publish.push(`ledger.${pool}.cmd.${id}.${type}`);
    for (const pool of pools) publish.push(`$JS.API.DIRECT.GET.${OUTCOME_STREAM}.ledger.${pool}.refused.${id}.>`);
    for (const pool of pools) publish.push(`ledger.${pool}.lookup.${id}.>`);
    for (const pool of pools) subscribe.push(`ledger.${pool}.outcome.${id}.>`);
  }
  if (reads(principal)) {
    // nats-server 2.9 cannot restrict a consumer's filter by permission: every pool's events.
    publish.push(`$JS.API.CONSUMER.CREATE.${EVENT_STREAM}`, `$JS.API.CONSUMER.INFO.${EVENT_STREAM}.*`, `$JS.API.CONSUMER.MSG.NEXT.${EVENT_STREAM}.*`, `$JS.API.CONSUMER.DELETE.${EVENT_STREAM}.*`);
  }
  if (publish.length === 0) return undefined;
  return { publish, subscribe: [`${inboxPrefixOf(id)}.>`, ...subscribe] };
};

const list = (subjects: ReadonlyArray<string>, indent: string): string =>
  subjects.length <= 1 ? `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]` : `[\n${subjects.map((s) => `${indent}  ${JSON.stringify(s)}`).join(',\n')}\n${indent}]`;

const user = (name: string, comment: string, permissions: Permissions): string => [
  `    # ${comment}`,
  `    { user: ${JSON.stringify(name)}, password: $${passwordVariableOf(name)}, permissions: {`,
  `        publish: { allow: ${list(permissions.publish, '        ')} }`,
  `        subscribe: { allow: ${list(permissions.subscribe, '        ')} }`,
  '    } }',
].join('\n');

const describePrincipal = (principal: Principal): string =>
  `principal ${principal.id}: ${principal.roles.join(', ')} on ${principal.pools.includes('*') ? 'every pool' : `pools ${principal.pools.join(', ')}`}`;

/** The whole configuration file for the principals: port, JetStream and the users. */
export const natsServerConfig = (file: PrincipalsFile): E.Either<Error, string> => {
  const taken = file.principals.find((p) => p.id === LEDGER_NATS_USER || p.nats?.user === LEDGER_NATS_USER);
  if (taken !== undefined) return E.left(new Error(`principal "${taken.id}": the NATS user and inbox "${LEDGER_NATS_USER}" are the ledger's own`));
  const users = file.principals.flatMap((principal) => {
    if (principal.nats === undefined) return [];
    const permissions = permissionsOf(principal);
    return permissions === undefined ? [] : [{ principal, name: principal.nats.user, permissions }];
  });
  const ledger: Permissions = {
    publish: ['ledger.>', '$JS.API.>', '$JS.ACK.>', ...users.filter((u) => commandsOf(u.principal).length > 0).map((u) => `${inboxPrefixOf(u.principal.id)}.>`)],
    subscribe: [`${inboxPrefixOf(LEDGER_NATS_USER)}.>`, 'ledger.>'],
  };
  return E.right([
    '# nats-server configuration for the ledger (nats-server 2.9 or later), made by',
    '# `ledger nats-config --principals <file>` from a principals file: one user per principal with',
    '# a NATS identity (its `nats.user`), and one for the ledger. deploy/nats-server.conf is made',
    '# from deploy/principals.example.json.',
    '#',
    '# Every password comes from an environment variable (the server refuses to start when one is',
    '# missing). nats-server parses a variable\'s value as configuration: use letters and digits,',
    '# starting with a letter. No anonymous access: a client without a user is refused.',
    '#',
    '# Subjects (the principal id in them is who sent it; each user may use only its own):',
    '#   ledger.<poolId>.cmd.<principalId>.<CommandType>     commands (stream ' + COMMAND_STREAM + ')',
    '#   ledger.<poolId>.outcome.<principalId>.<commandId>   outcomes (core NATS, not stored)',
    '#   ledger.<poolId>.refused.<principalId>.<commandId>   refusals the log does not record (stream ' + OUTCOME_STREAM + ', read by direct get)',
    '#   ledger.<poolId>.lookup.<principalId>.<commandId>    a request for a recorded outcome (answered to the principal\'s inbox)',
    '#   ledger.<poolId>.evt.<EventType>                     events (stream ' + EVENT_STREAM + ')',
    '#   ledger.<poolId>.dlq                                 refused messages',
    '#   ledger.<poolId>.ckpt.>                              reserved for the ledger',
    '#   _INBOX_<principalId>.>                              replies to a principal (client option inboxPrefix)',
    '#',
    `# Only the ledger's user may publish outcomes, events and checkpoints, or manage, purge or delete`,
    `# streams and consumers (the intake's is ${INTAKE_CONSUMER}). TLS: see the commented block at the end.`,
    '',
    'port: 4222',
    '',
    '# JetStream\'s store directory is given on the command line (-sd /data), so that a test or a',
    '# second server can run this file with a store of its own.',
    'jetstream: enabled',
    '',
    'authorization {',
    '  users = [',
    [
      user(LEDGER_NATS_USER, 'the ledger service: takes commands; publishes outcomes, events, DLQ copies, checkpoints and replies', ledger),
      ...users.map((u) => user(u.name, describePrincipal(u.principal), u.permissions)),
    ].join('\n\n'),
    '  ]',
    '}',
    '',
    '# TLS (recommended whenever NATS is reached over a network): uncomment, and give the service',
    '# NATS_TLS_CA_FILE (and, with verify, NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE).',
    '# tls {',
    '#   cert_file: "/etc/nats/tls/server.crt"',
    '#   key_file:  "/etc/nats/tls/server.key"',
    '#   ca_file:   "/etc/nats/tls/ca.crt"',
    '#   verify:    true',
    '# }',
    '',
  ].join('\n'));
};
