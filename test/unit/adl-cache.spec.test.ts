// The cached ADL ranking is a memo of a pure function of the pool: for any pool, also ones the ledger
// never builds (a market taken off the list, a holder list naming an account that is not there or
// holds nothing in the market), it equals the uncached ranking. And within a mark epoch it patches
// what changed instead of re-scoring everything, down to an account that changed and changed back.

import { describe, expect, it } from 'vitest';
import {
  adlOrder, adlRankingStats, adlRankingUncached, floorDiv, ONE, PersistentMap, PersistentSet,
  type Account, type ActivePool, type Market, type RankedPosition,
} from '../../domain/index.js';

const BTC = 'BTC';
const ETH = 'ETH';
const SOL = 'SOL';
const market = (marketId: string, mark: bigint): Market => ({ marketId, mark, fundingIndex: 0n }) as unknown as Market;
const long = (marketId: string, size: bigint, price: bigint) => ({ marketId, size, entryNotional: floorDiv(size * price, ONE) });

const pool = (poolId: string, markets: Market[], accounts: Account[], holders: [string, string[]][]): ActivePool => ({
  status: 'active', poolId, markEpoch: 0,
  markets: PersistentMap.of(markets.map((m) => [m.marketId, m] as const)),
  accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
  positionHolders: PersistentMap.of(holders.map(([marketId, ids]) => [marketId, ids.reduce((set, id) => set.add(id), PersistentSet.empty<string>())] as const)),
}) as unknown as ActivePool;

const ids = (ranking: Iterable<RankedPosition>): string[] => [...ranking].map((p) => p.accountId);
const both = (p: ActivePool, marketId: string, side: 'long' | 'short') => ({ cached: ids(adlOrder(p, marketId, side)), uncached: ids(adlRankingUncached(p, marketId, side)) });
const delta = (before: ReturnType<typeof adlRankingStats>) => {
  const now = adlRankingStats();
  return { builds: now.builds - before.builds, patches: now.patches - before.patches, exactFigures: now.exactFigures - before.exactFigures };
};

describe('the cached ranking of pools the ledger never builds', () => {
  // BTC at 27000, ETH at 5000. a: long 0.1 BTC from 30000 and 1 ETH from 1, collateral 1000; b: long 0.1 BTC
  // from 30000, collateral 2000. Each BTC long loses 300 (notional 2700, basis 3000).
  const accounts: Account[] = [
    { accountId: 'a', collateral: 1_000n * ONE, positions: [long(BTC, ONE / 10n, 30_000n * ONE), long(ETH, ONE, ONE)] },
    { accountId: 'b', collateral: 2_000n * ONE, positions: [long(BTC, ONE / 10n, 30_000n * ONE)] },
  ];
  const holders: [string, string[]][] = [[BTC, ['a', 'b']], [ETH, ['a']]];

  it('a market taken off the list, or replaced by another, is a new epoch: positions in it no longer count', () => {
    const listed = pool('adl-cache-delisted', [market(BTC, 27_000n * ONE), market(ETH, 5_000n * ONE)], accounts, holders);
    // With ETH: a's equity 1000 - 300 + 4999 = 5699, score -270 / 5699 = -0.047; b's 1700, -270 / 1700 = -0.159.
    expect(both(listed, BTC, 'long')).toEqual({ cached: ['a', 'b'], uncached: ['a', 'b'] });
    // ETH taken off (same accounts, same BTC mark): a's ETH position is valued at nothing; a's equity 700, -0.386.
    const delisted = { ...listed, markets: listed.markets.delete(ETH) };
    expect(both(delisted, BTC, 'long')).toEqual({ cached: ['b', 'a'], uncached: ['b', 'a'] });
    // Back with ETH, then ETH replaced by SOL: as many markets as before, but not the same ones.
    expect(both(listed, BTC, 'long')).toEqual({ cached: ['a', 'b'], uncached: ['a', 'b'] });
    const replaced = { ...listed, markets: listed.markets.delete(ETH).set(SOL, market(SOL, ONE)) };
    expect(both(replaced, BTC, 'long')).toEqual({ cached: ['b', 'a'], uncached: ['b', 'a'] });
  });

  it('a holder list naming an account that is not there, or one without a position in the market, ranks neither', () => {
    // ghost is listed as a BTC holder but has no account; idle has an account with only an ETH position. ETH has no
    // holder list at all, so nothing is ranked in ETH; SOL has one (naming b) but is not listed, so nothing in SOL either.
    const odd = pool('adl-cache-odd-holders', [market(BTC, 27_000n * ONE), market(ETH, 5_000n * ONE)],
      [accounts[1]!, { accountId: 'idle', collateral: 0n, positions: [long(ETH, ONE, ONE)] }],
      [[BTC, ['b', 'ghost', 'idle']], [SOL, ['b']]]);
    expect(both(odd, BTC, 'long')).toEqual({ cached: ['b'], uncached: ['b'] });
    expect(both(odd, BTC, 'short')).toEqual({ cached: [], uncached: [] });
    expect(both(odd, ETH, 'long')).toEqual({ cached: [], uncached: [] });
    expect(both(odd, SOL, 'long')).toEqual({ cached: [], uncached: [] });
  });
});

