// The read-model checkpoint's content: a fold stopped anywhere, its state encoded, decoded and its
// stored documents built again from it, then folded on to the end, serves the same bytes as the
// fold that never stopped (documents, movements, governance, timelines), and ends in the same
// pool state, its maps in the same order. Checked on the examples, the benchmark workload and
// random scenarios (replayable seed).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalState, type ActivePool } from '../../domain/index.js';
import { decodeFoldState, encodeFoldState, markAllStored, noteStored, type StoredIndex } from '../../projections/fold-checkpoint.js';
import { emptyModel, foldEvent, takeDocuments, type Document, type ProjectionModel } from '../../projections/read-models.js';
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
const foldThroughCheckpoints = (log: ReadonlyArray<LoggedEvent>, cuts: ReadonlyArray<number>, flushEvery: number) => {
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
      const text = encodeFoldState(model, index);
      const decoded = decodeFoldState(text);
      if (E.isLeft(decoded)) throw new Error(decoded.left);
      // A restart: the state and the index from the checkpoint, the documents built again.
      ({ model, index } = decoded.right);
      markAllStored(index, model);
      documents = new Map();
      store(documents, takeDocuments(model));
      expect(encodeFoldState(model, index)).toBe(text);
    }
  });
  flush();
  return { documents, model };
};

const orders = (model: ProjectionModel) => [...model.pools].map(([poolId, { state }]) => (state.status !== 'active' ? [poolId] : [
  poolId, canonicalState(state), (state as ActivePool).accounts.keys(), state.markets.keys(), state.positionHolders.entries().map(([m, h]) => [m, h.values()]),
  state.tranches.map((t) => t.stakes.keys()), state.unstakeRequests.keys(),
]));

const same = (log: ReadonlyArray<LoggedEvent>, cuts: ReadonlyArray<number>, flushEvery = 7) => {
  const reference = foldLog(log);
  const resumed = foldThroughCheckpoints(log, cuts, flushEvery);
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

  it('serves the same bytes as the whole fold: random scenarios, stopped anywhere', () => {
    fc.assert(fc.property(fc.integer(), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 40 }), (seed, fractions, flushEvery) => {
      const log = scenarioLogs(seed, 1, 120)[0]!;
      same(log, fractions.map((f) => Math.floor(f * log.length)), flushEvery);
    }), propertyParameters('fold checkpoint resumes byte-identical', 40));
  });
});
