// Given/when/then specifications of staking edges, with hand-computed numbers: shares too small to
// mint, the exact cooldown, requests of exactly the free shares, and requests of a written-off epoch.

import { describe, expect, it } from 'vitest';
import { shareValue, stakeOf, units, unstakePayout } from '../../domain/index.js';
import {
  active, apply, at, cancelUnstake, completeUnstake, createPool, ctx, deposit, given, liquidate, listMarket, mark, requestUnstake, stake,
  thenError, thenEvents, trade, when,
} from '../support/builders.js';
import { decide } from '../../domain/index.js';

const DAY = 24 * 3600 * 1000;
const t0 = ctx.now;
const noFees = { takerFeePpm: 0, makerFeePpm: 0 };

describe('Stake', () => {
  it('refuses an amount that buys less than one share unit, and a precision finer than the quote', () => {
    // One tranche taking all fees. lp1 stakes 0.000001 (1e12 shares). A 10000 BTC trade at 30000
    // pays a 1% taker fee of 3000000 into it: assets 3000000.000001 for 1e12 share units.
    // 0.000001 more buys floor(1e12 * 1e12 / 3.000000000001e24) = 0 share units; 0.000004 buys 1.
    const history = given(
      createPool({ tranches: [{ trancheId: 'junior', incomeWeight: 1 }], feeShare: { baseFundSharePpm: 1_000_000, maxFundSharePpm: 1_000_000, targetCoveragePpm: 50_000 } }),
      listMarket({ takerFeePpm: 10_000, makerFeePpm: 0 }),
      stake('lp1', 'junior', '0.000001'),
      deposit('alice', '100000000'), deposit('bob', '100000000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '10000', price: '30000' }),
    );
    expect(active(history.state).tranches[0]!.assets).toBe(units('3000000.000001'));
    const tooSmall = thenError(when(history, stake('lp2', 'junior', '0.000001')), 'STAKE_TOO_SMALL', 'amount');
    expect(tooSmall.message).toBe('0.000001 buys less than one share unit');
    thenError(when(history, stake('lp2', 'junior', '0.000003')), 'STAKE_TOO_SMALL', 'amount');
    const [staked] = thenEvents(when(history, stake('lp2', 'junior', '0.000004')));
    expect(staked).toMatchObject({ sharesMinted: 1n, protocolShares: 0n });
    thenError(when(history, stake('lp2', 'junior', '1.0000001')), 'PRECISION_EXCEEDED', 'amount');
    thenError(when(history, stake('lp2', 'mezzanine', '1')), 'UNKNOWN_TRANCHE', 'trancheId');
  });

  it('income that arrived while nobody was staked becomes protocol shares at 1:1', () => {
    // A 1 BTC trade at 30000 pays 15 + 6 in fees, 20% = 4.2 to the fund: junior 3.15, senior 1.05.
    // lp1's 100 into junior mints 100 shares, and 3.15 protocol shares; then 10 more mints
    // 10 * 103.15 / 103.15 = 10.
    const history = given(createPool(), listMarket(), deposit('alice', '10000'), deposit('bob', '10000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }));
    const [first] = thenEvents(when(history, stake('lp1', 'junior', '100')));
    expect(first).toMatchObject({ amount: units('100'), sharesMinted: units('100'), protocolShares: units('3.15') });
    const staked = apply(history, when(history, stake('lp1', 'junior', '100')));
    const junior = active(staked.state).tranches[0]!;
    expect([junior.assets, junior.shares, stakeOf(junior, 'lp1'), stakeOf(junior, 'protocol')])
      .toEqual([units('103.15'), units('103.15'), units('100'), units('3.15')]);
    const [second] = thenEvents(when(staked, stake('lp2', 'junior', '10')));
    expect(second).toMatchObject({ sharesMinted: units('10'), protocolShares: 0n });
  });
});

describe('Unstake', () => {
  it('may lock exactly the free shares, completes exactly at the end of the cooldown, and not a millisecond before', () => {
    const history = given(createPool(), stake('lp1', 'junior', '100'));
    const requested = at(t0, history, requestUnstake('r1', 'lp1', 'junior', '100'));
    expect(stakeOf(active(requested.state).tranches[0]!, 'lp1')).toBe(0n);
    expect(thenError(when(requested, requestUnstake('r2', 'lp1', 'junior', '0.000001')), 'INSUFFICIENT_SHARES', 'shares').message)
      .toBe('staker "lp1" has 0 free shares in "junior"');
    expect(thenError(when(requested, requestUnstake('r1', 'lp1', 'junior', '0.000001')), 'DUPLICATE_REQUEST', 'requestId').message)
      .toBe('request "r1" already exists');
    expect(thenError(decide(completeUnstake('r1'), requested.state, { ...ctx, now: t0 + 7 * DAY - 1 }), 'COOLDOWN_NOT_OVER', 'requestId').message)
      .toBe('request "r1" can complete from 2026-01-08T00:00:00.000Z');
    const [completed] = thenEvents(decide(completeUnstake('r1'), requested.state, { ...ctx, now: t0 + 7 * DAY }));
    expect(completed).toMatchObject({ payout: units('100'), shares: units('100'), postings: [
      { from: { kind: 'tranche', trancheId: 'junior' }, to: { kind: 'external' }, amount: units('100') },
    ] });
    expect(thenError(when(history, completeUnstake('nope')), 'UNKNOWN_REQUEST', 'requestId').message).toBe('request "nope" does not exist');
    expect(thenError(when(history, cancelUnstake('nope')), 'UNKNOWN_REQUEST', 'requestId').message).toBe('request "nope" does not exist');
    expect(thenError(when(history, requestUnstake('r3', 'lp1', 'mezzanine', '1')), 'UNKNOWN_TRANCHE', 'trancheId').message)
      .toBe('tranche "mezzanine" does not exist');
  });

  it('cancelling a request whose tranche was written off gives back no shares', () => {
    // junior 500 (lp1), senior 1000 (lp2). alice long 1 at 30000 with 3100, mark 27000: E = 100,
    // bankruptcy price 26900. Liquidated at 26000 the deficit is 900: junior is drawn to zero and
    // written off, senior gives 400. lp1's pending request for 200 junior shares is of the old epoch.
    const history = given(createPool(), listMarket(noFees), stake('lp1', 'junior', '500'), stake('lp2', 'senior', '1000'),
      deposit('alice', '3100'), deposit('bob', '5000'), deposit('liq', '38000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }), mark('27000'));
    const requested = at(t0, history, requestUnstake('r1', 'lp1', 'junior', '200'));
    const drawn = at(t0 + DAY, requested, liquidate('alice', '26000'));
    expect(active(drawn.state).tranches.map((t) => [t.assets, t.epoch])).toEqual([[0n, 1], [units('600'), 0]]);
    // lp3 stakes 300 into the fresh epoch: 300 shares, all lp3's.
    const fresh = at(t0 + DAY, drawn, stake('lp3', 'junior', '300'));
    const [cancelled] = thenEvents(when(fresh, cancelUnstake('r1')));
    expect(cancelled).toMatchObject({ requestId: 'r1', stakerId: 'lp1', trancheId: 'junior', shares: 0n });
    const after = apply(fresh, when(fresh, cancelUnstake('r1')));
    const junior = active(after.state).tranches[0]!;
    expect([junior.shares, stakeOf(junior, 'lp1'), stakeOf(junior, 'lp3')]).toEqual([units('300'), 0n, units('300')]);
    expect(active(after.state).unstakeRequests.size).toBe(0);
    // Completing such a request instead pays nothing, with no posting at all.
    const [completed] = thenEvents(decide(completeUnstake('r1'), fresh.state, { ...ctx, now: t0 + 8 * DAY }));
    expect(completed).toMatchObject({ payout: 0n, shares: 0n, postings: [] });
    // A live request gives its shares back.
    const live = at(t0 + DAY, fresh, requestUnstake('r2', 'lp3', 'junior', '120'));
    const [back] = thenEvents(when(live, cancelUnstake('r2')));
    expect(back).toMatchObject({ shares: units('120') });
  });

  it('a share is worth assets / shares, rounded down, and nothing in a tranche without shares', () => {
    const tranche = { trancheId: 't', incomeWeight: 1, assets: 10n, shares: 3n, epoch: 0 } as Parameters<typeof shareValue>[0];
    expect(shareValue(tranche, 1n)).toBe(3n);
    expect(shareValue(tranche, 2n)).toBe(6n);
    expect(shareValue({ ...tranche, shares: 0n }, 1n)).toBe(0n);
  });

  it('a request pays the lesser of its value at request and its value now, and nothing once its epoch or its tranche is gone', () => {
    // 4 shares of a tranche of 10 assets over 3 shares are worth floor(40 / 3) = 13 now.
    const tranche = { trancheId: 't', incomeWeight: 1, assets: 10n, shares: 3n, epoch: 2 } as Parameters<typeof shareValue>[0];
    const request = { requestId: 'r', stakerId: 's', trancheId: 't', shares: 4n, value: 20n, epoch: 2, requestedAt: 0, availableAt: 0 };
    expect(unstakePayout(tranche, request)).toBe(13n);
    expect(unstakePayout(tranche, { ...request, value: 12n })).toBe(12n);
    expect(unstakePayout(tranche, { ...request, epoch: 1 })).toBe(0n);
    // The pool view values pending requests by tranche id; a tranche it cannot find pays nothing.
    expect(unstakePayout(undefined, request)).toBe(0n);
  });
});
