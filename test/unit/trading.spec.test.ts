// Given/when/then specifications of the trading and margin core. Every number is worked out by
// hand in the comments; amounts are decimal strings exactly as producers send them.

import { describe, expect, it } from 'vitest';
import { units, liquidatableAccounts, equityOf, marketsOf, positionIn, SCHEMA_VERSION, type Account } from '../../domain/index.js';
import {
  active, apply, BTC, createPool, deposit, given, listMarket, mark, POOL, standardPool, thenError, thenEvents, trade, when, withdraw,
} from '../support/builders.js';

const account = (state: Parameters<typeof active>[0], id: string): Account => {
  const found = active(state).accounts.get(id);
  if (found === undefined) throw new Error(`no account ${id}`);
  return found;
};
const collateral = (a: Account, id = BTC) => ({ collateral: a.collateral, position: positionIn(a, id) });

describe('CreatePool', () => {
  it('creates the pool with empty tranches in seniority order', () => {
    const { state } = given(createPool());
    const pool = active(state);
    expect(pool.tranches.map(({ trancheId, incomeWeight, assets, shares, epoch }) => ({ trancheId, incomeWeight, assets, shares, epoch }))).toEqual([
      { trancheId: 'junior', incomeWeight: 3, assets: 0n, shares: 0n, epoch: 0 },
      { trancheId: 'senior', incomeWeight: 1, assets: 0n, shares: 0n, epoch: 0 },
    ]);
    expect(pool.poolId).toBe(POOL);
  });

  it('rejects a second CreatePool for the same stream', () => {
    thenError(when(given(createPool()), createPool()), 'POOL_ALREADY_EXISTS', 'poolId');
  });

  it.each([
    ['no tranche', { tranches: [] }, 'tranches'],
    ['duplicate tranche ids', { tranches: [{ trancheId: 'a', incomeWeight: 1 }, { trancheId: 'a', incomeWeight: 2 }] }, 'tranches.1.trancheId'],
    ['max share below base', { feeShare: { baseFundSharePpm: 300_000, maxFundSharePpm: 200_000, targetCoveragePpm: 1 } }, 'feeShare.maxFundSharePpm'],
    ['threshold above the number of keys', { governors: { publicKeys: ['aa'.repeat(32)], threshold: 2 } }, 'governors.threshold'],
    ['duplicate governor keys', { governors: { publicKeys: ['aa'.repeat(32), 'aa'.repeat(32)], threshold: 1 } }, 'governors.publicKeys.1'],
  ])('rejects %s', (_why, overrides, field) => {
    thenError(when(given(), createPool(overrides)), 'INVALID_PARAMETER', field);
  });

  it('every other command needs an existing pool with that id', () => {
    thenError(when(given(), deposit('alice', '1')), 'UNKNOWN_POOL', 'poolId');
    thenError(when(given(createPool()), { ...deposit('alice', '1'), poolId: 'other' }), 'UNKNOWN_POOL', 'poolId');
  });
});

describe('ListMarket', () => {
  it('lists a market at its reference mark', () => {
    const { state } = given(createPool(), listMarket());
    expect(active(state).markets.get(BTC)).toMatchObject({ mark: units('30000'), longSize: 0n, sizeDecimals: 4, priceDecimals: 2 });
  });

  it.each([
    ['decimals that would make notional inexact', { sizeDecimals: 10, priceDecimals: 9 }, 'INVALID_PARAMETER', 'priceDecimals'],
    ['zero maintenance margin', { maintenanceMarginPpm: 0 }, 'INVALID_PARAMETER', 'maintenanceMarginPpm'],
    ['initial below maintenance', { initialMarginPpm: 40_000 }, 'INVALID_PARAMETER', 'initialMarginPpm'],
    ['a mark finer than the tick', { markPrice: units('30000.001') }, 'PRECISION_EXCEEDED', 'markPrice'],
  ] as const)('rejects %s', (_why, overrides, code, field) => {
    thenError(when(given(createPool()), listMarket(overrides)), code, field);
  });

  it('rejects listing the same market twice', () => {
    thenError(when(standardPool(), listMarket({ governanceSeq: 2 })), 'MARKET_ALREADY_LISTED', 'marketId');
  });
});

