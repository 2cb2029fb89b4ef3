// The read-model checkpoint's content: a fold stopped anywhere, its state encoded, decoded and its
// stored documents built again from it, then folded on to the end, serves the same bytes as the
// fold that never stopped (documents, movements, governance, timelines), and ends in the same
// pool state, its maps in the same order. Checked on the examples, the benchmark workload and
// random scenarios (replayable seed).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalState, type ActivePool } from '../../domain/index.js';
import { decodeFoldState, encodeFoldState, encodeMovementsFlat, markAllStored, MovementsCodec, noteStored, type StoredIndex } from '../../projections/fold-checkpoint.js';
import { emptyModel, foldEvent, takeDocuments, type Document, type ProjectionModel, type RawMovement } from '../../projections/read-models.js';
import { exampleLog, scenarioLogs, workloadLog } from '../support/logs.js';
import { propertyParameters } from '../support/property.js';
import { foldLog, readModelDigest, type LoggedEvent } from '../support/read-model-digest.js';
import * as E from 'fp-ts/lib/Either.js';

/** A store of documents as the in-memory one keeps them: a document replaces an older one only. */
const store = (documents: Map<string, Document>, built: ReadonlyArray<Document>): void => {
  for (const d of built) {
    const key = `${d.collection}/${d.id}`;
    const stored = documents.get(key);
    if (stored === undefined || stored.position < d.position) documents.set(key, d);
  }
};

/**
 * Fold the log as the runner does (documents stored every `flushEvery` events), stopping at each
 * cut: encode the state there, then go on from the decoded state with a fresh document store.
 */
const foldThroughCheckpoints = (log: ReadonlyArray<LoggedEvent>, cuts: ReadonlyArray<number>, flushEvery: number, format: 1 | 2 = 2) => {
  let model: ProjectionModel = emptyModel();
  let index: StoredIndex = new Map();
  let documents = new Map<string, Document>();
  const flush = () => {
    noteStored(index, model);
    store(documents, takeDocuments(model));
  };
  const at = new Set(cuts);
  log.forEach(({ poolId, position, timestamp, event }, i) => {
    foldEvent(model, poolId, position, timestamp, event);
    if ((i + 1) % flushEvery === 0) flush();
    if (at.has(i + 1)) {
      flush();
      const text = encodeFoldState(model, index, format);
      const decoded = decodeFoldState(text);
      if (E.isLeft(decoded)) throw new Error(decoded.left);
      // A restart: the state and the index from the checkpoint, the documents built again.
      ({ model, index } = decoded.right);
      markAllStored(index, model);
      documents = new Map();
      store(documents, takeDocuments(model));
      expect(encodeFoldState(model, index, format)).toBe(text);
    }
  });
  flush();
  return { documents, model };
};

const orders = (model: ProjectionModel) => [...model.pools].map(([poolId, { state }]) => (state.status !== 'active' ? [poolId] : [
  poolId, canonicalState(state), (state as ActivePool).accounts.keys(), state.markets.keys(), state.positionHolders.entries().map(([m, h]) => [m, h.values()]),
  state.tranches.map((t) => t.stakes.keys()), state.unstakeRequests.keys(),
]));

const same = (log: ReadonlyArray<LoggedEvent>, cuts: ReadonlyArray<number>, flushEvery = 7, format: 1 | 2 = 2) => {
  const reference = foldLog(log);
  const resumed = foldThroughCheckpoints(log, cuts, flushEvery, format);
  expect(readModelDigest(resumed.documents.values(), resumed.model)).toBe(readModelDigest(reference.documents.values(), reference.model));
  expect(orders(resumed.model)).toEqual(orders(reference.model));
};

describe('a fold resumed from a read-model checkpoint', () => {
  for (const file of ['examples/waterfall.jsonl', 'examples/trading.jsonl', 'examples/funding.jsonl']) {
    it(`serves the same bytes as the whole fold: ${file}, stopped after every event`, () => {
      const log = exampleLog(file);
      for (let cut = 1; cut < log.length; cut++) same(log, [cut], 3);
    });
  }

  it('serves the same bytes as the whole fold: the benchmark workload, stopped three times', () => {
    const log = [...workloadLog(3_000, { accounts: 150, markets: 3, collateral: 1_000_000n })];
    same(log, [1, 1_234, 2_500], 500);
  });

  it('serves the same bytes as the whole fold: random scenarios, stopped anywhere, in either format', () => {
    fc.assert(fc.property(fc.integer(), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1 as const, 2 as const), (seed, fractions, flushEvery, format) => {
      const log = scenarioLogs(seed, 1, 120)[0]!;
      same(log, fractions.map((f) => Math.floor(f * log.length)), flushEvery, format);
    }), propertyParameters('fold checkpoint resumes byte-identical', 40));
  });
});

