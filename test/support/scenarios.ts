// Random pools and random command sequences for property tests. Steps are abstract intents
// (indices, fractions, moves) turned into concrete commands against the current state, so that
// most commands are plausible and many are accepted, while some are rejected on purpose.

import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  decide, evolve, initialState, liquidatableAccounts, pow10, stakeOf, ONE, SCHEMA_VERSION,
  type Command, type CreatePool, type Event, type ListMarket, type PoolState,
} from '../../domain/index.js';
import { ctx, rootKeys } from './builders.js';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';

const governor = generateGovernorKey();

export type Step =
  | { readonly kind: 'deposit'; readonly account: number; readonly wholeUnits: number; readonly cents: number }
  | { readonly kind: 'withdraw'; readonly account: number; readonly fractionPpm: number }
  | {
    readonly kind: 'trade'; readonly market: number; readonly taker: number; readonly maker: number; readonly buy: boolean;
    /** Notional as a share of the most the taker's collateral allows at initial margin. */
    readonly leveragePpm: number; readonly offsetPpm: number;
  }
  | { readonly kind: 'mark'; readonly market: number; readonly movePpm: number }
  | { readonly kind: 'liquidate'; readonly target: number; readonly position: number; readonly liquidator: number; readonly offsetPpm: number }
  | { readonly kind: 'stake'; readonly staker: number; readonly tranche: number; readonly wholeUnits: number }
  | { readonly kind: 'requestUnstake'; readonly staker: number; readonly tranche: number; readonly fractionPpm: number }
  | { readonly kind: 'settleUnstake'; readonly request: number; readonly cancel: boolean }
  | { readonly kind: 'wait'; readonly hours: number }
  /** A funding update at `fractionPpm` of the market's bound (beyond it now and then: refused). */
  | { readonly kind: 'funding'; readonly market: number; readonly fractionPpm: number }
  | { readonly kind: 'settleFunding'; readonly account: number }
  /** A governed payout from the fund, to an account or out of the pool. */
  | { readonly kind: 'payout'; readonly account: number; readonly external: boolean; readonly tranche: number; readonly fractionPpm: number };

export interface Scenario {
  readonly setup: ReadonlyArray<Command>;
  readonly accounts: ReadonlyArray<string>;
  readonly markets: ReadonlyArray<ListMarket>;
  readonly steps: ReadonlyArray<Step>;
}

const POOL = 'prop';
let counter = 0;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: `c${++counter}`, poolId: POOL });

const poolArb: fc.Arbitrary<CreatePool> = fc.record({
  weights: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 3 }),
  base: fc.integer({ min: 0, max: 500_000 }),
  extra: fc.integer({ min: 0, max: 500_000 }),
  target: fc.integer({ min: 0, max: 200_000 }),
}).map(({ weights, base, extra, target }) => ({
  ...envelope('CreatePool'),
  quoteAsset: 'USDC',
  quoteDecimals: 6,
  tranches: weights.map((incomeWeight, i) => ({ trancheId: `t${i}`, incomeWeight })),
  feeShare: { baseFundSharePpm: base, maxFundSharePpm: Math.min(1_000_000, base + extra), targetCoveragePpm: target },
  unstakeCooldownMs: 6 * 3_600_000,
  governors: { publicKeys: [governor.publicKey], threshold: 1 },
  signatures: [],
})).map((command) => signCommand(command, ...rootKeys));

const STAKERS = ['lp0', 'lp1', 'lp2'];

