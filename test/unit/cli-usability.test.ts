// The command line as a newcomer meets it: --help on every subcommand (starting nothing), a
// reader that stops early, a mistyped --data directory, and progress of long work.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { describeProgress, logHead, progressReporter, streamLength, type Progress } from '../../services/progress.js';
import { stressSettingsFrom } from '../../services/read-settings.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { runLines } from '../../services/cli.js';
import { EXAMPLE_ROOT_GOVERNORS_FILE, exampleRootGovernors } from '../support/example-root.js';

const ledger = (args: string[]) => spawnSync(process.execPath, ['bin/ledger.js', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DATA_DIR: mkdtempSync(join(tmpdir(), 'ledger-help-')) } });

describe('--help', () => {
  it.each(['run', 'audit', 'serve', 'stress', 'principal', 'keygen', 'nats-config', 'nats-reset'])('ledger %s --help shows its usage, exits 0 and starts nothing', (command) => {
    const result = ledger([command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`ledger ${command}`);
    expect(result.stdout).not.toContain('ledger keygen'.replace('keygen', command === 'keygen' ? 'run' : 'keygen'));
    expect(result.stderr).toBe('');
  });

  it('also after other arguments, and for a subcommand\'s form (principal add -h)', () => {
    expect(ledger(['run', 'examples/trading.jsonl', '--help']).stdout).toContain('--strict');
    expect(ledger(['principal', 'add', 'x', '-h']).stdout).toContain('ledger principal add');
  });

  it('points to --help on an unknown option', () => {
    const result = ledger(['run', '--bogus']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('(--help for usage)');
  });
});

describe('ledger audit --data', () => {
  it('on a directory without a store fails with a clear message and creates nothing', () => {
    const missing = join(tmpdir(), `ledger-missing-${process.pid}-${Date.now()}`);
    const result = ledger(['audit', '--data', missing]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`--data ${missing}: no ledger store there`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('a reader that stops early', () => {
  it('ledger run ... | head: ends quietly with status 0, no EPIPE stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-epipe-'));
    const [create] = readFileSync('examples/trading.jsonl', 'utf8').split('\n');
    const file = join(dir, 'many.jsonl');
    writeFileSync(file, [create, ...Array.from({ length: 600 }, (_v, i) => JSON.stringify({ type: 'Deposit', schemaVersion: 1, commandId: `d-${i}`, poolId: 'main', accountId: `a${i}`, amount: '1' }))].join('\n'));
    try {
      const child = spawn(process.execPath, ['bin/ledger.js', 'run', file, '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      // like head: read the first chunk, then close the pipe
      child.stdout.once('data', () => child.stdout.destroy());
      const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(stderr).not.toMatch(/EPIPE|at .*\.(js|ts):\d+/);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('progress', () => {
  it('reports count, rate and time left at most once a second, and always at the end', () => {
    let now = 0;
    const reports: Progress[] = [];
    const reporter = progressReporter(1000, (p) => reports.push(p), { clock: () => now });
    now = 500;
    reporter.tick(100);
    expect(reports).toEqual([]);
    now = 2_000;
    reporter.tick(400);
    // 400 in 2 s: 200/s, 600 left: 3 s
    expect(reports).toEqual([{ done: 400, total: 1000, rate: 200, secondsLeft: 3 }]);
    now = 2_500;
    reporter.finish();
    expect(reports).toHaveLength(2);
    expect(describeProgress('ledger audit main', 'events', reports[0]!)).toBe('ledger audit main: 400 / 1,000 events (40%), 200/s, 3 s left');
  });

  it('finds how many events a stream holds and the head of the log by probing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-probe-'));
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    try {
      expect(await streamLength(store, 'pool-main')).toBe(0n);
      const lines = readFileSync('examples/trading.jsonl', 'utf8').split('\n');
      await runLines(lines, { store, rootGovernors: exampleRootGovernors });
      const read = await store.readStream('pool-main', 0n, 1000);
      const events = E.isRight(read) ? read.right : [];
      expect(await streamLength(store, 'pool-main')).toBe(BigInt(events.length));
      expect(await logHead(store)).toBe(events.at(-1)!.position);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('STRESS_SHOCK_PPM', () => {
  it('takes a default shock and per-market ones, and names the variable when wrong', () => {
    expect(stressSettingsFrom(undefined)).toEqual(E.right({ shockPpm: 300_000, shockByMarket: {} }));
    expect(stressSettingsFrom('250000,BTC-PERP=400000')).toEqual(E.right({ shockPpm: 250_000, shockByMarket: { 'BTC-PERP': 400_000 } }));
    for (const bad of ['30%', '2000000', 'BTC PERP=1', 'ETH-PERP=']) {
      const decoded = stressSettingsFrom(bad);
      expect(E.isLeft(decoded) && decoded.left.errors[0]!.path).toBe('STRESS_SHOCK_PPM');
    }
  });
});
