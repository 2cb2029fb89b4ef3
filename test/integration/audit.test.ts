// The auditor's replay over a real log: a clean log passes; an edited or deleted event breaks
// the chain at its position; a forged but re-chained edit is caught by the invariants; --at
// reconstructs the state at a past position.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalStateJson, decodeEvent, evolveAll, initialState, type Event } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { audit } from '../../services/audit.js';
import * as E from 'fp-ts/lib/Either.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { runLines } from '../../services/cli.js';
import { eventOf, rechainAll, rewrite, rowsOf } from '../support/insider.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { governorKeys } from '../support/builders.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n');
/** The example's one refused command (a withdrawal while withdrawals are gated). */
const REFUSED = '"commandId":"w-19"';

/**
 * The waterfall example on a fresh store; returns its directory and file. Without its refused
 * withdrawal unless asked: a refusal is recorded as an event, and the positions below are those
 * of the value-moving events.
 */
const waterfallLog = async (withRefusal = false) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-audit-'));
  dirs.push(dir);
  const file = join(dir, 'events.sqlite');
  const store = new SqliteEventStore(file);
  await runLines(withRefusal ? waterfall : waterfall.filter((line) => !line.includes(REFUSED)), { store, rootGovernors: exampleRootGovernors });
  await store.close();
  return { dir, file };
};

/** The rows of the file with their events' type and data (as JSON text) read out of the stored text. */
interface Row { position: number; revision: number; type: string; data: string; text: string }
const rows = (db: Database.Database): Row[] => rowsOf(db).map((row) => {
  const event = eventOf(row);
  return { position: row.position, revision: row.revision, type: event.type, data: JSON.stringify(event.data), text: row.event };
});
/** Set the data of the event at `position` (its hash left as it was). */
const setData = (db: Database.Database, position: number, data: string) => {
  const row = rowsOf(db).find((r) => r.position === position)!;
  rewrite(db, position, { ...eventOf(row), data: JSON.parse(data) as Record<string, unknown> });
};
/** Recompute every hash of the log, as a forger who can rewrite the whole file would. */
const rechain = rechainAll;

const auditFile = async (file: string, options: Partial<Parameters<typeof audit>[1]> = {}) => {
  const store = new SqliteEventStore(file);
  try {
    return await audit(store, { poolId: 'main', ...options });
  } finally {
    await store.close();
  }
};