const marketArb = (index: number): fc.Arbitrary<ListMarket> => fc.record({
  sizeDecimals: fc.integer({ min: 0, max: 3 }),
  priceDecimals: fc.integer({ min: 0, max: 4 }),
  markWhole: fc.integer({ min: 1, max: 5_000 }),
  mmr: fc.integer({ min: 5_000, max: 100_000 }),
  imrExtra: fc.integer({ min: 0, max: 100_000 }),
  taker: fc.integer({ min: 0, max: 2_000 }),
  // Below zero: a maker rebate, at most the taker fee.
  maker: fc.integer({ min: -2_000, max: 2_000 }),
  maxFundingRate: fc.integer({ min: 0, max: 50_000 }),
  // Some markets may draw only so much from the fund (in total, or per window of hours).
  fundCap: fc.option(fc.record({ whole: fc.integer({ min: 0, max: 3_000 }), windowHours: fc.constantFrom(0, 0, 6, 24) }), { freq: 2 }),
  adlPolicy: fc.constantFrom('ranked' as const, 'pro-rata' as const, 'none' as const),
  penalty: fc.integer({ min: 0, max: 50_000 }),
  penaltyShare: fc.integer({ min: 0, max: 1_000_000 }),
}).map((m) => ({
  ...envelope('ListMarket'),
  marketId: `M${index}`,
  sizeDecimals: m.sizeDecimals,
  priceDecimals: m.priceDecimals,
  initialMarginPpm: m.mmr + m.imrExtra,
  maintenanceMarginPpm: m.mmr,
  takerFeePpm: m.taker,
  makerFeePpm: Math.max(m.maker, -m.taker) || 0, // never -0 (JSON text has none)
  liquidationPenaltyPpm: m.penalty,
  penaltyFundSharePpm: m.penaltyShare,
  adlPolicy: m.adlPolicy,
  markPrice: BigInt(m.markWhole) * ONE,
  // Price shocks of -70% to +60% and liquidations up to 40% from the mark reach every step of the
  // waterfall: the bounds are explicitly wider than the defaults.
  maxLiquidationSpreadPpm: 1_000_000,
  maxMarkMovePpm: 1_000_000,
  maxFundingRatePpm: m.maxFundingRate,
  ...(m.fundCap === null ? {} : { fundDrawCap: BigInt(m.fundCap.whole) * ONE, fundDrawWindowMs: m.fundCap.windowHours * 3_600_000 }),
  // Markets are listed in order, right after the pool's creation.
  governanceSeq: index + 1,
  signatures: [],
})).map((command) => signCommand(command, governor));

