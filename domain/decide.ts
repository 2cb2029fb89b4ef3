// decide: what a command does to a pool, as events, or why it cannot. Pure and total: no I/O, no
// clock (time comes in `ctx`), no randomness, and the state is never modified.

import * as E from 'fp-ts/lib/Either.js';
import type { Command, Deposit, ExecuteTrade, Governors, UpdateMarkPrice, Withdraw } from './commands.js';
import { SCHEMA_VERSION } from './commands.js';
import { domainError, type DomainError } from './errors.js';
import { fail, knownAccount, knownMarket, ok, precisionError, type Decision } from './decision.js';
import type { TradeExecuted } from './events.js';
import { applyTrade, commitTrade, rememberNextState } from './evolve.js';
import { fundFeeShare, pushFeePostings, pushRebatePosting } from './fees.js';
import { afterSettling, applyFunding, settleFunding } from './funding.js';
import { LedgerDraft, type ChangeDraft, type LedgerBase } from './ledger.js';
import { marginOf } from './margin.js';
import { abs, formatDecimal, mulDivFloor, notional, PPM, ppmOfNotionalCeil, type Price } from './money.js';
import type { ActivePool, Market, PoolState } from './state.js';
import { marketsOf, positionIn } from './state.js';
import { onlyReduces, realizedPnl, tradePostings } from './trade.js';
import { liquidate } from './liquidation.js';
import { addTranche, changeParameters, createPool, listMarket, payFromFund, recapitalize } from './parameters.js';
import { cancelUnstake, completeUnstake, requestUnstake, stake } from './staking.js';

export interface CommandContext {
  /** When the command is decided, in ms since the epoch (from the caller, never a clock here). */
  readonly now: number;
  /** Who submitted it (producer identity). */
  readonly actor: string;
  /** The deployment's root governors: the only keys that may create a pool (none: no pool can be created). */
  readonly rootGovernors?: Governors;
}

export type { Decision } from './decision.js';

const activePool = (state: PoolState, poolId: string): E.Either<DomainError, ActivePool> =>
  state.status === 'active' && state.poolId === poolId
    ? E.right(state)
    : E.left(domainError('UNKNOWN_POOL', `pool "${poolId}" does not exist`, 'poolId'));

// ---------------------------------------------------------------------------------------------

/**
 * What the hot commands (deposit, withdrawal, trade, mark) read: a persistent pool, or the mutable
 * pool book (domain/book), which decides them with these same functions.
 */
export interface HotPoolView extends LedgerBase {
  readonly poolId: string;
  readonly quoteDecimals: number;
  readonly feeShare: ActivePool['feeShare'];
  readonly tradeIds: { has(tradeId: string): boolean };
}

export const deposit = (command: Deposit, pool: Pick<HotPoolView, 'quoteDecimals'>): Decision => {
  const precision = precisionError(command.amount, pool.quoteDecimals, 'amount');
  if (precision !== undefined) return E.left(precision);
  return ok({
    type: 'CollateralDeposited',
    schemaVersion: SCHEMA_VERSION,
    accountId: command.accountId,
    amount: command.amount,
    postings: [{ from: { kind: 'external' }, to: { kind: 'collateral', accountId: command.accountId }, amount: command.amount }],
  });
};

export const withdraw = (command: Withdraw, pool: HotPoolView): Decision => {
  const found = knownAccount(pool, command.accountId, 'accountId');
  if (E.isLeft(found)) return found;
  const account = found.right;
  const precision = precisionError(command.amount, pool.quoteDecimals, 'amount');
  if (precision !== undefined) return E.left(precision);
  if (pool.badDebt > 0n) {
    return fail('WITHDRAWALS_GATED', `withdrawals are suspended while the pool carries ${formatDecimal(pool.badDebt)} of bad debt`);
  }
  if (command.amount > account.collateral) {
    return fail('INSUFFICIENT_COLLATERAL', `amount ${formatDecimal(command.amount)} exceeds collateral ${formatDecimal(account.collateral)}`, 'amount');
  }
  const { equity, requirement } = marginOf(account, marketsOf(pool), 'initial');
  if (equity - command.amount < requirement) {
    return fail('INSUFFICIENT_MARGIN', `equity after withdrawal ${formatDecimal(equity - command.amount)} would be below initial margin ${formatDecimal(requirement)}`, 'amount');
  }
  return ok({
    type: 'CollateralWithdrawn',
    schemaVersion: SCHEMA_VERSION,
    accountId: command.accountId,
    amount: command.amount,
    postings: [{ from: { kind: 'collateral', accountId: command.accountId }, to: { kind: 'external' }, amount: command.amount }],
  });
};

