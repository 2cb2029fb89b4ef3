// Read models byte for byte: digests of every document and of what the HTTP API reads from the
// projection, pinned from the reference fold (one event at a time, documents rebuilt per event,
// as the projection worked before documents were built at flush). Folding event by event and
// folding a whole log with documents built once at the end must both reproduce them.
// If the domain's figures change on purpose, recapture with the per-event fold and say why.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exampleLog, scenarioLogs, workloadLog } from '../support/logs.js';
import { canonicalJson } from '../../domain/governance.js';
import { foldLog, foldLogAtOnce, foldStoredLog, readModelDigest, renderAggregates, type LoggedEvent } from '../support/read-model-digest.js';

const pinned = {
  'examples/waterfall.jsonl': 'ce5474fd3cdad8589e5d4d5f13f73c1474620654f4036d31bbb8561d4ba3e632',
  'examples/trading.jsonl': '1130a9ed8ab23b68c552ed877aa25cf1c2702ee228acd21031ee2f998219c056',
  'examples/funding.jsonl': '59a6e160bd0776805a13484412d569521c5c2c021e24530b64a36125f2d06ce6',
  // 40 random scenarios (seed 20261121, up to 200 steps): liquidations, ADL, haircuts, funding, staking, payouts
  scenarios: '27ec2b3189f3012e898b127b7e45d6466271f59830ed0b69358875167f8d50cc',
  // the benchmark workload, 5,000 events: 200 accounts, 3 markets
  workload: '417bef6624d8c475cc3913aa8f9b1cc5fbeaf57e3611d08707e05029de997a25',
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
// Stored text is canonical JSON (keys sorted), and a governance change's fields are the event's
// as decoded: they come back in key order, not in the order decide built them. The same values,
// so they are compared as canonical JSON; everything else must be the same bytes.
describe('read models replayed from stored text', () => {
  const views = (folded: ReturnType<typeof foldLog>, redactKeys: boolean) => {
    const aggregates: string[] = [];
    const governance: string[] = [];
    for (const poolId of [...folded.model.pools.keys()].sort()) {
      const pool = folded.model.pools.get(poolId)!.aggregates;
      aggregates.push(...renderAggregates(poolId, pool).filter((line) => !line.startsWith('governance\t')));
      governance.push(...pool.governance.map((change) => `${poolId}\t${canonicalJson(change)}`));
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
