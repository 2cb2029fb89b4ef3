// The ADL queries at their edges, on pools built directly: a market that is not listed or that no
// one holds a position in, the queue's lights when some positions cannot be ranked, and the
// allocation with its default eligibility (every ranked position may give up size).

import { describe, expect, it } from 'vitest';
import {
  adlOrder, adlQueue, adlRanking, adlRankingUncached, allocateAdl, floorDiv, ONE, PersistentMap, PersistentSet, units,
  type Account, type ActivePool, type Market,
} from '../../domain/index.js';

const BTC = 'BTC';
const market = (mark: bigint): Market => ({ marketId: BTC, mark, fundingIndex: 0n, sizeDecimals: 4 }) as unknown as Market;
const position = (size: bigint, price: bigint) => ({ marketId: BTC, size, entryNotional: floorDiv(size * price, ONE) });

let pools = 0;
const poolOf = (accounts: Account[], mark: bigint, holders = true): ActivePool => ({
  status: 'active', poolId: `adl-queries-${++pools}`, markEpoch: 0,
  markets: PersistentMap.of([[BTC, market(mark)]]),
  accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
  positionHolders: holders
    ? PersistentMap.of([[BTC, accounts.reduce((set, a) => set.add(a.accountId), PersistentSet.empty<string>())]])
    : PersistentMap.of<string, PersistentSet<string>>([]),
}) as unknown as ActivePool;

// Shorts of 0.1 from 30000 at mark 27000: each gains 300 on a notional of 2700 and a basis of 3000.
//   s0, collateral 1000: equity 1300, score 0.1 * 2700 / 1300 = 0.2077
//   s1, collateral 400:  equity 700,  score 0.1 * 2700 / 700  = 0.3857 (deleveraged first)
// u shorts 0.1 from 26000: it loses 100 and, with collateral 50, has equity -50: it cannot be ranked.
const shorts = (): Account[] => [
  { accountId: 's0', collateral: 1_000n * ONE, positions: [position(-(10n ** 17n), 30_000n * ONE)] },
  { accountId: 's1', collateral: 400n * ONE, positions: [position(-(10n ** 17n), 30_000n * ONE)] },
  { accountId: 'u', collateral: 50n * ONE, positions: [position(-(10n ** 17n), 26_000n * ONE)] },
];

describe('ADL queries of a market nobody can be ranked in', () => {
  it('given a market that is not listed, then every query is empty', () => {
    const pool = poolOf(shorts(), 27_000n * ONE);
    expect([...adlOrder(pool, 'ETH', 'short')]).toEqual([]);
    expect(adlRanking(pool, 'ETH', 'short')).toEqual([]);
    expect(adlRankingUncached(pool, 'ETH', 'short')).toEqual([]);
    expect(adlQueue(pool, 'ETH')).toEqual({ long: [], short: [] });
  });

  it('given a listed market without a position holder, then the rankings are empty', () => {
    const pool = poolOf([], 27_000n * ONE, false);
    expect(adlRanking(pool, BTC, 'short')).toEqual([]);
    expect(adlRankingUncached(pool, BTC, 'long')).toEqual([]);
  });
});

describe('the ADL queue with positions that cannot be ranked', () => {
  it('given two ranked shorts and one that cannot be ranked, then lights 5 and 3 by the two ranked ones only, and none for the third', () => {
    // Lights are 5 - floor(5 * i / eligible) with eligible = 2: i = 0 -> 5, i = 1 -> 5 - 2 = 3.
    const pool = poolOf(shorts(), 27_000n * ONE);
    expect(adlQueue(pool, BTC).short).toEqual([
      { accountId: 's1', rank: 1, lights: 5 },
      { accountId: 's0', rank: 2, lights: 3 },
      { accountId: 'u', rank: null, lights: 0 },
    ]);
  });
});

describe('allocateAdl with its default eligibility', () => {
  it('given a target of 0.15 on the shorts, ranked, then s1 gives its whole 0.1 and s0 the remaining 0.05; u gives nothing', () => {
    const pool = poolOf(shorts(), 27_000n * ONE);
    const fills = allocateAdl(pool, market(27_000n * ONE), 'short', units('0.15'), 'ranked', new Set());
    expect(fills.map((f) => [f.accountId, f.size])).toEqual([['s1', units('0.1')], ['s0', units('0.05')]]);
  });
});
