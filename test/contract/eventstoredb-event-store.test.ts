// The event store contract against a real EventStoreDB: the server at EVENTSTORE_URL, or one
// started with testcontainers when a container runtime is available. Otherwise the suite is
// skipped, and says so.

import { afterAll, describe, it } from 'vitest';
import { GenericContainer, Wait } from 'testcontainers';
import { externalServer } from '../support/external-server.js';
import { EventStoreDbEventStore } from '../../adapters/eventstoredb/eventstoredb-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

const IMAGE = 'eventstore/eventstore:24.10';

const target = await externalServer('EVENTSTORE_URL', () => new GenericContainer(IMAGE)
  .withEnvironment({ EVENTSTORE_INSECURE: 'true', EVENTSTORE_RUN_PROJECTIONS: 'None', EVENTSTORE_MEM_DB: 'true' })
  .withExposedPorts(2113)
  .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
  .start(), (container) => `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`);

if (typeof target === 'string') {
  console.log(`EventStoreDB contract suite skipped: ${target}. Set EVENTSTORE_URL (e.g. esdb://localhost:2113?tls=false) to run it.`);
  describe.skip('event store contract: EventStoreDB', () => {
    it(`skipped: ${target}`, () => undefined);
  });
} else {
  afterAll(() => target.stop());
  eventStoreContract('EventStoreDB', async () => ({ store: new EventStoreDbEventStore(await target.url()), cleanup: async () => undefined }));
}
