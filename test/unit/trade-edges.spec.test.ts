// Edges of how a trade changes a position, given / when / then with hand-computed numbers, on
// markets without fees: a close at the entry price realizes nothing and posts nothing for it, and
// closing a whole position counts as only reducing, even with another position open.

import { describe, expect, it } from 'vitest';
import { units } from '../../domain/index.js';
import { BTC, createPool, deposit, ETH, given, listMarket, mark, thenError, thenEvents, trade, when } from '../support/builders.js';
import { noFees } from '../support/liquidation-checks.js';

const position = (accountId: string, marketId = BTC) => ({ kind: 'position', accountId, marketId } as const);
const collateral = (accountId: string) => ({ kind: 'collateral', accountId } as const);

describe('realized PnL postings', () => {
  const opened = () => given(createPool(), listMarket(noFees), deposit('alice', '10000'), deposit('bob', '10000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));

  it('closing at the entry price posts the notional only: a realized PnL of zero is no posting', () => {
    const [event] = thenEvents(when(opened(), trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '1', price: '30000' })));
    expect(event).toMatchObject({ type: 'TradeExecuted', postings: [{ from: position('bob'), to: position('alice'), amount: units('30000') }] });
    expect(event!.type === 'TradeExecuted' && event!.postings).toHaveLength(1);
  });

  it('closing above the entry price moves the profit into collateral, and the loss of the other side out of it', () => {
    // alice sells 0.5 back at 31000: she realizes 0.5 * 1000 = 500; bob buys back half his short: -500.
    const [event] = thenEvents(when(opened(), trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '0.5', price: '31000' })));
    expect(event!.type === 'TradeExecuted' && event!.postings).toEqual([
      { from: position('bob'), to: position('alice'), amount: units('15500') },
      { from: position('alice'), to: collateral('alice'), amount: units('500') },
      { from: collateral('bob'), to: position('bob'), amount: units('500') },
    ]);
  });
});

describe('closing a whole position only reduces', () => {
  // alice deposits 5000 and buys 1 BTC at 30000 and 10 ETH at 2000: initial margin 3000 + 2000.
  // BTC falls to 27000: equity 2000 against initial 2700 + 2000.
  const underwater = () => given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }),
    deposit('alice', '5000'), deposit('bob', '100000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    trade({ marketId: ETH, taker: 'alice', maker: 'bob', side: 'buy', size: '10', price: '2000' }),
    mark('27000'));

  it('below initial margin, alice may close all of her BTC at 26990: her equity 1990 stays above zero, though below the ETH initial margin 2000', () => {
    expect(thenEvents(when(underwater(), trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '1', price: '26990' })))).toHaveLength(1);
  });

  it('but she may not flip to a short of 0.0001 the same way: that is not only reducing', () => {
    thenError(when(underwater(), trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '1.0001', price: '26990' })), 'INSUFFICIENT_MARGIN', 'taker');
  });
});
