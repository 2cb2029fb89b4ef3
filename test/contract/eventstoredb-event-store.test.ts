// The event store contract against a real EventStoreDB: the server at EVENTSTORE_URL, or one
// started with testcontainers when a container runtime is available. Otherwise the suite is
// skipped, and says so.

import { afterAll, describe, it } from 'vitest';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { EventStoreDbEventStore } from '../../adapters/eventstoredb/eventstoredb-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

const IMAGE = 'eventstore/eventstore:24.10';

const target = await (async (): Promise<{ url: () => Promise<string>; stop: () => Promise<void> } | string> => {
  if (process.env.EVENTSTORE_URL !== undefined) return { url: async () => process.env.EVENTSTORE_URL!, stop: async () => undefined };
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    return `no EVENTSTORE_URL and no container runtime (${(error as Error).message.split('\n')[0]})`;
  }
  let container: StartedTestContainer | undefined;
  return {
    url: async () => {
      container ??= await new GenericContainer(IMAGE)
        .withEnvironment({ EVENTSTORE_INSECURE: 'true', EVENTSTORE_RUN_PROJECTIONS: 'None', EVENTSTORE_MEM_DB: 'true' })
        .withExposedPorts(2113)
        .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
        .start();
      return `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`;
    },
    stop: async () => { await container?.stop(); },
  };
})();

if (typeof target === 'string') {
  console.log(`EventStoreDB contract suite skipped: ${target}. Set EVENTSTORE_URL (e.g. esdb://localhost:2113?tls=false) to run it.`);
  describe.skip('event store contract: EventStoreDB', () => {
    it(`skipped: ${target}`, () => undefined);
  });
} else {
  afterAll(() => target.stop());
  eventStoreContract('EventStoreDB', async () => ({ store: new EventStoreDbEventStore(await target.url()), cleanup: async () => undefined }));
}
