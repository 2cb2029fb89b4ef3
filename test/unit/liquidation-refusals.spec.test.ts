// Given/when/then specifications of liquidation refusals and of postings that must not exist.

import { describe, expect, it } from 'vitest';
import { units } from '../../domain/index.js';
import { createPool, deposit, given, liquidate, listMarket, mark, thenError, thenEvents, trade, when } from '../support/builders.js';
import { noFees } from '../support/liquidation-checks.js';

describe('Liquidate', () => {
  // alice 3100 long 1 BTC at 30000 against bob, mark 28300: E = 1400, below maintenance 1415.
  const history = (penaltyFundSharePpm: number) => given(createPool(), listMarket({ ...noFees, penaltyFundSharePpm }),
    deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28300'));

  it('refuses an unknown account or market, naming the field', () => {
    thenError(when(history(500_000), liquidate('nobody', '28200')), 'UNKNOWN_ACCOUNT', 'accountId');
    thenError(when(history(500_000), liquidate('alice', '28200', 'liq', 'DOGE-PERP')), 'UNKNOWN_MARKET', 'marketId');
  });

  it('books no posting of zero: with all of the penalty to the fund, the liquidator gets no posting of it', () => {
    // At 28200: S = 1300, penalty 282, all of it to the fund (junior 211.5, senior 70.5).
    const events = thenEvents(when(history(1_000_000), liquidate('alice', '28200')));
    expect(events[0]).toMatchObject({ penalty: units('282'), penaltyToFund: units('282') });
    const postings = events.flatMap((e) => ('postings' in e ? e.postings : []));
    expect(postings.filter((p) => p.amount <= 0n)).toEqual([]);
    expect(postings.filter((p) => p.to.kind === 'collateral' && p.to.accountId === 'liq' && p.from.kind === 'collateral')).toEqual([]);
  });
});
