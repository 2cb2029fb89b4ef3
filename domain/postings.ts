// Compact value events (stored schema version 2): the postings of a trade, a deposit or a
// withdrawal are not stored but rebuilt, exactly and in order, from the event's own fields. No
// state is read, so an auditor still checks every event's double entry one event at a time, and
// rebuilding costs additions and one multiplication, never a fee split or a PnL computation.
//
// A trade's postings, in the order `decide` writes them:
//   1. the notional size * price, from the buyer's position account to the seller's;
//   2. the taker's realized PnL, then the maker's (position -> collateral when a gain,
//      collateral -> position when a loss; none when zero);
//   3. a maker rebate, from the taker's collateral to the maker's;
//   4. the taker's fee less the rebate: the fund's part to each tranche, the rest to the treasury;
//   5. the maker's fee: the same.
// The stored trade keeps what needs state to compute (each side's realized PnL, each tranche's
// part of each fee); everything else follows from the trade's facts.

import { notional, type Amount } from './money.js';
import type { CompactDeposit, CompactTrade, CompactWithdrawal, LedgerAccount, Posting, TradeExecuted } from './events.js';

/** One tranche's part of the fund's share of the fees: [tranche, from the taker, from the maker]. */
export type FundPart = readonly [trancheId: string, fromTaker: Amount, fromMaker: Amount];

/** What a stored v2 trade adds to the trade's facts in place of its postings. */
export interface TradeValueFlows {
  /** Realized PnL of each side (signed: negative is a loss). */
  readonly takerPnl: Amount;
  readonly makerPnl: Amount;
  /** Tranche parts of the fees, in posting order. */
  readonly fund: ReadonlyArray<FundPart>;
}

/** The facts of a trade its postings follow from. */
export type TradeFacts = Pick<TradeExecuted, 'marketId' | 'taker' | 'maker' | 'takerSide' | 'size' | 'price' | 'takerFee' | 'makerFee' | 'makerRebate'>;

const collateral = (accountId: string): LedgerAccount => ({ kind: 'collateral', accountId });
const position = (accountId: string, marketId: string): LedgerAccount => ({ kind: 'position', accountId, marketId });

/**
 * Where a trade's postings go, one call per posting, in posting order. `tradePostingsOf` makes
 * them values; a ledger draft applies each as it comes (replay, which needs no posting values).
 * Both run `forEachTradePosting`, so both see the same postings.
 */
export interface TradePostingSink {
  /** The notional: from the buyer's position account to the seller's. */
  notional(buyer: string, seller: string, marketId: string, amount: Amount): void;
  /** A realized gain: from the account's position account to its collateral. */
  gain(accountId: string, marketId: string, amount: Amount): void;
  /** A realized loss: from the account's collateral to its position account. */
  loss(accountId: string, marketId: string, amount: Amount): void;
  /** The maker rebate: from the taker's collateral to the maker's. */
  rebate(taker: string, maker: string, amount: Amount): void;
  /** A fee part: from the account's collateral to a tranche. */
  feeToTranche(accountId: string, trancheId: string, amount: Amount): void;
  /** The rest of a fee: from the account's collateral to the treasury. */
  feeToTreasury(accountId: string, amount: Amount): void;
}

/** A side's realized PnL: position -> collateral when a gain, collateral -> position when a loss. */
const pnlPosting = (sink: TradePostingSink, accountId: string, marketId: string, pnl: Amount): void => {
  if (pnl > 0n) sink.gain(accountId, marketId, pnl);
  else if (pnl < 0n) sink.loss(accountId, marketId, -pnl);
};

/** One side's fee: its tranche parts (those above zero, `side` 1 = taker, 2 = maker), then the rest to the treasury. */
const feePostings = (sink: TradePostingSink, accountId: string, fee: Amount, fund: ReadonlyArray<FundPart>, side: 1 | 2): void => {
  let toFund = 0n;
  for (const part of fund) {
    const amount = part[side];
    toFund += amount;
    if (amount > 0n) sink.feeToTranche(accountId, part[0], amount);
  }
  if (fee > toFund) sink.feeToTreasury(accountId, fee - toFund);
};

/** A trade's postings, from its facts and value flows alone, given to `sink` in order. */
export const forEachTradePosting = (trade: TradeFacts, flows: TradeValueFlows, sink: TradePostingSink): void => {
  const { marketId, taker, maker } = trade;
  const rebate = trade.makerRebate ?? 0n;
  if (trade.takerSide === 'buy') sink.notional(taker, maker, marketId, notional(trade.size, trade.price));
  else sink.notional(maker, taker, marketId, notional(trade.size, trade.price));
  pnlPosting(sink, taker, marketId, flows.takerPnl);
  pnlPosting(sink, maker, marketId, flows.makerPnl);
  if (rebate > 0n) sink.rebate(taker, maker, rebate);
  feePostings(sink, taker, trade.takerFee - rebate, flows.fund, 1);
  feePostings(sink, maker, trade.makerFee, flows.fund, 2);
};

