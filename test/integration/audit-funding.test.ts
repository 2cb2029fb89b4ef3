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
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import { exampleRootGovernors } from '../support/example-root.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Row { position: number; event_id: string; type: string; data: string; metadata: string }

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
    const all = db.prepare('SELECT * FROM events ORDER BY position').all() as Row[];
    const payout = all.find((r) => r.type === 'FundPaidOut')!;
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify({ ...JSON.parse(payout.data), reason: 'anything' }), payout.position);
    let prev = GENESIS_HASH;
    for (const row of db.prepare('SELECT * FROM events ORDER BY position').all() as Row[]) {
      const { hash: _hash, ...metadata } = JSON.parse(row.metadata) as Record<string, unknown>;
      const resealed = sealed({ eventId: row.event_id, type: row.type, data: JSON.parse(row.data), metadata: { ...metadata, prevHash: prev } as never });
      db.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(JSON.stringify(resealed.metadata), row.position);
      prev = resealed.metadata.hash;
    }
    db.close();
    const report = await auditFile(file);
    expect(report.problem).toMatchObject({ kind: 'governance', position: BigInt(payout.position) });
  });
});
