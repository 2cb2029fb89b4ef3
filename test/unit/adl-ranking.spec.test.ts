// The ADL ranking's cache does only the work it must: a new mark epoch re-scores once, a read of
// the top of the queue gives exact figures to about as many positions as it reads (not to every
// position), a repeated read does nothing, and a change within the epoch is a patch, not a rebuild.

import { describe, expect, it } from 'vitest';
import {
  adlOrder, adlRankingStats, adlRankingUncached, floorDiv, ONE, PersistentMap, PersistentSet,
  type Account, type ActivePool, type Market, type RankedPosition,
} from '../../domain/index.js';

const BTC = 'BTC';
const market = (mark: bigint): Market => ({ marketId: BTC, mark, fundingIndex: 0n }) as unknown as Market;

/** 2,000 shorts from 30000 with collateral 1000 + i: distinct scores, highest for the lowest collateral. */
const pool = (mark: bigint): ActivePool => {
  const size = -(10n ** 17n);
  const accounts: Account[] = Array.from({ length: 2_000 }, (_, i) => ({
    accountId: `s${String(i).padStart(4, '0')}`, collateral: (1_000n + BigInt(i)) * ONE,
    positions: [{ marketId: BTC, size, entryNotional: floorDiv(size * 30_000n * ONE, ONE) }],
  }));
  return {
    status: 'active', poolId: 'adl-ranking-spec', markEpoch: 0,
    markets: PersistentMap.of([[BTC, market(mark)]]),
    accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
    positionHolders: PersistentMap.of([[BTC, accounts.reduce((set, a) => set.add(a.accountId), PersistentSet.empty<string>())]]),
  } as unknown as ActivePool;
};

const top = (p: ActivePool, n: number): string[] => {
  const out: string[] = [];
  for (const position of adlOrder(p, BTC, 'short')) {
    if (out.length === n) break;
    out.push(position.accountId);
  }
  return out;
};

const delta = (before: ReturnType<typeof adlRankingStats>) => {
  const now = adlRankingStats();
  return { builds: now.builds - before.builds, patches: now.patches - before.patches, exactFigures: now.exactFigures - before.exactFigures };
};

describe('the ADL ranking cache', () => {
  it('re-scores once per epoch, gives exact figures only near the top, and patches changes', () => {
    const first = pool(27_000n * ONE);
    let before = adlRankingStats();
    expect(top(first, 10)).toEqual(['s0000', 's0001', 's0002', 's0003', 's0004', 's0005', 's0006', 's0007', 's0008', 's0009']);
    // One batch of 32: exact figures for the 32 candidates only.
    expect(delta(before)).toEqual({ builds: 1, patches: 0, exactFigures: 32 });

    before = adlRankingStats();
    expect(top(first, 40)).toHaveLength(40);
    // Read again up to 40: the first 32 are kept, one more batch of 32 is sorted.
    expect(delta(before)).toEqual({ builds: 0, patches: 0, exactFigures: 32 });

    // s0000 closes its position and s1999 (the last) gets a tenth of its collateral: one patch.
    const account = first.accounts.get('s1999')!;
    const changed = {
      ...first,
      accounts: first.accounts.set('s0000', { accountId: 's0000', collateral: 5n, positions: [] }).set('s1999', { ...account, collateral: 100n * ONE }),
      positionHolders: first.positionHolders.set(BTC, first.positionHolders.get(BTC)!.delete('s0000')),
    };
    before = adlRankingStats();
    expect(top(changed, 3)).toEqual(['s1999', 's0001', 's0002']);
    expect(delta(before)).toEqual({ builds: 0, patches: 1, exactFigures: 1 });
    expect([...adlOrder(changed, BTC, 'short')].map((p: RankedPosition) => p.accountId)).toEqual(adlRankingUncached(changed, BTC, 'short').map((p) => p.accountId));

    // A new mark: one re-scoring.
    before = adlRankingStats();
    const later = { ...changed, markets: changed.markets.set(BTC, market(26_000n * ONE)), markEpoch: 1 };
    expect(top(later, 1)).toEqual(['s1999']);
    expect(delta(before).builds).toBe(1);
  });
});

describe('positions ADL cannot rank', () => {
  it('come after every rankable position, also after more than a batch (32) of losing ones', () => {
    // 40 longs of 0.1 from 30000 at mark 27000: each loses 300, notional 2700, basis 3000; with collateral
    // 1000 + i the equity is 700 + i, so the score -270 / (700 + i) is highest for l39 and lowest for l00.
    // u holds the same position with collateral 100: equity -200, so it cannot be ranked and comes last.
    const size = 10n ** 17n;
    const position = { marketId: BTC, size, entryNotional: floorDiv(size * 30_000n * ONE, ONE) };
    const accounts: Account[] = [
      ...Array.from({ length: 40 }, (_, i): Account => ({ accountId: `l${String(i).padStart(2, '0')}`, collateral: (1_000n + BigInt(i)) * ONE, positions: [position] })),
      { accountId: 'u', collateral: 100n * ONE, positions: [position] },
    ];
    const losing: ActivePool = {
      status: 'active', poolId: 'adl-ranking-unrankable', markEpoch: 0,
      markets: PersistentMap.of([[BTC, market(27_000n * ONE)]]),
      accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
      positionHolders: PersistentMap.of([[BTC, accounts.reduce((set, a) => set.add(a.accountId), PersistentSet.empty<string>())]]),
    } as unknown as ActivePool;
    const expected = [...Array.from({ length: 40 }, (_, i) => `l${String(39 - i).padStart(2, '0')}`), 'u'];
    expect([...adlOrder(losing, BTC, 'long')].map((p: RankedPosition) => p.accountId)).toEqual(expected);
    expect(adlRankingUncached(losing, BTC, 'long').map((p) => p.accountId)).toEqual(expected);
  });
});
