import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { ThreadedSqliteEventStore } from '../../adapters/sqlite/threaded-sqlite-event-store.js';
import { appendRowOf } from '../../adapters/sqlite/sqlite-event-store.js';
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded SQLite, appends on a worker thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new ThreadedSqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 20, writerLock: true });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('the append thread is sent each event\'s row only', () => {
  const event = (previous: string, n: number, commandId: string, fingerprint?: string) => sealed(previous, {
    type: 'Traded',
    data: { n, amount: '1250.000000000000000001', nested: { list: ['a'] } },
    metadata: { commandId, correlationId: `corr-${n}`, causationId: commandId, timestamp: 1_767_225_600_000 + n, actor: 'test', ...(fingerprint === undefined ? {} : { fingerprint }) },
  });

  it('keeps text, hash, command id and fingerprint, and drops the parsed data and the rest of the metadata', () => {
    const e = event(GENESIS_HASH, 1, 'cmd-1', 'f'.repeat(64));
    expect(appendRowOf(e)).toEqual({ text: e.text, hash: e.hash, metadata: { commandId: 'cmd-1', fingerprint: 'f'.repeat(64) } });
    expect(Object.keys(appendRowOf(event(GENESIS_HASH, 2, 'cmd-2')).metadata)).toEqual(['commandId']);
  });

  it('stores the text and hash as sealed and indexes each command with its run and fingerprint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
    const store = new ThreadedSqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 20, writerLock: true });
    try {
      const first = event(GENESIS_HASH, 1, 'cmd-a', 'a'.repeat(64));
      const second = event(first.hash, 2, 'cmd-a', 'a'.repeat(64));
      const third = event(second.hash, 3, 'cmd-b');
      const appended = await store.append('pool-x', 'no-stream', [first, second, third]);
      expect(E.isRight(appended) && appended.right.revision).toBe(2n);
      const read = await store.readStream('pool-x', 0n, 10);
      expect(E.isRight(read) && read.right.map((e) => [e.text, e.hash, e.data])).toEqual([first, second, third].map((e) => [e.text, e.hash, e.data]));
      const found = await store.findCommands('pool-x', ['cmd-a', 'cmd-b', 'cmd-c']);
      expect(E.isRight(found) && [...found.right]).toEqual([
        ['cmd-a', { firstRevision: 0n, count: 2, fingerprint: 'a'.repeat(64) }],
        ['cmd-b', { firstRevision: 2n, count: 1, fingerprint: undefined }],
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