/** No position in a market (a side opening one). */
const NO_POSITION = { size: 0n, entryNotional: 0n } as const;

/** The margin rule of one side after a trade: an error, or undefined when the side may trade. */
export type TradeMarginCheck = (draft: ChangeDraft, pool: HotPoolView, accountId: string, reducedOnly: boolean, field: string) => DomainError | undefined;

/**
 * After the trade, a side that only reduced must not be bankrupt (equity >= 0: a voluntary trade
 * never creates a loss for the pool; that is what liquidation is for); any other side must meet
 * initial margin.
 */
export const marginAfterTrade: TradeMarginCheck = (draft, pool, accountId, reducedOnly, field) => {
  const { equity, requirement } = marginOf(draft.account(accountId), marketsOf(pool), 'initial');
  if (reducedOnly) {
    return equity >= 0n ? undefined : domainError('INSUFFICIENT_MARGIN', `${field} "${accountId}" would be left with negative equity ${formatDecimal(equity)}`, field);
  }
  return equity >= requirement
    ? undefined
    : domainError('INSUFFICIENT_MARGIN', `${field} "${accountId}" equity ${formatDecimal(equity)} would be below initial margin ${formatDecimal(requirement)}`, field);
};

/**
 * A trade's event and a draft holding its effect, or why it is refused. The caller provides the
 * draft (over the pool it decides on) and the margin rule's implementation (exact here; the book
 * puts a certified float filter in front of the same exact rule).
 */
export const decideTrade = <D extends ChangeDraft>(
  command: ExecuteTrade,
  pool: HotPoolView,
  newDraft: () => D,
  checkMargin: TradeMarginCheck,
): E.Either<DomainError, { readonly event: TradeExecuted; readonly draft: D }> => {
  const found = knownMarket(pool, command.marketId);
  if (E.isLeft(found)) return found;
  const market = found.right;
  if (command.taker === command.maker) return E.left(domainError('SELF_TRADE', 'taker and maker must be different accounts', 'maker'));
  const foundTaker = knownAccount(pool, command.taker, 'taker');
  if (E.isLeft(foundTaker)) return foundTaker;
  const foundMaker = knownAccount(pool, command.maker, 'maker');
  if (E.isLeft(foundMaker)) return foundMaker;
  const taker = foundTaker.right;
  const maker = foundMaker.right;
  if (pool.tradeIds.has(command.tradeId)) return E.left(domainError('DUPLICATE_TRADE', `trade "${command.tradeId}" was already executed`, 'tradeId'));
  const precision = precisionError(command.size, market.sizeDecimals, 'size') ?? precisionError(command.price, market.priceDecimals, 'price');
  if (precision !== undefined) return E.left(precision);

  const { size, price, marketId } = command;
  const takerDelta = command.takerSide === 'buy' ? size : -size;
  const takerBefore = positionIn(taker, marketId) ?? NO_POSITION;
  const makerBefore = positionIn(maker, marketId) ?? NO_POSITION;
  const takerBuys = command.takerSide === 'buy';
  const takerFee = ppmOfNotionalCeil(size, price, market.takerFeePpm);
  const makerFee = market.makerFeePpm > 0 ? ppmOfNotionalCeil(size, price, market.makerFeePpm) : 0n;
  // A negative maker rate is a rebate out of the taker's fee: rounded down (a payout), so with
  // |maker rate| <= taker rate it never exceeds the taker fee, which is rounded up.
  const makerRebate = market.makerFeePpm < 0 ? mulDivFloor(notional(size, price), BigInt(-market.makerFeePpm), PPM) : 0n;
  const fundSharePpm = fundFeeShare(pool);
  // The postings in one array, in the order of docs/design.md section 5 (domain/postings.ts lists it).
  const postings = tradePostings(marketId, takerBuys ? command.taker : command.maker, takerBuys ? command.maker : command.taker, size, price, [
    { accountId: command.taker, amount: realizedPnl(takerBefore, takerDelta, price) },
    { accountId: command.maker, amount: realizedPnl(makerBefore, -takerDelta, price) },
  ]);
  pushRebatePosting(postings, command.taker, command.maker, makerRebate);
  pushFeePostings(postings, pool, command.taker, takerFee - makerRebate, fundSharePpm);
  pushFeePostings(postings, pool, command.maker, makerFee, fundSharePpm);
  const facts = {
    type: 'TradeExecuted',
    schemaVersion: SCHEMA_VERSION,
    tradeId: command.tradeId,
    marketId,
    taker: command.taker,
    maker: command.maker,
    takerSide: command.takerSide,
    size,
    price,
    takerFee,
    makerFee,
    fundSharePpm,
    postings,
  } as const;
  const event: TradeExecuted = makerRebate > 0n ? { ...facts, makerRebate } : facts;
  const draft = newDraft().withAccounts(taker, maker);
  applyTrade(draft, event);
  const marginError =
    checkMargin(draft, pool, command.taker, onlyReduces(takerBefore.size, takerDelta), 'taker') ??
    checkMargin(draft, pool, command.maker, onlyReduces(makerBefore.size, -takerDelta), 'maker');
  if (marginError !== undefined) return E.left(marginError);
  return E.right({ event, draft });
};

