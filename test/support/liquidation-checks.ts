// Shared checks for liquidation specifications: after a liquidation the pool must satisfy the
// single-state invariants, replay to the same state, and pass the independent waterfall oracle.

import { expect } from 'vitest';
import { canonicalStateJson, checkInvariants, evolveAll, initialState, type Account, type PoolState } from '../../domain/index.js';
import { active, type History } from './builders.js';

export const noFees = { takerFeePpm: 0, makerFeePpm: 0 } as const;

export const accountOf = (state: PoolState, id: string): Account => active(state).accounts.get(id) ?? { accountId: id, collateral: 0n, positions: [] };

/** The history, after checking invariants 1 to 3 and replay equality (invariant 5). */
export const sane = (history: History): History => {
  expect(checkInvariants(history.state)).toEqual([]);
  expect(canonicalStateJson(evolveAll(initialState, history.events))).toBe(canonicalStateJson(history.state));
  return history;
};
