// Given/when/then specifications of the trust bounds on prices: a liquidator's price must lie
// within the market's spread of the mark on the side that protects the pool, and one mark
// update may move the mark by at most its bound. Defaults: 10% spread, 20% mark move.
// Fees are zero so that every figure is easy to follow.

import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_BOUNDS, units } from '../../domain/index.js';
import {
  active, apply, BTC, changeParameters, createPool, deposit, given, liquidate, listMarket, mark, signed, thenError, thenEvents, trade, when,
} from '../support/builders.js';

const noFees = { takerFeePpm: 0, makerFeePpm: 0 };

/** alice, 3100 of collateral, holds 1 BTC from 30000 (long, or short when `side` is sell) against bob. */
const opened = (side: 'buy' | 'sell', ...listing: Parameters<typeof listMarket>) => given(
  createPool(), listMarket({ ...noFees, ...listing[0] }),
  deposit('alice', '3100'), deposit('bob', '10000'), deposit('liq', '100000'),
  trade({ taker: 'alice', maker: 'bob', side, size: '1', price: '30000' }),
);

describe('listing records the bounds in force', () => {
  it('the defaults when the listing names none: 10% liquidation spread, 20% mark move', () => {
    expect(DEFAULT_RISK_BOUNDS).toEqual({ maxLiquidationSpreadPpm: 100_000, maxMarkMovePpm: 200_000 });
    const [listed] = thenEvents(when(given(createPool()), listMarket()));
    expect(listed).toMatchObject({ type: 'MarketListed', maxLiquidationSpreadPpm: 100_000, maxMarkMovePpm: 200_000 });
  });

  it('the listing\'s own values when it names them', () => {
    const [listed] = thenEvents(when(given(createPool()), listMarket({ maxLiquidationSpreadPpm: 30_000, maxMarkMovePpm: 50_000 })));
    expect(listed).toMatchObject({ maxLiquidationSpreadPpm: 30_000, maxMarkMovePpm: 50_000 });
  });
});

describe('a liquidator\'s price lies within the spread of the mark', () => {
  it('a long is taken over at no less than mark * (1 - spread): at the bound accepted, one tick below refused', () => {
    // Mark 28300: alice's equity 3100 - 1700 = 1400 < maintenance 1415. Bound 28300 * 0.9 = 25470.
    const history = apply(opened('buy'), when(opened('buy'), mark('28300')));
    const error = thenError(when(history, liquidate('alice', '25469.99')), 'LIQUIDATION_PRICE_OUT_OF_BAND', 'price');
    expect(error.message).toBe('a long is taken over at no less than 25470 (mark 28300, spread 100000 ppm); price 25469.99');
    const events = thenEvents(when(history, liquidate('alice', '25470')));
    expect(events.at(-2)).toMatchObject({ type: 'PositionLiquidated', price: units('25470') });
  });

  it('a short is taken over at no more than mark * (1 + spread): at the bound accepted, one tick above refused', () => {
    // alice short 1 from 30000, mark 31700: equity 3100 - 1700 = 1400 < maintenance 1585. Bound 31700 * 1.1 = 34870.
    const history = apply(opened('sell'), when(opened('sell'), mark('31700')));
    const error = thenError(when(history, liquidate('alice', '34870.01')), 'LIQUIDATION_PRICE_OUT_OF_BAND', 'price');
    expect(error.message).toBe('a short is taken over at no more than 34870 (mark 31700, spread 100000 ppm); price 34870.01');
    const events = thenEvents(when(history, liquidate('alice', '34870')));
    expect(events.find((e) => e.type === 'PositionLiquidated')).toMatchObject({ price: units('34870') });
  });

  it('the attack: a bankrupt long taken over at 0.01 and the deficit charged to the fund is refused', () => {
    const history = apply(opened('buy'), when(opened('buy'), mark('28300')));
    thenError(when(history, liquidate('alice', '0.01')), 'LIQUIDATION_PRICE_OUT_OF_BAND', 'price');
  });

  it('the bound is exact, rounded in the pool\'s favour: a long\'s bound rounds up', () => {
    // 18 price decimals, spread 1 ppm, mark 28300.000000000000000001: mark * 0.999999 =
    // 28299.971700000000000000999999, which lies between two ledger units. Rounded down, a price
    // below it would pass; the bound is rounded up instead.
    const listing = { maxLiquidationSpreadPpm: 1, sizeDecimals: 0, priceDecimals: 18 };
    const history = apply(opened('buy', listing), when(opened('buy', listing), mark('28300.000000000000000001')));
    const error = thenError(when(history, liquidate('alice', '28299.9717')), 'LIQUIDATION_PRICE_OUT_OF_BAND', 'price');
    expect(error.message).toContain('no less than 28299.971700000000000001');
    thenEvents(when(history, liquidate('alice', '28299.971700000000000001')));
  });
});

describe('a mark update moves the mark by at most its bound (circuit breaker)', () => {
  const history = given(createPool(), listMarket());

  it('up and down by exactly 20% of 30000 accepted, one tick beyond refused', () => {
    thenEvents(when(history, mark('36000')));
    thenEvents(when(history, mark('24000')));
    const error = thenError(when(history, mark('36000.01')), 'MARK_MOVE_OUT_OF_BAND', 'price');
    expect(error.message).toBe('mark 30000 may move by at most 200000 ppm (6000) in one update; 36000.01 moves it by 6000.01');
    thenError(when(history, mark('23999.99')), 'MARK_MOVE_OUT_OF_BAND', 'price');
  });

  it('the bound is relative to the current mark, so a larger move takes several updates', () => {
    const moved = apply(history, when(history, mark('24000')));
    thenError(when(moved, mark('19199.99')), 'MARK_MOVE_OUT_OF_BAND', 'price');
    thenEvents(when(moved, mark('19200')));
  });
});

describe('governance changes both bounds', () => {
  it('a 5% spread and a 5% mark move take effect', () => {
    const before = opened('buy');
    const changed = apply(before, when(before, signed(changeParameters({ markets: [{ marketId: BTC, maxLiquidationSpreadPpm: 50_000, maxMarkMovePpm: 50_000 }] }))));
    expect(active(changed.state).markets.get(BTC)).toMatchObject({ maxLiquidationSpreadPpm: 50_000, maxMarkMovePpm: 50_000 });
    // 5% of 30000 is 1500: 28500 is at the bound, 28499.99 beyond (the 20% default would allow it).
    thenError(when(changed, mark('28499.99')), 'MARK_MOVE_OUT_OF_BAND', 'price');
    const at28500 = apply(changed, when(changed, mark('28500')));
    // 5% of 28500 is 1425: 27100 is within. alice: equity 3100 - 2900 = 200 < maintenance 1355.
    const crashed = apply(at28500, when(at28500, mark('27100')));
    // Bound 27100 * 0.95 = 25745 (the default 10% would allow 24390).
    thenError(when(crashed, liquidate('alice', '25744.99')), 'LIQUIDATION_PRICE_OUT_OF_BAND', 'price');
    thenEvents(when(crashed, liquidate('alice', '25745')));
  });
});
