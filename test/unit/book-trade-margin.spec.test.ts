// How the pool book checks a trade's margins: one walk over each side's positions before the trade
// (funding settled? the float filter's terms of the positions the trade leaves alone), then the
// traded position and the collateral from the trade's draft. Given/when/then with hand-computed
// numbers; the decisions are those `decide` gives, and which rule decided is counted through a spy
// on the margin module (the exact rule) and on the draft's whole-account view (no timing).
// Pool: BTC-PERP at 30000 and ETH-PERP at 2000, initial margin 10%, taker fee 0.05%, maker 0.02%.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { decide, units, type Decision, type Event, type PoolState } from '../../domain/index.js';
import { ChangeDraft } from '../../domain/ledger.js';
import { marginOf } from '../../domain/margin.js';
import { decideHot, type HotDecision } from '../../domain/book/decide-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { ctx, deposit, ETH, listMarket, standardPool, thenError, trade } from '../support/builders.js';
import * as E from 'fp-ts/lib/Either.js';

vi.mock('../../domain/margin.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../domain/margin.js')>();
  return { ...original, marginOf: vi.fn(original.marginOf) };
});

// alice holds long 20 ETH bought from carol at 2000 (requirement 4000; fee 20: collateral 9980);
// bob holds short 20 ETH sold to carol (maker fee 8: collateral 9992); carol and dave are rich.
const pool = (): PoolState => standardPool(
  listMarket({ marketId: ETH, markPrice: units('2000'), governanceSeq: 2 }),
  deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '1000000'), deposit('dave', '1000000'),
  trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '20', price: '2000', marketId: ETH }),
  trade({ taker: 'carol', maker: 'bob', side: 'buy', size: '20', price: '2000', marketId: ETH }),
).state;

const onBook = (state: PoolState, command: ReturnType<typeof trade>) => {
  vi.mocked(marginOf).mockClear();
  const account = vi.spyOn(ChangeDraft.prototype, 'account');
  const hot: HotDecision | undefined = decideHot(command, PoolBook.of(state).begin());
  const exactCalls = vi.mocked(marginOf).mock.calls.length;
  const wholeAccountViews = account.mock.calls.length;
  account.mockRestore();
  if (hot === undefined) throw new Error('expected the book to decide the trade');
  const decision: Decision = E.map((d: { readonly events: ReadonlyArray<Event> }) => d.events)(hot);
  return { decision, exactCalls, wholeAccountViews };
};

afterEach(() => vi.restoreAllMocks());

describe('a trade\'s margins on the pool book', () => {
  it('given two rich sides, the float filter passes both: the exact rule is never consulted', () => {
    const state = pool();
    const command = trade({ taker: 'dave', maker: 'carol', side: 'buy', size: '1', price: '30000' });
    const { decision, exactCalls, wholeAccountViews } = onBook(state, command);
    expect(decision).toEqual(decide(command, state, ctx));
    expect(E.isRight(decision)).toBe(true);
    expect(exactCalls).toBe(0);
    expect(wholeAccountViews).toBe(0);
  });

  it('given a taker whose other market takes most of her margin, the untraded position counts: refused by the exact rule', () => {
    const state = pool();
    // 2 BTC need 6000 more, 10000 with the ETH; her equity after the fee of 30 is 9950
    const tooLarge = trade({ taker: 'alice', maker: 'dave', side: 'buy', size: '2', price: '30000' });
    // 1.5 BTC need 4500 more, 8500 in all, against 9957.5
    const allowed = trade({ taker: 'alice', maker: 'dave', side: 'buy', size: '1.5', price: '30000' });
    const refused = onBook(state, tooLarge);
    expect(refused.decision).toEqual(decide(tooLarge, state, ctx));
    thenError(refused.decision, 'INSUFFICIENT_MARGIN', 'taker');
    expect(refused.exactCalls).toBe(1);
    const accepted = onBook(state, allowed);
    expect(accepted.decision).toEqual(decide(allowed, state, ctx));
    expect(E.isRight(accepted.decision)).toBe(true);
    expect(accepted.exactCalls).toBe(0);
  });

  it('given a maker whose other market takes most of his margin, his own positions count, not the taker\'s', () => {
    const state = pool();
    // bob sells 2 BTC: 6000 more, 10000 with the ETH, against 9992 - 12 of maker fee = 9980
    const tooLarge = trade({ taker: 'dave', maker: 'bob', side: 'buy', size: '2', price: '30000' });
    const refused = onBook(state, tooLarge);
    expect(refused.decision).toEqual(decide(tooLarge, state, ctx));
    thenError(refused.decision, 'INSUFFICIENT_MARGIN', 'maker');
    // dave's side passed the filter; only bob's went to the exact rule
    expect(refused.exactCalls).toBe(1);
  });

  it('given a side adding to its position in the traded market, only the position after the trade counts', () => {
    const state = pool();
    // alice buys 10 more ETH: 30 ETH need 6000 against 9980 - 10 of fee = 9970 (with the 20 she
    // held before counted again, 10000 would not certainly pass)
    const more = trade({ taker: 'alice', maker: 'carol', side: 'buy', size: '10', price: '2000', marketId: ETH });
    const { decision, exactCalls } = onBook(state, more);
    expect(decision).toEqual(decide(more, state, ctx));
    expect(E.isRight(decision)).toBe(true);
    expect(exactCalls).toBe(0);
  });

  it('given a side that reduces or closes its position in the traded market, the filter passes it on equity alone', () => {
    const state = pool();
    const reduce = trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '10', price: '2000', marketId: ETH });
    const close = trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '20', price: '2000', marketId: ETH });
    for (const command of [reduce, close]) {
      const { decision, exactCalls } = onBook(state, command);
      expect(decision).toEqual(decide(command, state, ctx));
      expect(E.isRight(decision)).toBe(true);
      expect(exactCalls).toBe(0);
    }
  });
});
