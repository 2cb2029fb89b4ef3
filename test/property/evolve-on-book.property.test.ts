// The projection's replay path applies events to a pool book (evolveOnBook) instead of the
// persistent `evolve`, and folds the book's changes into a persistent state only when the state is
// read. For random scenarios (trades, marks, deposits, withdrawals, liquidations with ADL and
// haircuts, staking, funding, payouts), read at random points: the state must be `evolve`'s, in
// content (canonical JSON) and in the order its maps and sets iterate (which ties follow).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalStateJson, evolve, initialState, type PoolState } from '../../domain/index.js';
import { evolveOnBook } from '../../domain/book/evolve-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

const orders = (state: PoolState) => state.status !== 'active' ? [] : [
  state.accounts.keys(), state.markets.keys(), state.tradeIds.values(), state.unstakeRequests.keys(),
  state.positionHolders.entries().map(([marketId, holders]) => [marketId, holders.values()]),
];

describe('evolve on a pool book', () => {
  it('gives the state evolve gives, read after any event', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (scenario, reads) => {
      const book = PoolBook.of(initialState);
      // The reference for iteration order: the events evolved forward, as a replay evolves them
      // (the scenario's own states are also read by `decide`, which may revisit older versions).
      let forward: PoolState = initialState;
      let i = 0;
      runScenario(scenario, {
        afterEvent: (state, event) => {
          evolveOnBook(book, event);
          forward = evolve(forward, event);
          if (!reads[i++ % reads.length]) return;
          const folded = book.toPool();
          expect(canonicalStateJson(folded)).toBe(canonicalStateJson(state));
          expect(orders(folded)).toEqual(orders(forward));
        },
        afterCommand: (_before, _command, _events, after) => {
          expect(canonicalStateJson(book.toPool())).toBe(canonicalStateJson(after));
        },
      });
    }), propertyParameters('evolve on book', 100));
  });
});
