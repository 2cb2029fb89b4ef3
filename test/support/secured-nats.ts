// A nats-server started with the shipped configuration (deploy/nats-server.conf): a password of
// its own for every user, and the principals file that matches its users, for tests that check
// what the server and the intake let each producer do.

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { writePrincipals, type PrincipalsFile } from '../../services/auth/principals.js';
import type { NatsAuth } from '../../services/bus/connection.js';
import { passwordVariableOf } from '../../services/bus/nats-config.js';
import { commandRole, type Command, type Role } from '../../domain/index.js';
import { LedgerClient } from '../../services/bus/client.js';
import { NatsServer } from './nats-server.js';

export const SHIPPED_CONFIG = resolve('deploy/nats-server.conf');

/** The users of the shipped configuration: the ledger and one per producer role (and reader). */
export const NATS_USERS = ['ledger', 'custody', 'matching-engine', 'oracle', 'liquidation-engine', 'lp-gateway', 'governance-relay', 'reader'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The variable that holds a user's password in the shipped configuration. */
export const passwordVariable = (user: NatsUser): string => passwordVariableOf(user);

/** Fresh passwords for every user, as the server's environment. */
export const natsPasswords = (): Record<string, string> =>
  Object.fromEntries(NATS_USERS.map((user) => [passwordVariable(user), `pw${randomBytes(18).toString('hex')}`]));

export const startSecuredNats = (dir: string, passwords: Record<string, string>, config = SHIPPED_CONFIG): Promise<NatsServer> =>
  NatsServer.start(dir, { config, env: passwords });

/** A user's credentials for the client or the service. */
export const authOf = (passwords: Record<string, string>, user: NatsUser): NatsAuth =>
  ({ kind: 'user', user, password: { value: passwords[passwordVariable(user)]! } });

/** The service's NATS variables for the ledger user, with its password in a file. */
export const ledgerEnv = (passwordFile: string): Record<string, string> => ({ NATS_USER: 'ledger', NATS_PASSWORD_FILE: passwordFile });

/**
 * A principals file whose principals are the configuration's users, each with the role of its
 * name on every pool (`reader` reads), unless `overrides` says otherwise (null: left out).
 */
export const principalsFor = (overrides: Partial<Record<string, { roles: Role[]; pools: string[]; nats?: boolean } | null>> = {}): PrincipalsFile => ({
  version: 1,
  principals: [...NATS_USERS.filter((u) => u !== 'ledger'), ...Object.keys(overrides).filter((id) => !(NATS_USERS as ReadonlyArray<string>).includes(id))].flatMap((id) => {
    const override = overrides[id];
    if (override === null) return [];
    const roles = override?.roles ?? [id as Role];
    const pools = override?.pools ?? ['*'];
    return [{ id, roles, pools, ...(override?.nats === false ? {} : { nats: { user: id } }) }];
  }),
});

export const writeTestPrincipals = (path: string, file: PrincipalsFile): void => writePrincipals(path, file);

/**
 * One producer client per role, connected as the configuration's user of that role; `submit`
 * sends each command from the producer whose job it is (commandRole).
 */
export const producers = async (url: string, passwords: Record<string, string>) => {
  const clients = new Map<Role, LedgerClient>();
  const clientOf = async (role: Role): Promise<LedgerClient> => {
    let client = clients.get(role);
    if (client === undefined) {
      client = await LedgerClient.connect(url, { principalId: role, auth: authOf(passwords, role as NatsUser) });
      clients.set(role, client);
    }
    return client;
  };
  return {
    clientOf,
    submit: async (command: Command, options?: Parameters<LedgerClient['submit']>[1]) => (await clientOf(commandRole[command.type])).submit(command, options),
    close: async () => { await Promise.all([...clients.values()].map((c) => c.close())); },
  };
};
