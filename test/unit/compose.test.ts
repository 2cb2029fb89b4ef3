// docker-compose.yml: the stack DESIGN.md asks for, wired by the service's own variables. Checked
// with `docker compose config` where a compose tool is available; its structure is checked
// everywhere.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as E from 'fp-ts/lib/Either.js';
import { serviceConfigFrom } from '../../services/service.js';

interface Compose {
  services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; healthcheck?: { test: unknown }; depends_on?: Record<string, { condition: string }> }>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as Compose;

const composeTool = (() => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('docker-compose.yml', () => {
  it('runs EventStoreDB, a MongoDB replica set, NATS with JetStream and the service, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['eventstore', 'ledger', 'mongo', 'nats']);
    for (const service of Object.values(compose.services)) expect(service.healthcheck?.test).toBeDefined();
    expect(JSON.stringify(compose.services.mongo)).toContain('--replSet');
    expect(JSON.stringify(compose.services.nats)).toContain('-js');
    expect(compose.services.ledger?.build).toBe('.');
    expect(Object.values(compose.services.ledger?.depends_on ?? {}).every((d) => d.condition === 'service_healthy')).toBe(true);
  });

  it("wires the service with a configuration the service accepts", () => {
    const config = serviceConfigFrom(compose.services.ledger?.environment ?? {});
    expect(E.isRight(config) && config.right).toMatchObject({ port: 8080, store: { kind: 'eventstoredb' }, mongodbUrl: expect.stringContaining('replicaSet=rs0') });
  });

  it.skipIf(!composeTool)('is valid for `docker compose config` (skipped: no compose tool on this machine)', () => {
    execFileSync('docker', ['compose', 'config', '--quiet'], { stdio: 'pipe' });
  });
});
