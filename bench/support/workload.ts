// Deterministic workloads for the benchmarks: a pool with many funded accounts across markets,
// and a stream of random trades and mark updates (seeded, so every run measures the same work).

import * as E from 'fp-ts/lib/Either.js';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';
import {
  decide, evolve, ONE, pow10, SCHEMA_VERSION,
  type Command, type CommandContext, type CreatePool, type ListMarket, type PoolState,
} from '../../domain/index.js';

const governor = generateGovernorKey();

/** The benchmark's one governor key is also the deployment's root governor set. */
export const benchContext: CommandContext = { now: Date.UTC(2026, 0, 1), actor: 'bench', rootGovernors: { publicKeys: [governor.publicKey], threshold: 1 } };

export const POOL_ID = 'bench';
const SIZE_DECIMALS = 3;
const PRICE_DECIMALS = 2;
const TICK = pow10(18 - PRICE_DECIMALS);
const LOT = pow10(18 - SIZE_DECIMALS);

let sequence = 0;
const envelope = <T extends Command['type']>(type: T) => ({ type, schemaVersion: SCHEMA_VERSION, commandId: `b${++sequence}`, poolId: POOL_ID });

export const marketIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `MKT${i}`);
export const accountIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `acct${i}`);

/** Apply commands that must succeed (set-up), returning the state. */
export const applyAll = (state: PoolState, commands: Iterable<Command>): PoolState => {
  let current = state;
  for (const command of commands) {
    const decision = decide(command, current, benchContext);
    if (E.isLeft(decision)) throw new Error(`set-up command ${command.type} rejected: ${decision.left.message}`);
    for (const event of decision.right) current = evolve(current, event);
  }
  return current;
};

export interface PoolSetup {
  readonly accounts: number;
  readonly markets: number;
  /** Collateral per account, whole quote units. */
  readonly collateral: bigint;
  readonly initialMarginPpm?: number;
  readonly maintenanceMarginPpm?: number;
}

/** A signed CreatePool for a benchmark pool: USDC, a junior and a senior tranche. */
export const benchPool = (poolId: string): CreatePool => signCommand({
  type: 'CreatePool', schemaVersion: SCHEMA_VERSION, commandId: `b${++sequence}`, poolId, quoteAsset: 'USDC', quoteDecimals: 6,
  tranches: [{ trancheId: 'junior', incomeWeight: 3 }, { trancheId: 'senior', incomeWeight: 1 }],
  feeShare: { baseFundSharePpm: 200_000, maxFundSharePpm: 500_000, targetCoveragePpm: 50_000 },
  unstakeCooldownMs: 86_400_000, governors: { publicKeys: [governor.publicKey], threshold: 1 }, signatures: [],
}, governor);

/**
 * A signed ListMarket for a benchmark pool: 3 size and 2 price decimals, the given risk parameters.
 * `governanceSeq` is the pool's next one (1 for its first market).
 */
export const benchMarket = (poolId: string, marketId: string, markPrice: bigint, governanceSeq: number, params: Partial<ListMarket> = {}): ListMarket => signCommand({
  type: 'ListMarket', schemaVersion: SCHEMA_VERSION, commandId: `b${++sequence}`, poolId, marketId, sizeDecimals: SIZE_DECIMALS, priceDecimals: PRICE_DECIMALS,
  initialMarginPpm: 100_000, maintenanceMarginPpm: 50_000, takerFeePpm: 500, makerFeePpm: 200, liquidationPenaltyPpm: 10_000,
  penaltyFundSharePpm: 500_000, adlPolicy: 'ranked', markPrice, governanceSeq, signatures: [], ...params,
}, governor);

export function* setupCommands(setup: PoolSetup, startPrice: (market: number) => bigint): Generator<Command> {
  yield benchPool(POOL_ID);
  for (const [i, marketId] of marketIds(setup.markets).entries()) {
    yield benchMarket(POOL_ID, marketId, startPrice(i), i + 1, {
      ...(setup.initialMarginPpm === undefined ? {} : { initialMarginPpm: setup.initialMarginPpm }),
      ...(setup.maintenanceMarginPpm === undefined ? {} : { maintenanceMarginPpm: setup.maintenanceMarginPpm }),
    });
  }
  for (const accountId of accountIds(setup.accounts)) {
    yield { ...envelope('Deposit'), accountId, amount: setup.collateral * ONE };
  }
}

export const defaultStartPrice = (market: number): bigint => BigInt(100 + market * 5_000) * ONE;

/**
 * An endless stream of random trades between random accounts near the mark, with a mark move
 * every `markEvery` commands (the marks walk on from one command to the next).
 */
export function* tradingStream(setup: PoolSetup, seed: number, markEvery = 20): Generator<Command> {
  const rng = xoroshiro128plus(seed);
  const markets = marketIds(setup.markets);
  const accounts = accountIds(setup.accounts);
  const marks = markets.map((_, i) => defaultStartPrice(i));
  for (let i = 0; ; i++) {
    const m = uniformInt(rng, 0, markets.length - 1);
    if (i % markEvery === markEvery - 1) {
      // a random walk of at most 0.1%, tick-aligned
      const moved = (marks[m]! * BigInt(1_000_000 + uniformInt(rng, -1_000, 1_000))) / 1_000_000n;
      marks[m] = moved - (moved % TICK);
      yield { ...envelope('UpdateMarkPrice'), marketId: markets[m]!, price: marks[m]! };
      continue;
    }
    const taker = uniformInt(rng, 0, accounts.length - 1);
    let maker = uniformInt(rng, 0, accounts.length - 2);
    if (maker >= taker) maker++;
    const offset = (marks[m]! * BigInt(uniformInt(rng, -5_000, 5_000))) / 1_000_000n;
    yield {
      ...envelope('ExecuteTrade'),
      tradeId: `t${i}`,
      marketId: markets[m]!,
      taker: accounts[taker]!,
      maker: accounts[maker]!,
      takerSide: uniformInt(rng, 0, 1) === 0 ? 'buy' : 'sell',
      size: BigInt(uniformInt(rng, 1, 100)) * LOT,
      price: marks[m]! + offset - ((marks[m]! + offset) % TICK),
    };
  }
}

/** The first `count` commands of the trading stream. */
export const tradingCommands = (count: number, setup: PoolSetup, seed: number, markEvery = 20): Command[] => take(tradingStream(setup, seed, markEvery), count);

/** The next `count` items of a stream. */
export const take = <A>(stream: Iterator<A>, count: number): A[] => {
  const out: A[] = [];
  for (let i = 0; i < count; i++) {
    const next = stream.next();
    if (next.done === true) break;
    out.push(next.value);
  }
  return out;
};
