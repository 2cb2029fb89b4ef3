// Which commands the pool book decides itself and which it leaves to the reference `decide`: given /
// when / then with hand-computed numbers. The book's decisions must be those `decide` gives on the
// same state (the model test checks that over random sequences); these specifications pin which
// path each command takes, which the events alone do not show: a hot command decided on the book
// writes its delta into the overlay's layer (so `commit` hands it to the committed book below),
// while a command left to `decide` rebases the overlay onto a persistent state of its own.
// Standard pool: BTC-PERP mark 30000, IMR 10%, taker fee 0.05%, maker fee 0.02%, marks may move
// 20% per update.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decide, evolveAll, initialState, units, SCHEMA_VERSION, type Command, type Decision, type Event, type PoolState } from '../../domain/index.js';
import { decideHot, decideOnBook, type HotDecision } from '../../domain/book/decide-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { active, BTC, ctx, deposit, mark, POOL, standardPool, thenError, thenEvents, trade, withdraw } from '../support/builders.js';

let counter = 0;
const funding = (ratePpm: number): Command => ({ type: 'ApplyFunding', schemaVersion: SCHEMA_VERSION, commandId: `book-${++counter}`, poolId: POOL, marketId: BTC, fundingRatePpm: ratePpm });

// alice long 1 BTC from bob at 30000: alice pays the taker fee 15 (collateral 9985), bob the maker
// fee 6 (collateral 9994); carol holds no position.
const opened = () => standardPool(
  deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '10000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
).state;
// Then funding at 100 ppm of 30000: the index moves by 3 per BTC, so alice owes 3 and bob is owed 3.
const withFunding = () => evolveAll(opened(), thenEvents(decide(funding(100), opened(), ctx)));

/** A committed book over the state, and a batch's overlay over it. */
const bookOver = (state: PoolState) => {
  const book = PoolBook.of(state);
  return { book, overlay: book.begin() };
};
/** A hot decision as a `Decision` (its events, or its refusal); it must have been decided on the book. */
const decidedOnBook = (hot: HotDecision | undefined): Decision => {
  if (hot === undefined) throw new Error('expected the book to decide the command, it left it to decide');
  return E.map((decided: { readonly events: ReadonlyArray<Event> }) => decided.events)(hot);
};
const collateral = (state: PoolState, accountId: string) => active(state).accounts.get(accountId)!.collateral;

