// Replay folds a trade as stored (compact: its facts and value flows) without rebuilding its
// postings: the ledger draft posts straight from the flows (ChangeDraft.postTrade), and the fold
// reads the tranches' income off the same flows. Both must be exactly the postings path:
// - a draft's changes after `postTrade` equal those after `postAll(tradePostingsOf(...))`, for any
//   facts and flows (losses and gains, rebates, fee parts of zero, a tranche the pool lacks);
// - for random scenarios, a pool book fed the stored form of each trade holds `evolve`'s state
//   (content and iteration orders) after every event, and the read models folded from it (every
//   document, movements, governance, timelines) have the digest of the fold fed the full events.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  canonicalStateJson, compactTrade, decodeStoredEvent, decodeStoredForReplay, encodeEvent, expandTrade, initialState, tradePostingsOf,
  type Account, type Event, type Market, type PoolState, type ReplayEvent, type TradeFacts, type TradeValueFlows, type Tranche,
} from '../../domain/index.js';
import { ChangeDraft, type LedgerBase } from '../../domain/ledger.js';
import { evolveOnBook } from '../../domain/book/evolve-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { PersistentMap } from '../../domain/persistent-map.js';
import { emptyModel, foldEvent, takeDocuments } from '../../projections/read-models.js';
import { readModelDigest } from '../support/read-model-digest.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

const amount = (max: bigint) => fc.bigInt({ min: 0n, max });
const signed = (max: bigint) => fc.bigInt({ min: -max, max });
const ids = ['a', 'b', 'c'] as const;

const factsArb: fc.Arbitrary<TradeFacts> = fc.record({
  marketId: fc.constantFrom('M1', 'M2'),
  taker: fc.constantFrom(...ids),
  maker: fc.constantFrom(...ids),
  takerSide: fc.constantFrom('buy' as const, 'sell' as const),
  size: fc.bigInt({ min: 1n, max: 10n ** 20n }),
  price: fc.bigInt({ min: 1n, max: 10n ** 22n }),
  takerFee: amount(10n ** 19n),
  makerFee: amount(10n ** 19n),
  makerRebate: fc.option(amount(10n ** 18n), { nil: undefined }),
});

const flowsArb: fc.Arbitrary<TradeValueFlows> = fc.record({
  takerPnl: fc.oneof(fc.constant(0n), signed(10n ** 20n)),
  makerPnl: fc.oneof(fc.constant(0n), signed(10n ** 20n)),
  // 'tx' is not one of the pool's tranches: both paths pass over it alike.
  fund: fc.array(fc.tuple(fc.constantFrom('t0', 't1', 'tx'), fc.oneof(fc.constant(0n), amount(10n ** 18n)), fc.oneof(fc.constant(0n), amount(10n ** 18n))), { maxLength: 3 }),
});

const tranche = (trancheId: string, assets: bigint): Tranche => ({ trancheId, incomeWeight: 1, assets, shares: assets, epoch: 0, stakes: PersistentMap.empty() });
// Only what a draft reads of a market: its mark, long size, open interest and funding.
const market = (marketId: string, longSize: bigint): Market => ({
  marketId, mark: 10n ** 18n, longSize, openInterest: longSize, fundingIndex: 7n, fundingBalance: 0n,
} as unknown as Market);

const baseArb: fc.Arbitrary<LedgerBase> = fc.record({
  collateral: fc.array(amount(10n ** 21n), { minLength: 3, maxLength: 3 }),
  // Account a holds a position in M1 (b and c hold none): a trade opens, grows, flips or closes it.
  size: signed(10n ** 20n),
  entry: signed(10n ** 21n),
  assets: fc.array(amount(10n ** 21n), { minLength: 2, maxLength: 2 }),
}).map(({ collateral, size, entry, assets }) => {
  const accounts = new Map<string, Account>(ids.map((accountId, i) => [accountId, {
    accountId, collateral: collateral[i]!, positions: accountId === 'a' && (size !== 0n || entry !== 0n) ? [{ marketId: 'M1', size, entryNotional: entry }] : [],
  }]));
  const markets = new Map([['M1', market('M1', size > 0n ? size : 0n)], ['M2', market('M2', 0n)]]);
  return {
    accounts, markets, tranches: [tranche('t0', assets[0]!), tranche('t1', assets[1]!)],
    treasury: 5n, externalIn: 0n, externalOut: 0n, badDebt: 0n, openInterest: (size > 0n ? size : 0n),
  };
});

/** The stored form a replay folds: a trade compact when it has that form, anything else as is. */
const asReplayed = (event: Event): ReplayEvent => (event.type === 'TradeExecuted' ? compactTrade(event) ?? event : event);

const orders = (state: PoolState) => state.status !== 'active' ? [] : [
  state.accounts.keys(), state.markets.keys(), state.tradeIds.values(), state.unstakeRequests.keys(),
  state.positionHolders.entries().map(([marketId, holders]) => [marketId, holders.values()]),
];

describe('a stored trade folded from its value flows', () => {
  it('posts to a draft exactly what its rebuilt postings post', () => {
    fc.assert(fc.property(baseArb, factsArb, flowsArb, (base, facts, flows) => {
      const takerDelta = facts.takerSide === 'buy' ? facts.size : -facts.size;
      const run = (post: (draft: ChangeDraft) => void) => {
        const draft = new ChangeDraft(base);
        draft.changeSize(facts.taker, facts.marketId, takerDelta);
        draft.changeSize(facts.maker, facts.marketId, -takerDelta);
        post(draft);
        return draft.changes();
      };
      expect(run((draft) => draft.postTrade(facts, flows))).toEqual(run((draft) => draft.postAll(tradePostingsOf(facts, flows))));
    }), propertyParameters('postTrade', 300));
  });

  it('decodes for replay to the trade as stored, which expands to the event decodeStoredEvent gives', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 40 }), (scenario) => {
      runScenario(scenario, {
        afterEvent: (_state, event) => {
          const stored = JSON.parse(JSON.stringify(encodeEvent(event))) as unknown;
          const replayed = decodeStoredForReplay(stored);
          const reference = decodeStoredEvent(stored);
          if (E.isLeft(replayed) || E.isLeft(reference)) throw new Error('a decided event does not decode');
          const value = replayed.right;
          expect(value).toEqual(asReplayed(reference.right));
          expect(value.type === 'TradeExecuted' && !('postings' in value) ? expandTrade(value) : value).toEqual(reference.right);
        },
      });
    }), propertyParameters('replay decode', 40));
  });

  it('gives the book evolve\'s state after every event, and the read models of the postings path', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), (scenario) => {
      const book = PoolBook.of(initialState);
      const full = emptyModel();
      const compact = emptyModel();
      let position = 0n;
      runScenario(scenario, {
        afterEvent: (state, event) => {
          const replayed = asReplayed(event);
          evolveOnBook(book, replayed);
          const folded = book.toPool();
          expect(canonicalStateJson(folded)).toBe(canonicalStateJson(state));
          position++;
          const timestamp = 1_767_225_600_000 + Number(position) * 7_000;
          foldEvent(full, 'prop', position, timestamp, event);
          foldEvent(compact, 'prop', position, timestamp, replayed);
          expect(orders(compact.pools.get('prop')!.state)).toEqual(orders(full.pools.get('prop')!.state));
        },
      });
      expect(readModelDigest(takeDocuments(compact), compact)).toBe(readModelDigest(takeDocuments(full), full));
    }), propertyParameters('compact trade fold', 60));
  });
});
