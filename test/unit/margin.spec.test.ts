// Given/when/then specifications of cross-margin figures, with hand-computed numbers.

import { describe, expect, it } from 'vitest';
import { equityOf, isLiquidatable, marginOf, poolView, units, unrealizedPnl, unsettledFunding, type MarketLookup } from '../../domain/index.js';
import { active, BTC, createPool, deposit, ETH, given, listMarket, mark, trade } from '../support/builders.js';

const noFees = { takerFeePpm: 0, makerFeePpm: 0 };

describe('cross margin over a long and a short', () => {
  // alice deposits 10000, buys 1 BTC at 30000 and sells 10 ETH at 2000. Marks 28000 and 2100:
  //   uPnL: BTC 28000 - 30000 = -2000, ETH -21000 + 20000 = -1000; equity 10000 - 3000 = 7000
  //   initial 10% of |28000| + |-21000| = 4900; maintenance 5% = 1400 + 1050 = 2450.
  const history = given(createPool(), listMarket(noFees), listMarket({ ...noFees, marketId: ETH, markPrice: units('2000'), governanceSeq: 2, maxMarkMovePpm: 900000 }),
    deposit('alice', '10000'), deposit('bob', '100000'),
    trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    trade({ marketId: ETH, taker: 'alice', maker: 'bob', side: 'sell', size: '10', price: '2000' }),
    mark('28000'), mark('2100', ETH));
  const pool = active(history.state);
  const markets: MarketLookup = (id) => pool.markets.get(id);
  const alice = pool.accounts.get('alice')!;

  it('equity, initial and maintenance margin', () => {
    expect(marginOf(alice, markets, 'initial')).toEqual({ equity: units('7000'), requirement: units('4900') });
    expect(marginOf(alice, markets, 'maintenance')).toEqual({ equity: units('7000'), requirement: units('2450') });
    expect(equityOf(alice, markets)).toBe(units('7000'));
    expect(isLiquidatable(alice, markets)).toBe(false);
    const [btc, eth] = alice.positions;
    expect([unrealizedPnl(btc!, units('28000')), unrealizedPnl(eth!, units('2100'))]).toEqual([units('-2000'), units('-1000')]);
    expect(poolView(history.state)?.accounts.find((a) => a.accountId === 'alice')).toEqual({
      accountId: 'alice', collateral: '10000', equity: '7000', initialMargin: '4900', maintenanceMargin: '2450', liquidatable: false,
      positions: [
        { marketId: BTC, size: '1', entryNotional: '30000', unrealizedPnl: '-2000' },
        { marketId: ETH, size: '-10', entryNotional: '-20000', unrealizedPnl: '-1000' },
      ],
    });
  });

  it('a requirement on a notional that is not a whole unit is rounded up', () => {
    // 0.0001 BTC at 28000.01 is 2.800001, and 5% of it exactly 0.14000005.
    const tiny = { collateral: 0n, positions: [{ marketId: 'X', size: units('0.0001'), entryNotional: 0n }] };
    const at = (price: string, maintenanceMarginPpm: number): MarketLookup => () => ({ ...pool.markets.get(BTC)!, mark: units(price), maintenanceMarginPpm });
    expect(marginOf(tiny, at('28000.01', 50_000), 'maintenance').requirement).toBe(units('0.14000005'));
    // One ledger unit of size at a price of one ledger unit: an exposure of 1e-36, worth 0 long
    // (rounded down) and -1 unit short (rounded down), charged one whole unit either way.
    expect(marginOf({ collateral: 0n, positions: [{ marketId: 'X', size: 1n, entryNotional: 0n }] }, at('0.000000000000000001', 50_000), 'maintenance'))
      .toEqual({ equity: 0n, requirement: 1n });
    expect(marginOf({ collateral: 0n, positions: [{ marketId: 'X', size: -1n, entryNotional: 0n }] }, at('0.000000000000000001', 50_000), 'maintenance'))
      .toEqual({ equity: -1n, requirement: 1n });
  });

  it('no position means not liquidatable; a position in an unknown market is valued at its basis', () => {
    expect(isLiquidatable({ collateral: -5n, positions: [] }, markets)).toBe(false);
    const orphan = { collateral: units('10'), positions: [{ marketId: 'GONE', size: units('1'), entryNotional: units('500') }] };
    expect(marginOf(orphan, markets, 'initial')).toEqual({ equity: units('10'), requirement: 0n });
    expect(isLiquidatable(orphan, markets)).toBe(false);
    expect(isLiquidatable({ collateral: -1n, positions: orphan.positions }, markets)).toBe(true);
  });

  it('equity counts the funding accrued since the index a position settled at, not since zero', () => {
    // The BTC market's index stands at 5 (quote per unit of size) and its mark at 30000.
    //   long 2 settled at 3:  -2 * (5 - 3) = -4, uPnL 60000 - 60000 = 0
    //   short 1 settled at 3: +1 * (5 - 3) = +2, uPnL -30000 + 30000 = 0
    //   long 2 settled at 5:  nothing accrued
    //   long 2 never settled (absent index, 0): -2 * 5 = -10
    const at5: MarketLookup = () => ({ ...pool.markets.get(BTC)!, mark: units('30000'), fundingIndex: units('5') });
    const long = { marketId: BTC, size: units('2'), entryNotional: units('60000'), fundingIndex: units('3') };
    const short = { marketId: BTC, size: units('-1'), entryNotional: units('-30000'), fundingIndex: units('3') };
    const market = at5(BTC)!;
    expect(unsettledFunding(long, market)).toBe(units('-4'));
    expect(unsettledFunding(short, market)).toBe(units('2'));
    expect(unsettledFunding({ ...long, fundingIndex: units('5') }, market)).toBe(0n);
    expect(unsettledFunding({ size: units('2') }, market)).toBe(units('-10'));
    // Collateral 100: equity 100 - 4 = 96 and 100 + 2 = 102; maintenance 5% of 60000 = 3000.
    expect(marginOf({ collateral: units('100'), positions: [long] }, at5, 'maintenance')).toEqual({ equity: units('96'), requirement: units('3000') });
    expect(equityOf({ collateral: units('100'), positions: [short] }, at5)).toBe(units('102'));
  });
});
