// Random pools and random command sequences for property tests. Steps are abstract intents
// (indices, fractions, moves) turned into concrete commands against the current state, so that
// most commands are plausible and many are accepted, while some are rejected on purpose.

import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  decide, evolve, initialState, pow10, ONE, SCHEMA_VERSION,
  type Command, type CreatePool, type Event, type ListMarket, type PoolState,
} from '../../domain/index.js';
import { ctx } from './builders.js';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';

const governor = generateGovernorKey();

export type Step =
  | { readonly kind: 'deposit'; readonly account: number; readonly wholeUnits: number; readonly cents: number }
  | { readonly kind: 'withdraw'; readonly account: number; readonly fractionPpm: number }
  | { readonly kind: 'trade'; readonly market: number; readonly taker: number; readonly maker: number; readonly buy: boolean; readonly lots: number; readonly offsetPpm: number }
  | { readonly kind: 'mark'; readonly market: number; readonly movePpm: number };

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
  unstakeCooldownMs: 1000,
  governors: { publicKeys: [governor.publicKey], threshold: 1 },
  signatures: [],
})).map((command) => signCommand(command, governor));

const marketArb = (index: number): fc.Arbitrary<ListMarket> => fc.record({
  sizeDecimals: fc.integer({ min: 0, max: 6 }),
  priceDecimals: fc.integer({ min: 0, max: 6 }),
  markWhole: fc.integer({ min: 1, max: 100_000 }),
  mmr: fc.integer({ min: 5_000, max: 200_000 }),
  imrExtra: fc.integer({ min: 0, max: 300_000 }),
  taker: fc.integer({ min: 0, max: 2_000 }),
  maker: fc.integer({ min: 0, max: 2_000 }),
}).map((m) => ({
  ...envelope('ListMarket'),
  marketId: `M${index}`,
  sizeDecimals: m.sizeDecimals,
  priceDecimals: m.priceDecimals,
  initialMarginPpm: m.mmr + m.imrExtra,
  maintenanceMarginPpm: m.mmr,
  takerFeePpm: m.taker,
  makerFeePpm: m.maker,
  liquidationPenaltyPpm: 10_000,
  penaltyFundSharePpm: 500_000,
  adlPolicy: 'ranked' as const,
  markPrice: BigInt(m.markWhole) * ONE,
  signatures: [],
})).map((command) => signCommand(command, governor));

const stepArb = (accounts: number, markets: number): fc.Arbitrary<Step> => fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deposit' as const), account: fc.nat(accounts - 1), wholeUnits: fc.integer({ min: 0, max: 2_000_000 }), cents: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), account: fc.nat(accounts - 1), fractionPpm: fc.integer({ min: 1, max: 1_100_000 }) }) },
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('trade' as const), market: fc.nat(markets - 1), taker: fc.nat(accounts - 1), maker: fc.nat(accounts - 1),
    buy: fc.boolean(), lots: fc.integer({ min: 1, max: 200 }), offsetPpm: fc.integer({ min: -50_000, max: 50_000 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mark' as const), market: fc.nat(markets - 1), movePpm: fc.integer({ min: -300_000, max: 300_000 }) }) },
);

export const scenarioArb = (options: { maxSteps?: number } = {}): fc.Arbitrary<Scenario> =>
  fc.tuple(poolArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 6 })).chain(([pool, marketCount, accountCount]) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: marketCount }, (_, i) => marketArb(i))),
      fc.array(stepArb(accountCount, marketCount), { minLength: 1, maxLength: options.maxSteps ?? 60, size: 'max' }),
    ).map(([markets, steps]) => ({
      setup: [pool, ...markets],
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

/** The concrete command for a step in the current state. */
export const commandFor = (scenario: Scenario, step: Step, state: PoolState): Command => {
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
      return {
        ...envelope('ExecuteTrade'),
        tradeId: `T${counter}`,
        marketId: listing.marketId,
        taker: accountId(step.taker),
        maker: accountId(step.maker),
        takerSide: step.buy ? 'buy' : 'sell',
        size: BigInt(step.lots) * pow10(18 - listing.sizeDecimals),
        price: movePrice(mark, step.offsetPpm, listing.priceDecimals),
      };
    }
    case 'mark': {
      const listing = scenario.markets[step.market % scenario.markets.length]!;
      const market = state.status === 'active' ? state.markets.get(listing.marketId) : undefined;
      return { ...envelope('UpdateMarkPrice'), marketId: listing.marketId, price: movePrice(market?.mark ?? listing.markPrice, step.movePpm, listing.priceDecimals) };
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
}

export interface Run {
  readonly commands: ReadonlyArray<Command>;
  readonly events: ReadonlyArray<Event>;
  readonly state: PoolState;
  readonly accepted: number;
  readonly rejected: number;
}

/** Run a scenario: setup commands must be accepted, steps may be rejected. */
export const runScenario = (scenario: Scenario, observer: RunObserver = {}): Run => {
  let state: PoolState = initialState;
  const commands: Command[] = [];
  const events: Event[] = [];
  let accepted = 0;
  let rejected = 0;
  const submit = (command: Command, mustSucceed: boolean) => {
    commands.push(command);
    observer.beforeCommand?.(state, command);
    const decision = decide(command, state, ctx);
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
  };
  for (const command of scenario.setup) submit(command, true);
  for (const step of scenario.steps) submit(commandFor(scenario, step, state), false);
  return { commands, events, state, accepted, rejected };
};

/** Re-run recorded commands, returning the events they produce. */
export const rerun = (commands: ReadonlyArray<Command>): { events: Event[]; state: PoolState } => {
  let state: PoolState = initialState;
  const events: Event[] = [];
  for (const command of commands) {
    const decision = decide(command, state, ctx);
    if (E.isRight(decision)) for (const event of decision.right) { state = evolve(state, event); events.push(event); }
  }
  return { events, state };
};
