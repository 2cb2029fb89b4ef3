// The deployment's root governors come from the JSON file ROOT_GOVERNORS_FILE names (the service)
// or --root-governors (the CLI). A bad file stops the start with the field at fault; without one,
// no pool can be created.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { serviceConfigFrom } from '../../services/service.js';
import { exampleRootGovernors } from '../support/example-root.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-root-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('ROOT_GOVERNORS_FILE', () => {
  it('is decoded into the service configuration', () => {
    const config = serviceConfigFrom({ ROOT_GOVERNORS_FILE: 'examples/root-governors.json' });
    expect(E.isRight(config) && config.right.rootGovernors).toEqual(exampleRootGovernors);
    const none = serviceConfigFrom({});
    expect(E.isRight(none) && none.right.rootGovernors).toBeUndefined();
  });

  it.each([
    ['a threshold above the keys', { publicKeys: ['11'.repeat(32)], threshold: 2 }, 'threshold'],
    ['a key that is not hex', { publicKeys: ['zz'], threshold: 1 }, 'publicKeys.0'],
    ['a missing threshold', { publicKeys: ['11'.repeat(32)] }, 'threshold'],
    ['a repeated key', { publicKeys: ['11'.repeat(32), '11'.repeat(32)], threshold: 1 }, 'publicKeys.1'],
    ['text that is not JSON', '{nope', '(root)'],
  ])('a bad file (%s) stops the start, naming the field', (_why, content, field) => {
    const path = file(`bad-${field}.json`, content);
    const config = serviceConfigFrom({ ROOT_GOVERNORS_FILE: path });
    expect(E.isLeft(config) && config.left.errors[0]!.path).toBe(`ROOT_GOVERNORS_FILE ${path}: ${field}`);
  });

  it('a file that cannot be read stops the start', () => {
    const config = serviceConfigFrom({ ROOT_GOVERNORS_FILE: join(dir, 'missing.json') });
    expect(E.isLeft(config) && config.left.errors[0]).toMatchObject({ path: 'ROOT_GOVERNORS_FILE', message: expect.stringContaining('cannot read') });
  });
});

describe('ledger run --root-governors', () => {
  it('without it, the example\'s pool is not created', () => {
    const result = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(result.stdout.split('\n')[0]!)).toMatchObject({ line: 1, status: 'rejected', error: { code: 'ROOT_GOVERNORS_NOT_CONFIGURED' } });
  });

  it('a bad file is a usage error naming the option and the field', () => {
    const result = spawnSync(process.execPath, ['bin/ledger.js', 'run', 'examples/trading.jsonl', '--root-governors', file('bad.json', { publicKeys: [], threshold: 1 })], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--root-governors');
    expect(result.stderr).toContain('threshold');
  });
});