describe('Deposit and Withdraw', () => {
  it('a deposit posts from external into the account, creating it', () => {
    const events = thenEvents(when(standardPool(), deposit('alice', '10000')));
    expect(events).toEqual([{
      type: 'CollateralDeposited', schemaVersion: SCHEMA_VERSION, accountId: 'alice', amount: units('10000'),
      postings: [{ from: { kind: 'external' }, to: { kind: 'collateral', accountId: 'alice' }, amount: units('10000') }],
    }]);
    const { state } = apply(standardPool(), when(standardPool(), deposit('alice', '10000')));
    expect(account(state, 'alice').collateral).toBe(units('10000'));
    expect(active(state).externalIn).toBe(units('10000'));
  });

  it('rejects more decimals than the quote asset has (USDC: 6)', () => {
    thenError(when(standardPool(), deposit('alice', '1.0000001')), 'PRECISION_EXCEEDED', 'amount');
  });

  it('a withdrawal posts from the account to external', () => {
    const history = standardPool(deposit('alice', '100'));
    const after = apply(history, when(history, withdraw('alice', '40')));
    expect(account(after.state, 'alice').collateral).toBe(units('60'));
    expect(active(after.state).externalOut).toBe(units('40'));
  });

  it('rejects an unknown account, more than the collateral, and a breach of initial margin', () => {
    const history = standardPool(
      deposit('alice', '4000'), deposit('bob', '10000'),
      // alice: collateral 4000 - fee 15 = 3985; initial margin 10% of 30000 = 3000
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    );
    thenError(when(history, withdraw('carol', '1')), 'UNKNOWN_ACCOUNT', 'accountId');
    thenError(when(history, withdraw('alice', '3985.000001')), 'INSUFFICIENT_COLLATERAL', 'amount');
    // 3985 - 986 = 2999 < 3000; 985 leaves exactly 3000
    thenError(when(history, withdraw('alice', '986')), 'INSUFFICIENT_MARGIN', 'amount');
    thenEvents(when(history, withdraw('alice', '985')));
  });

  it('refuses withdrawals while the pool carries bad debt', () => {
    const history = standardPool(deposit('alice', '100'));
    const insolvent = { ...history, state: { ...active(history.state), badDebt: 1n } };
    thenError(when(insolvent, withdraw('alice', '1')), 'WITHDRAWALS_GATED');
  });
});

