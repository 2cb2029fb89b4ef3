// Governance decisions: pool set-up, market listing, parameter changes, new tranches and
// recapitalization. Every one must carry enough valid governor signatures (governance.ts);
// the parameter checks here are shared by set-up and by later changes.

import * as E from 'fp-ts/lib/Either.js';
import {
  DEFAULT_MAX_FUNDING_RATE_PPM, DEFAULT_RISK_BOUNDS, SCHEMA_VERSION,
  type AddTranche, type PayFromFund, type ChangeParameters, type CreatePool, type FeeShareParams, type Governors, type ListMarket, type Recapitalize, type TrancheSpec,
} from './commands.js';
import { precisionError, type Decision } from './decision.js';
import { domainError, type DomainError } from './errors.js';
import type { FundPaidOut, Posting, TrancheDraw } from './events.js';
import { sequenceError, signatureError, type SequencedGovernanceCommand } from './governance.js';
import { min, mulDivFloor } from './money.js';
import { fundAssets, trancheById, type ActivePool, type PoolState } from './state.js';
import { formatDecimal } from './money.js';

type Check = DomainError | undefined;
const invalid = (message: string, field: string): DomainError => domainError('INVALID_PARAMETER', message, field);
const firstError = (...checks: ReadonlyArray<() => Check>): Check => {
  for (const check of checks) {
    const error = check();
    if (error !== undefined) return error;
  }
  return undefined;
};
const firstDuplicate = (values: ReadonlyArray<string>): number => values.findIndex((v, i) => values.indexOf(v) !== i);

const checkFeeShare = (feeShare: FeeShareParams, at: string): Check =>
  feeShare.maxFundSharePpm < feeShare.baseFundSharePpm ? invalid('maxFundSharePpm must be at least baseFundSharePpm', `${at}.maxFundSharePpm`) : undefined;

/** Why a governor set cannot approve anything (repeated keys, a threshold above the keys), if so. */
export const checkGovernors = (governors: Governors, at: string): Check => {
  const duplicate = firstDuplicate(governors.publicKeys);
  if (duplicate >= 0) return invalid('governor keys must be distinct', `${at}.publicKeys.${duplicate}`);
  return governors.threshold > governors.publicKeys.length
    ? invalid(`threshold ${governors.threshold} exceeds the ${governors.publicKeys.length} governor keys`, `${at}.threshold`)
    : undefined;
};

const checkMargins = (initialMarginPpm: number, maintenanceMarginPpm: number, at: string): Check => {
  if (maintenanceMarginPpm === 0) return invalid('maintenance margin must be above zero', `${at}maintenanceMarginPpm`);
  return initialMarginPpm < maintenanceMarginPpm ? invalid('initial margin must be at least the maintenance margin', `${at}initialMarginPpm`) : undefined;
};

/**
 * A maker rebate (negative maker rate) is paid out of the taker's fee, so it may be at most the
 * taker rate: the rebate rounds down and the fee up, so the pool never pays out more than it took.
 */
const checkRebate = (takerFeePpm: number, makerFeePpm: number, at: string): Check =>
  makerFeePpm < 0 && -makerFeePpm > takerFeePpm
    ? invalid(`a maker rebate of ${-makerFeePpm} ppm exceeds the taker fee of ${takerFeePpm} ppm it is paid from`, `${at}makerFeePpm`)
    : undefined;

const checkTranches = (tranches: ReadonlyArray<TrancheSpec>, at: string): Check => {
  const duplicate = firstDuplicate(tranches.map((t) => t.trancheId));
  return duplicate >= 0 ? invalid('tranche ids must be unique', `${at}.${duplicate}.trancheId`) : undefined;
};

/**
 * Who may approve a sequenced governance command: the pool's governors, with the command taking
 * the pool's next governance sequence number (checked first: it costs nothing).
 */
const approvalError = (command: SequencedGovernanceCommand, pool: ActivePool): Check =>
  sequenceError(command, pool.governanceSeq) ?? signatureError(command, pool.governors);

/**
 * A pool is created by the deployment's root governors (from the decide context), never by the
 * keys the command names: otherwise anyone could create, govern and mint into any unused pool id.
 */