// Format 2 keeps the movements' values in one binary column and builds an account's list when it
// is first asked for; format 1 (every value a JSON element) is the reference it must agree with.
describe('movements in the binary column (format 2)', () => {
  const KEYS = ['kind', 'position', 'timestamp', 'marketId', 'tradeId', 'price', 'role', 'size', 'fee', 'amount', '__proto__x', ''];
  const bigints = fc.oneof(
    fc.bigInt({ min: -(10n ** 81n) + 1n, max: 10n ** 81n - 1n }),
    // money: few significant digits, many trailing zeros (the mantissa form), and around its limits
    fc.tuple(fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), fc.integer({ min: 0, max: 66 })).map(([m, e]) => m * 10n ** BigInt(e)).filter((b) => (b < 0n ? -b : b) < 10n ** 81n),
    fc.constantFrom(0n, -1n, 999_999_999_999_999n, 1_000_000_000_000_000n, -(10n ** 80n)),
  );
  const numbers = fc.oneof(fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)));
  const movement = fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), fc.oneof(fc.string(), numbers, bigints)), { selector: ([key]) => key, maxLength: 9 })
    .map((fields) => Object.fromEntries(fields) as unknown as RawMovement);
  const movements = fc.uniqueArray(fc.tuple(fc.string(), fc.array(movement, { maxLength: 6 })), { selector: ([accountId]) => accountId, maxLength: 8 })
    .map((accounts) => new Map(accounts));
  /** Every list with its movements' fields in order: key order is served, so it is compared. */
  const fields = (m: Map<string, RawMovement[]>) => [...m].map(([accountId, list]) => [accountId, list.map((x) => Object.entries(x))]);
  const decoded = (encoded: unknown) => {
    const result = MovementsCodec.decode(JSON.parse(JSON.stringify(encoded)));
    if (E.isLeft(result)) throw new Error('does not decode');
    return result.right;
  };

  it('decodes to what format 1 decodes to, and to what was encoded, whichever accounts are built first and changed', () => {
    fc.assert(fc.property(movements, fc.array(fc.nat(), { maxLength: 4 }), movement, (original, touched, added) => {
      const reference = decoded(encodeMovementsFlat(original));
      expect(fields(reference)).toEqual(fields(original));
      const columns = decoded(MovementsCodec.encode(original));
      expect(columns.size).toBe(original.size);
      expect([...columns.keys()]).toEqual([...original.keys()]);
      // Some accounts built before the rest, and one appended to as the fold does (built by that).
      const ids = [...original.keys()];
      for (const i of touched) if (ids.length > 0) expect(columns.get(ids[i % ids.length]!)!.map((x) => Object.entries(x))).toEqual(reference.get(ids[i % ids.length]!)!.map((x) => Object.entries(x)));
      if (ids.length > 0) {
        columns.get(ids[ids.length - 1]!)!.push(added);
        reference.get(ids[ids.length - 1]!)!.push(added);
      }
      expect(columns.get('not an account')).toBeUndefined();
      // written again byte for byte as the reference is, and the same lists
      expect(JSON.stringify(MovementsCodec.encode(columns))).toBe(JSON.stringify(MovementsCodec.encode(reference)));
      expect(fields(columns)).toEqual(fields(reference));
    }), propertyParameters('movement columns decode as format 1', 300));
  });

  it('refuses a column cut short, one that goes on after the last movement, and indices out of range', () => {
    const original = new Map<string, RawMovement[]>([['a', [{ kind: 'trade', position: '7', timestamp: 1, size: 10n ** 20n, price: -(10n ** 70n) - 3n } as unknown as RawMovement]]]);
    const good = JSON.parse(JSON.stringify(MovementsCodec.encode(original))) as { values: string; strings: string[]; accounts: [string, number][] };
    expect(E.isRight(MovementsCodec.decode(good))).toBe(true);
    const bytes = Buffer.from(good.values, 'base64');
    const refused = (changed: object) => expect(E.isLeft(MovementsCodec.decode({ ...good, ...changed }))).toBe(true);
    for (let cut = 0; cut < bytes.length; cut++) refused({ values: bytes.subarray(0, cut).toString('base64') });
    refused({ values: Buffer.concat([bytes, Buffer.from([0])]).toString('base64') });
    refused({ strings: good.strings.slice(0, 1) });
    refused({ accounts: [['a', 2]] });
    refused({ accounts: [['a', 1], ['a', 0]] });
    refused({ values: Buffer.concat([Buffer.from([9]), bytes.subarray(1)]).toString('base64') });
  });
});