describe('ExecuteTrade', () => {
  const funded = () => standardPool(deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '10000'));

  it('opens positions, charges taker and maker fees, and splits the fund share across tranches', () => {
    // notional 1 * 30000 = 30000; taker fee 0.05% = 15, maker fee 0.02% = 6.
    // No open interest yet, so the fund takes the base 20%: 3 of the taker fee (junior 3/4 = 2.25,
    // senior 0.75) and 1.2 of the maker fee (0.9, 0.3); the treasury the rest: 12 + 4.8.
    const history = funded();
    const [event] = thenEvents(when(history, trade({ tradeId: 't1', taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    const alice = { kind: 'collateral', accountId: 'alice' } as const;
    const bob = { kind: 'collateral', accountId: 'bob' } as const;
    expect(event).toEqual({
      type: 'TradeExecuted', schemaVersion: SCHEMA_VERSION, tradeId: 't1', marketId: BTC, taker: 'alice', maker: 'bob',
      takerSide: 'buy', size: units('1'), price: units('30000'), takerFee: units('15'), makerFee: units('6'), fundSharePpm: 200_000,
      postings: [
        { from: { kind: 'position', accountId: 'alice', marketId: BTC }, to: { kind: 'position', accountId: 'bob', marketId: BTC }, amount: units('30000') },
        { from: alice, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('2.25') },
        { from: alice, to: { kind: 'tranche', trancheId: 'senior' }, amount: units('0.75') },
        { from: alice, to: { kind: 'treasury' }, amount: units('12') },
        { from: bob, to: { kind: 'tranche', trancheId: 'junior' }, amount: units('0.9') },
        { from: bob, to: { kind: 'tranche', trancheId: 'senior' }, amount: units('0.3') },
        { from: bob, to: { kind: 'treasury' }, amount: units('4.8') },
      ],
    });
    const { state } = apply(history, when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    expect(collateral(account(state, 'alice'))).toEqual({ collateral: units('9985'), position: { marketId: BTC, size: units('1'), entryNotional: units('30000') } });
    expect(collateral(account(state, 'bob'))).toEqual({ collateral: units('9994'), position: { marketId: BTC, size: units('-1'), entryNotional: units('-30000') } });
    const pool = active(state);
    expect(pool.tranches.map((t) => t.assets)).toEqual([units('3.15'), units('1.05')]);
    expect(pool.treasury).toBe(units('16.8'));
    expect(pool.markets.get(BTC)?.longSize).toBe(units('1'));
  });

  it('reducing realizes PnL into collateral', () => {
    // alice long 1 @ 30000 (collateral 9985). Mark 33000; alice sells 0.5 to carol at 33000:
    // realized = 0.5 * 33000 - 30000 * 0.5 / 1 = 1500; taker fee 16500 * 0.05% = 8.25.
    const history = funded();
    const opened = apply(history, when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    const marked = apply(opened, when(opened, mark('33000')));
    const after = apply(marked, when(marked, trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '0.5', price: '33000' })));
    expect(collateral(account(after.state, 'alice'))).toEqual({
      collateral: units('9985') + units('1500') - units('8.25'),
      position: { marketId: BTC, size: units('0.5'), entryNotional: units('15000') },
    });
    // alice's equity at 33000: 11476.75 + (16500 - 15000) = 12976.75
    expect(equityOf(account(after.state, 'alice'), marketsOf(active(after.state)))).toBe(units('12976.75'));
  });

  it('a flip closes the whole position, realizes it, and opens the rest on the other side', () => {
    // alice long 1 @ 30000 sells 3 @ 31000: realizes 31000 - 30000 = 1000, then is short 2 @ 31000.
    const history = given(...[createPool(), listMarket(), deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '20000')]);
    const opened = apply(history, when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    const flipped = apply(opened, when(opened, trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '3', price: '31000' })));
    // fee 93000 * 0.05% = 46.5
    expect(collateral(account(flipped.state, 'alice'))).toEqual({
      collateral: units('9985') + units('1000') - units('46.5'),
      position: { marketId: BTC, size: units('-2'), entryNotional: units('-62000') },
    });
    // open interest: bob short 1, carol long 3, alice short 2 -> long size 3
    expect(active(flipped.state).markets.get(BTC)?.longSize).toBe(units('3'));
  });

  it('a partial close releases basis rounded up, so realized PnL rounds down and nothing is lost', () => {
    // alice buys 1 @ 10.01 and 2 @ 10: size 3, basis 30.01. Selling 1 @ 10 releases
    // ceil(30.01 / 3) = 10.003333333333333334 and realizes -0.003333333333333334; the remaining
    // basis is 20.006666666666666666. Before and after, the position is worth -0.01 at 10.
    const history = standardPool(
      listMarket({ marketId: 'SOL-PERP', markPrice: units('10'), takerFeePpm: 0, makerFeePpm: 0, governanceSeq: 2 }),
      deposit('alice', '100'), deposit('bob', '100'),
      trade({ marketId: 'SOL-PERP', taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '10.01' }),
      trade({ marketId: 'SOL-PERP', taker: 'alice', maker: 'bob', side: 'buy', size: '2', price: '10' }),
    );
    const after = apply(history, when(history, trade({ marketId: 'SOL-PERP', taker: 'alice', maker: 'bob', side: 'sell', size: '1', price: '10' })));
    const alice = account(after.state, 'alice');
    expect(alice.collateral).toBe(units('100') - units('0.003333333333333334'));
    expect(positionIn(alice, 'SOL-PERP')).toEqual({ marketId: 'SOL-PERP', size: units('2'), entryNotional: units('20.006666666666666666') });
  });

  it('closing the last unit of a position removes it', () => {
    const history = funded();
    const opened = apply(history, when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    const closed = apply(opened, when(opened, trade({ taker: 'alice', maker: 'bob', side: 'sell', size: '1', price: '30000' })));
    expect(account(closed.state, 'alice').positions).toEqual([]);
    expect(account(closed.state, 'bob').positions).toEqual([]);
    expect(active(closed.state).markets.get(BTC)?.longSize).toBe(0n);
  });

  it('rejects a trade that leaves the taker or the maker below initial margin', () => {
    // alice has 3000: 1 BTC needs 3000 initial plus the 15 fee -> 2985 < 3000
    const history = standardPool(deposit('alice', '3000'), deposit('bob', '10000'), deposit('carol', '3010'));
    thenError(when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })), 'INSUFFICIENT_MARGIN', 'taker');
    // carol as maker pays 6: 3004 >= 3000 is fine, at 0.0001 more size it is not
    thenEvents(when(history, trade({ taker: 'bob', maker: 'carol', side: 'buy', size: '1', price: '30000' })));
    thenError(when(history, trade({ taker: 'bob', maker: 'carol', side: 'buy', size: '1.002', price: '30000' })), 'INSUFFICIENT_MARGIN', 'maker');
  });

  it('lets a side below initial margin reduce, but not into negative equity', () => {
    // alice 3100 buys 1 @ 30000 (collateral 3085). Mark 28000: equity 1085 < initial 2800.
    const history = standardPool(
      deposit('alice', '3100'), deposit('bob', '10000'), deposit('carol', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      mark('28000'),
    );
    thenError(when(history, trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '0.1', price: '28000' })), 'INSUFFICIENT_MARGIN', 'taker');
    thenEvents(when(history, trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '0.5', price: '28000' })));
    // selling 1 @ 26900 realizes -3100 and a fee of 13.45: collateral 3085 - 3113.45 < 0
    thenError(when(history, trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '1', price: '26900' })), 'INSUFFICIENT_MARGIN', 'taker');
  });

  it.each([
    ['an unlisted market', { marketId: 'DOGE-PERP' }, 'UNKNOWN_MARKET', 'marketId'],
    ['a self-trade', { maker: 'alice' }, 'SELF_TRADE', 'maker'],
    ['an unknown taker', { taker: 'mallory' }, 'UNKNOWN_ACCOUNT', 'taker'],
    ['an unknown maker', { maker: 'mallory' }, 'UNKNOWN_ACCOUNT', 'maker'],
    ['a size finer than the lot (4 decimals)', { size: '0.00001' }, 'PRECISION_EXCEEDED', 'size'],
    ['a price finer than the tick (2 decimals)', { price: '30000.001' }, 'PRECISION_EXCEEDED', 'price'],
  ] as const)('rejects %s', (_why, overrides, code, field) => {
    thenError(when(funded(), trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.1', price: '30000', ...overrides })), code, field);
  });

  it('rejects a trade id that was already executed', () => {
    const history = funded();
    const once = apply(history, when(history, trade({ tradeId: 'T-42', taker: 'alice', maker: 'bob', side: 'buy', size: '0.1', price: '30000' })));
    thenError(when(once, trade({ tradeId: 'T-42', taker: 'carol', maker: 'bob', side: 'buy', size: '0.1', price: '30000' })), 'DUPLICATE_TRADE', 'tradeId');
  });

  it('records the dynamic fund share from coverage before the trade', () => {
    // After the first trade: fund 3.15 + 1.05 = 4.2, open interest 1 * 30000.
    // coverage = 4.2 / 30000 = 140 ppm, target 50000 ppm:
    // share = 500000 - (500000 - 200000) * 140 / 50000 = 499160.
    const history = funded();
    const opened = apply(history, when(history, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    const [second] = thenEvents(when(opened, trade({ taker: 'carol', maker: 'bob', side: 'buy', size: '0.1', price: '30000' })));
    expect(second).toMatchObject({ type: 'TradeExecuted', fundSharePpm: 499_160 });
  });
});

describe('UpdateMarkPrice and liquidatable accounts', () => {
  it('moves the mark, and lists accounts whose equity falls below maintenance', () => {
    // alice 3100 buys 1 @ 30000: collateral 3085.
    // At 28400: equity 1485, maintenance 5% of 28400 = 1420 -> safe.
    // At 28300: equity 1385, maintenance 1415 -> liquidatable. bob (short) gains.
    const history = standardPool(
      deposit('alice', '3100'), deposit('bob', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
    );
    const safe = apply(history, when(history, mark('28400')));
    expect(liquidatableAccounts(safe.state)).toEqual([]);
    const crashed = apply(safe, when(safe, mark('28300')));
    expect(active(crashed.state).markets.get(BTC)?.mark).toBe(units('28300'));
    expect(liquidatableAccounts(crashed.state)).toEqual(['alice']);
  });

  it('rejects an unlisted market and a price finer than the tick', () => {
    thenError(when(standardPool(), mark('1', 'DOGE-PERP')), 'UNKNOWN_MARKET', 'marketId');
    thenError(when(standardPool(), mark('30000.123')), 'PRECISION_EXCEEDED', 'price');
  });
});