const executeTrade = (command: ExecuteTrade, pool: ActivePool): Decision => {
  const decided = decideTrade(command, pool, () => new LedgerDraft(pool), marginAfterTrade);
  if (E.isLeft(decided)) return decided;
  const { event, draft } = decided.right;
  rememberNextState(pool, event, commitTrade(pool, draft, event));
  return ok(event);
};

/**
 * The circuit breaker: one update moves the mark by at most maxMarkMovePpm of the current mark
 * (compared exactly: |price - mark| * 1e6 <= mark * maxMarkMovePpm).
 */
const markMoveError = (market: Market, price: Price): DomainError | undefined => {
  const move = abs(price - market.mark);
  if (move * PPM <= market.mark * BigInt(market.maxMarkMovePpm)) return undefined;
  return domainError('MARK_MOVE_OUT_OF_BAND',
    `mark ${formatDecimal(market.mark)} may move by at most ${market.maxMarkMovePpm} ppm (${formatDecimal(mulDivFloor(market.mark, BigInt(market.maxMarkMovePpm), PPM))}) in one update; ${formatDecimal(price)} moves it by ${formatDecimal(move)}`,
    'price');
};

export const updateMarkPrice = (command: UpdateMarkPrice, pool: Pick<HotPoolView, 'markets'>): Decision => {
  const found = knownMarket(pool, command.marketId);
  if (E.isLeft(found)) return found;
  const precision = precisionError(command.price, found.right.priceDecimals, 'price') ?? markMoveError(found.right, command.price);
  if (precision !== undefined) return E.left(precision);
  return ok({ type: 'MarkPriceUpdated', schemaVersion: SCHEMA_VERSION, marketId: command.marketId, price: command.price });
};

// ---------------------------------------------------------------------------------------------

export const decide = (command: Command, state: PoolState, ctx: CommandContext): Decision => {
  if (command.type === 'CreatePool') return createPool(command, state, ctx.rootGovernors);
  const found = activePool(state, command.poolId);
  if (E.isLeft(found)) return found;
  const pool = found.right;
  switch (command.type) {
    case 'ListMarket':
      return listMarket(command, pool);
    case 'Deposit':
      return deposit(command, pool);
    case 'Withdraw':
      return afterSettling(pool, [command.accountId], (settled) => withdraw(command, settled));
    case 'ExecuteTrade':
      // Both sides settle funding before their positions change size (a self-trade is refused anyway).
      return command.taker === command.maker ? executeTrade(command, pool) : afterSettling(pool, [command.taker, command.maker], (settled) => executeTrade(command, settled));
    case 'UpdateMarkPrice':
      return updateMarkPrice(command, pool);
    case 'Stake':
      // A staker who also trades in the pool (the same id) has its funding settled too.
      return afterSettling(pool, [command.stakerId], (settled) => stake(command, settled));
    case 'RequestUnstake':
      return requestUnstake(command, pool, ctx.now);
    case 'CompleteUnstake':
      return completeUnstake(command, pool, ctx.now);
    case 'CancelUnstake':
      return cancelUnstake(command, pool);
    case 'Liquidate':
      return liquidate(command, pool, ctx.now);
    case 'ChangeParameters':
      return changeParameters(command, pool);
    case 'AddTranche':
      return addTranche(command, pool);
    case 'Recapitalize':
      return recapitalize(command, pool);
    case 'ApplyFunding':
      return applyFunding(command, pool);
    case 'SettleFunding':
      return settleFunding(command, pool);
    case 'PayFromFund':
      return payFromFund(command, pool);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
};
