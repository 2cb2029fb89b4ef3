// Given/when/then specifications of the liquidatable-account index, with hand-computed numbers:
// the safe mark of a lone long and a lone short, and the work a query does. The index's answers
// equal the full scan (the liquidatable-index property); what these pin is that it gets them by
// valuing only the accounts past their safe marks, and re-placing only the accounts that changed.
// The exact rule's calls are counted through a spy on the margin module (no timing).

import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  liquidatableAccounts, ONE, PersistentMap, PersistentSet, safeMark, type Account, type ActivePool, type Market,
} from '../../domain/index.js';
import { isLiquidatable, unsettledFunding } from '../../domain/margin.js';
import { active, apply, BTC, deposit, standardPool, trade, when } from '../support/builders.js';

vi.mock('../../domain/margin.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../domain/margin.js')>();
  return { ...original, isLiquidatable: vi.fn(original.isLiquidatable), unsettledFunding: vi.fn(original.unsettledFunding) };
});

const btc = active(standardPool().state).markets.get(BTC)!; // maintenance margin 5%
const units = (n: bigint) => n * ONE;
const lone = (accountId: string, collateral: bigint, size: bigint, entryNotional: bigint): Account =>
  ({ accountId, collateral, positions: [{ marketId: BTC, size, entryNotional }] });
// A long of 1 BTC bought at 30000 with 10000 collateral, and a short of 1 BTC sold at 30000 with 10000.
const alice = lone('alice', units(10_000n), ONE, units(30_000n));
const bob = lone('bob', units(10_000n), -ONE, -units(30_000n));

let pools = 0;
const poolAt = (mark: bigint, ...accounts: Account[]): ActivePool => ({
  status: 'active', poolId: `liquidatable-spec-${++pools}`,
  markets: PersistentMap.of([[BTC, { ...btc, mark }]]),
  accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
  positionHolders: PersistentMap.of([[BTC, accounts.reduce((s, a) => (a.positions.length > 0 ? s.add(a.accountId) : s), PersistentSet.empty<string>())]]),
  markEpoch: 0,
}) as unknown as ActivePool;

beforeEach(() => {
  vi.mocked(isLiquidatable).mockClear();
});

describe('the safe mark of a lone position', () => {
  it('a long is safe from ceil((2 - K) * 1e24 / (size * (1e6 - mmr)))', () => {
    // K = 10000 - 30000 = -20000 units; (20000e18 + 2) * 1e6 / 950000 = 21052631578947368421054.7...
    expect(safeMark(alice, btc)).toBe(21052631578947368421055n);
  });

  it('a short is safe up to floor((K - 2) * 1e24 / (|size| * (1e6 + mmr)))', () => {
    // K = 10000 + 30000 = 40000 units; (40000e18 - 2) * 1e6 / 1050000 = 38095238095238095238093.3...
    expect(safeMark(bob, btc)).toBe(38095238095238095238093n);
  });

  it('a long has none at a maintenance margin of 100% (it loses margin as fast as value)', () => {
    const full = { ...btc, maintenanceMarginPpm: 1_000_000 } as Market;
    expect(safeMark(alice, full)).toBeUndefined();
    // A short still has one: (40000e18 - 2) * 1e6 / 2e6, floored.
    expect(safeMark(bob, full)).toBe(19999999999999999999999n);
  });
});

describe('a query values only the accounts past their safe marks', () => {
  it('given a long, a short and a depositor with no position at mark 30000, no account is valued', () => {
    const pool = poolAt(units(30_000n), alice, bob, { accountId: 'carol', collateral: units(5n), positions: [] });
    expect(liquidatableAccounts(pool)).toEqual([]);
    expect(isLiquidatable).not.toHaveBeenCalled();
  });

  it('given each at exactly its safe mark, neither is valued (both are safe there)', () => {
    expect(liquidatableAccounts(poolAt(21052631578947368421055n, alice))).toEqual([]);
    expect(liquidatableAccounts(poolAt(38095238095238095238093n, bob))).toEqual([]);
    expect(isLiquidatable).not.toHaveBeenCalled();
  });

  it('given each one ledger unit past its safe mark, only that account is valued', () => {
    expect(liquidatableAccounts(poolAt(21052631578947368421054n, alice, bob))).toEqual([]);
    expect(vi.mocked(isLiquidatable).mock.calls.map(([a]) => (a as Account).accountId)).toEqual(['alice']);
    vi.mocked(isLiquidatable).mockClear();
    expect(liquidatableAccounts(poolAt(38095238095238095238094n, alice, bob))).toEqual([]);
    expect(vi.mocked(isLiquidatable).mock.calls.map(([a]) => (a as Account).accountId)).toEqual(['bob']);
  });
});

describe('a query after commands re-places only the accounts that changed', () => {
  // alice buys 1 BTC from bob at 30000 (two placed positions); then new depositors, who have none.
  const history = standardPool(deposit('alice', '10000'), deposit('bob', '10000'), trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));
  const depositing = (...names: string[]) => names.reduce((h, n) => apply(h, when(h, deposit(n, '5'))), history).state;

  it('given one new depositor, no position is placed again', () => {
    liquidatableAccounts(history.state);
    vi.mocked(unsettledFunding).mockClear();
    expect(liquidatableAccounts(depositing('dave'))).toEqual([]);
    expect(unsettledFunding).not.toHaveBeenCalled();
  });

  it('given more new depositors than placed positions, still none is placed again', () => {
    liquidatableAccounts(history.state);
    vi.mocked(unsettledFunding).mockClear();
    expect(liquidatableAccounts(depositing('d1', 'd2', 'd3', 'd4', 'd5'))).toEqual([]);
    expect(unsettledFunding).not.toHaveBeenCalled();
  });
});
