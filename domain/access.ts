// Who may do what: producers are principals with roles, and each role may submit certain command
// types (or read, or administer), on the pools the principal is allowed. Every intake (HTTP, NATS)
// asks `authorize` before anything is decided; the answer is a value, never a throw.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { CommandType } from './commands.js';

export const Role = t.keyof({
  custody: null,
  'matching-engine': null,
  oracle: null,
  'liquidation-engine': null,
  'lp-gateway': null,
  'governance-relay': null,
  reader: null,
  operator: null,
}, 'Role');
export type Role = t.TypeOf<typeof Role>;
export const roles = Object.keys(Role.keys) as Role[];

/**
 * The one role that may submit each command type. A `Record` over every command type, so a new
 * command does not compile until someone decides who may send it.
 */
export const commandRole: Readonly<Record<CommandType, Role>> = {
  Deposit: 'custody',
  Withdraw: 'custody',
  ExecuteTrade: 'matching-engine',
  UpdateMarkPrice: 'oracle',
  ApplyFunding: 'oracle',
  // Settling moves no equity, only realizes funding into collateral: the engine that watches
  // accounts for liquidation sweeps idle ones, so that their collateral shows what they hold.
  SettleFunding: 'liquidation-engine',
  Liquidate: 'liquidation-engine',
  Stake: 'lp-gateway',
  RequestUnstake: 'lp-gateway',
  CompleteUnstake: 'lp-gateway',
  CancelUnstake: 'lp-gateway',
  // Governance commands also need governor signatures; the relay only carries them.
  CreatePool: 'governance-relay',
  ListMarket: 'governance-relay',
  ChangeParameters: 'governance-relay',
  AddTranche: 'governance-relay',
  Recapitalize: 'governance-relay',
  PayFromFund: 'governance-relay',
};

/** What a principal asks to do. */
export type Action =
  | { readonly kind: 'command'; readonly commandType: CommandType; readonly poolId: string }
  /** Queries of one pool's read models and events. */
  | { readonly kind: 'read'; readonly poolId: string }
  /** Queries across pools and process metrics. */
  | { readonly kind: 'read-all' }
  /** Managing principals. */
  | { readonly kind: 'administer' };

/** The part of a principal that access decisions need. */
export interface Grant {
  readonly id: string;
  readonly roles: ReadonlyArray<Role>;
  /** Pool ids the principal may act on; `*` for every pool. */
  readonly pools: ReadonlyArray<string>;
}

export interface AccessDenied {
  readonly code: 'FORBIDDEN';
  readonly message: string;
}

const denied = (message: string): E.Either<AccessDenied, never> => E.left({ code: 'FORBIDDEN', message });

const mayActOn = (grant: Grant, poolId: string): boolean => grant.pools.includes('*') || grant.pools.includes(poolId);

/**
 * Whether the principal may do it. Reading needs `reader` or `operator`; administering needs
 * `operator`; a command needs the role that `commandRole` names. The operator administers and
 * reads but submits nothing: a command always comes from the producer whose job it is.
 */
export const authorize = (grant: Grant, action: Action): E.Either<AccessDenied, Grant> => {
  const has = (role: Role) => grant.roles.includes(role);
  switch (action.kind) {
    case 'command': {
      const role = commandRole[action.commandType];
      if (!has(role)) return denied(`principal "${grant.id}" may not submit ${action.commandType} (needs role ${role})`);
      return mayActOn(grant, action.poolId) ? E.right(grant) : denied(`principal "${grant.id}" may not act on pool "${action.poolId}"`);
    }
    case 'read':
      if (!has('reader') && !has('operator')) return denied(`principal "${grant.id}" may not read (needs role reader)`);
      return mayActOn(grant, action.poolId) ? E.right(grant) : denied(`principal "${grant.id}" may not read pool "${action.poolId}"`);
    case 'read-all':
      if (!has('reader') && !has('operator')) return denied(`principal "${grant.id}" may not read (needs role reader)`);
      return grant.pools.includes('*') ? E.right(grant) : denied(`principal "${grant.id}" may read only its own pools`);
    case 'administer':
      return has('operator') ? E.right(grant) : denied(`principal "${grant.id}" may not administer (needs role operator)`);
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
};
