// Read models byte for byte: digests of every document and of what the HTTP API reads from the
// projection, pinned from the reference fold (one event at a time, documents rebuilt per event,
// as the projection worked before documents were built at flush). Folding event by event and
// folding a whole log with documents built once at the end must both reproduce them.
// If the domain's figures change on purpose, recapture with the per-event fold and say why.
// Recaptured once since, for one reason: a governance change's fields are now listed in canonical
// order (keys sorted), the order its stored text gives, so that a replay from the store and the
// in-process fold give the same bytes; the documents and every other line are unchanged.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exampleLog, scenarioLogs, workloadLog } from '../support/logs.js';
import { foldLog, foldLogAtOnce, foldStoredLog, readModelDigest, renderAggregates, type LoggedEvent } from '../support/read-model-digest.js';

const pinned = {
  'examples/waterfall.jsonl': '18fee92a664579a66e06150665d9412b93308b4643bf1edc47ac006a301b22c6',
  'examples/trading.jsonl': 'd893b8c5458db5934c1df039b7761c43a7b12af3f8b51074e9db956ef2541022',
  'examples/funding.jsonl': 'e5b51eda1a2dc183931e555fe465bcc5c55457461d44c5cf3e9ddfdc0303c075',
  // 40 random scenarios (seed 20261121, up to 200 steps): liquidations, ADL, haircuts, funding, staking, payouts
  scenarios: '541b7d1be72907fadf713928794df428c26266c573d6a95c38743f71cec76fc2',
  // the benchmark workload, 5,000 events: 200 accounts, 3 markets
  workload: 'ca46c28325c838d7a50b0e2b410e3e6009185d20c7959031be361fb627a72669',
} as const;

const digests = (log: ReadonlyArray<LoggedEvent>, redactKeys = false) => {
  const perEvent = foldLog(log);
  const atOnce = foldLogAtOnce(log);
  return {
    perEvent: readModelDigest(perEvent.documents.values(), perEvent.model, { redactKeys }),
    atOnce: readModelDigest(atOnce.documents.values(), atOnce.model, { redactKeys }),
  };
};

const combined = (list: ReadonlyArray<string>) => createHash('sha256').update(list.join('\n')).digest('hex');

describe('read models are byte-identical to the reference fold', () => {
  for (const file of ['examples/waterfall.jsonl', 'examples/trading.jsonl', 'examples/funding.jsonl'] as const) {
    it(file, () => {
      expect(digests(exampleLog(file))).toEqual({ perEvent: pinned[file], atOnce: pinned[file] });
    });
  }

  it('random scenarios from a fixed seed', () => {
    const each = scenarioLogs(20261121, 40, 200).map((log) => digests(log, true));
    expect({ perEvent: combined(each.map((d) => d.perEvent)), atOnce: combined(each.map((d) => d.atOnce)) })
      .toEqual({ perEvent: pinned.scenarios, atOnce: pinned.scenarios });
  });

  it('the benchmark workload', () => {
    expect(digests([...workloadLog(5_000, { accounts: 200, markets: 3, collateral: 1_000_000n })], true))
      .toEqual({ perEvent: pinned.workload, atOnce: pinned.workload });
  });
});

// Replayed from the store: each event sealed as the pool writer seals it, its stored text parsed
// back and folded by the runner's projectAll (its decoder, documents built once at the end).
// Stored text is canonical JSON (keys sorted), while in process a governance event's fields come
// in the order decide built them: the read model lists a change's fields in canonical order, so
// both paths give the same bytes, governance included.
describe('read models replayed from stored text', () => {
  const views = (folded: ReturnType<typeof foldLog>, redactKeys: boolean) => {
    const aggregates: string[] = [];
    const governance: string[] = [];
    for (const poolId of [...folded.model.pools.keys()].sort()) {
      const pool = folded.model.pools.get(poolId)!.aggregates;
      aggregates.push(...renderAggregates(poolId, pool).filter((line) => !line.startsWith('governance\t')));
      governance.push(...pool.governance.map((change) => `${poolId}\t${JSON.stringify(change)}`));
    }
    return {
      documents: readModelDigest(folded.documents.values(), undefined, { redactKeys }),
      aggregates: combined(aggregates),
      governance: combined(governance),
    };
  };
  const same = (log: ReadonlyArray<LoggedEvent>, redactKeys = false) => {
    expect(views(foldStoredLog(log), redactKeys)).toEqual(views(foldLog(log), redactKeys));
  };

  for (const file of ['examples/waterfall.jsonl', 'examples/trading.jsonl', 'examples/funding.jsonl'] as const) {
    it(file, () => same(exampleLog(file)));
  }

  it('random scenarios from a fixed seed', () => {
    for (const log of scenarioLogs(20261121, 40, 200)) same(log, true);
  });

  it('the benchmark workload', () => {
    same([...workloadLog(5_000, { accounts: 200, markets: 3, collateral: 1_000_000n })], true);
  });
});
