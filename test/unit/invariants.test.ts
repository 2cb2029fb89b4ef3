// The invariant checker must be able to fail, or the properties built on it prove nothing.

import { describe, expect, it } from 'vitest';
import { checkInvariants, conservationGap, units, type ActivePool } from '../../domain/index.js';
import { active, BTC, deposit, standardPool, trade } from '../support/builders.js';

const pool = (): ActivePool => active(standardPool(
  deposit('alice', '10000'), deposit('bob', '10000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
).state);

const names = (state: ActivePool) => checkInvariants(state).map((v) => v.invariant);

describe('checkInvariants', () => {
  it('finds nothing wrong with a state built by decide and evolve', () => {
    expect(checkInvariants(pool(), [new Map([[BTC, units('12345.678')]])])).toEqual([]);
  });

  it('catches value created from nothing', () => {
    const state = pool();
    const alice = state.accounts.get('alice')!;
    const tampered = { ...state, accounts: state.accounts.set('alice', { ...alice, collateral: alice.collateral + 1n }) };
    expect(conservationGap(tampered)).toBe(10n ** 18n);
    expect(names(tampered)).toEqual(['conservation']);
  });

  it('catches unbalanced open interest', () => {
    const state = pool();
    const bob = state.accounts.get('bob')!;
    const tampered = { ...state, accounts: state.accounts.set('bob', { ...bob, positions: [{ ...bob.positions[0]!, size: units('-0.5') }] }) };
    expect(names(tampered)).toContain('balanced-open-interest');
  });

  it('catches negative collateral without positions and negative tranches', () => {
    const state = pool();
    const withDebtor = { ...state, accounts: state.accounts.set('carol', { accountId: 'carol', collateral: -1n, positions: [] }), externalIn: state.externalIn - 1n };
    expect(names(withDebtor)).toEqual(['non-negative-without-positions']);
    const [junior, senior] = state.tranches;
    const negativeTranche = { ...state, tranches: [{ ...junior!, assets: -1n }, senior!], treasury: state.treasury + junior!.assets + 1n };
    expect(names(negativeTranche)).toEqual(['non-negative-tranches']);
  });
});
