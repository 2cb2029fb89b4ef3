// The audit over examples/funding.jsonl (a maker rebate, funding settled explicitly and by a
// liquidation, a fund cap reached mid-waterfall, two governed payouts): the clean log passes, and
// a payout whose reason was edited afterwards (re-chained) fails the governance re-verification.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { audit } from '../../services/audit.js';
import { runLines } from '../../services/cli.js';
import { eventOf, rechainAll, rewrite, rowsOf } from '../support/insider.js';
import { exampleRootGovernors } from '../support/example-root.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});


const fundingLog = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-audit-funding-'));
  dirs.push(dir);
  const file = join(dir, 'events.sqlite');
  const store = new SqliteEventStore(file);
  await runLines(readFileSync('examples/funding.jsonl', 'utf8').split('\n'), { store, rootGovernors: exampleRootGovernors });
  await store.close();
  return file;
};

const auditFile = async (file: string) => {
  const store = new SqliteEventStore(file);
  try {
    return await audit(store, { poolId: 'perp' });
  } finally {
    await store.close();
  }
};

describe('audit of funding, caps and payouts', () => {
  it('passes the example: junior 1501.8 - 99.9702 - 500, senior 1000.6 - 100', async () => {
    const report = await auditFile(await fundingLog());
    expect(report).toMatchObject({ ok: true, liquidationsChecked: 1, rejectionsRecorded: 1 });
    expect(report.view).toMatchObject({ fundAssets: '1802.4298' });
  });

  it('re-verifies a payout: an edited reason, re-chained, is not what the governors signed', async () => {
    const file = await fundingLog();
    const db = new Database(file);
    const payout = rowsOf(db).find((r) => eventOf(r).type === 'FundPaidOut')!;
    const event = eventOf(payout);
    rewrite(db, payout.position, { ...event, data: { ...event.data, reason: 'anything' } });
    rechainAll(db);
    db.close();
    const report = await auditFile(file);
    expect(report.problem).toMatchObject({ kind: 'governance', position: BigInt(payout.position) });
  });
});
