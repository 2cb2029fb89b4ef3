// What accepted governance commands decide, given / when / then with hand-computed numbers:
// recapitalization's split between bad debt and the tranche, the shares it mints and the
// postings it books (none of zero); a payout from a named tranche; several markets changed at once.

import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, stakeOf, units, type Command, type PayFromFund } from '../../domain/index.js';
import {
  active, apply, at, BTC, changeParameters, createPool, ctx, deposit, ETH, given, liquidate, listMarket, mark, recapitalize, signed, stake, standardPool,
  thenEvents, trade, when, type History,
} from '../support/builders.js';

// A fixed fund share of 20% (base = max), no maker fee: a taker fee of 15 gives the fund 3,
// split 3:1 by income weight, junior 2.25 and senior 0.75.
const fixedShare = createPool({ feeShare: { baseFundSharePpm: 200_000, maxFundSharePpm: 200_000, targetCoveragePpm: 50_000 } });
const takerOnly = { takerFeePpm: 500, makerFeePpm: 0 };
// 1 BTC at 30000, taker fee 0.05% = 15
const feeIncome = (history: History): History =>
  at(ctx.now, history, deposit('alice', '10000'), deposit('bob', '10000'), trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));
const trancheFigures = (history: History) => active(history.state).tranches.map((t) => [t.trancheId, t.assets, t.shares]);

describe('recapitalization', () => {
  it('given no bad debt and a staked junior tranche of 102.25 assets and 100 shares, when 40.9 comes in, then it all goes to the tranche for 40 shares, one posting', () => {
    const history = feeIncome(given(fixedShare, listMarket(takerOnly), stake('lp1', 'junior', '100')));
    expect(trancheFigures(history)).toEqual([['junior', units('102.25'), units('100')], ['senior', units('0.75'), 0n]]);
    // 40.9 * 100 / 102.25 = 40 exactly
    const [recap] = thenEvents(when(history, recapitalize('junior', '40.9')));
    expect(recap).toMatchObject({
      type: 'Recapitalized', trancheId: 'junior', amount: units('40.9'), badDebtRepaid: 0n, sharesMinted: units('40'),
      postings: [{ from: { kind: 'external' }, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('40.9') }],
    });
    expect(recap).toHaveProperty('postings.length', 1);
  });

  describe('given bad debt of 10800 and a junior tranche holding 2.25 of fee income but no shares', () => {
    // The market may draw nothing from the fund and has no ADL. alice (3115, after the 15 fee
    // 3100) long 1 at 30000 against bob (3100); the mark falls to 10000: E = 3100 - 20000 = -16900.
    // At 9000: S = -16900 - 1000 = -17900; bob's 3100 and liq's 4000 cover 7100, 10800 is bad debt.
    const insolvent = ((): History => {
      const history = given(fixedShare, listMarket({ ...takerOnly, adlPolicy: 'none', maxMarkMovePpm: 700_000, fundDrawCap: 0n }),
        deposit('alice', '3115'), deposit('bob', '3100'), deposit('liq', '4000'),
        trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('10000'));
      return apply(history, when(history, liquidate('alice', '9000')));
    })();

    it('the pool is as described', () => {
      expect(active(insolvent.state).badDebt).toBe(units('10800'));
      expect(trancheFigures(insolvent)).toEqual([['junior', units('2.25'), 0n], ['senior', units('0.75'), 0n]]);
    });

    it('when exactly 10800 comes in, then it all repays the bad debt: no shares, no posting to the tranche', () => {
      const [recap] = thenEvents(when(insolvent, recapitalize('junior', '10800')));
      expect(recap).toMatchObject({
        badDebtRepaid: units('10800'), sharesMinted: 0n,
        postings: [{ from: { kind: 'external' }, to: { kind: 'badDebt' }, amount: units('10800') }],
      });
      expect(recap).toHaveProperty('postings.length', 1);
      const after = apply(insolvent, when(insolvent, recapitalize('junior', '10800')));
      expect(trancheFigures(after)).toEqual([['junior', units('2.25'), 0n], ['senior', units('0.75'), 0n]]);
    });

    it('when 10810 comes in, then 10800 repays the bad debt and 10 goes to the tranche, whose shares take its 2.25 too: 12.25', () => {
      const [recap] = thenEvents(when(insolvent, recapitalize('junior', '10810')));
      expect(recap).toMatchObject({
        badDebtRepaid: units('10800'), sharesMinted: units('12.25'),
        postings: [
          { from: { kind: 'external' }, to: { kind: 'badDebt' }, amount: units('10800') },
          { from: { kind: 'external' }, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('10') },
        ],
      });
      expect(recap).toHaveProperty('postings.length', 2);
      const after = apply(insolvent, when(insolvent, recapitalize('junior', '10810')));
      expect(trancheFigures(after)[0]).toEqual(['junior', units('12.25'), units('12.25')]);
      expect(stakeOf(active(after.state).tranches[0]!, 'protocol')).toBe(units('12.25'));
    });
  });
});

describe('payouts from the fund', () => {
  // junior holds 100, senior 50
  const history = standardPool(stake('lp1', 'junior', '100'), stake('lp2', 'senior', '50'));
  let counter = 0;
  const payout = (fields: Partial<PayFromFund>): Command => signed({
    type: 'PayFromFund', schemaVersion: SCHEMA_VERSION, commandId: `outcome-${++counter}`, poolId: 'main', recipient: { kind: 'external' },
    amount: units('20'), reason: 'claim', governanceRef: 'ref', governanceSeq: 2, signatures: [], ...fields,
  } as PayFromFund);

  it('given a payout of 20 from the senior tranche, then only the senior tranche pays, though the junior holds more', () => {
    expect(thenEvents(when(history, payout({ trancheId: 'senior' })))).toMatchObject([{
      type: 'FundPaidOut', amount: units('20'),
      draws: [{ trancheId: 'senior', amount: units('20'), writtenOff: false }],
      postings: [{ from: { kind: 'tranche', trancheId: 'senior' }, to: { kind: 'external' }, amount: units('20') }],
    }]);
  });

  it('given a payout of 120 from the fund, then the junior pays its 100 (written off) and the senior 20', () => {
    expect(thenEvents(when(history, payout({ amount: units('120'), recipient: { kind: 'account', accountId: 'claimant' } })))).toMatchObject([{
      draws: [{ trancheId: 'junior', amount: units('100'), writtenOff: true }, { trancheId: 'senior', amount: units('20'), writtenOff: false }],
      postings: [
        { from: { kind: 'tranche', trancheId: 'junior' }, to: { kind: 'collateral', accountId: 'claimant' }, amount: units('100') },
        { from: { kind: 'tranche', trancheId: 'senior' }, to: { kind: 'collateral', accountId: 'claimant' }, amount: units('20') },
      ],
    }]);
  });
});

describe('parameter changes of several markets', () => {
  it('given BTC and ETH listed, when one command changes both, then it is accepted with both changes', () => {
    const history = standardPool(listMarket({ marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }));
    const markets = [{ marketId: BTC, takerFeePpm: 600 }, { marketId: ETH, takerFeePpm: 700 }];
    expect(thenEvents(when(history, signed(changeParameters({ markets, governanceSeq: 3 }))))).toMatchObject([{ type: 'ParametersChanged', markets, governanceSeq: 3 }]);
  });
});
