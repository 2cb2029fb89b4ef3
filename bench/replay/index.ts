// Replaying a log of at least 1,000,000 events (generated through the domain: trades, marks,
// deposits) from the SQLite store through decoding, evolve and every projection, in events per
// second, next to a raw read plus JSON.parse of the same rows. Targets: >= 300,000 events/s and
// >= 40% of the raw rate.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { commandFingerprint, decide, encodeEvent, evolve, initialState, SCHEMA_VERSION, type PoolState } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { GENESIS_HASH, eventIdFor, sealed } from '../../services/ledger/chain.js';
import { projectAll } from '../../projections/runner.js';
import { emptyModel } from '../../projections/read-models.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-replay-'));
const file = join(dir, 'events.sqlite');
try {
  // --- a log made by the domain, written as the command side writes it ------------------------
  const generated = process.hrtime.bigint();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  const writerStore = new SqliteEventStore(file);
  await writerStore.close();
  const raw = new Database(file);
  const insert = raw.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const insertMany = raw.transaction((rows: unknown[][]) => { for (const row of rows) insert.run(...row); });
  const setup: PoolSetup = { accounts: 10_000, markets: 10, collateral: 1_000_000_000n };
  let state: PoolState = initialState;
  let revision = 0;
  let prevHash = GENESIS_HASH;
  let rows: unknown[][] = [];
  let now = Date.UTC(2026, 0, 1);
  // Every trade or mark command makes one event: a few more commands than events cover rejections.
  const commands = [...setupCommands(setup, defaultStartPrice), ...tradingCommands(Math.ceil(EVENTS * 1.02), setup, 7)];
  for (const command of commands) {
    if (revision >= EVENTS) break;
    now += 50;
    const decision = decide(command, state, { ...benchContext, now });
    if (E.isLeft(decision)) continue;
    decision.right.forEach((event, i) => {
      const record = sealed({
        eventId: eventIdFor(POOL_ID, command.commandId, i), type: event.type, data: encodeEvent(event),
        metadata: { commandId: command.commandId, correlationId: command.commandId, causationId: command.commandId, timestamp: now, actor: 'bench', schemaVersion: SCHEMA_VERSION, prevHash, fingerprint: commandFingerprint(command) },
      });
      prevHash = record.metadata.hash;
      rows.push([`pool-${POOL_ID}`, revision++, record.eventId, record.type, JSON.stringify(record.data), JSON.stringify(record.metadata)]);
      state = evolve(state, event);
    });
    if (rows.length >= 10_000) { insertMany(rows); rows = []; }
  }
  insertMany(rows);
  raw.close();
  console.log(`log: ${revision.toLocaleString('en-US')} events generated through the domain in ${(Number(process.hrtime.bigint() - generated) / 1e9).toFixed(1)} s`);

  // --- replay: read, decode, evolve, project ----------------------------------------------------
  const store = new SqliteEventStore(file);
  const model = emptyModel();
  let replayed = 0;
  const started = process.hrtime.bigint();
  for (let after: bigint | 'start' = 'start'; ;) {
    const page = await store.readAll(after, 10_000);
    if (E.isLeft(page) || page.right.length === 0) break;
    projectAll(page.right, model);
    replayed += page.right.length;
    after = page.right[page.right.length - 1]!.position;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();

  // --- raw: the same rows read and parsed, nothing else -----------------------------------------
  const reader = new Database(file, { readonly: true });
  const select = reader.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT 10000').safeIntegers(true);
  let parsed = 0;
  const rawStarted = process.hrtime.bigint();
  for (let after = 0n; ;) {
    const page = select.all(after) as { position: bigint; data: string; metadata: string }[];
    if (page.length === 0) break;
    for (const row of page) { JSON.parse(row.data); JSON.parse(row.metadata); parsed++; }
    after = page[page.length - 1]!.position;
  }
  const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;
  reader.close();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`replay (read, decode, evolve, every projection): ${fmt(replayed)} events in ${seconds.toFixed(2)} s = ${fmt(replayed / seconds)} events/s (target >= 300,000)`);
  console.log(`raw read + JSON.parse of the same rows: ${fmt(parsed)} rows in ${rawSeconds.toFixed(2)} s = ${fmt(parsed / rawSeconds)} rows/s`);
  console.log(`ratio: ${((replayed / seconds) / (parsed / rawSeconds) * 100).toFixed(1)}% (target >= 40%)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
