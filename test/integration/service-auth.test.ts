// The service's secure defaults as a process: listening on 127.0.0.1 unless told otherwise, the
// principals file and the operator's token created on the first start (owner-only), a bad file
// refusing the start, `ledger principal` editing the file, SIGHUP applying it, tokens never logged.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { serviceConfigFrom } from '../../services/service.js';
import { bearer } from '../support/principals.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-service-auth-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// The environment of a child, without settings that would change the defaults under test.
const baseEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !['HOST', 'PRINCIPALS_FILE', 'DATA_DIR'].includes(k)));
const ledger = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['bin/ledger.js', ...args], { env: { ...baseEnv(), ...env }, encoding: 'utf8' });

describe('secure defaults', () => {
  it('listens on 127.0.0.1 unless HOST says otherwise, and takes PRINCIPALS_FILE', () => {
    const config = serviceConfigFrom({});
    expect(E.isRight(config) && config.right).toMatchObject({ host: '127.0.0.1', dataDir: './data' });
    expect(E.isRight(config) && config.right.principalsFile).toBeUndefined();
    const configured = serviceConfigFrom({ HOST: '0.0.0.0', DATA_DIR: '/var/ledger', PRINCIPALS_FILE: '/etc/ledger/principals.json' });
    expect(E.isRight(configured) && configured.right).toMatchObject({ host: '0.0.0.0', dataDir: '/var/ledger', principalsFile: '/etc/ledger/principals.json' });
  });

  it('refuses to start with a bad principals file, naming the field, or a missing one', () => {
    const dir = tempDir();
    const file = join(dir, 'principals.json');
    writeFileSync(file, JSON.stringify({ version: 1, principals: [{ id: 'operator', roles: ['root'], pools: ['*'] }] }));
    const bad = ledger(['serve'], { PORT: '0', DATA_DIR: dir, PRINCIPALS_FILE: file, LOG_LEVEL: 'silent' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('principals.0.roles.0');
    const missing = ledger(['serve'], { PORT: '0', DATA_DIR: dir, PRINCIPALS_FILE: join(dir, 'none.json'), LOG_LEVEL: 'silent' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('none.json');
  });
});

describe('the first start, ledger principal and SIGHUP', () => {
  it('creates the operator, whose token manages principals; a principal added with the CLI works after SIGHUP; a bad file keeps the old ones', async () => {
    const data = tempDir();
    const child = spawn(process.execPath, ['bin/ledger.js', 'serve'], { env: { ...baseEnv(), PORT: '0', DATA_DIR: data, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    const waitFor = (pattern: RegExp, from = 0) => new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = pattern.exec(log.slice(from));
        if (match !== null) { clearInterval(timer); resolve(match); }
        if (child.exitCode !== null) { clearInterval(timer); reject(new Error(`the service exited: ${log}`)); }
      }, 20);
    });
    try {
      const address = (await waitFor(/"address":"(http:\/\/[^"]+)"/))[1]!;
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:/);
      const tokenFile = join(data, 'operator.token');
      const principalsFile = join(data, 'principals.json');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(statSync(principalsFile).mode & 0o777).toBe(0o600);
      expect(log).toContain(tokenFile);
      const operatorToken = readFileSync(tokenFile, 'utf8').trim();

      expect((await fetch(`${address}/v1/principals`)).status).toBe(401);
      const listed = await fetch(`${address}/v1/principals`, { headers: bearer(operatorToken) });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toEqual([{ id: 'operator', roles: ['operator'], pools: ['*'], http: true, description: 'created on the first start' }]);

      const added = ledger(['principal', 'add', 'desk-1', '--role', 'custody', '--role', 'reader', '--pool', 'main', '--file', principalsFile], {});
      expect(added.status).toBe(0);
      const token = added.stdout.trim();
      expect(token).toMatch(/^lgr_[A-Za-z0-9_-]{43}$/);
      expect(added.stderr).not.toContain(token);
      const query = () => fetch(`${address}/v1/pools/main/fund-health`, { headers: bearer(token) });
      expect((await query()).status).toBe(401);
      const mark = log.length;
      child.kill('SIGHUP');
      await waitFor(/principals file reloaded/, mark);
      expect((await query()).status).toBe(404);

      const good = readFileSync(principalsFile, 'utf8');
      writeFileSync(principalsFile, good.replace('"version": 1', '"version": 2'));
      const again = log.length;
      child.kill('SIGHUP');
      await waitFor(/principals file not reloaded/, again);
      expect(log.slice(again)).toContain('version');
      expect((await query()).status).toBe(404);
      writeFileSync(principalsFile, good);

      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      // No token is ever logged.
      expect(log).not.toContain(operatorToken);
      expect(log).not.toContain(token);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ledger principal: creates the default file when missing, lists without hashes, removes, keeps the last operator', () => {
    const data = tempDir();
    const env = { DATA_DIR: data };
    const added = ledger(['principal', 'add', 'oracle-1', '--role', 'oracle', '--pool', 'main', '--nats-user', 'oracle-1'], env);
    expect(added.status).toBe(0);
    expect(added.stderr).toContain(join(data, 'operator.token'));
    expect(statSync(join(data, 'operator.token')).mode & 0o777).toBe(0o600);
    const list = ledger(['principal', 'list'], env);
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      { id: 'operator', roles: ['operator'], pools: ['*'], http: true, description: 'created on the first start' },
      { id: 'oracle-1', roles: ['oracle'], pools: ['main'], http: true, natsUser: 'oracle-1' },
    ]);
    expect(list.stdout).not.toMatch(/[0-9a-f]{64}/);
    const badRole = ledger(['principal', 'add', 'x', '--role', 'root', '--pool', 'main'], env);
    expect(badRole.status).toBe(1);
    expect(badRole.stderr).toContain('--role');
    expect(ledger(['principal', 'remove', 'operator'], env).stderr).toContain('LAST_OPERATOR');
    expect(ledger(['principal', 'remove', 'oracle-1'], env).status).toBe(0);
    expect(JSON.parse(ledger(['principal', 'list'], env).stdout)).toHaveLength(1);
  });
});