/** Makes each posting a value, appended to `postings`. */
class PostingList implements TradePostingSink {
  constructor(readonly postings: Posting[]) {}
  notional(buyer: string, seller: string, marketId: string, amount: Amount): void {
    this.postings.push({ from: position(buyer, marketId), to: position(seller, marketId), amount });
  }
  gain(accountId: string, marketId: string, amount: Amount): void {
    this.postings.push({ from: position(accountId, marketId), to: collateral(accountId), amount });
  }
  loss(accountId: string, marketId: string, amount: Amount): void {
    this.postings.push({ from: collateral(accountId), to: position(accountId, marketId), amount });
  }
  rebate(taker: string, maker: string, amount: Amount): void {
    this.postings.push({ from: collateral(taker), to: collateral(maker), amount });
  }
  feeToTranche(accountId: string, trancheId: string, amount: Amount): void {
    this.postings.push({ from: collateral(accountId), to: { kind: 'tranche', trancheId }, amount });
  }
  feeToTreasury(accountId: string, amount: Amount): void {
    this.postings.push({ from: collateral(accountId), to: { kind: 'treasury' }, amount });
  }
}

/** A trade's postings, rebuilt from its facts and value flows alone. */
export const tradePostingsOf = (trade: TradeFacts, flows: TradeValueFlows): Posting[] => {
  const list = new PostingList([]);
  forEachTradePosting(trade, flows, list);
  return list.postings;
};

/** A deposit's one posting: from outside the ledger into the account's collateral. */
export const depositPostingsOf = (accountId: string, amount: Amount): Posting[] => [{ from: { kind: 'external' }, to: collateral(accountId), amount }];

/** A withdrawal's one posting: from the account's collateral out of the ledger. */
export const withdrawalPostingsOf = (accountId: string, amount: Amount): Posting[] => [{ from: collateral(accountId), to: { kind: 'external' }, amount }];

/** A stored event whose postings are not stored. */
export type CompactValueEvent = CompactTrade | CompactDeposit | CompactWithdrawal;

/** The postings of a compact stored event, exactly as `decide` wrote them, from the event alone. */
export const expandPostings = (event: CompactValueEvent): Posting[] => {
  switch (event.type) {
    case 'TradeExecuted':
      return tradePostingsOf(event, event);
    case 'CollateralDeposited':
      return depositPostingsOf(event.accountId, event.amount);
    case 'CollateralWithdrawn':
      return withdrawalPostingsOf(event.accountId, event.amount);
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// From postings to value flows (encoding): read the flows off the postings, then keep them only
// if rebuilding gives the postings back exactly. Anything else (a pool without tranches, whose
// fund share goes to the treasury as its own posting; parts in an order the rebuild would not
// give) is stored with its postings, so encoding never loses information.

const sameAccount = (a: LedgerAccount, b: LedgerAccount): boolean => {
  switch (a.kind) {
    case 'external':
    case 'treasury':
    case 'badDebt':
      return b.kind === a.kind;
    case 'collateral':
      return b.kind === 'collateral' && b.accountId === a.accountId;
    case 'position':
      return b.kind === 'position' && b.accountId === a.accountId && b.marketId === a.marketId;
    case 'tranche':
      return b.kind === 'tranche' && b.trancheId === a.trancheId;
    case 'funding':
      return b.kind === 'funding' && b.marketId === a.marketId;
    default: {
      const unreachable: never = a;
      return unreachable;
    }
  }
};

/** Whether two posting lists are the same, posting by posting. */
export const samePostings = (a: ReadonlyArray<Posting>, b: ReadonlyArray<Posting>): boolean =>
  a.length === b.length && a.every((p, i) => {
    const q = b[i]!;
    return p.amount === q.amount && sameAccount(p.from, q.from) && sameAccount(p.to, q.to);
  });

/**
 * A side's realized PnL as the trade's postings book it: what its position account pays into a
 * collateral account, less what its collateral pays into a position account. Only what sets those
 * postings apart from the trade's others (the notional between position accounts, the rebate
 * between collateral accounts, the fees) is checked; a PnL posting in another market or to another
 * account's collateral is read all the same, and the rebuild, which books neither, refuses it.
 */
const realizedOf = (postings: ReadonlyArray<Posting>, accountId: string): Amount => {
  let pnl = 0n;
  for (const p of postings) {
    if (p.from.kind === 'position' && p.from.accountId === accountId && p.to.kind === 'collateral') pnl += p.amount;
    if (p.from.kind === 'collateral' && p.from.accountId === accountId && p.to.kind === 'position') pnl -= p.amount;
  }
  return pnl;
};

/** The value flows of a trade whose postings are exactly what `tradePostingsOf` rebuilds; otherwise undefined. */
export const tradeValueFlows = (trade: TradeExecuted): TradeValueFlows | undefined => {
  const parts = new Map<string, [Amount, Amount]>();
  for (const p of trade.postings) {
    if (p.from.kind !== 'collateral' || p.to.kind !== 'tranche') continue;
    const side = p.from.accountId === trade.taker ? 0 : p.from.accountId === trade.maker ? 1 : undefined;
    if (side === undefined) return undefined;
    const part = parts.get(p.to.trancheId) ?? [0n, 0n];
    part[side] += p.amount;
    parts.set(p.to.trancheId, part);
  }
  const flows: TradeValueFlows = {
    takerPnl: realizedOf(trade.postings, trade.taker),
    makerPnl: realizedOf(trade.postings, trade.maker),
    fund: [...parts].map(([trancheId, [fromTaker, fromMaker]]) => [trancheId, fromTaker, fromMaker] as const),
  };
  const { postings, ...facts } = trade;
  return samePostings(tradePostingsOf(facts, flows), postings) ? flows : undefined;
};
