import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLines as runWithStore } from '../../services/cli.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { checkInvariants, poolView, summarizeLiquidation, units } from '../../domain/index.js';
import { EXAMPLE_ROOT_GOVERNORS_FILE, exampleRootGovernors } from '../support/example-root.js';

const example = readFileSync('examples/trading.jsonl', 'utf8').split('\n');

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n');

/** Run lines on a fresh embedded store; `state` is the pool "main". */
const runLines = async (lines: ReadonlyArray<string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  try {
    const { outcomes, pools } = await runWithStore(lines, { store, rootGovernors: exampleRootGovernors });
    return { outcomes, state: pools.get('main') ?? { status: 'uninitialized' as const } };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('ledger run', () => {
  it('runs the waterfall example: fund draw and ADL, then socialization into bad debt, the withdrawal gate and recapitalization', async () => {
    const { outcomes, state } = await runLines(waterfall);
    expect(outcomes.filter((o) => o.outcome.status !== 'accepted').map((o) => o.line)).toEqual([19]);
    const events = (line: number) => {
      const o = outcomes.find((x) => x.line === line)!.outcome;
      if (o.status !== 'accepted') throw new Error(`line ${line} was ${o.status}`);
      return o.events;
    };
    expect(summarizeLiquidation(events(15))).toMatchObject({
      deficit: '915', bankruptcyPrice: '26915', liquidatorSize: '0.2778',
      fundDraws: [{ trancheId: 'junior', amount: '153.15', writtenOff: true }, { trancheId: 'senior', amount: '101.037', writtenOff: false }],
      adlFills: [{ accountId: 'bob', size: '0.7222', notional: '19438.013' }], socialized: '0', badDebt: '0',
    });
    expect(summarizeLiquidation(events(17))).toMatchObject({ deficit: '16100', bankruptcyPrice: '895', socialized: '9821.987', badDebt: '6278' });
    const rejected = outcomes.find((o) => o.line === 19)!.outcome;
    expect(rejected.status === 'rejected' && rejected.error.code).toBe('WITHDRAWALS_GATED');
    expect(events(20)[0]).toMatchObject({ type: 'Recapitalized', badDebtRepaid: units('6278'), sharesMinted: units('3722') });
    expect(poolView(state)).toMatchObject({ badDebt: '0', fundAssets: '3722' });
    expect(checkInvariants(state)).toEqual([]);
  });

  it('runs the example: accepted, rejected and undecodable lines, and the documented balances', async () => {
    const { outcomes, state } = await runLines(example);
    expect(outcomes.map((o) => `${o.line}:${o.outcome.status}`)).toEqual([
      '1:accepted', '2:accepted', '3:accepted', '4:accepted', '5:accepted', '6:accepted', '7:accepted', '8:accepted', '9:accepted',
      '10:rejected', '11:invalid',
    ]);
    const rejected = outcomes[9]!.outcome;
    expect(rejected.status === 'rejected' && rejected.error).toMatchObject({ code: 'INSUFFICIENT_MARGIN', field: 'taker' });
    const invalid = outcomes[10]!.outcome;
    expect(invalid.status === 'invalid' && invalid.error.errors[0]!.path).toBe('amount');
    const view = poolView(state)!;
    expect(view.accounts.find((a) => a.accountId === 'alice')).toMatchObject({ collateral: '10476.75', equity: '11976.75' });
    expect(view).toMatchObject({ fundAssets: '9.96618735', treasury: '22.58381265', openInterest: '33000' });
  });

  it('reports a line that is not JSON with its line number and goes on', async () => {
    const { outcomes } = await runLines([example[0]!, '{not json', example[1]!]);
    expect(outcomes.map((o) => o.outcome.status)).toEqual(['accepted', 'invalid', 'accepted']);
    expect(outcomes[1]!.line).toBe(2);
  });

  it('works as a command: JSON lines with --json, exit status 2 for an undecodable line with --strict', () => {
    const strict = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--strict', '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE], { encoding: 'utf8' });
    expect(strict.status).toBe(2);
    const result = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--json', '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[5]).toMatchObject({ line: 6, status: 'accepted', events: [{ type: 'TradeExecuted', price: '30000', takerFee: '15' }] });
    expect(lines.at(-1)).toMatchObject({ readModels: { poolId: 'main', fundHealth: { fundAssets: '9.96618735', openInterest: '33000' } } });
    const alice = ((lines.at(-1) as { readModels: { accounts: { accountId: string }[] } }).readModels.accounts).find((a) => a.accountId === 'alice');
    expect(alice).toMatchObject({ collateral: '10476.75', equity: '11976.75', positionsAtMark: [{ marketId: 'BTC-PERP', unrealizedPnl: '1500' }] });
    // --data keeps the store: a second run resumes it and applies nothing twice
    const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-data-'));
    try {
      const first = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--json', '--data', dir, '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE], { encoding: 'utf8' });
      const second = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--json', '--data', dir, '--root-governors', EXAMPLE_ROOT_GOVERNORS_FILE], { encoding: 'utf8' });
      const parse = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parse(second.stdout)[5]).toMatchObject({ line: 6, status: 'accepted', deduplicated: true });
      expect(parse(second.stdout).at(-1)).toEqual(parse(first.stdout).at(-1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const help = spawnSync(process.execPath, ['bin/ledger.js', 'help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('ledger run <file.jsonl>');
  });
});
