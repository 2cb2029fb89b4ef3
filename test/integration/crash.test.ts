// A writer process killed with SIGKILL in the middle of a stream of batches: after a restart
// every acknowledged command is in the log exactly once, and no batch is there in part.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { ONE, SCHEMA_VERSION } from '../../domain/index.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { verifyChain } from '../../services/ledger/chain.js';
import { PoolWriter, poolStream } from '../../services/ledger/pool-writer.js';

it('loses no acknowledged command and leaves no partial batch when the writer is killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
  const file = join(dir, 'events.sqlite');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/deposit-stream.ts', file, '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('ack ')) acked.push(line.slice(4));
        if (acked.length === 2000) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    expect(await exited).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(2000);

    const store = new SqliteEventStore(file);
    const read = await store.readStream(poolStream('main'), 0n, 1_000_000);
    if (E.isLeft(read)) throw new Error('no stream');
    expect(verifyChain(read.right).ok).toBe(true);
    const logged = read.right.map((e) => e.metadata.commandId).filter((id) => id.startsWith('dep-'));
    // exactly once
    expect(new Set(logged).size).toBe(logged.length);
    // every acknowledged command is there
    const present = new Set(logged);
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    // batches commit in submission order, whole or not at all: the log holds dep-0 .. dep-k, no gaps
    expect(logged).toEqual(logged.map((_, i) => `dep-${i}`));
    // and a restarted writer recognizes them
    const writer = await PoolWriter.open(store, 'main');
    const again = await writer.submit({ actor: 'test', command: { type: 'Deposit', schemaVersion: SCHEMA_VERSION, commandId: acked[0]!, poolId: 'main', accountId: 'acct-0', amount: ONE } });
    expect(again).toMatchObject({ status: 'accepted', deduplicated: true });
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
