// The index of liquidatable accounts returns exactly what valuing every account returns, after
// every command of random sequences of deposits, trades, mark moves, funding, liquidations (with
// ADL and socialized losses) and withdrawals; also on older versions of the pool read after newer
// ones, and on pools built directly with accounts right at their safe marks.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  liquidatableAccounts, liquidatableAccountsScanned, ONE, PersistentMap, PersistentSet, safeMark,
  type Account, type ActivePool, type Market, type PoolState,
} from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

let pools = 0;

describe('the liquidatable-account index', () => {
  it('equals the full scan after every command, and on older states read after newer ones', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), (scenario) => {
      const states: PoolState[] = [];
      runScenario(scenario, {
        afterCommand: (_before, _command, _events, after) => {
          expect(liquidatableAccounts(after)).toEqual(liquidatableAccountsScanned(after));
          states.push(after);
        },
      });
      for (const state of states.filter((_, i) => i % 7 === 3)) expect(liquidatableAccounts(state)).toEqual(liquidatableAccountsScanned(state));
    }), propertyParameters('liquidatable index equals the scan', 100));
  });

  it('is exact at the safe mark itself and one tick either side, for lone longs and shorts', () => {
    const position = fc.record({
      size: fc.bigInt({ min: 1n, max: 10n ** 22n }).chain((s) => fc.constantFrom(s, -s)),
      entry: fc.bigInt({ min: 1n, max: 10n ** 24n }),
      collateral: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 24n }),
      settled: fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
    });
    fc.assert(fc.property(fc.array(position, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 999_999 }), fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.nat(19), fc.integer({ min: -2, max: 2 }),
      (positions, maintenanceMarginPpm, fundingIndex, pick, nudge) => {
        const market = { marketId: 'M', mark: ONE, fundingIndex, maintenanceMarginPpm } as unknown as Market;
        const accounts = positions.map((p, i): Account => ({
          accountId: `a${i}`, collateral: p.collateral,
          positions: [{ marketId: 'M', size: p.size, entryNotional: p.size > 0n ? p.entry : -p.entry, fundingIndex: p.settled }],
        }));
        const chosen = accounts[pick % accounts.length]!;
        const at = safeMark(chosen, market) ?? ONE;
        const mark = at + BigInt(nudge) > 0n ? at + BigInt(nudge) : 1n;
        const pool = {
          status: 'active', poolId: `liquidatable-${++pools}`,
          markets: PersistentMap.of([['M', { ...market, mark }]]),
          accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
          positionHolders: PersistentMap.of([['M', accounts.reduce((s, a) => s.add(a.accountId), PersistentSet.empty<string>())]]),
          markEpoch: 0,
        } as unknown as ActivePool;
        expect(liquidatableAccounts(pool)).toEqual(liquidatableAccountsScanned(pool));
      }), propertyParameters('liquidatable index at the safe marks', 300));
  });
});