describe('decided on the book (hot)', () => {
  it('given settled accounts with positions, a trade, a withdrawal, a deposit and a mark are decided on the book, with the events decide gives', () => {
    // given
    const state = opened();
    const { book, overlay } = bookOver(state);
    const commands = [
      // alice buys 1 more from bob: taker fee 15, maker fee 6
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
      withdraw('bob', '100'),
      deposit('carol', '5'),
      // open interest at the new mark: 2 BTC long * 30300 = 60600
      mark('30300'),
    ];
    // when / then
    let reference = state;
    for (const command of commands) {
      const expected = decide(command, reference, ctx);
      expect(decidedOnBook(decideHot(command, overlay))).toEqual(expected);
      expect(decideOnBook(command, overlay, ctx)).toEqual(expected);
      reference = evolveAll(reference, thenEvents(expected));
    }
    const [tradeEvent] = thenEvents(decide(commands[0]!, state, ctx));
    expect(tradeEvent).toMatchObject({ type: 'TradeExecuted', takerFee: units('15'), makerFee: units('6') });
    // The overlay's own layer holds the batch: committing hands it to the committed book.
    expect(overlay.commit()).toBe(book);
    const after = book.toPool();
    expect(canonicalStateJson(after)).toBe(canonicalStateJson(reference));
    expect(collateral(after, 'alice')).toBe(units('9970'));
    expect(collateral(after, 'bob')).toBe(units('9888'));
    expect(collateral(after, 'carol')).toBe(units('10005'));
    expect(active(after).markets.get(BTC)!.openInterest).toBe(units('60600'));
    expect(active(after).openInterest).toBe(units('60600'));
  });

  it('given an unknown maker or account, the trade and the withdrawal are refused on the book as decide refuses them', () => {
    // given
    const state = opened();
    const { overlay } = bookOver(state);
    const toNobody = trade({ taker: 'alice', maker: 'dave', side: 'buy', size: '1', price: '30000' });
    const fromNobody = withdraw('dave', '1');
    // when
    const refusedTrade = decidedOnBook(decideHot(toNobody, overlay));
    const refusedWithdrawal = decidedOnBook(decideHot(fromNobody, overlay));
    // then
    expect(refusedTrade).toEqual(decide(toNobody, state, ctx));
    thenError(refusedTrade, 'UNKNOWN_ACCOUNT', 'maker');
    expect(refusedWithdrawal).toEqual(decide(fromNobody, state, ctx));
    thenError(refusedWithdrawal, 'UNKNOWN_ACCOUNT', 'accountId');
  });

  it('given unsettled funding, a self-trade is still refused on the book: decide refuses it before settling anything', () => {
    // given
    const state = withFunding();
    const { overlay } = bookOver(state);
    const selfTrade = trade({ taker: 'alice', maker: 'alice', side: 'buy', size: '1', price: '30000' });
    // when
    const hot = decidedOnBook(decideHot(selfTrade, overlay));
    // then
    expect(hot).toEqual(decide(selfTrade, state, ctx));
    thenError(hot, 'SELF_TRADE', 'maker');
  });

  it('given a trade beyond initial margin, it is refused on the book by the exact rule behind the float filter', () => {
    // given: carol holds 10000 and no position
    const state = opened();
    const { overlay } = bookOver(state);
    // 4 BTC at 30000 needs 12000 of initial margin; her equity after the taker fee of 60 is 9940
    const tooLarge = trade({ taker: 'carol', maker: 'bob', side: 'buy', size: '4', price: '30000' });
    // 3 BTC needs 9000; her equity after the fee of 45 is 9955
    const allowed = trade({ taker: 'carol', maker: 'bob', side: 'buy', size: '3', price: '30000' });
    // when
    const refused = decidedOnBook(decideHot(tooLarge, overlay));
    const accepted = decidedOnBook(decideHot(allowed, overlay));
    // then
    expect(refused).toEqual(decide(tooLarge, state, ctx));
    thenError(refused, 'INSUFFICIENT_MARGIN', 'taker');
    expect(accepted).toEqual(decide(allowed, state, ctx));
  });

  it('given a mark beyond the circuit breaker, it is refused on the book and changes nothing', () => {
    // given: 20% of 30000 is 6000, so 36000 is the highest mark one update may set
    const state = opened();
    const { book, overlay } = bookOver(state);
    const tooFar = mark('36000.01');
    // when
    const hot = decidedOnBook(decideHot(tooFar, overlay));
    const decided = decideOnBook(tooFar, overlay, ctx);
    // then
    expect(hot).toEqual(decide(tooFar, state, ctx));
    thenError(decided, 'MARK_MOVE_OUT_OF_BAND', 'price');
    expect(overlay.commit()).toBe(book);
    expect(canonicalStateJson(book.toPool())).toBe(canonicalStateJson(state));
    // 36000 itself is within the band, and decided on the book
    const edge = mark('36000');
    expect(decidedOnBook(decideHot(edge, book.begin()))).toEqual(decide(edge, state, ctx));
  });
});

