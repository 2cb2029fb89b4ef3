import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  addPrincipal, decodePrincipals, ensurePrincipals, principalForToken, readPrincipals, tokenHash, type PrincipalsFile,
} from '../../services/auth/principals.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'principals-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const right = <A>(either: E.Either<unknown, A>): A => {
  if (E.isLeft(either)) throw new Error(`unexpected Left: ${JSON.stringify(either.left)}`);
  return either.right;
};

describe('the principals file', () => {
  it('is created on the first start with one operator whose token is readable by its owner only', () => {
    const dir = tempDir();
    const bootstrap = right(ensurePrincipals(dir));
    expect(bootstrap.operatorTokenPath).toBe(join(dir, 'operator.token'));
    expect(statSync(bootstrap.operatorTokenPath!).mode & 0o777).toBe(0o600);
    expect(statSync(bootstrap.principalsPath).mode & 0o777).toBe(0o600);
    const token = readFileSync(bootstrap.operatorTokenPath!, 'utf8').trim();
    const file = right(readPrincipals(bootstrap.principalsPath));
    expect(principalForToken(file, token)).toMatchObject({ id: 'operator', roles: ['operator'], pools: ['*'] });
    // The token itself is not in the file, only its hash.
    expect(readFileSync(bootstrap.principalsPath, 'utf8')).not.toContain(token);
    // A second start keeps the file and writes no new token.
    expect(right(ensurePrincipals(dir))).toEqual({ principalsPath: bootstrap.principalsPath });
  });

  it('refuses a configured file that does not exist', () => {
    expect(E.isLeft(ensurePrincipals(tempDir(), '/nonexistent/principals.json'))).toBe(true);
  });

  it('names the bad entry of a file', () => {
    const dir = tempDir();
    const path = join(dir, 'p.json');
    writeFileSync(path, JSON.stringify({ version: 1, principals: [{ id: 'a', roles: ['oracle'], pools: ['main'] }, { id: 'b', roles: ['root'], pools: ['main'] }] }));
    const result = readPrincipals(path);
    expect(E.isLeft(result) && result.left.message).toMatch(/principals\.1\.roles\.0/);
  });

  it('refuses duplicate ids, shared tokens, principals without roles or pools, and ids with dots', () => {
    const hash = tokenHash('x');
    const bad = [
      [{ id: 'a', roles: ['oracle'], pools: ['main'] }, { id: 'a', roles: ['reader'], pools: ['main'] }],
      [{ id: 'a', roles: ['oracle'], pools: ['main'], tokenSha256: hash }, { id: 'b', roles: ['reader'], pools: ['main'], tokenSha256: hash }],
      [{ id: 'a', roles: [], pools: ['main'] }],
      [{ id: 'a', roles: ['oracle'], pools: [] }],
      [{ id: 'a.b', roles: ['oracle'], pools: ['main'] }],
      [{ id: 'a', roles: ['oracle'], pools: ['main'], extra: true }],
    ];
    for (const principals of bad) expect(E.isLeft(decodePrincipals({ version: 1, principals }))).toBe(true);
  });

  it('adds a principal with a fresh token that authenticates it, and no other token does', () => {
    const empty: PrincipalsFile = { version: 1, principals: [] };
    const { file, token } = right(addPrincipal(empty, { id: 'oracle-1', roles: ['oracle'], pools: ['main'], natsUser: 'oracle-1' }));
    expect(token).toMatch(/^lgr_[A-Za-z0-9_-]{43}$/);
    expect(principalForToken(file, token)?.id).toBe('oracle-1');
    expect(principalForToken(file, `${token}x`)).toBeUndefined();
    expect(E.isLeft(addPrincipal(file, { id: 'oracle-1', roles: ['oracle'], pools: ['main'] }))).toBe(true);
  });
});

