import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { authorize, commandRole, commandTypes, type Action, type Grant } from '../../domain/index.js';

const oracle: Grant = { id: 'oracle-1', roles: ['oracle'], pools: ['main'] };
const custody: Grant = { id: 'custody-1', roles: ['custody'], pools: ['main', 'alt'] };
const reader: Grant = { id: 'desk', roles: ['reader'], pools: ['main'] };
const operator: Grant = { id: 'operator', roles: ['operator'], pools: ['*'] };

const refusal = (grant: Grant, action: Action): string => {
  const result = authorize(grant, action);
  if (E.isRight(result)) throw new Error('access was granted');
  expect(result.left.code).toBe('FORBIDDEN');
  return result.left.message;
};

describe('access: roles decide which commands a principal may submit, on its own pools', () => {
  it('given an oracle for pool main, when it sends a mark update for main, then it may', () => {
    expect(authorize(oracle, { kind: 'command', commandType: 'UpdateMarkPrice', poolId: 'main' })).toEqual(E.right(oracle));
  });

  it('given an oracle, when it sends a Deposit, then it is refused naming the role needed', () => {
    expect(refusal(oracle, { kind: 'command', commandType: 'Deposit', poolId: 'main' })).toBe('principal "oracle-1" may not submit Deposit (needs role custody)');
  });

  it('given an oracle for pool main, when it sends a mark update for another pool, then it is refused', () => {
    expect(refusal(oracle, { kind: 'command', commandType: 'UpdateMarkPrice', poolId: 'alt' })).toBe('principal "oracle-1" may not act on pool "alt"');
  });

  it('maps each command type to exactly the role that owns it', () => {
    expect(commandTypes.map((type) => [type, commandRole[type]])).toEqual([
      ['CreatePool', 'governance-relay'], ['ListMarket', 'governance-relay'], ['Deposit', 'custody'], ['Withdraw', 'custody'],
      ['ExecuteTrade', 'matching-engine'], ['UpdateMarkPrice', 'oracle'], ['Stake', 'lp-gateway'], ['RequestUnstake', 'lp-gateway'],
      ['CompleteUnstake', 'lp-gateway'], ['CancelUnstake', 'lp-gateway'], ['Liquidate', 'liquidation-engine'],
      ['ChangeParameters', 'governance-relay'], ['AddTranche', 'governance-relay'], ['Recapitalize', 'governance-relay'],
      ['ApplyFunding', 'oracle'], ['SettleFunding', 'liquidation-engine'], ['PayFromFund', 'governance-relay'],
    ]);
  });

  it('given custody for two pools, when it withdraws on either, then it may', () => {
    expect(E.isRight(authorize(custody, { kind: 'command', commandType: 'Withdraw', poolId: 'alt' }))).toBe(true);
  });

  it('reading needs reader (or operator) and the pool; a producer role alone may not read', () => {
    expect(E.isRight(authorize(reader, { kind: 'read', poolId: 'main' }))).toBe(true);
    expect(refusal(reader, { kind: 'read', poolId: 'alt' })).toBe('principal "desk" may not read pool "alt"');
    expect(refusal(oracle, { kind: 'read', poolId: 'main' })).toBe('principal "oracle-1" may not read (needs role reader)');
    expect(refusal(reader, { kind: 'read-all' })).toBe('principal "desk" may read only its own pools');
    expect(E.isRight(authorize(operator, { kind: 'read-all' }))).toBe(true);
  });

  it('the operator administers and reads but submits no command', () => {
    expect(E.isRight(authorize(operator, { kind: 'administer' }))).toBe(true);
    expect(refusal(reader, { kind: 'administer' })).toBe('principal "desk" may not administer (needs role operator)');
    for (const commandType of commandTypes) {
      expect(refusal(operator, { kind: 'command', commandType, poolId: 'main' })).toMatch(/^principal "operator" may not submit /);
    }
  });

  it('a principal for every pool may act on any pool, but a producer role still may not read, even across pools', () => {
    const anyPool: Grant = { id: 'oracle-all', roles: ['oracle'], pools: ['*'] };
    expect(authorize(anyPool, { kind: 'command', commandType: 'ApplyFunding', poolId: 'alt' })).toEqual(E.right(anyPool));
    expect(refusal(anyPool, { kind: 'read-all' })).toBe('principal "oracle-all" may not read (needs role reader)');
    expect(refusal(anyPool, { kind: 'read', poolId: 'alt' })).toBe('principal "oracle-all" may not read (needs role reader)');
  });

  it('an operator reads any pool; a reader for every pool reads across pools', () => {
    expect(authorize(operator, { kind: 'read', poolId: 'alt' })).toEqual(E.right(operator));
    const everyPool: Grant = { id: 'desk-all', roles: ['reader'], pools: ['*'] };
    expect(authorize(everyPool, { kind: 'read-all' })).toEqual(E.right(everyPool));
    expect(authorize(everyPool, { kind: 'read', poolId: 'any' })).toEqual(E.right(everyPool));
  });
});
