// The certified float filter in front of the trade margin rule: whenever it says "passes", the
// exact bigint rule passes too, right at the boundary (equity - requirement in -3..3 ledger units)
// and with values far beyond 2^53; and it does pass when the slack is clear (it is a useful filter).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { marginOf, ONE, pow10, type Account, type Market, type Position } from '../../domain/index.js';
import { addCollateralTerm, addPositionTerms, certainlyMeets, certainlyMeetsTradeMargin, emptyFloatMargin } from '../../domain/book/margin-filter.js';
import { propertyParameters } from '../support/property.js';

const marketArb = (marketId: string): fc.Arbitrary<Market> => fc.record({
  priceDecimals: fc.integer({ min: 0, max: 8 }),
  ticks: fc.bigInt({ min: 1n, max: 10n ** 24n }),
  initialMarginPpm: fc.integer({ min: 1, max: 1_000_000 }),
}).map(({ priceDecimals, ticks, initialMarginPpm }) => ({
  marketId, sizeDecimals: 18 - priceDecimals >= 10 ? 10 : 18 - priceDecimals, priceDecimals, initialMarginPpm, maintenanceMarginPpm: 1,
  takerFeePpm: 0, makerFeePpm: 0, liquidationPenaltyPpm: 0, penaltyFundSharePpm: 0, adlPolicy: 'none', maxLiquidationSpreadPpm: 0, maxMarkMovePpm: 0,
  mark: ticks * pow10(18 - priceDecimals), longSize: 0n, openInterest: 0n, maxFundingRatePpm: 0, fundingIndex: 0n, fundingBalance: 0n,
  fundDrawWindowMs: 0, fundDrawnTotal: 0n, recentFundDraws: [],
}));

const positionArb = (market: Market): fc.Arbitrary<Position> => fc.record({
  lots: fc.bigInt({ min: -(10n ** 26n), max: 10n ** 26n }).filter((n) => n !== 0n),
  entry: fc.bigInt({ min: -(10n ** 50n), max: 10n ** 50n }),
}).map(({ lots, entry }) => ({ marketId: market.marketId, size: lots * pow10(18 - market.sizeDecimals), entryNotional: entry }));

const caseArb = fc.array(fc.constantFrom('A', 'B', 'C', 'D'), { minLength: 1, maxLength: 4 })
  .map((ids) => [...new Set(ids)])
  .chain((ids) => fc.tuple(...ids.map((id) => marketArb(id))))
  .chain((markets) => fc.record({
    markets: fc.constant(markets),
    positions: fc.tuple(...markets.map(positionArb)),
    // The slack equity - rule: at the boundary, a little off it, or anywhere.
    slack: fc.oneof(fc.bigInt({ min: -3n, max: 3n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n })),
    reducedOnly: fc.boolean(),
  }));

describe('the certified margin filter', () => {
  it('never passes an account the exact rule refuses, and passes clear cases', () => {
    let passed = 0;
    let toExact = 0;
    fc.assert(fc.property(caseArb, ({ markets, positions, slack, reducedOnly }) => {
      const byId = new Map(markets.map((m) => [m.marketId, m]));
      const lookup = (id: string) => byId.get(id);
      const bare: Account = { accountId: 'x', collateral: 0n, positions };
      const { equity: equity0, requirement } = marginOf(bare, lookup, 'initial');
      const rule = reducedOnly ? 0n : requirement;
      const account: Account = { ...bare, collateral: rule - equity0 + slack };
      const exact = marginOf(account, lookup, 'initial');
      const exactPasses = exact.equity >= (reducedOnly ? 0n : exact.requirement);
      expect(exactPasses).toBe(slack >= 0n);
      const certain = certainlyMeetsTradeMargin(account, lookup, reducedOnly);
      if (certain) expect(exactPasses).toBe(true);
      // Clear slack (a relative 1e-9 of every magnitude involved, plus a few units) must pass.
      let magnitude = account.collateral < 0n ? -account.collateral : account.collateral;
      for (const p of positions) {
        const value = (p.size * byId.get(p.marketId)!.mark) / ONE;
        magnitude += (value < 0n ? -value : value) * 2n + (p.entryNotional < 0n ? -p.entryNotional : p.entryNotional);
      }
      if (slack > magnitude / 1_000_000_000n + 100n) expect(certain).toBe(true);
      if (certain) passed++;
      else if (exactPasses) toExact++;
    }), propertyParameters('margin filter', 2_000));
    console.log(`[property] margin filter: ${passed} certain passes, ${toExact} exact passes the filter left to the exact rule`);
    expect(toExact).toBeGreaterThan(0);
  });

  it('adds the terms in any order (the pool book adds the untraded positions before the trade, the rest after): still certified', () => {
    fc.assert(fc.property(caseArb, fc.nat(), fc.nat(), ({ markets, positions, slack, reducedOnly }, rotation, collateralAt) => {
      const byId = new Map(markets.map((m) => [m.marketId, m]));
      const lookup = (id: string) => byId.get(id);
      const { equity: equity0, requirement } = marginOf({ collateral: 0n, positions }, lookup, 'initial');
      const account: Account = { accountId: 'x', collateral: (reducedOnly ? 0n : requirement) - equity0 + slack, positions };
      // the positions rotated, the collateral's term slipped in anywhere among them
      const order = positions.map((_, i) => positions[(i + rotation) % positions.length]!);
      const at = collateralAt % (order.length + 1);
      const sums = emptyFloatMargin();
      order.forEach((p, i) => {
        if (i === at) addCollateralTerm(sums, account.collateral);
        addPositionTerms(sums, p.size, p.entryNotional, byId.get(p.marketId)!);
      });
      if (at === order.length) addCollateralTerm(sums, account.collateral);
      const certain = certainlyMeets(sums, reducedOnly);
      // slack >= 0 is exactly the rule's pass (the first property checks that against marginOf)
      if (certain) expect(slack >= 0n).toBe(true);
      // The same clear slack as above passes in every order.
      let magnitude = account.collateral < 0n ? -account.collateral : account.collateral;
      for (const p of positions) {
        const value = (p.size * byId.get(p.marketId)!.mark) / ONE;
        magnitude += (value < 0n ? -value : value) * 2n + (p.entryNotional < 0n ? -p.entryNotional : p.entryNotional);
      }
      if (slack > magnitude / 1_000_000_000n + 100n) expect(certain).toBe(true);
    }), propertyParameters('margin filter, any order', 2_000));
  });
});