describe('left to decide (cold)', () => {
  it('given a taker with unsettled funding, the trade goes to decide, which settles her 3 first', () => {
    // given
    const state = withFunding();
    const { book, overlay } = bookOver(state);
    const command = trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '1', price: '30000' });
    // when
    const hot = decideHot(command, overlay);
    const decided = decideOnBook(command, overlay, ctx);
    // then
    expect(hot).toBeUndefined();
    expect(decided).toEqual(decide(command, state, ctx));
    const [settled, traded] = thenEvents(decided);
    expect(settled).toEqual({
      type: 'FundingSettled', schemaVersion: SCHEMA_VERSION, accountId: 'alice',
      settlements: [{ marketId: BTC, size: units('1'), fundingIndex: units('3'), amount: -units('3') }],
      postings: [{ from: { kind: 'collateral', accountId: 'alice' }, to: { kind: 'funding', marketId: BTC }, amount: units('3') }],
    });
    expect(traded).toMatchObject({ type: 'TradeExecuted', taker: 'alice', maker: 'carol', takerFee: units('15'), makerFee: units('6') });
    // The overlay now lies over a persistent state of its own: the committed book was never written.
    expect(overlay.commit()).toBe(overlay);
    expect(canonicalStateJson(book.toPool())).toBe(canonicalStateJson(state));
    // alice: 9985 - 3 funding - 15 fee; carol: 10000 - 6 fee
    expect(collateral(overlay.toPool(), 'alice')).toBe(units('9967'));
    expect(collateral(overlay.toPool(), 'carol')).toBe(units('9994'));
  });

  it('given a maker with unsettled funding, the trade goes to decide, which settles his 3 first', () => {
    // given
    const state = withFunding();
    const { overlay } = bookOver(state);
    const command = trade({ taker: 'carol', maker: 'bob', side: 'buy', size: '1', price: '30000' });
    // when / then
    expect(decideHot(command, overlay)).toBeUndefined();
    const decided = decideOnBook(command, overlay, ctx);
    expect(decided).toEqual(decide(command, state, ctx));
    expect(thenEvents(decided).map((event) => event.type)).toEqual(['FundingSettled', 'TradeExecuted']);
    // bob: 9994 + 3 funding - 6 fee
    expect(collateral(overlay.toPool(), 'bob')).toBe(units('9991'));
  });

  it('given unsettled funding, a withdrawal goes to decide, which settles first', () => {
    // given
    const state = withFunding();
    const { overlay } = bookOver(state);
    const command = withdraw('bob', '100');
    // when / then
    expect(decideHot(command, overlay)).toBeUndefined();
    const decided = decideOnBook(command, overlay, ctx);
    expect(decided).toEqual(decide(command, state, ctx));
    expect(thenEvents(decided).map((event) => event.type)).toEqual(['FundingSettled', 'CollateralWithdrawn']);
    // bob: 9994 + 3 - 100
    expect(collateral(overlay.toPool(), 'bob')).toBe(units('9897'));
    // carol holds no position, so nothing to settle: her withdrawal stays on the book
    const carols = withdraw('carol', '100');
    expect(decidedOnBook(decideHot(carols, overlay))).toEqual(decide(carols, overlay.toPool(), ctx));
  });

  it('given any other command, another pool or no pool yet, decide decides', () => {
    // given
    const state = opened();
    const { overlay } = bookOver(state);
    const elsewhere: Command = { ...deposit('alice', '1'), poolId: 'other' };
    const fundingUpdate = funding(100);
    // when / then: another pool's deposit is refused as decide refuses it, not booked here
    expect(decideHot(elsewhere, overlay)).toBeUndefined();
    expect(decideOnBook(elsewhere, overlay, ctx)).toEqual(decide(elsewhere, state, ctx));
    thenError(decideOnBook(elsewhere, overlay, ctx), 'UNKNOWN_POOL', 'poolId');
    expect(decideHot(fundingUpdate, overlay)).toBeUndefined();
    expect(decideOnBook(fundingUpdate, overlay, ctx)).toEqual(decide(fundingUpdate, state, ctx));
    // no pool yet: every command, pool creation or not, is decide's
    const empty = bookOver(initialState).overlay;
    const early = deposit('alice', '1');
    expect(decideHot(early, empty)).toBeUndefined();
    thenError(decideOnBook(early, empty, ctx), 'UNKNOWN_POOL', 'poolId');
  });
});