const stepArb = (accounts: number, markets: number): fc.Arbitrary<Step> => fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deposit' as const), account: fc.nat(accounts - 1), wholeUnits: fc.integer({ min: 0, max: 50_000 }), cents: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), account: fc.nat(accounts - 1), fractionPpm: fc.integer({ min: 1, max: 1_100_000 }) }) },
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('trade' as const), market: fc.nat(markets - 1), taker: fc.nat(accounts - 1), maker: fc.nat(accounts - 2),
    buy: fc.boolean(), leveragePpm: fc.integer({ min: 1_000, max: 1_000_000 }), offsetPpm: fc.integer({ min: -20_000, max: 20_000 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mark' as const), market: fc.nat(markets - 1), movePpm: fc.integer({ min: -300_000, max: 300_000 }) }) },
  // price shocks: mostly crashes, some squeezes
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mark' as const), market: fc.nat(markets - 1), movePpm: fc.integer({ min: -700_000, max: 600_000 }) }) },
  { weight: 4, arbitrary: fc.record({
    kind: fc.constant('liquidate' as const), target: fc.nat(), position: fc.nat(), liquidator: fc.nat(accounts - 1), offsetPpm: fc.integer({ min: -400_000, max: 60_000 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stake' as const), staker: fc.nat(STAKERS.length - 1), tranche: fc.nat(2), wholeUnits: fc.integer({ min: 1, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('requestUnstake' as const), staker: fc.nat(STAKERS.length - 1), tranche: fc.nat(2), fractionPpm: fc.integer({ min: 1, max: 1_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settleUnstake' as const), request: fc.nat(), cancel: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 48 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('funding' as const), market: fc.nat(markets - 1), fractionPpm: fc.integer({ min: -1_100_000, max: 1_100_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settleFunding' as const), account: fc.nat(accounts - 1) }) },
  { weight: 1, arbitrary: fc.record({
    kind: fc.constant('payout' as const), account: fc.nat(accounts - 1), external: fc.boolean(), tranche: fc.nat(3), fractionPpm: fc.integer({ min: 1, max: 1_100_000 }),
  }) },
);

export const scenarioArb = (options: { maxSteps?: number } = {}): fc.Arbitrary<Scenario> =>
  fc.tuple(poolArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 6 })).chain(([pool, marketCount, accountCount]) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: marketCount }, (_, i) => marketArb(i))),
      fc.array(stepArb(accountCount, marketCount), { minLength: 1, maxLength: options.maxSteps ?? 60, size: 'max' }),
      fc.array(fc.integer({ min: 100, max: 50_000 }), { minLength: accountCount, maxLength: accountCount }),
    ).map(([markets, steps, deposits]) => ({
      setup: [pool, ...markets, ...deposits.map((whole, i): Command => ({ ...envelope('Deposit'), accountId: `a${i}`, amount: BigInt(whole) * ONE }))],
      accounts: Array.from({ length: accountCount }, (_, i) => `a${i}`),
      markets,
      steps,
    })));

/** A tick-aligned price: `price * (1e6 + movePpm) / 1e6`, at least one tick. */
const movePrice = (price: bigint, movePpm: number, priceDecimals: number): bigint => {
  const tick = pow10(18 - priceDecimals);
  const moved = (price * BigInt(1_000_000 + movePpm)) / 1_000_000n;
  const aligned = (moved / tick) * tick;
  return aligned > 0n ? aligned : tick;
};

/** The concrete command for a step in the current state (undefined for a step that only lets time pass). */
export const commandFor = (scenario: Scenario, step: Step, state: PoolState): Command | undefined => {
  const accountId = (i: number) => scenario.accounts[i % scenario.accounts.length]!;
  switch (step.kind) {
    case 'deposit':
      return { ...envelope('Deposit'), accountId: accountId(step.account), amount: BigInt(step.wholeUnits) * ONE + BigInt(step.cents) * 10n ** 16n + (step.wholeUnits === 0 && step.cents === 0 ? ONE : 0n) };
    case 'withdraw': {
      const collateral = state.status === 'active' ? state.accounts.get(accountId(step.account))?.collateral ?? 0n : 0n;
      const cent = 10n ** 12n; // quote has 6 decimals
      const amount = ((collateral > 0n ? collateral : ONE) * BigInt(step.fractionPpm) / 1_000_000n / cent) * cent;
      return { ...envelope('Withdraw'), accountId: accountId(step.account), amount: amount > 0n ? amount : cent };
    }
    case 'trade': {
      const listing = scenario.markets[step.market % scenario.markets.length]!;
      const market = state.status === 'active' ? state.markets.get(listing.marketId) : undefined;
      const mark = market?.mark ?? listing.markPrice;
      const taker = step.taker % scenario.accounts.length;
      const maker = (taker + 1 + (step.maker % (scenario.accounts.length - 1))) % scenario.accounts.length;
      const collateral = state.status === 'active' ? state.accounts.get(accountId(taker))?.collateral ?? 0n : 0n;
      const lot = pow10(18 - listing.sizeDecimals);
      const notional = collateral > 0n ? (collateral * BigInt(step.leveragePpm)) / BigInt(listing.initialMarginPpm) : ONE;
      const lots = (notional * ONE) / mark / lot;
      return {
        ...envelope('ExecuteTrade'),
        tradeId: `T${counter}`,
        marketId: listing.marketId,
        taker: accountId(taker),
        maker: accountId(maker),
        takerSide: step.buy ? 'buy' : 'sell',
        size: (lots > 0n ? lots : 1n) * lot,
        price: movePrice(mark, step.offsetPpm, listing.priceDecimals),
      };
    }
    case 'mark': {
      const listing = scenario.markets[step.market % scenario.markets.length]!;
      const market = state.status === 'active' ? state.markets.get(listing.marketId) : undefined;
      return { ...envelope('UpdateMarkPrice'), marketId: listing.marketId, price: movePrice(market?.mark ?? listing.markPrice, step.movePpm, listing.priceDecimals) };
    }
    case 'liquidate': {
      if (state.status !== 'active') return undefined;
      const candidates = liquidatableAccounts(state);
      const target = candidates.length > 0 ? candidates[step.target % candidates.length]! : accountId(step.target);
      const positions = state.accounts.get(target)?.positions ?? [];
      const marketId = positions.length > 0 ? positions[step.position % positions.length]!.marketId : scenario.markets[0]!.marketId;
      const market = state.markets.get(marketId)!;
      return {
        ...envelope('Liquidate'), accountId: target, marketId, liquidatorId: accountId(step.liquidator),
        price: movePrice(market.mark, step.offsetPpm, market.priceDecimals),
      };
    }
    case 'stake': {
      const trancheId = state.status === 'active' ? state.tranches[step.tranche % state.tranches.length]!.trancheId : 't0';
      return { ...envelope('Stake'), stakerId: STAKERS[step.staker]!, trancheId, amount: BigInt(step.wholeUnits) * ONE };
    }
    case 'requestUnstake': {
      if (state.status !== 'active') return undefined;
      const tranche = state.tranches[step.tranche % state.tranches.length]!;
      const free = stakeOf(tranche, STAKERS[step.staker]!);
      const shares = (free * BigInt(step.fractionPpm)) / 1_000_000n;
      return { ...envelope('RequestUnstake'), requestId: `r${counter}`, stakerId: STAKERS[step.staker]!, trancheId: tranche.trancheId, shares: shares > 0n ? shares : 1n };
    }
    case 'settleUnstake': {
      if (state.status !== 'active') return undefined;
      const pending = state.unstakeRequests.keys().sort();
      const requestId = pending.length > 0 ? pending[step.request % pending.length]! : 'none';
      return { ...envelope(step.cancel ? 'CancelUnstake' : 'CompleteUnstake'), requestId };
    }
    case 'wait':
      return undefined;
    case 'funding': {
      const listing = scenario.markets[step.market % scenario.markets.length]!;
      const bound = listing.maxFundingRatePpm ?? 0;
      // `|| 0`: no -0 (JSON text has none: a stored event would read it back as 0).
      const rate = Math.trunc((bound * step.fractionPpm) / 1_000_000) || 0;
      return { ...envelope('ApplyFunding'), marketId: listing.marketId, fundingRatePpm: Math.max(-1_000_000, Math.min(1_000_000, rate)) };
    }
    case 'settleFunding':
      return { ...envelope('SettleFunding'), accountId: accountId(step.account) };
    case 'payout': {
      if (state.status !== 'active') return undefined;
      // tranche index past the last: junior first across the fund
      const tranche = step.tranche < state.tranches.length ? state.tranches[step.tranche]! : undefined;
      const available = tranche?.assets ?? state.tranches.reduce((sum, t) => sum + t.assets, 0n);
      const cent = 10n ** 12n;
      const amount = ((available * BigInt(step.fractionPpm)) / 1_000_000n / cent) * cent;
      return signCommand({
        ...envelope('PayFromFund'),
        ...(tranche === undefined ? {} : { trancheId: tranche.trancheId }),
        recipient: step.external ? { kind: 'external' as const } : { kind: 'account' as const, accountId: accountId(step.account) },
        amount: amount > 0n ? amount : cent,
        reason: 'claim after an incident',
        governanceRef: `vote-${counter}`,
        governanceSeq: state.governanceSeq + 1,
        signatures: [],
      }, governor);
    }
    default: {
      const unreachable: never = step;
      return unreachable;
    }
  }
};

export interface RunObserver {
  /** Called after every event is applied. */
  readonly afterEvent?: (state: PoolState, event: Event, index: number) => void;
  /** Called before each command is decided. */
  readonly beforeCommand?: (state: PoolState, command: Command) => void;
  /** Called after each accepted command with the states around it and its events. */
  readonly afterCommand?: (before: PoolState, command: Command, events: ReadonlyArray<Event>, after: PoolState) => void;
}

export interface TimedCommand {
  readonly command: Command;
  readonly now: number;
}

export interface Run {
  readonly commands: ReadonlyArray<TimedCommand>;
  readonly events: ReadonlyArray<Event>;
  readonly state: PoolState;
  readonly accepted: number;
  readonly rejected: number;
}

/** Run a scenario: setup commands must be accepted, steps may be rejected. */
export const runScenario = (scenario: Scenario, observer: RunObserver = {}): Run => {
  let state: PoolState = initialState;
  const commands: TimedCommand[] = [];
  const events: Event[] = [];
  let accepted = 0;
  let rejected = 0;
  let now = ctx.now;
  const submit = (command: Command, mustSucceed: boolean) => {
    commands.push({ command, now });
    observer.beforeCommand?.(state, command);
    const before = state;
    const decision = decide(command, state, { ...ctx, now });
    if (E.isLeft(decision)) {
      if (mustSucceed) throw new Error(`setup rejected: ${decision.left.code} ${decision.left.message}`);
      rejected++;
      return;
    }
    accepted++;
    for (const event of decision.right) {
      state = evolve(state, event);
      events.push(event);
      observer.afterEvent?.(state, event, events.length - 1);
    }
    observer.afterCommand?.(before, command, decision.right, state);
  };
  for (const command of scenario.setup) submit(command, true);
  for (const step of scenario.steps) {
    now += step.kind === 'wait' ? step.hours * 3_600_000 : 60_000;
    const command = commandFor(scenario, step, state);
    if (command !== undefined) submit(command, false);
  }
  return { commands, events, state, accepted, rejected };
};

/** Re-run recorded commands at their times, returning the events they produce. */
export const rerun = (commands: ReadonlyArray<TimedCommand>): { events: Event[]; state: PoolState } => {
  let state: PoolState = initialState;
  const events: Event[] = [];
  for (const { command, now } of commands) {
    const decision = decide(command, state, { ...ctx, now });
    if (E.isRight(decision)) for (const event of decision.right) { state = evolve(state, event); events.push(event); }
  }
  return { events, state };
};
