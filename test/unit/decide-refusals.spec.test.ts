// What `decide` tells a producer when it refuses a deposit, withdrawal, trade or mark update: the
// code, the field and the message, with hand-computed numbers. The standard pool: BTC-PERP at
// 30000, IMR 10%, MMR 5%, taker 0.05%, maker 0.02%, marks move at most 20% per update.

import { describe, expect, it } from 'vitest';
import { units } from '../../domain/index.js';
import { active, apply, deposit, given, mark, standardPool, thenError, thenEvents, trade, when, withdraw, type History } from '../support/builders.js';

const message = (decision: ReturnType<typeof when>, code: Parameters<typeof thenError>[1], field?: string): string => thenError(decision, code, field).message;

describe('the pool and the account must exist', () => {
  it('names the pool a command is for when there is none', () => {
    expect(message(when(given(), deposit('alice', '1')), 'UNKNOWN_POOL', 'poolId')).toBe('pool "main" does not exist');
    expect(message(when(standardPool(), { ...deposit('alice', '1'), poolId: 'other' }), 'UNKNOWN_POOL', 'poolId')).toBe('pool "other" does not exist');
  });
});

describe('withdrawals', () => {
  // alice: 4000 - fee 15 = 3985 collateral, long 1 at 30000: initial margin 3000.
  const history = standardPool(deposit('alice', '4000'), deposit('bob', '10000'), trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));

  it('say how much collateral there is, and what equity would be left against initial margin', () => {
    expect(message(when(history, withdraw('alice', '3985.000001')), 'INSUFFICIENT_COLLATERAL', 'amount')).toBe('amount 3985.000001 exceeds collateral 3985');
    expect(message(when(history, withdraw('alice', '986')), 'INSUFFICIENT_MARGIN', 'amount')).toBe('equity after withdrawal 2999 would be below initial margin 3000');
    expect(message(when(history, withdraw('alice', '0.0000001')), 'PRECISION_EXCEEDED', 'amount')).toBe('amount 0.0000001 has more than 6 decimal places');
    // all of a position-free account's collateral may go
    expect(thenEvents(when(standardPool(deposit('carol', '5')), withdraw('carol', '5')))).toMatchObject([{ type: 'CollateralWithdrawn', amount: units('5') }]);
  });

  it('are suspended with the bad debt named, before any other check of the amount', () => {
    const insolvent: History = { ...history, state: { ...active(history.state), badDebt: units('12.5') } };
    const error = thenError(when(insolvent, withdraw('alice', '1')), 'WITHDRAWALS_GATED');
    expect([error.message, error.field]).toEqual(['withdrawals are suspended while the pool carries 12.5 of bad debt', undefined]);
    expect(thenError(when(insolvent, withdraw('alice', '5000')), 'WITHDRAWALS_GATED').code).toBe('WITHDRAWALS_GATED');
  });
});

describe('trades', () => {
  it('say which side falls below initial margin, and by how much', () => {
    // alice 3000 buys 1: equity 3000 - 15 = 2985 < 3000
    const history = standardPool(deposit('alice', '3000'), deposit('bob', '10000'));
    expect(message(when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })), 'INSUFFICIENT_MARGIN', 'taker'))
      .toBe('taker "alice" equity 2985 would be below initial margin 3000');
    // as maker alice pays 6: 2994 < 3000
    expect(message(when(history, trade({ taker: 'bob', maker: 'alice', side: 'sell', size: '1', price: '30000' })), 'INSUFFICIENT_MARGIN', 'maker'))
      .toBe('maker "alice" equity 2994 would be below initial margin 3000');
  });

  it('a side that only reduces may not be left with negative equity, and may be left at exactly zero', () => {
    // alice 3100 buys 1 at 30000 (collateral 3085); mark 28000. Selling 1 at 26900 realizes -3100
    // and pays 13.45: 3085 - 3113.45 = -28.45.
    const history = standardPool(deposit('alice', '3100'), deposit('bob', '10000'), deposit('carol', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('28000'));
    expect(message(when(history, trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '1', price: '26900' })), 'INSUFFICIENT_MARGIN', 'taker'))
      .toBe('taker "alice" would be left with negative equity -28.45');
    // As maker at 0.02%, selling 1 at p leaves 3085 - (30000 - p) - 0.0002 p, zero at p =
    // 26915 / 0.9998 = 26920.384...: at 26920.39 she keeps 3085 - 3079.61 - 5.384078 = 0.005922,
    // at 26920.38 she would have 3085 - 3079.62 - 5.384076 = -0.004076.
    expect(thenEvents(when(history, trade({ taker: 'carol', maker: 'alice', side: 'buy', size: '1', price: '26920.39' })))).toHaveLength(1);
    expect(message(when(history, trade({ taker: 'carol', maker: 'alice', side: 'buy', size: '1', price: '26920.38' })), 'INSUFFICIENT_MARGIN', 'maker'))
      .toBe('maker "alice" would be left with negative equity -0.004076');
  });

  it('a side that only reduces may close at exactly zero equity, and not one ledger unit below', () => {
    // alice 4028 buys 1 at 30000 as taker (fee 15): collateral 4013. Selling 1 at 26000 as taker
    // realizes -4000 and pays 13: 4013 - 4000 - 13 = 0 exactly. From 4027.999999 she would be left
    // at -0.000001.
    const opened = (amount: string) => standardPool(deposit('alice', amount), deposit('bob', '10000'), deposit('carol', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));
    const close = trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '1', price: '26000' });
    const closed = apply(opened('4028'), when(opened('4028'), close));
    expect(closed.events.at(-1)).toMatchObject({ type: 'TradeExecuted', takerFee: units('13') });
    expect(active(closed.state).accounts.get('alice')).toMatchObject({ collateral: 0n, positions: [] });
    expect(message(when(opened('4027.999999'), close), 'INSUFFICIENT_MARGIN', 'taker'))
      .toBe('taker "alice" would be left with negative equity -0.000001');
  });

  it('refuse a self-trade and a trade id used before', () => {
    const history = standardPool(deposit('alice', '10000'), deposit('bob', '10000'), trade({ tradeId: 'T-1', taker: 'alice', maker: 'bob', side: 'buy', size: '0.1', price: '30000' }));
    expect(message(when(history, trade({ taker: 'alice', maker: 'alice', side: 'buy', size: '0.1', price: '30000' })), 'SELF_TRADE', 'maker'))
      .toBe('taker and maker must be different accounts');
    expect(message(when(history, trade({ tradeId: 'T-1', taker: 'bob', maker: 'alice', side: 'buy', size: '0.1', price: '30000' })), 'DUPLICATE_TRADE', 'tradeId'))
      .toBe('trade "T-1" was already executed');
  });
});

describe('mark updates', () => {
  it('may move by 20% exactly, and say the bound when they move further', () => {
    const history = standardPool();
    expect(thenEvents(when(history, mark('24000')))).toMatchObject([{ type: 'MarkPriceUpdated', price: units('24000') }]);
    expect(thenEvents(when(history, mark('36000')))).toMatchObject([{ type: 'MarkPriceUpdated', price: units('36000') }]);
    expect(message(when(history, mark('23999.99')), 'MARK_MOVE_OUT_OF_BAND', 'price'))
      .toBe('mark 30000 may move by at most 200000 ppm (6000) in one update; 23999.99 moves it by 6000.01');
    expect(message(when(history, mark('36000.01')), 'MARK_MOVE_OUT_OF_BAND', 'price'))
      .toBe('mark 30000 may move by at most 200000 ppm (6000) in one update; 36000.01 moves it by 6000.01');
  });
});
