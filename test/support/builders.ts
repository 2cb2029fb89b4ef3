// Command builders with the standard test pool's defaults, and given/when/then helpers.
// Amounts are written as decimal strings, exactly as producers send them.

import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import { generateGovernorKey, signCommand, type GovernorKey } from '../../services/governance-keys.js';
import {
  decide, evolve, initialState, units, SCHEMA_VERSION,
  type ActivePool, type Command, type CommandContext, type CreatePool, type Decision, type DomainError,
  type AddTranche, type ChangeParameters, type Event, type ExecuteTrade, type GovernanceCommand, type ListMarket, type PoolState, type Recapitalize,
} from '../../domain/index.js';

export const POOL = 'main';
export const BTC = 'BTC-PERP';
export const ETH = 'ETH-PERP';
/** The deployment's root governors in tests: two keys of their own, both must sign a new pool. */
export const rootKeys: readonly [GovernorKey, GovernorKey] = [generateGovernorKey(), generateGovernorKey()];
export const rootGovernors = { publicKeys: rootKeys.map((k) => k.publicKey), threshold: 2 };
export const ctx: CommandContext = { now: Date.UTC(2026, 0, 1), actor: 'test', rootGovernors };

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}-${++sequence}`;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: nextId('cmd'), poolId: POOL });

/** The standard pool's governors: three real ed25519 keys, threshold two. */
export const governorKeys: readonly [GovernorKey, GovernorKey, GovernorKey] = [generateGovernorKey(), generateGovernorKey(), generateGovernorKey()];
const sign = <C extends GovernanceCommand>(command: C): C =>
  command.signatures.length > 0 ? command : signCommand(command, governorKeys[0], governorKeys[1]);

/** A governance command with signatures by the first two governors (unless it brings its own). */
export const signed = sign;

/** A new pool, signed by the root governors (unless it brings its own signatures). */
export const createPool = (overrides: Partial<CreatePool> = {}): CreatePool => {
  const command = unsignedPool(overrides);
  return command.signatures.length > 0 ? command : signCommand(command, ...rootKeys);
};

const unsignedPool = (overrides: Partial<CreatePool>): CreatePool => ({
  ...envelope('CreatePool'),
  quoteAsset: 'USDC',
  quoteDecimals: 6,
  tranches: [
    { trancheId: 'junior', incomeWeight: 3 },
    { trancheId: 'senior', incomeWeight: 1 },
  ],
  feeShare: { baseFundSharePpm: 200_000, maxFundSharePpm: 500_000, targetCoveragePpm: 50_000 },
  unstakeCooldownMs: 7 * 24 * 3600 * 1000,
  governors: { publicKeys: governorKeys.map((k) => k.publicKey), threshold: 2 },
  signatures: [],
  ...overrides,
});

// Governance sequence numbers: the builders default to the standard pool's (its market listing
// takes 1, so the next governance command takes 2); a test that governs more passes its own.

export const listMarket = (overrides: Partial<ListMarket> = {}): ListMarket => sign({
  ...envelope('ListMarket'),
  marketId: BTC,
  sizeDecimals: 4,
  priceDecimals: 2,
  initialMarginPpm: 100_000, // 10%
  maintenanceMarginPpm: 50_000, // 5%
  takerFeePpm: 500, // 0.05%
  makerFeePpm: 200, // 0.02%
  liquidationPenaltyPpm: 10_000,
  penaltyFundSharePpm: 500_000,
  adlPolicy: 'ranked',
  markPrice: units('30000'),
  governanceSeq: 1,
  signatures: [],
  ...overrides,
});

export const deposit = (accountId: string, amount: string): Command => ({ ...envelope('Deposit'), accountId, amount: units(amount) });
export const withdraw = (accountId: string, amount: string): Command => ({ ...envelope('Withdraw'), accountId, amount: units(amount) });
export const mark = (price: string, marketId = BTC): Command => ({ ...envelope('UpdateMarkPrice'), marketId, price: units(price) });

export interface TradeSpec {
  readonly taker: string;
  readonly maker: string;
  readonly side: 'buy' | 'sell';
  readonly size: string;
  readonly price: string;
  readonly marketId?: string;
  readonly tradeId?: string;
}

export const trade = (spec: TradeSpec): ExecuteTrade => ({
  ...envelope('ExecuteTrade'),
  tradeId: spec.tradeId ?? nextId('trade'),
  marketId: spec.marketId ?? BTC,
  taker: spec.taker,
  maker: spec.maker,
  takerSide: spec.side,
  size: units(spec.size),
  price: units(spec.price),
});

export interface History {
  readonly state: PoolState;
  readonly events: ReadonlyArray<Event>;
}

/** Given these commands were accepted (each must be), the pool's state and events. */
export const given = (...commands: Command[]): History => {
  let state: PoolState = initialState;
  const events: Event[] = [];
  for (const command of commands) {
    const decision = decide(command, state, ctx);
    if (E.isLeft(decision)) throw new Error(`given: ${command.type} was rejected: ${decision.left.code} ${decision.left.message}`);
    for (const event of decision.right) {
      state = evolve(state, event);
      events.push(event);
    }
  }
  return { state, events };
};

/** The standard pool with BTC-PERP listed. */
export const standardPool = (...more: Command[]): History => given(createPool(), listMarket(), ...more);

export const when = (history: History, command: Command): Decision => decide(command, history.state, ctx);

export const thenEvents = (decision: Decision): ReadonlyArray<Event> => {
  if (E.isLeft(decision)) throw new Error(`expected events, got ${decision.left.code}: ${decision.left.message}`);
  return decision.right;
};

export const thenError = (decision: Decision, code: DomainError['code'], field?: string): DomainError => {
  if (E.isRight(decision)) throw new Error(`expected ${code}, got events ${decision.right.map((e) => e.type).join(', ')}`);
  expect(decision.left.code).toBe(code);
  if (field !== undefined) expect(decision.left.field).toBe(field);
  return decision.left;
};

export const active = (state: PoolState): ActivePool => {
  if (state.status !== 'active') throw new Error('pool is not active');
  return state;
};

export const apply = (history: History, decision: Decision): History => {
  const events = thenEvents(decision);
  return { state: events.reduce(evolve, history.state), events: [...history.events, ...events] };
};

export const stake = (stakerId: string, trancheId: string, amount: string): Command => ({ ...envelope('Stake'), stakerId, trancheId, amount: units(amount) });
export const requestUnstake = (requestId: string, stakerId: string, trancheId: string, shares: string): Command =>
  ({ ...envelope('RequestUnstake'), requestId, stakerId, trancheId, shares: units(shares) });
export const completeUnstake = (requestId: string): Command => ({ ...envelope('CompleteUnstake'), requestId });
export const cancelUnstake = (requestId: string): Command => ({ ...envelope('CancelUnstake'), requestId });
export const liquidate = (accountId: string, price: string, liquidatorId = 'liq', marketId = BTC): Command =>
  ({ ...envelope('Liquidate'), accountId, marketId, liquidatorId, price: units(price) });
export const recapitalize = (trancheId: string, amount: string, governanceSeq = 2): Recapitalize =>
  signed({ ...envelope('Recapitalize'), trancheId, amount: units(amount), governanceSeq, signatures: [] });
export const addTranche = (trancheId: string, incomeWeight: number, seniority: number, governanceSeq = 2): AddTranche =>
  signed({ ...envelope('AddTranche'), trancheId, incomeWeight, seniority, governanceSeq, signatures: [] });
export const changeParameters = (changes: Partial<Pick<ChangeParameters, 'pool' | 'markets' | 'governanceSeq'>>): ChangeParameters =>
  ({ ...envelope('ChangeParameters'), pool: {}, markets: [], governanceSeq: 2, signatures: [], ...changes });

/** Decide and apply commands one after another at time `now`, each must be accepted. */
export const at = (now: number, history: History, ...commands: Command[]): History => {
  let current = history;
  for (const command of commands) {
    const decision = decide(command, current.state, { ...ctx, now });
    current = apply(current, decision);
  }
  return current;
};
