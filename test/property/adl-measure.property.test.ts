// ADL measured, under the random sequences of the waterfall property (funding, rebates, fund caps
// and payouts included): for every liquidation with ADL, what the fills cost the counterparties
// against the mark (lossAtMark) next to the part of the deficit ADL covered (deficitCovered).
//
// Exactly, for a position q liquidated at `price` with `placed` of it auto-deleveraged:
//   lossAtMark - deficitCovered = placed * (price - mark) * sign(q) + excess
// where excess (0 <= excess < one ledger unit per fill) is what rounding the fills against the
// counterparties left the bankrupt account over E - E_q, paid to the treasury. So when the
// liquidator's price is no better for the account than the mark, the ratio never exceeds 1 by
// more than one ledger unit (1e-18) per fill; when it is better, ADL costs its counterparties the
// liquidator's premium it did not earn on the ADL'd size on top.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { abs, notional, type PositionLiquidated, type PositionsAutoDeleveraged } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

describe('ADL measured against the deficit it covers', () => {
  it('costs the counterparties the deficit it covers, plus the premium a liquidator bid over the mark, plus less than a unit per fill', () => {
    const seen = { adl: 0, atOrWorseThanMark: 0, capReached: 0, rebates: 0, fundingBeforeLiquidation: 0 };
    fc.assert(fc.property(scenarioArb({ maxSteps: 80 }), (scenario) => {
      runScenario(scenario, {
        afterCommand: (before, command, events) => {
          for (const e of events) if (e.type === 'TradeExecuted' && e.makerRebate !== undefined) seen.rebates++;
          if (command.type !== 'Liquidate' || before.status !== 'active') return;
          if (events[0]?.type === 'FundingSettled') seen.fundingBeforeLiquidation++;
          const liquidated = events.find((e): e is PositionLiquidated => e.type === 'PositionLiquidated')!;
          const adl = events.find((e): e is PositionsAutoDeleveraged => e.type === 'PositionsAutoDeleveraged');
          if (liquidated.fundCapRemaining !== undefined && liquidated.deficit > liquidated.fundCapRemaining && adl !== undefined) seen.capReached++;
          if (adl === undefined) return;
          seen.adl++;
          const loss = adl.lossAtMark!;
          const covered = adl.deficitCovered!;
          const placed = adl.fills.reduce((sum, f) => sum + abs(f.size), 0n);
          const premium = liquidated.size > 0n
            ? notional(placed, liquidated.price) - notional(placed, liquidated.mark)
            : notional(placed, liquidated.mark) - notional(placed, liquidated.price);
          const excess = adl.postings.filter((p) => p.to.kind === 'treasury').reduce((sum, p) => sum + p.amount, 0n);
          expect(loss - covered - premium).toBe(excess);
          expect(excess < BigInt(adl.fills.length)).toBe(true);
          if (premium <= 0n) {
            seen.atOrWorseThanMark++;
            // the ratio loss / covered never exceeds 1 by more than one ledger unit per fill
            expect(loss <= covered + BigInt(adl.fills.length) - 1n).toBe(true);
          }
        },
      });
    }), propertyParameters('ADL measure', 200));
    console.log(`[property] ADL measure: ${JSON.stringify(seen)}`);
    expect(seen.adl).toBeGreaterThan(0);
    expect(seen.atOrWorseThanMark).toBeGreaterThan(0);
    expect(seen.capReached).toBeGreaterThan(0);
    expect(seen.rebates).toBeGreaterThan(0);
    expect(seen.fundingBeforeLiquidation).toBeGreaterThan(0);
  });
});
