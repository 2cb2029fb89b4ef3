// The runner fed in process: committed events offered by the writer's feed give the read models
// the subscription gives, byte for byte, with no second read of the store when each batch follows
// the last event folded; a batch after a gap, a repeated batch, and batches offered before the
// runner is caught up are taken from the store instead.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { runLines } from '../../services/cli.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { ProjectionRunner, projectAll } from '../../projections/runner.js';
import type { EventStore, StoredEvent } from '../../services/ledger/event-store.js';
import { readModelDigest, renderAggregates, storedDocuments } from '../support/read-model-digest.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const freshStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-offer-'));
  dirs.push(dir);
  return new SqliteEventStore(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
};

const waterfall = readFileSync('examples/waterfall.jsonl', 'utf8').split('\n');

const everything = async (store: EventStore): Promise<StoredEvent[]> => {
  const read = await store.readAll('start', 1_000_000);
  if (E.isLeft(read)) throw new Error('no log');
  return read.right;
};

/** The store, counting reads of the whole log (of every stream, or of some). */
const counted = (store: EventStore): { store: EventStore; reads: () => number } => {
  let reads = 0;
  return {
    store: new Proxy(store, {
      get: (target, name, receiver) => {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (name !== 'readAll' && name !== 'readAllOf') return bound;
        return (...args: unknown[]) => {
          reads++;
          return bound(...args);
        };
      },
    }),
    reads: () => reads,
  };
};

/** What a runner serves: its stored documents' digest and its aggregates. */
const served = async (runner: ProjectionRunner, readModels: MemoryReadModelStore) => ({
  documents: readModelDigest(await storedDocuments(readModels, ['main'])),
  aggregates: renderAggregates('main', runner.poolAggregates('main')!),
});

/** The reference: a fold of the whole log. */
const reference = async (store: EventStore) => {
  const events = await everything(store);
  const runner = new ProjectionRunner(store, new MemoryReadModelStore());
  await runner.start();
  await runner.stop();
  return { documents: readModelDigest(projectAll(events).values()), aggregates: renderAggregates('main', runner.poolAggregates('main')!) };
};

describe('a runner fed committed events', () => {
  it('serves what the subscription serves, reading nothing once caught up while batches follow', async () => {
    const store = freshStore();
    await runLines(waterfall.slice(0, 5), { store, rootGovernors: exampleRootGovernors });
    const subscribed = new MemoryReadModelStore();
    const follower = new ProjectionRunner(store, subscribed);
    await follower.start();
    const offeredModels = new MemoryReadModelStore();
    const { store: countingStore, reads } = counted(store);
    const fed = new ProjectionRunner(countingStore, offeredModels, { follow: 'offered' });
    await fed.start();
    const readsAtStart = reads();
    // every line's committed events, offered as the writer's feed hands them over
    let offered = (await everything(store)).length;
    for (const line of waterfall.slice(5)) {
      await runLines([line], { store, rootGovernors: exampleRootGovernors });
      const events = await everything(store);
      fed.offer(events.slice(offered));
      offered = events.length;
    }
    const end = (await everything(store)).at(-1)!.position;
    await fed.caughtUp(end);
    await follower.caughtUp(end);
    expect(reads()).toBe(readsAtStart);
    expect(fed.lag()).toEqual({ seen: end, stored: end, behind: 0n });
    expect(await served(fed, offeredModels)).toEqual(await served(follower, subscribed));
    expect(await served(fed, offeredModels)).toEqual(await reference(store));
    await fed.stop();
    await follower.stop();
    await store.close();
  });

  it('reads the store in place of a batch after a gap, and ignores a batch offered twice', async () => {
    const store = freshStore();
    await runLines(waterfall.slice(0, 8), { store, rootGovernors: exampleRootGovernors });
    const readModels = new MemoryReadModelStore();
    const { store: countingStore, reads } = counted(store);
    const fed = new ProjectionRunner(countingStore, readModels, { follow: 'offered' });
    await fed.start();
    const caughtUp = (await everything(store)).length;
    await runLines(waterfall.slice(8), { store, rootGovernors: exampleRootGovernors });
    const events = await everything(store);
    const [seen, lost, third] = [events.slice(0, caughtUp), events.slice(caughtUp, caughtUp + 5), events.slice(caughtUp + 5)];
    expect(lost!.length).toBe(5);
    expect(third!.length).toBeGreaterThan(0);
    const atStart = reads();
    // already folded at start: ignored, nothing read
    fed.offer(seen!);
    expect(reads()).toBe(atStart);
    // the second batch is lost: the third does not follow, so the store is read up to it
    fed.offer(third!);
    await fed.caughtUp(events.at(-1)!.position);
    expect(reads()).toBeGreaterThan(atStart);
    const afterGap = reads();
    // offered late or again: ignored
    fed.offer(lost!);
    fed.offer(third!);
    await fed.stop();
    expect(reads()).toBe(afterGap);
    expect(fed.lag()).toEqual({ seen: events.at(-1)!.position, stored: events.at(-1)!.position, behind: 0n });
    expect(await served(fed, readModels)).toEqual(await reference(store));
    await store.close();
  });

  it('takes events offered before it has caught up from the store', async () => {
    const store = freshStore();
    await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
    const events = await everything(store);
    const readModels = new MemoryReadModelStore();
    const fed = new ProjectionRunner(store, readModels, { follow: 'offered' });
    const starting = fed.start();
    // offered while the runner starts: not folded out of order, not lost
    fed.offer(events.slice(-5));
    fed.offer(events.slice(0, 3));
    await starting;
    await fed.caughtUp(events.at(-1)!.position);
    await fed.stop();
    expect(await served(fed, readModels)).toEqual(await reference(store));
    await store.close();
  });
});