describe('changes within a mark epoch', () => {
  // 100 longs of 0.1 BTC from 30000 at 27000, collateral 1000 + i: score -270 / (700 + i), so l99 first.
  const id = (i: number) => `l${String(i).padStart(2, '0')}`;
  const start = (poolId: string) => {
    const accounts = Array.from({ length: 100 }, (_, i): Account => ({ accountId: id(i), collateral: (1_000n + BigInt(i)) * ONE, positions: [long(BTC, ONE / 10n, 30_000n * ONE)] }));
    return pool(poolId, [market(BTC, 27_000n * ONE)], accounts, [[BTC, accounts.map((a) => a.accountId)]]);
  };
  const first = (p: ActivePool) => adlOrder(p, BTC, 'long')[Symbol.iterator]().next().value?.accountId;

  it('70 accounts changed (more than 64, fewer than the positions) are patched, not re-scored', () => {
    const before0 = start('adl-cache-many-changes');
    expect(first(before0)).toBe('l99');
    // l00..l69 each get 100 more collateral, one change at a time: l69 (equity 869) is now first.
    let changed = before0;
    for (let i = 0; i < 70; i++) changed = { ...changed, accounts: changed.accounts.set(id(i), { ...changed.accounts.get(id(i))!, collateral: (1_100n + BigInt(i)) * ONE }) };
    const before = adlRankingStats();
    expect(first(changed)).toBe('l69');
    expect(delta(before)).toMatchObject({ builds: 0, patches: 1 });
    expect(both(changed, BTC, 'long').cached).toEqual(both(changed, BTC, 'long').uncached);
  });

  it('accounts that are not a later version of the ones ranked (rebuilt under the same pool id) are ranked afresh', () => {
    const p = start('adl-cache-rebuilt');
    expect(first(p)).toBe('l99');
    // The same ids with the collateral reversed (1099 - i): l00 is now first. The account map is built anew, so
    // what changed since the ranked version cannot be listed: everything is re-scored.
    const accounts = Array.from({ length: 100 }, (_, i): Account => ({ accountId: id(i), collateral: (1_099n - BigInt(i)) * ONE, positions: [long(BTC, ONE / 10n, 30_000n * ONE)] }));
    const rebuilt = { ...p, accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)) };
    const before = adlRankingStats();
    expect(both(rebuilt, BTC, 'long').cached).toEqual(Array.from({ length: 100 }, (_, i) => id(i)));
    expect(delta(before)).toMatchObject({ builds: 1, patches: 0 });
  });

  it('an account changed and changed back costs no exact figures', () => {
    const p = start('adl-cache-changed-back');
    expect(first(p)).toBe('l99');
    const original = p.accounts.get('l05')!;
    const back = { ...p, accounts: p.accounts.set('l05', { ...original, collateral: 5_000n * ONE }).set('l05', original) };
    const before = adlRankingStats();
    expect(first(back)).toBe('l99');
    expect(delta(before)).toEqual({ builds: 0, patches: 1, exactFigures: 0 });
  });
});
