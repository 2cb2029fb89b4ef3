// Principals for tests: a principals file in a directory, with a token for each principal.

import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Role } from '../../domain/index.js';
import { addPrincipal, writePrincipals, type PrincipalsFile } from '../../services/auth/principals.js';
import { PrincipalRegistry } from '../../services/auth/registry.js';

export interface TestPrincipal {
  readonly roles: ReadonlyArray<Role>;
  readonly pools?: ReadonlyArray<string>;
}

/** Every role that submits commands (what a test that drives the whole ledger needs). */
export const producerRoles: ReadonlyArray<Role> = ['custody', 'matching-engine', 'oracle', 'liquidation-engine', 'lp-gateway', 'governance-relay'];

/**
 * Write DIR/principals.json with the given principals (pools default to every pool) and return
 * its path, a registry reading it and each principal's bearer token.
 */
export const principalsFixture = <K extends string>(dir: string, principals: Readonly<Record<K, TestPrincipal>>) => {
  let file: PrincipalsFile = { version: 1, principals: [] };
  const tokens = {} as Record<K, string>;
  for (const [id, spec] of Object.entries(principals) as [K, TestPrincipal][]) {
    const added = addPrincipal(file, { id, roles: spec.roles, pools: spec.pools ?? ['*'] });
    if (E.isLeft(added)) throw new Error(added.left.message);
    file = added.right.file;
    tokens[id] = added.right.token;
  }
  const path = join(dir, 'principals.json');
  writePrincipals(path, file);
  const registry = PrincipalRegistry.open(path);
  if (E.isLeft(registry)) throw registry.left;
  return { path, registry: registry.right, tokens };
};

/** The Authorization header of a token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
