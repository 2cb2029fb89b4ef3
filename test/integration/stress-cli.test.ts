// `ledger stress` as a process, on the waterfall example before its crash (its first 13 lines in
// a store of their own): the README's worked example, the JSON form, progress on stderr, the
// log left as it was, and usage errors.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../services/cli.js';
import { EXAMPLE_ROOT_GOVERNORS_FILE } from '../support/example-root.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-stress-cli-'));
const data = join(dir, 'data');
const ledger = (...args: string[]) => spawnSync(process.execPath, ['bin/ledger.js', ...args], { encoding: 'utf8', timeout: 60_000 });
const logSize = () => readFileSync(join(data, 'events.sqlite')).length + readFileSync(join(data, 'events.sqlite-wal'), { flag: 'a+' }).length;

beforeAll(() => {
  const before = join(dir, 'before.jsonl');
  writeFileSync(before, readFileSync('examples/waterfall.jsonl', 'utf8').split('\n').slice(0, 13).join('\n'));
  const run = ledger('run', before, '--data', data, '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE);
  expect(run.status).toBe(0);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ledger stress', () => {
  it('prints what the waterfall did under the scenario (the README example), appending nothing', () => {
    const size = logSize();
    const result = ledger('stress', '--data', data, '--pool', 'main', '--scenario', 'examples/stress-btc.json');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('BTC-PERP 30000 -> 28300 (1 updates)');
    expect(result.stdout).toContain('liquidations 1 (1 below bankruptcy), refused 0');
    expect(result.stdout).toContain('fund 254.2 -> 0.013: 1 draws, 254.187 drawn (junior 153.15 -> 0, written off; senior 101.05 -> 0.013)');
    expect(result.stdout).toContain('ADL: 1 fills in 1 liquidations, size 0.7222, notional 19438.013, covering 660.813 of deficit at a loss against the mark of -1000.247');
    expect(result.stdout).toContain('largest deficit 915 (alice, BTC-PERP)');
    expect(result.stdout).toContain('adequacy BTC-PERP: the fund absorbs a fall of 50000 ppm without ADL; 60000 ppm needs ADL or worse');
    expect(result.stderr).toContain('stress: done, 1 liquidations');
    expect(logSize()).toBe(size);
  }, 60_000);

  // The rest in-process (a process start costs seconds on a loaded machine).
  const inProcess = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    try {
      const status = await main(['stress', ...args]);
      return { status, stdout: out.join('\n'), stderr: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
      write.mockRestore();
    }
  };

  it('takes a shock for every market with --json', async () => {
    const result = await inProcess('--data', data, '--shock', '400000', '--liquidator', 'liq', '--json');
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.marks).toEqual([
      { marketId: 'BTC-PERP', from: '30000', to: '18000', updates: 100 },
      { marketId: 'ETH-PERP', from: '1000', to: '600', updates: 100 },
    ]);
    expect(json.adequacy).toHaveLength(2);
    expect(typeof json.seconds).toBe('number');
  });

  it('refuses a missing or double scenario, a shock without liquidator, a bad scenario and an unknown pool', async () => {
    expect((await inProcess('--data', data)).stderr).toContain('expected one of --scenario FILE and --shock PPM');
    expect((await inProcess('--data', data, '--shock', '1', '--scenario', 'x')).status).toBe(1);
    expect((await inProcess('--data', data, '--shock', '400000')).stderr).toContain('--shock needs --liquidator');
    expect((await inProcess('--data', data, '--shock', '0.4', '--liquidator', 'liq')).stderr).toContain('--shock: expected a fall in ppm');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ liquidatorId: 'liq', movePpm: -400000, depth: { baseDiscountPpm: '2000' } }));
    const refused = await inProcess('--data', data, '--scenario', bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('depth.baseDiscountPpm');
    const unknown = await inProcess('--data', data, '--pool', 'nowhere', '--shock', '1', '--liquidator', 'liq');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('pool "nowhere" not found');
  });
});
