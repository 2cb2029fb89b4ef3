// The stored event format, schema version 2: what a compact trade looks like, how its postings are
// rebuilt, and the cases the encoder must store in full.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeEvent, decodeStoredEvent, encodeEvent, expandPostings, formatDecimal, units, type CompactTrade, type Posting, type TradeExecuted,
} from '../../domain/index.js';
import { deposit, standardPool, trade } from '../support/builders.js';

const stored = (u: unknown) => JSON.parse(JSON.stringify(u)) as Record<string, unknown>;

const history = standardPool(
  deposit('alice', '10000'), deposit('bob', '10000'), deposit('carol', '5000'),
  trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' }),
  trade({ taker: 'alice', maker: 'carol', side: 'sell', size: '0.5', price: '33000' }),
);
const trades = history.events.filter((e): e is TradeExecuted => e.type === 'TradeExecuted');
const closing = trades[1]!;

describe('stored trades (schema version 2)', () => {
  // The fees' fund share: floor(fee * share / 1e6), split 3:1 between junior and senior.
  const fundParts = (fee: bigint) => {
    const toFund = (fee * BigInt(closing.fundSharePpm)) / 1_000_000n;
    const junior = (toFund * 3n) / 4n + ((toFund * 3n) % 4n >= 2n ? 1n : 0n);
    return { junior, senior: toFund - junior, treasury: fee - toFund };
  };
  const taker = fundParts(units('8.25'));
  const maker = fundParts(units('3.3'));
  const text = (x: bigint) => formatDecimal(x);

  it('carry the facts, each side\'s realized PnL and the tranche parts of the fees, no postings', () => {
    const data = stored(encodeEvent(closing));
    expect(data).toEqual({
      type: 'TradeExecuted', schemaVersion: 2, tradeId: closing.tradeId, marketId: 'BTC-PERP', taker: 'alice', maker: 'carol', takerSide: 'sell',
      size: '0.5', price: '33000', takerFee: '8.25', makerFee: '3.3', fundSharePpm: closing.fundSharePpm,
      takerPnl: '1500', makerPnl: '0',
      fund: [['junior', text(taker.junior), text(maker.junior)], ['senior', text(taker.senior), text(maker.senior)]],
    });
    expect(decodeEvent(data)).toEqual(E.right(closing));
  });

  it('rebuild every posting in order: notional, realized PnL, then each fee to the tranches and the rest to the treasury', () => {
    const c = (accountId: string) => ({ kind: 'collateral', accountId } as const);
    const p = (accountId: string) => ({ kind: 'position', accountId, marketId: 'BTC-PERP' } as const);
    const t = (trancheId: string) => ({ kind: 'tranche', trancheId } as const);
    const expected: Posting[] = [
      { from: p('carol'), to: p('alice'), amount: units('16500') },
      { from: p('alice'), to: c('alice'), amount: units('1500') },
      { from: c('alice'), to: t('junior'), amount: taker.junior },
      { from: c('alice'), to: t('senior'), amount: taker.senior },
      { from: c('alice'), to: { kind: 'treasury' }, amount: taker.treasury },
      { from: c('carol'), to: t('junior'), amount: maker.junior },
      { from: c('carol'), to: t('senior'), amount: maker.senior },
      { from: c('carol'), to: { kind: 'treasury' }, amount: maker.treasury },
    ];
    expect(closing.postings).toEqual(expected);
    const compact = decodeCompact(encodeEvent(closing));
    expect(expandPostings(compact)).toEqual(expected);
  });

  it('are stored in full when the postings would not rebuild exactly (fund share to the treasury, no tranche)', () => {
    const first = trades[0]!;
    // A pool without tranches sends the fund's share to the treasury as its own posting.
    const toTreasury = first.postings.map((posting) => (posting.to.kind === 'tranche' ? { ...posting, to: { kind: 'treasury' } as const } : posting));
    const event: TradeExecuted = { ...first, postings: toTreasury };
    const data = stored(encodeEvent(event));
    expect(data.schemaVersion).toBe(1);
    expect(decodeEvent(data)).toEqual(E.right(event));
    expect(decodeStoredEvent(data)).toEqual(E.right(event));
  });

  it('are stored in full when tranche parts come in an order the rebuild would not give', () => {
    const [notional, junior, senior, ...rest] = closing.postings.filter((posting) => !(posting.from.kind === 'position' && posting.to.kind === 'collateral'));
    const pnl = closing.postings[1]!;
    const event: TradeExecuted = { ...closing, postings: [notional!, pnl, senior!, junior!, ...rest] };
    const data = stored(encodeEvent(event));
    expect(data.schemaVersion).toBe(1);
    expect(decodeEvent(data)).toEqual(E.right(event));
  });

  it('are refused when malformed, naming the field', () => {
    const data = stored(encodeEvent(closing));
    const refused = (u: unknown) => {
      const result = decodeEvent(u);
      if (E.isRight(result)) throw new Error('accepted');
      expect(decodeStoredEvent(u)).toEqual(result);
      return result.left.errors[0]!;
    };
    expect(refused({ ...data, fund: [['junior', '1', '1', '1']] }).path).toBe('fund.0');
    expect(refused({ ...data, fund: [['junior', '-1', '1']] }).path).toBe('fund.0.1');
    expect(refused({ ...data, postings: [] }).path).toBe('postings');
    expect(refused({ ...data, takerPnl: 1500 }).path).toBe('takerPnl');
    expect(refused({ ...data, size: '0.000000000000000001', price: '0.5' }).message).toContain('below one ledger unit');
    // Only trades, deposits and withdrawals have a version 2 form.
    const mark = stored(encodeEvent({ type: 'MarkPriceUpdated', schemaVersion: 1, marketId: 'BTC-PERP', price: units('1') }));
    expect(refused({ ...mark, schemaVersion: 2 }).path).toBe('schemaVersion');
  });
});

describe('stored deposits and withdrawals (schema version 2)', () => {
  it('carry no posting, and decode to the event with its one posting', () => {
    const depositEvent = history.events.find((e) => e.type === 'CollateralDeposited')!;
    const data = stored(encodeEvent(depositEvent));
    expect(data).toEqual({ type: 'CollateralDeposited', schemaVersion: 2, accountId: 'alice', amount: '10000' });
    expect(decodeEvent(data)).toEqual(E.right(depositEvent));
    expect(decodeStoredEvent(data)).toEqual(E.right(depositEvent));
    // The version 1 form, with its posting, still decodes to the same event.
    expect(decodeEvent({ ...data, schemaVersion: 1, postings: [{ from: { kind: 'external' }, to: { kind: 'collateral', accountId: 'alice' }, amount: '10000' }] })).toEqual(E.right(depositEvent));
  });
});

const decodeCompact = (encoded: unknown): CompactTrade => {
  const data = stored(encoded) as { fund: [string, string, string][] } & Record<string, string>;
  return {
    type: 'TradeExecuted', schemaVersion: 2, tradeId: data.tradeId!, marketId: data.marketId!, taker: data.taker!, maker: data.maker!,
    takerSide: data.takerSide as 'buy' | 'sell', size: units(data.size!), price: units(data.price!), takerFee: units(data.takerFee!), makerFee: units(data.makerFee!),
    fundSharePpm: Number(data.fundSharePpm), takerPnl: units(data.takerPnl!), makerPnl: units(data.makerPnl!),
    fund: data.fund.map(([id, a, b]) => [id, units(a), units(b)] as const),
  };
};