describe('audit', () => {
  it('passes a clean log, checking both liquidations against the waterfall', async () => {
    const { file } = await waterfallLog();
    const report = await auditFile(file);
    expect(report).toMatchObject({ ok: true, eventsReplayed: 25, liquidationsChecked: 2, lastPosition: 25n });
    expect(report.view).toMatchObject({ badDebt: '0', fundAssets: '3722' });
  });

  it('passes a log with a recorded refusal, counting it (the whole example: 26 events)', async () => {
    const { dir, file } = await waterfallLog(true);
    const report = await auditFile(file);
    expect(report).toMatchObject({ ok: true, eventsReplayed: 26, liquidationsChecked: 2, rejectionsRecorded: 1 });
    expect(report.view).toMatchObject({ badDebt: '0', fundAssets: '3722' });
    const cli = spawnSync(process.execPath, ['bin/ledger.js', 'audit', '--data', dir, '--json'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, eventsReplayed: 26, rejectionsRecorded: 1, problem: null });
  });

  it('catches a command appended twice, even re-chained', async () => {
    const { file } = await waterfallLog(true);
    const db = new Database(file);
    // A deposit's event copied over the refusal, as if its id had been answered twice.
    const [deposit, refusal] = [rows(db).find((r) => r.type === 'CollateralDeposited')!, rows(db).find((r) => r.type === 'CommandRejected')!];
    db.prepare('UPDATE events SET event = ? WHERE position = ?').run(deposit.text, refusal.position);
    rechain(db);
    db.close();
    const report = await auditFile(file);
    expect(report.problem).toMatchObject({ kind: 'idempotency', position: BigInt(refusal.position) });
    expect(report.problem?.kind === 'idempotency' && report.problem.message).toContain('appears a second time');
  });

  it('catches a refusal whose fingerprint is not its command\'s, even re-chained', async () => {
    const { file } = await waterfallLog(true);
    const db = new Database(file);
    const refusal = rows(db).find((r) => r.type === 'CommandRejected')!;
    setData(db, refusal.position, JSON.stringify({ ...JSON.parse(refusal.data), fingerprint: 'f'.repeat(64) }));
    rechain(db);
    db.close();
    expect((await auditFile(file)).problem).toMatchObject({ kind: 'idempotency', position: BigInt(refusal.position) });
  });

  it('catches an edited event and names its position', async () => {
    const { file } = await waterfallLog();
    const db = new Database(file);
    db.prepare(`UPDATE events SET event = replace(event, '"3100"', '"31000"') WHERE position = 6`).run();
    db.close();
    const report = await auditFile(file);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: 'broken-chain', position: 6n, message: 'hash does not match the event' });
    expect(report.eventsReplayed).toBe(5);
  });

  it('catches a deleted event at the next position', async () => {
    const { file } = await waterfallLog();
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE position = 9').run();
    db.close();
    expect((await auditFile(file)).problem).toMatchObject({ kind: 'broken-chain', position: 10n, message: 'prevHash does not match the previous event' });
  });

  it('catches a forged edit with a recomputed chain through the invariants', async () => {
    const { file } = await waterfallLog();
    const db = new Database(file);
    // Send a fee to a tranche that does not exist: the value vanishes. (A stored trade names the
    // tranches of its fee parts in `fund`: [trancheId, from the taker, from the maker].)
    const trade = rows(db).find((r) => r.type === 'TradeExecuted')!;
    expect(trade.data).toContain('["junior",');
    setData(db, trade.position, trade.data.replace('["junior",', '["ghost",'));
    rechain(db);
    db.close();
    const report = await auditFile(file);
    expect(report.problem).toMatchObject({ kind: 'invariant', position: BigInt(trade.position), violation: { invariant: 'conservation' } });
  });

  it('re-verifies every governance approval, and catches a forged signature with a recomputed chain, naming its position', async () => {
    const { file } = await waterfallLog();
    // The clean log: the pool's creation, two listings and the recapitalization.
    expect(await auditFile(file, { rootGovernors: exampleRootGovernors })).toMatchObject({ ok: true, approvalsVerified: 4 });
    const db = new Database(file);
    const listing = rows(db).find((r) => r.type === 'MarketListed')!;
    const data = JSON.parse(listing.data) as { signedCommand: { signatures: { signature: string }[] } };
    const first = data.signedCommand.signatures[0]!;
    first.signature = `${first.signature[0] === '0' ? '1' : '0'}${first.signature.slice(1)}`;
    setData(db, listing.position, JSON.stringify(data));
    rechain(db);
    db.close();
    const report = await auditFile(file);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: 'governance', position: BigInt(listing.position) });
    expect(report.problem?.kind === 'governance' && report.problem.message).toContain('INVALID_SIGNATURE');
    expect(report.eventsReplayed).toBe(listing.position - 1);
  });

  it('catches a governance event whose fields differ from what its governors signed', async () => {
    const { file } = await waterfallLog();
    const db = new Database(file);
    // The recapitalization's amount raised in the event, its signed command left as it was (the
    // postings follow, so every invariant still holds).
    const recap = rows(db).find((r) => r.type === 'Recapitalized')!;
    setData(db, recap.position, recap.data.replaceAll('"3722"', '"13722"').replace('"amount":"10000"', '"amount":"20000"'));
    rechain(db);
    db.close();
    const report = await auditFile(file);
    expect(report.problem).toMatchObject({ kind: 'governance', position: BigInt(recap.position) });
    expect(report.problem?.kind === 'governance' && report.problem.message).toContain('is not the event its signed command gives');
  });

  it('checks that the pool was created by the expected root governors', async () => {
    const { dir, file } = await waterfallLog();
    const other = { publicKeys: [governorKeys[0].publicKey], threshold: 1 };
    const report = await auditFile(file, { rootGovernors: other });
    expect(report.problem).toMatchObject({ kind: 'governance', position: 1n });
    expect(report.problem?.kind === 'governance' && report.problem.message).toContain('not the expected');
    const ok = spawnSync(process.execPath, ['bin/ledger.js', 'audit', '--data', dir, '--root-governors', 'examples/root-governors.json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('4 approvals re-verified');
  });

  it('catches a read model altered behind its back, naming the document and the field', async () => {
    const { file } = await waterfallLog();
    const store = new SqliteEventStore(file, { pollIntervalMs: 5 });
    const readModels = new MemoryReadModelStore();
    const runner = new ProjectionRunner(store, readModels);
    await runner.start();
    await runner.caughtUp(25n);
    await runner.stop();
    expect((await audit(store, { poolId: 'main', readModels })).ok).toBe(true);
    const alice = await readModels.get('accounts', 'main/alice');
    if (E.isLeft(alice) || alice.right === undefined) throw new Error('no alice');
    // behind the projection's back: a later position gets past the guard
    await readModels.write('someone', [{ ...alice.right, position: alice.right.position + 1000n, body: { ...alice.right.body, collateral: '1000000' } }], 25n);
    const report = await audit(store, { poolId: 'main', readModels });
    expect(report.problem).toMatchObject({ kind: 'read-model-diff', collection: 'accounts', id: 'main/alice' });
    expect(report.problem?.kind === 'read-model-diff' && report.problem.message).toContain('collateral is "1000000", the log says "0"');
    await store.close();
  });

  it('reconstructs the state as of a past position', async () => {
    const { file } = await waterfallLog();
    const report = await auditFile(file, { at: { position: 14n } });
    const db = new Database(file, { readonly: true });
    const events = rows(db).filter((r) => r.position <= 14).map((r) => {
      const decoded = decodeEvent(JSON.parse(r.data));
      if (decoded._tag === 'Left') throw new Error(decoded.left.message);
      return decoded.right as Event;
    });
    db.close();
    expect(report).toMatchObject({ ok: true, eventsReplayed: 14 });
    expect(canonicalStateJson(report.state)).toBe(canonicalStateJson(evolveAll(initialState, events)));
  });

  it('works as `ledger audit`: exit status 1 and the position in the message, --json', async () => {
    const { dir } = await waterfallLog();
    const ok = spawnSync(process.execPath, ['bin/ledger.js', 'audit', '--data', dir, '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, eventsReplayed: 25, lastPosition: '25', problem: null });
    const db = new Database(join(dir, 'events.sqlite'));
    db.prepare('DELETE FROM events WHERE position = 3').run();
    db.close();
    const broken = spawnSync(process.execPath, ['bin/ledger.js', 'audit', '--data', dir], { encoding: 'utf8' });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('hash chain broken at position 4 (revision 3)');
  });
});
