// The ADL ranking's cache does only the work it must: a new mark epoch re-scores once, a read of
// the top of the queue gives exact figures to about as many positions as it reads (not to every
// position), a repeated read does nothing, and a change within the epoch is a patch, not a rebuild.

import { describe, expect, it } from 'vitest';
import {
  adlOrder, adlRankingStats, adlRankingUncached, floorDiv, ONE, PersistentMap, PersistentSet, units,
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

describe('the ranking within an epoch, beyond the first batch', () => {
  const size = 10n ** 17n;
  const long = (price: bigint) => ({ marketId: BTC, size, entryNotional: floorDiv(size * price * ONE, ONE) });
  const poolOf = (poolId: string, accounts: Account[], mark: bigint): ActivePool => ({
    status: 'active', poolId, markEpoch: 0,
    markets: PersistentMap.of([[BTC, market(mark)]]),
    accounts: PersistentMap.of(accounts.map((a) => [a.accountId, a] as const)),
    positionHolders: PersistentMap.of([[BTC, accounts.reduce((set, a) => set.add(a.accountId), PersistentSet.empty<string>())]]),
  }) as unknown as ActivePool;
  const id = (i: number) => `l${String(i).padStart(2, '0')}`;
  const ids = (p: ActivePool) => [...adlOrder(p, BTC, 'long')].map((r: RankedPosition) => r.accountId);

  it('accounts changed after the first batch was sorted are put back where they rank, the unrankable ones last and once', () => {
    // 80 longs of 0.1 from 30000 at mark 27000, collateral 1000 + i: score -270 / (700 + i), so l79 first, l00 last.
    // u0 and u1 hold the same with collateral 100 (equity -200): unrankable, after all of them.
    const accounts: Account[] = [
      ...Array.from({ length: 80 }, (_, i): Account => ({ accountId: id(i), collateral: (1_000n + BigInt(i)) * ONE, positions: [long(30_000n)] })),
      { accountId: 'u0', collateral: 100n * ONE, positions: [long(30_000n)] },
      { accountId: 'u1', collateral: 100n * ONE, positions: [long(30_000n)] },
    ];
    const first = poolOf('adl-ranking-beyond-batch', accounts, 27_000n * ONE);
    // Reading the top sorts one batch: l79 .. l48.
    expect(adlOrder(first, BTC, 'long')[Symbol.iterator]().next().value?.accountId).toBe('l79');
    // Within the epoch: l10 loses its collateral down to 100 (unrankable); l20 gets 1030.5, ranking it between
    // l31 and l30 (after the sorted batch); u0 stays unrankable with 90; u1 gets 1040.5: between l41 and l40.
    const set = (p: ActivePool, accountId: string, collateral: bigint): ActivePool => ({
      ...p, accounts: p.accounts.set(accountId, { ...p.accounts.get(accountId)!, collateral }),
    });
    let changed = first;
    changed = set(changed, 'l10', 100n * ONE);
    changed = set(changed, 'l20', units('1030.5'));
    changed = set(changed, 'u0', 90n * ONE);
    changed = set(changed, 'u1', units('1040.5'));
    const expected: string[] = [];
    for (let i = 79; i >= 0; i--) {
      if (i === 10 || i === 20) continue;
      expected.push(id(i));
      if (i === 41) expected.push('u1');
      if (i === 31) expected.push('l20');
    }
    expected.push('l10', 'u0');
    expect(ids(changed)).toEqual(expected);
    expect(adlRankingUncached(changed, BTC, 'long').map((p) => p.accountId)).toEqual(expected);
  });

  it('an account in two markets, scored from exact figures, is drawn into the first batch when it ranks first', () => {
    // The 40 winners of the next case (score (300 / 2700) * 3000 / (1300 + i): 0.2564 for w00 down to 0.2487 for
    // w39), and m, long 0.1 from 27000 with collateral 100 and a second position (1 unit of ETH at 1, no PnL):
    // equity 400, score (300 / 2700) * 3000 / 400 = 0.8333, first. Its score interval comes from its exact figures' estimate.
    const winners = Array.from({ length: 40 }, (_, i): Account => ({ accountId: `w${String(i).padStart(2, '0')}`, collateral: (1_000n + BigInt(i)) * ONE, positions: [long(27_000n)] }));
    const twoMarkets: Account = { accountId: 'm', collateral: 100n * ONE, positions: [long(27_000n), { marketId: 'ETH', size: ONE, entryNotional: ONE }] };
    const base = poolOf('adl-ranking-two-markets', [...winners, twoMarkets], 30_000n * ONE);
    const pool = { ...base, markets: base.markets.set('ETH', { ...market(ONE), marketId: 'ETH' }) };
    const expected = ['m', ...winners.map((a) => a.accountId)];
    expect(ids(pool)).toEqual(expected);
    expect(adlRankingUncached(pool, BTC, 'long').map((p) => p.accountId)).toEqual(expected);
  });

  it('a position whose score the floats cannot bound waits for its place instead of joining the batch it was drawn into', () => {
    // 40 longs of 0.1 from 27000 at mark 30000, collateral 1000 + i: each gains 300 (basis 2700, notional 3000),
    // equity 1300 + i: score (300 / 2700) * 3000 / (1300 + i), so w00 first, w39 last.
    // g holds 10^310 ledger units of size from 31000 with collateral 10^320: beyond the range of floats, so its
    // score interval is unbounded and it is drawn with the first batch; it loses 1000 per unit, so it ranks last.
    const winners = Array.from({ length: 40 }, (_, i): Account => ({ accountId: `w${String(i).padStart(2, '0')}`, collateral: (1_000n + BigInt(i)) * ONE, positions: [long(27_000n)] }));
    const giantSize = 10n ** 310n;
    const giant: Account = { accountId: 'g', collateral: 10n ** 320n, positions: [{ marketId: BTC, size: giantSize, entryNotional: giantSize * 31_000n }] };
    const pool = poolOf('adl-ranking-giant', [...winners, giant], 30_000n * ONE);
    const expected = [...winners.map((a) => a.accountId), 'g'];
    expect(ids(pool)).toEqual(expected);
    expect(adlRankingUncached(pool, BTC, 'long').map((p) => p.accountId)).toEqual(expected);
  });
});

describe('what starts a new mark epoch', () => {
  const size = -(10n ** 17n);
  const short = (price: bigint) => ({ marketId: BTC, size, entryNotional: floorDiv(size * price * ONE, ONE) });
  // a: short 0.1 from 30000, collateral 1000; b: short 0.1 from 30000, collateral 1100. At mark 27000 without
  // funding both gain 300 (notional 2700, basis 3000): a's equity 1300 ranks it before b (1400).
  const base = (): ActivePool => ({
    status: 'active', poolId: 'adl-ranking-epochs', markEpoch: 0,
    markets: PersistentMap.of([[BTC, market(27_000n * ONE)]]),
    accounts: PersistentMap.of([
      ['a', { accountId: 'a', collateral: 1_000n * ONE, positions: [short(30_000n)] }],
      ['b', { accountId: 'b', collateral: 1_100n * ONE, positions: [{ ...short(30_000n), fundingIndex: 0n }] }],
    ]),
    positionHolders: PersistentMap.of([[BTC, PersistentSet.empty<string>().add('a').add('b')]]),
  }) as unknown as ActivePool;
  const order = (p: ActivePool) => [...adlOrder(p, BTC, 'short')].map((r: RankedPosition) => r.accountId);

  it('a move of the funding index alone starts a new epoch: a short paying funding can fall out of the ranking', () => {
    // The index falls by 14000 per unit: each short of 0.1 pays 1400. a's equity 1300 - 1400 = -100: it cannot be
    // ranked any more; b (collateral 2000) keeps 2300 - 1400 = 900. Before: a (270 / 1300) then b (270 / 2300).
    const pool = { ...base(), accounts: base().accounts.set('b', { ...base().accounts.get('b')!, collateral: 2_000n * ONE }) };
    expect(order(pool)).toEqual(['a', 'b']);
    const paying = { ...pool, markets: pool.markets.set(BTC, { ...market(27_000n * ONE), fundingIndex: -14_000n * ONE }) };
    expect(order(paying)).toEqual(['b', 'a']);
    expect(adlRankingUncached(paying, BTC, 'short').map((p) => p.accountId)).toEqual(['b', 'a']);
  });

  it('a new market listed starts a new epoch; a new mark with changed accounts is one re-scoring, not a patch', () => {
    const pool = base();
    expect(order(pool)).toEqual(['a', 'b']);
    const listed = { ...pool, markets: pool.markets.set('ETH', { ...market(ONE), marketId: 'ETH' }) };
    let before = adlRankingStats();
    expect(order(listed)).toEqual(['a', 'b']);
    expect(delta(before)).toMatchObject({ builds: 1, patches: 0 });
    // b's collateral falls to 500 (equity 800: before a) and the mark moves to 26000 in the same step.
    const both = {
      ...listed,
      markets: listed.markets.set(BTC, market(26_000n * ONE)),
      accounts: listed.accounts.set('b', { ...listed.accounts.get('b')!, collateral: 500n * ONE }),
    };
    before = adlRankingStats();
    expect(order(both)).toEqual(['b', 'a']);
    expect(delta(before)).toMatchObject({ builds: 1, patches: 0 });
  });
});
