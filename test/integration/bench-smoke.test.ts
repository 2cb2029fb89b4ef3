// Every benchmark script runs (in quick mode, BENCH_QUICK=1, from the sources through tsx) and
// ends with one JSON line carrying each of its figures as a finite positive number. What the
// figures are is not checked: performance is measured by the benchmarks, never asserted here.

import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { natsServerMissing } from '../support/nats-server.js';

const MINUTES = 60_000;

/** Run a benchmark script quickly; resolves with the figures of its last output line. */
const runQuick = (args: ReadonlyArray<string>): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
  execFile(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, BENCH_QUICK: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 19 * MINUTES }, (error, stdout, stderr) => {
    if (error !== null) {
      reject(new Error(`${args.join(' ')} failed: ${error.message}\n${stderr}`));
      return;
    }
    const lines = stdout.trimEnd().split('\n');
    resolve(JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>);
  });
});

const expectFigures = (figures: Record<string, unknown>, names: ReadonlyArray<string>) => {
  for (const name of names) {
    const value = figures[name];
    expect(typeof value, name).toBe('number');
    expect(Number.isFinite(value) && (value as number) > 0, `${name} = ${String(value)}`).toBe(true);
  }
};

const DOMAIN = ['domain_trades_per_s_1k', 'domain_trades_per_s_100k', 'domain_ratio_1k_over_100k'];
const CASCADE = ['cascade_decide_s', 'cascade_decide_wall_s', 'cascade_evolve_s', 'cascade_crash_cpu_s', 'cascade_crash_wall_s', 'cascade_liquidations'];
const STORE = ['store_commands_per_s', 'store_commands_per_cpu_s', 'store_events_per_cpu_s', 'store_raw_insert_rows_per_s', 'store_raw_insert_rows_per_cpu_s', 'store_ratio_pct'];
const REPLAY = ['replay_events_per_s', 'replay_events_per_s_wall', 'replay_raw_read_rows_per_s', 'replay_ratio_pct', 'replay_log_events'];
const READY = ['ready_s', 'ready_cpu_s', 'ready_events_per_s', 'ready_log_events'];
const INGEST = ['ingest_commands_per_s', 'ingest_raw_jetstream_per_s', 'ingest_ratio_pct', 'ingest_service_cpu_us_per_command', 'ingest_events_per_append'];
const MEMORY = ['memory_rss_mb', 'memory_heap_mb', 'memory_snapshot_bytes', 'memory_snapshots_kept_bytes', 'memory_commands_per_s'];

describe('benchmarks, quick mode', () => {
  it('domain', async () => expectFigures(await runQuick(['bench/domain/index.ts']), DOMAIN), 20 * MINUTES);
  it('cascade', async () => expectFigures(await runQuick(['bench/cascade/index.ts']), CASCADE), 20 * MINUTES);
  it('store', async () => expectFigures(await runQuick(['bench/store/index.ts']), STORE), 20 * MINUTES);
  it('memory', async () => expectFigures(await runQuick(['--expose-gc', 'bench/memory/index.ts']), MEMORY), 20 * MINUTES);
  it.skipIf(natsServerMissing() !== undefined)('ingest (needs nats-server)', async () => expectFigures(await runQuick(['bench/ingest/index.ts']), INGEST), 20 * MINUTES);
  it('replay and ready through the runner, on one generated log, with every figure in its last line', async () => {
    const figures = await runQuick(['bench/run.ts', 'replay', 'ready']);
    expectFigures(figures, ['log_writer_events_per_s', ...REPLAY, ...READY]);
    expect(figures.replay_log_events).toBe(figures.ready_log_events);
  }, 20 * MINUTES);
});
