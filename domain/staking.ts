// Insurance-fund tranches and their stakers (docs/design.md section 5, "Insurance fund tranches").
//   Stake(amount)          mints amount * shares / assets (1:1 when the tranche has no shares)
//   RequestUnstake(shares) locks the shares and fixes their value now
//   CompleteUnstake        after the cooldown pays min(value at request, value now)
//   CancelUnstake          unlocks the shares
// Share maths rounds toward the tranche: minted shares and payouts round down.

import * as E from 'fp-ts/lib/Either.js';
import { SCHEMA_VERSION, type CancelUnstake, type CompleteUnstake, type RequestUnstake, type Stake } from './commands.js';
import { fail, precisionError, type Decision } from './decision.js';
import { domainError, type DomainError } from './errors.js';
import { formatDecimal, min, mulDivFloor } from './money.js';
import { stakeOf, trancheById, type ActivePool, type Tranche, type UnstakeRequest } from './state.js';


/** What `shares` of a tranche are worth now, rounded down. */
export const shareValue = (tranche: Tranche, shares: bigint): bigint =>
  tranche.shares === 0n ? 0n : mulDivFloor(shares, tranche.assets, tranche.shares);

/**
 * What an unstake request pays if completed now: min(value at request, value now), and nothing
 * once its epoch was written off (or its tranche is gone).
 */
export const unstakePayout = (tranche: Tranche | undefined, request: UnstakeRequest): bigint =>
  tranche !== undefined && tranche.epoch === request.epoch ? min(request.value, shareValue(tranche, request.shares)) : 0n;

const knownTranche = (pool: ActivePool, trancheId: string): E.Either<DomainError, Tranche> => {
  const tranche = trancheById(pool, trancheId);
  return tranche === undefined ? E.left(domainError('UNKNOWN_TRANCHE', `tranche "${trancheId}" does not exist`, 'trancheId')) : E.right(tranche);
};

export const stake = (command: Stake, pool: ActivePool): Decision => {
  const found = knownTranche(pool, command.trancheId);
  if (E.isLeft(found)) return found;
  const tranche = found.right;
  const precision = precisionError(command.amount, pool.quoteDecimals, 'amount');
  if (precision !== undefined) return E.left(precision);
  // With no shares outstanding the tranche mints 1:1; assets it holds then (income that arrived
  // while nobody was staked) belong to the protocol, which gets shares for them at the same 1:1.
  const empty = tranche.shares === 0n;
  const sharesMinted = empty ? command.amount : mulDivFloor(command.amount, tranche.shares, tranche.assets);
  if (sharesMinted === 0n) return fail('STAKE_TOO_SMALL', `${formatDecimal(command.amount)} buys less than one share unit`, 'amount');
  return E.right([{
    type: 'Staked',
    schemaVersion: SCHEMA_VERSION,
    stakerId: command.stakerId,
    trancheId: tranche.trancheId,
    amount: command.amount,
    sharesMinted,
    protocolShares: empty ? tranche.assets : 0n,
    postings: [{ from: { kind: 'external' }, to: { kind: 'tranche', trancheId: tranche.trancheId }, amount: command.amount }],
  }]);
};

export const requestUnstake = (command: RequestUnstake, pool: ActivePool, now: number): Decision => {
  const found = knownTranche(pool, command.trancheId);
  if (E.isLeft(found)) return found;
  const tranche = found.right;
  if (pool.unstakeRequests.has(command.requestId)) return fail('DUPLICATE_REQUEST', `request "${command.requestId}" already exists`, 'requestId');
  const free = stakeOf(tranche, command.stakerId);
  if (free < command.shares) {
    return fail('INSUFFICIENT_SHARES', `staker "${command.stakerId}" has ${formatDecimal(free)} free shares in "${tranche.trancheId}"`, 'shares');
  }
  return E.right([{
    type: 'UnstakeRequested',
    schemaVersion: SCHEMA_VERSION,
    requestId: command.requestId,
    stakerId: command.stakerId,
    trancheId: tranche.trancheId,
    shares: command.shares,
    value: shareValue(tranche, command.shares),
    requestedAt: now,
    availableAt: now + pool.unstakeCooldownMs,
  }]);
};

export const completeUnstake = (command: CompleteUnstake, pool: ActivePool, now: number): Decision => {
  const request = pool.unstakeRequests.get(command.requestId);
  if (request === undefined) return fail('UNKNOWN_REQUEST', `request "${command.requestId}" does not exist`, 'requestId');
  if (now < request.availableAt) {
    return fail('COOLDOWN_NOT_OVER', `request "${request.requestId}" can complete from ${new Date(request.availableAt).toISOString()}`, 'requestId');
  }
  const tranche = trancheById(pool, request.trancheId);
  // Shares of a written-off epoch are worth nothing: the request completes and pays nothing.
  const live = tranche !== undefined && tranche.epoch === request.epoch;
  const payout = unstakePayout(tranche, request);
  return E.right([{
    type: 'UnstakeCompleted',
    schemaVersion: SCHEMA_VERSION,
    requestId: request.requestId,
    stakerId: request.stakerId,
    trancheId: request.trancheId,
    shares: live ? request.shares : 0n,
    payout,
    postings: payout > 0n ? [{ from: { kind: 'tranche', trancheId: request.trancheId }, to: { kind: 'external' }, amount: payout }] : [],
  }]);
};

export const cancelUnstake = (command: CancelUnstake, pool: ActivePool): Decision => {
  const request = pool.unstakeRequests.get(command.requestId);
  if (request === undefined) return fail('UNKNOWN_REQUEST', `request "${command.requestId}" does not exist`, 'requestId');
  const tranche = trancheById(pool, request.trancheId);
  const live = tranche !== undefined && tranche.epoch === request.epoch;
  return E.right([{
    type: 'UnstakeCancelled',
    schemaVersion: SCHEMA_VERSION,
    requestId: request.requestId,
    stakerId: request.stakerId,
    trancheId: request.trancheId,
    shares: live ? request.shares : 0n,
  }]);
};
