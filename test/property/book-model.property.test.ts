// Model-based test of the pool book: random command sequences (trades, marks, deposits,
// withdrawals, liquidations and so ADL and socialization, staking, funding, payouts) go through the
// persistent decider (the reference model) and through the book, in batches decided on an overlay
// that is committed or dropped (a failed append). After EVERY command the events (or the refusal)
// and the canonical state must be identical, and the committed book must still hold the state
// before the batch. Whales (deposits up to 10^23 units, trades at up to 100% of initial margin)
// take sizes * prices far beyond 2^53 lots * ticks and decisions to the margin boundary.
// Runs: FC_RUNS (or PROPERTY_RUNS), default 40; the seed is printed for replay.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalStateJson, decide, evolveAll, initialState, ONE, SCHEMA_VERSION, type Command, type PoolState } from '../../domain/index.js';
import { decideOnBook } from '../../domain/book/decide-on-book.js';
import { PoolBook } from '../../domain/book/pool-book.js';
import { ctx } from '../support/builders.js';
import { propertyParameters } from '../support/property.js';
import { commandFor, scenarioArb, type Scenario, type Step } from '../support/scenarios.js';

/** How a command's batch goes: it ends after it or not, and if it ends, whether its append fails. */
interface Turn { readonly endBatch: boolean; readonly appendFails: boolean; readonly read: boolean }
const turnArb: fc.Arbitrary<Turn> = fc.record({
  endBatch: fc.boolean(),
  appendFails: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  read: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

/** A whale: a huge deposit, then a trade at 95-100% of what its collateral allows at initial margin. */
interface Whale { readonly at: number; readonly account: number; readonly exponent: number; readonly step: Step }
const whaleArb: fc.Arbitrary<Whale> = fc.record({
  at: fc.nat(80),
  account: fc.nat(5),
  exponent: fc.integer({ min: 6, max: 23 }),
  step: fc.record({
    kind: fc.constant('trade' as const), market: fc.nat(2), taker: fc.constant(0), maker: fc.nat(4), buy: fc.boolean(),
    leveragePpm: fc.integer({ min: 950_000, max: 1_000_000 }), offsetPpm: fc.integer({ min: -2_000, max: 2_000 }),
  }),
});

let counter = 0;

/** The commands of a scenario with its whales spliced in, each built against the reference state. */
const commandsOf = (scenario: Scenario, whales: ReadonlyArray<Whale>) => {
  const items: Array<{ readonly step: Step } | { readonly whale: Whale; readonly deposit: boolean }> = scenario.steps.map((step) => ({ step }));
  for (const whale of [...whales].sort((a, b) => b.at - a.at)) {
    const at = Math.min(whale.at, items.length);
    items.splice(at, 0, { whale, deposit: true }, { whale, deposit: false });
  }
  return items;
};

describe('the pool book against the persistent decider (reference model)', () => {
  const runs = Number(process.env.FC_RUNS ?? 40);
  it('gives identical events and state after every command, committed or dropped in batches', { timeout: 60_000 + runs * 2_000 }, () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 60 }), fc.array(whaleArb, { maxLength: 3 }), fc.array(turnArb, { minLength: 1, maxLength: 40 }), (scenario, whales, turns) => {
      let reference: PoolState = initialState;
      let committedReference: PoolState = initialState;
      let book = PoolBook.of(initialState);
      let overlay = book.begin();
      let now = ctx.now;
      let turn = 0;
      const submit = (command: Command, setup = false) => {
        const context = { ...ctx, now };
        const expected = decide(command, reference, context);
        const actual = decideOnBook(command, overlay, context);
        expect(actual).toEqual(expected);
        if (E.isRight(expected)) reference = evolveAll(reference, expected.right);
        expect(canonicalStateJson(overlay.view())).toBe(canonicalStateJson(reference));
        // The set-up is committed as it goes (a pool and markets for the steps to use).
        const { endBatch, appendFails, read } = setup ? { endBatch: true, appendFails: false, read: true } : turns[turn++ % turns.length]!;
        // A reader of the committed book (HTTP, snapshot) during the batch sees the state before it.
        if (read) expect(canonicalStateJson(book.toPool())).toBe(canonicalStateJson(committedReference));
        if (!endBatch) return;
        if (appendFails) reference = committedReference;
        else book = overlay.commit();
        committedReference = reference;
        overlay = book.begin();
      };
      for (const command of scenario.setup) submit(command, true);
      for (const item of commandsOf(scenario, whales)) {
        now += 'step' in item && item.step.kind === 'wait' ? item.step.hours * 3_600_000 : 60_000;
        if ('step' in item) {
          const command = commandFor(scenario, item.step, reference);
          if (command !== undefined) submit(command);
          continue;
        }
        const accountId = scenario.accounts[item.whale.account % scenario.accounts.length]!;
        if (item.deposit) {
          submit({ type: 'Deposit', schemaVersion: SCHEMA_VERSION, commandId: `w${++counter}`, poolId: 'prop', accountId, amount: 10n ** BigInt(item.whale.exponent) * ONE });
        } else {
          const taker = item.whale.account % scenario.accounts.length;
          const command = commandFor(scenario, { ...item.whale.step, taker } as Step, reference);
          if (command !== undefined) submit(command);
        }
      }
      book = overlay.commit();
      expect(canonicalStateJson(book.toPool())).toBe(canonicalStateJson(reference));
    }), propertyParameters('book model', runs));
  });
});