export const createPool = (command: CreatePool, state: PoolState, rootGovernors: Governors | undefined): Decision => {
  if (rootGovernors === undefined) {
    return E.left(domainError('ROOT_GOVERNORS_NOT_CONFIGURED', 'no root governors are configured, so no pool can be created', 'signatures'));
  }
  if (state.status === 'active') return E.left(domainError('POOL_ALREADY_EXISTS', `pool "${state.poolId}" already exists`, 'poolId'));
  const error = firstError(
    () => (command.tranches.length === 0 ? invalid('a pool needs at least one tranche', 'tranches') : undefined),
    () => checkTranches(command.tranches, 'tranches'),
    () => checkFeeShare(command.feeShare, 'feeShare'),
    () => checkGovernors(command.governors, 'governors'),
    () => signatureError(command, rootGovernors),
  );
  if (error !== undefined) return E.left(error);
  return E.right([{
    type: 'PoolCreated',
    schemaVersion: SCHEMA_VERSION,
    poolId: command.poolId,
    quoteAsset: command.quoteAsset,
    quoteDecimals: command.quoteDecimals,
    tranches: command.tranches,
    feeShare: command.feeShare,
    unstakeCooldownMs: command.unstakeCooldownMs,
    governors: command.governors,
    rootGovernors,
    signedCommand: command,
  }]);
};

export const listMarket = (command: ListMarket, pool: ActivePool): Decision => {
  const error = firstError(
    () => approvalError(command, pool),
    () => (pool.markets.has(command.marketId) ? domainError('MARKET_ALREADY_LISTED', `market "${command.marketId}" is already listed`, 'marketId') : undefined),
    () => (command.sizeDecimals + command.priceDecimals > 18
      ? invalid('sizeDecimals + priceDecimals must not exceed 18, so that notional is exact', 'priceDecimals')
      : undefined),
    () => checkMargins(command.initialMarginPpm, command.maintenanceMarginPpm, ''),
    () => checkRebate(command.takerFeePpm, command.makerFeePpm, ''),
    () => precisionError(command.markPrice, command.priceDecimals, 'markPrice'),
    () => (command.fundDrawCap === undefined ? undefined : precisionError(command.fundDrawCap, pool.quoteDecimals, 'fundDrawCap')),
  );
  if (error !== undefined) return E.left(error);
  const { signatures: _signatures, commandId: _commandId, poolId: _poolId, type: _type, ...listed } = command;
  return E.right([{
    ...listed,
    type: 'MarketListed',
    // The bounds in force: the listing's own, or the defaults for those it leaves out.
    maxLiquidationSpreadPpm: command.maxLiquidationSpreadPpm ?? DEFAULT_RISK_BOUNDS.maxLiquidationSpreadPpm,
    maxMarkMovePpm: command.maxMarkMovePpm ?? DEFAULT_RISK_BOUNDS.maxMarkMovePpm,
    maxFundingRatePpm: command.maxFundingRatePpm ?? DEFAULT_MAX_FUNDING_RATE_PPM,
    signedCommand: command,
  }]);
};

export const changeParameters = (command: ChangeParameters, pool: ActivePool): Decision => {
  const { feeShare, governors, trancheWeights } = command.pool;
  const marketError = (): Check => {
    for (const [i, change] of command.markets.entries()) {
      const market = pool.markets.get(change.marketId);
      if (market === undefined) return domainError('UNKNOWN_MARKET', `market "${change.marketId}" is not listed`, `markets.${i}.marketId`);
      const error = checkMargins(change.initialMarginPpm ?? market.initialMarginPpm, change.maintenanceMarginPpm ?? market.maintenanceMarginPpm, `markets.${i}.`) ??
        checkRebate(change.takerFeePpm ?? market.takerFeePpm, change.makerFeePpm ?? market.makerFeePpm, `markets.${i}.`) ??
        (change.fundDrawCap === undefined ? undefined : precisionError(change.fundDrawCap, pool.quoteDecimals, `markets.${i}.fundDrawCap`));
      if (error !== undefined) return error;
    }
    const duplicate = firstDuplicate(command.markets.map((m) => m.marketId));
    return duplicate >= 0 ? invalid('a market may appear once', `markets.${duplicate}.marketId`) : undefined;
  };
  const weightError = (): Check => {
    for (const [i, w] of (trancheWeights ?? []).entries()) {
      if (trancheById(pool, w.trancheId) === undefined) return domainError('UNKNOWN_TRANCHE', `tranche "${w.trancheId}" does not exist`, `pool.trancheWeights.${i}.trancheId`);
    }
    return checkTranches(trancheWeights ?? [], 'pool.trancheWeights');
  };
  const error = firstError(
    () => approvalError(command, pool),
    () => (feeShare === undefined ? undefined : checkFeeShare(feeShare, 'pool.feeShare')),
    () => (governors === undefined ? undefined : checkGovernors(governors, 'pool.governors')),
    weightError,
    marketError,
  );
  if (error !== undefined) return E.left(error);
  return E.right([{
    type: 'ParametersChanged', schemaVersion: SCHEMA_VERSION, pool: command.pool, markets: command.markets, governanceSeq: command.governanceSeq, signedCommand: command,
  }]);
};

