// docker-compose.yml: the production stack of docs/design.md, wired by the service's own variables. Checked
// with `docker compose config` where a compose tool is available; its structure is checked
// everywhere.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as E from 'fp-ts/lib/Either.js';
import { serviceConfigFrom } from '../../services/service.js';

interface Compose {
  services: Record<string, {
    image?: string; build?: string; command?: string[]; environment?: Record<string, string>; healthcheck?: { test: unknown };
    depends_on?: Record<string, { condition: string }>; ports?: Array<string | { host_ip?: string; published?: string | number }>; volumes?: string[];
  }>;
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
    // Compose fills in ${VARIABLE...} from .env; a sample value stands in for each here.
    const environment = Object.fromEntries(Object.entries(compose.services.ledger?.environment ?? {}).map(([k, v]) => [k, v.replace(/\$\{([A-Z_]+)[^}]*\}/g, 'sample$1')]));
    const config = serviceConfigFrom(environment);
    expect(E.isRight(config) && config.right).toMatchObject({ port: 8080, store: { kind: 'eventstoredb' }, mongodbUrl: expect.stringContaining('replicaSet=rs0') });
  });

  it('publishes no port on every interface: each is bound to 127.0.0.1', () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => [name, port] as const));
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) {
      const hostIp = typeof port === 'string' ? (port.split(':').length === 3 ? port.split(':')[0] : undefined) : port.host_ip;
      expect({ name, hostIp }).toEqual({ name, hostIp: '127.0.0.1' });
    }
  });

  it('requires credentials: NATS with the shipped configuration and passwords from variables, MongoDB with a root user', () => {
    const nats = compose.services.nats!;
    expect(nats.command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf']));
    expect(nats.volumes).toContain('./deploy/nats-server.conf:/etc/nats/nats-server.conf:ro');
    const passwords = readFileSync('deploy/nats-server.conf', 'utf8').match(/\$NATS_[A-Z_]+_PASSWORD/g) ?? [];
    expect(passwords.length).toBeGreaterThanOrEqual(8);
    for (const variable of passwords) expect(nats.environment?.[variable.slice(1)]).toMatch(new RegExp(`^\\$\\{${variable.slice(1)}:\\?`));
    expect(compose.services.mongo?.environment?.MONGO_INITDB_ROOT_PASSWORD).toMatch(/^\$\{MONGO_ROOT_PASSWORD:\?/);
    expect(compose.services.ledger?.environment).toMatchObject({ NATS_USER: 'ledger', MONGODB_URL: expect.stringContaining('${MONGO_ROOT_PASSWORD}@') });
  });

  it.skipIf(!composeTool)('is valid for `docker compose config` (skipped: no compose tool on this machine)', () => {
    execFileSync('docker', ['compose', 'config', '--quiet'], { stdio: 'pipe' });
  });
});
