// Edges of the funding rules, given / when / then with hand-computed numbers: the refusals and
// their messages, the rate bound itself accepted, and what settling touches. BTC-PERP of the
// standard pool: lot 0.0001, mark 30000, default bound 7500 ppm.

import { describe, expect, it } from 'vitest';
import { fundingSettlement, settleAccounts, SCHEMA_VERSION, units, type Command } from '../../domain/index.js';
import {
  active, BTC, deposit, ETH, listMarket, POOL, standardPool, thenError, thenEvents, trade, when,
} from '../support/builders.js';

let counter = 0;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: `edge-${++counter}`, poolId: POOL });
const funding = (fundingRatePpm: number, marketId = BTC): Command => ({ ...envelope('ApplyFunding'), marketId, fundingRatePpm });
const settle = (accountId: string): Command => ({ ...envelope('SettleFunding'), accountId });

describe('funding refusals name the field and say why', () => {
  it('a rate beyond the bound names both; the bound itself is accepted either way', () => {
    const history = standardPool();
    expect(thenError(when(history, funding(7_501)), 'FUNDING_RATE_OUT_OF_BAND', 'fundingRatePpm').message)
      .toBe("funding rate 7501 ppm exceeds the market's bound of 7500 ppm");
    // 7500 ppm of 30000 = 225 per BTC, up or down
    expect(thenEvents(when(history, funding(7_500)))).toMatchObject([{ type: 'FundingRateApplied', indexDelta: units('225'), fundingIndex: units('225') }]);
    expect(thenEvents(when(history, funding(-7_500)))).toMatchObject([{ type: 'FundingRateApplied', indexDelta: -units('225'), fundingIndex: -units('225') }]);
  });

  it('funding an unlisted market and settling an unknown account are refused', () => {
    const history = standardPool();
    expect(thenError(when(history, funding(1, 'DOGE-PERP')), 'UNKNOWN_MARKET', 'marketId').message).toBe('market "DOGE-PERP" is not listed');
    expect(thenError(when(history, settle('nobody')), 'UNKNOWN_ACCOUNT', 'accountId').message).toBe('account "nobody" does not exist');
  });

  it('an account with nothing unsettled is told so', () => {
    const history = standardPool(deposit('alice', '10000'));
    expect(thenError(when(history, settle('alice')), 'NO_UNSETTLED_FUNDING', 'accountId').message).toBe('account "alice" has no unsettled funding');
  });
});

describe('what a settlement touches', () => {
  // alice long 1 BTC from bob at 30000 and long 1 ETH from bob at 2000; BTC funding 100 ppm of
  // 30000 = 3 per BTC, ETH funding 100 ppm of 2000 = 0.2 per ETH.
  const twoMarkets = () => standardPool(listMarket({ marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }),
    deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    trade({ marketId: ETH, taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '2000' }),
    funding(100), funding(100, ETH));

  it('settles every market with funding outstanding, or only the one asked for', () => {
    const pool = active(twoMarkets().state);
    const alice = pool.accounts.get('alice');
    expect(fundingSettlement(pool, alice)?.settlements.map((s) => [s.marketId, s.amount])).toEqual([[BTC, -units('3')], [ETH, -units('0.2')]]);
    expect(fundingSettlement(pool, alice, ETH)?.settlements.map((s) => [s.marketId, s.amount])).toEqual([[ETH, -units('0.2')]]);
    expect(fundingSettlement(pool, alice, ETH)?.postings).toEqual([{ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'funding', marketId: ETH }, amount: units('0.2') }]);
    expect(fundingSettlement(pool, undefined)).toBeUndefined();
  });

  it('settles each touched account once, in the order given, and leaves an account without positions alone', () => {
    const pool = active(twoMarkets().state);
    const settled = settleAccounts(pool, ['bob', 'carol', 'alice', 'bob']);
    expect(settled.events.map((e) => [e.accountId, e.settlements.map((s) => s.amount)])).toEqual([
      ['bob', [units('3'), units('0.2')]], ['alice', [-units('3'), -units('0.2')]],
    ]);
    expect(settled.pool.accounts.get('bob')!.collateral).toBe(pool.accounts.get('bob')!.collateral + units('3.2'));
    expect(settleAccounts(pool, ['carol']).pool).toBe(pool);
  });
});