export const addTranche = (command: AddTranche, pool: ActivePool): Decision => {
  const error = firstError(
    () => approvalError(command, pool),
    () => (trancheById(pool, command.trancheId) !== undefined
      ? domainError('TRANCHE_ALREADY_EXISTS', `tranche "${command.trancheId}" already exists`, 'trancheId')
      : undefined),
    () => (command.seniority > pool.tranches.length
      ? invalid(`seniority must be from 0 (most junior) to ${pool.tranches.length} (most senior)`, 'seniority')
      : undefined),
  );
  if (error !== undefined) return E.left(error);
  return E.right([{
    type: 'TrancheAdded', schemaVersion: SCHEMA_VERSION, trancheId: command.trancheId, incomeWeight: command.incomeWeight, seniority: command.seniority,
    governanceSeq: command.governanceSeq, signedCommand: command,
  }]);
};

/**
 * External capital (raised by token emission) first repays outstanding bad debt, which lifts the
 * withdrawal gate; the rest goes into the tranche, with its shares minted to the protocol.
 */
export const recapitalize = (command: Recapitalize, pool: ActivePool): Decision => {
  const tranche = trancheById(pool, command.trancheId);
  const error = firstError(
    () => approvalError(command, pool),
    () => (tranche === undefined ? domainError('UNKNOWN_TRANCHE', `tranche "${command.trancheId}" does not exist`, 'trancheId') : undefined),
    () => precisionError(command.amount, pool.quoteDecimals, 'amount'),
  );
  if (error !== undefined || tranche === undefined) return E.left(error!);
  const badDebtRepaid = min(command.amount, pool.badDebt);
  const toTranche = command.amount - badDebtRepaid;
  // Into a tranche without shares, the protocol also takes shares for any assets already there.
  const sharesMinted = toTranche === 0n ? 0n : tranche.shares === 0n ? toTranche + tranche.assets : mulDivFloor(toTranche, tranche.shares, tranche.assets);
  const postings: Posting[] = [];
  if (badDebtRepaid > 0n) postings.push({ from: { kind: 'external' }, to: { kind: 'badDebt' }, amount: badDebtRepaid });
  if (toTranche > 0n) postings.push({ from: { kind: 'external' }, to: { kind: 'tranche', trancheId: tranche.trancheId }, amount: toTranche });
  return E.right([{
    type: 'Recapitalized', schemaVersion: SCHEMA_VERSION, trancheId: tranche.trancheId, amount: command.amount, badDebtRepaid, sharesMinted, postings,
    governanceSeq: command.governanceSeq, signedCommand: command,
  }]);
};

/**
 * A payout from the fund decided by governance: from the named tranche, or junior first across
 * the tranches, each down to zero at most (a tranche emptied has its shares written off, as by a
 * draw). It goes to an account's collateral or out of the pool, recorded with its reason and the
 * governance reference it rests on. It never counts against a market's fund cap.
 */
export const payFromFund = (command: PayFromFund, pool: ActivePool): Decision => {
  const named = command.trancheId === undefined ? undefined : trancheById(pool, command.trancheId);
  const error = firstError(
    () => approvalError(command, pool),
    () => (command.trancheId !== undefined && named === undefined ? domainError('UNKNOWN_TRANCHE', `tranche "${command.trancheId}" does not exist`, 'trancheId') : undefined),
    () => precisionError(command.amount, pool.quoteDecimals, 'amount'),
    () => {
      const available = named !== undefined ? named.assets : fundAssets(pool);
      return command.amount > available
        ? domainError('INSUFFICIENT_FUND', `${named !== undefined ? `tranche "${named.trancheId}"` : 'the fund'} holds ${formatDecimal(available)}, less than ${formatDecimal(command.amount)}`, 'amount')
        : undefined;
    },
  );
  if (error !== undefined) return E.left(error);
  const to: Posting['to'] = command.recipient.kind === 'account' ? { kind: 'collateral', accountId: command.recipient.accountId } : { kind: 'external' };
  const draws: TrancheDraw[] = [];
  const postings: Posting[] = [];
  let left = command.amount;
  for (const tranche of named !== undefined ? [named] : pool.tranches) {
    const take = min(left, tranche.assets);
    if (take === 0n) continue;
    draws.push({ trancheId: tranche.trancheId, amount: take, writtenOff: take === tranche.assets });
    postings.push({ from: { kind: 'tranche', trancheId: tranche.trancheId }, to, amount: take });
    left -= take;
  }
  const event: FundPaidOut = {
    type: 'FundPaidOut', schemaVersion: SCHEMA_VERSION, recipient: command.recipient, amount: command.amount, reason: command.reason,
    governanceRef: command.governanceRef, draws, postings, governanceSeq: command.governanceSeq, signedCommand: command,
  };
  return E.right([event]);
};
