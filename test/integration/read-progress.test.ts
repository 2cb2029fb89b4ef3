// The read models' rebuild at start reports its progress, up to the head of the log found at
// start, and says when it has caught up (the service logs both).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { runLines } from '../../services/cli.js';
import { logHead } from '../../services/progress.js';
import { catchUpLogging } from '../../services/read-settings.js';
import { exampleRootGovernors } from '../support/example-root.js';

describe('the read models rebuilt at start', () => {
  it('log how far they are, and when they have caught up with the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-read-progress-'));
    const store = new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }));
    try {
      await runLines(readFileSync('examples/waterfall.jsonl', 'utf8').split('\n'), { store, rootGovernors: exampleRootGovernors });
      const head = await logHead(store);
      const runner = new ProjectionRunner(store, new MemoryReadModelStore(), catchUpLogging(store, logger));
      await runner.start();
      await runner.caughtUp(head);
      await runner.stop();
      expect(lines[0]).toMatchObject({ msg: 'rebuilding the read models from the log', events: Number(head) });
      expect(lines.at(-1)).toMatchObject({ msg: 'read models caught up with the log', events: Number(head) });
      // the last progress line before it: everything folded, no time left
      expect(lines.at(-2)).toMatchObject({ folded: Number(head), of: Number(head), secondsLeft: 0 });
      expect(String(lines.at(-2)!.msg)).toMatch(/^read models: [0-9,]+ \/ [0-9,]+ events \(100%\), [0-9,]+\/s, 0 s left$/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
