// The read-model store contract against a real MongoDB (a single-node replica set, for the
// transactions): MONGODB_URL, or one started with testcontainers when a container runtime is
// available. Otherwise the suite is skipped, and says so.

import { afterAll, describe, it } from 'vitest';
import { GenericContainer, Wait } from 'testcontainers';
import { externalServer } from '../support/external-server.js';
import { MongoReadModelStore } from '../../adapters/mongodb/mongo-read-model-store.js';
import { readModelStoreContract } from './read-model-store.contract.js';

const target = await externalServer('MONGODB_URL', async () => {
  const container = await new GenericContainer('mongo:7').withCommand(['--replSet', 'rs0', '--bind_ip_all']).withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/)).start();
  await container.exec(['mongosh', '--quiet', '--eval', 'rs.initiate({_id:"rs0",members:[{_id:0,host:"localhost:27017"}]})']);
  return container;
}, (container) => `mongodb://${container.getHost()}:${container.getMappedPort(27017)}/?directConnection=true`);

if (typeof target === 'string') {
  console.log(`MongoDB contract suite skipped: ${target}. Set MONGODB_URL (a replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0) to run it.`);
  describe.skip('read-model store contract: MongoDB', () => {
    it(`skipped: ${target}`, () => undefined);
  });
} else {
  afterAll(() => target.stop());
  readModelStoreContract('MongoDB', async () => MongoReadModelStore.connect(await target.url(), `ledger-test-${Date.now()}`));
}
