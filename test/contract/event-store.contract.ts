// One contract for every EventStore adapter: what the command side, the projection runner and
// the audit rely on. Run by sqlite-event-store.test.ts always and by eventstoredb.test.ts when a
// server is reachable.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readAllOf, type EventStore, type NewEvent, type StoredEvent } from '../../services/ledger/event-store.js';
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';

export interface StoreFixture {
  readonly store: EventStore;
  readonly cleanup: () => Promise<void>;
}

// Sealed as the writer seals (the store neither checks nor changes text and hash); unique by n and a random salt.
const event = (type: string, n: number): NewEvent => sealed(GENESIS_HASH, {
  type,
  data: { n, amount: '1250.000000000000000001', nested: { list: ['a', 'b'], flag: true }, salt: randomUUID() },
  metadata: {
    commandId: `cmd-${n}`, correlationId: `corr-${n}`, causationId: `cmd-${n}`, timestamp: 1_767_225_600_000 + n,
    actor: 'contract',
  },
});

const right = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};

export const eventStoreContract = (name: string, open: () => Promise<StoreFixture>): void => {
  describe(`event store contract: ${name}`, () => {
    const withStore = (test: (store: EventStore, stream: (suffix?: string) => string) => Promise<void>) => async () => {
      const { store, cleanup } = await open();
      const prefix = `contract-${randomUUID().slice(0, 8)}`;
      try {
        await test(store, (suffix = 'a') => `${prefix}-${suffix}`);
      } finally {
        await store.close();
        await cleanup();
      }
    };

    it('appends to a new stream from revision 0 with increasing positions, and reads it back exactly', withStore(async (store, stream) => {
      const events = [event('Deposited', 1), event('Traded', 2), event('Marked', 3)];
      const result = right(await store.append(stream(), 'no-stream', events));
      expect(result.revision).toBe(2n);
      const read = right(await store.readStream(stream(), 0n, 100));
      expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(read[2]!.position).toBe(result.position);
      expect(read[0]!.position < read[1]!.position && read[1]!.position < read[2]!.position).toBe(true);
      // Readers add the schema version of the event's data (1 when it names none).
      expect(read.map(({ type, data, metadata, text, hash }) => ({ type, data, metadata, text, hash }))).toEqual(events.map((e) => ({ ...e, metadata: { ...e.metadata, schemaVersion: 1 } })));
      expect(read.every((e) => e.streamId === stream())).toBe(true);
    }));

    it('appends only at the exact expected revision, and a conflict appends nothing', withStore(async (store, stream) => {
      right(await store.append(stream(), 'no-stream', [event('A', 1)]));
      const stale = await store.append(stream(), 'no-stream', [event('B', 2), event('C', 3)]);
      expect(E.isLeft(stale) && stale.left).toMatchObject({ kind: 'revision-conflict', expected: 'no-stream', actual: 0n });
      const ahead = await store.append(stream(), 5n, [event('B', 2)]);
      expect(E.isLeft(ahead) && ahead.left).toMatchObject({ kind: 'revision-conflict', expected: 5n, actual: 0n });
      const missing = await store.append(stream('b'), 0n, [event('B', 2)]);
      expect(E.isLeft(missing) && missing.left).toMatchObject({ kind: 'revision-conflict', actual: 'no-stream' });
      right(await store.append(stream(), 0n, [event('B', 2), event('C', 3)]));
      expect(right(await store.readStream(stream(), 0n, 100)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    }));

    it('lets exactly one of two concurrent appends at the same revision win', withStore(async (store, stream) => {
      right(await store.append(stream(), 'no-stream', [event('A', 1)]));
      const results = await Promise.all([store.append(stream(), 0n, [event('B', 2)]), store.append(stream(), 0n, [event('C', 3)])]);
      expect(results.filter(E.isRight)).toHaveLength(1);
      expect(right(await store.readStream(stream(), 0n, 100))).toHaveLength(2);
    }));

    it('does not append the same events twice (a repeated append at the same expected revision)', withStore(async (store, stream) => {
      const once = event('A', 1);
      right(await store.append(stream(), 'no-stream', [once]));
      const again = await store.append(stream(), 'no-stream', [once]);
      // Either refused, or (EventStoreDB's idempotent write of the same derived ids) accepted without a second copy.
      const read = right(await store.readStream(stream(), 0n, 100));
      expect(read.filter((e) => e.hash === once.hash)).toHaveLength(1);
      if (E.isLeft(again)) expect(again.left.kind).toBe('revision-conflict');
    }));

    it('reads a stream from a revision, a page at a time, and reports a missing stream', withStore(async (store, stream) => {
      right(await store.append(stream(), 'no-stream', [1, 2, 3, 4, 5].map((n) => event('E', n))));
      expect(right(await store.readStream(stream(), 2n, 2)).map((e) => e.revision)).toEqual([2n, 3n]);
      expect(right(await store.readStream(stream(), 5n, 10))).toEqual([]);
      const missing = await store.readStream(stream('none'), 0n, 10);
      expect(E.isLeft(missing) && missing.left.kind).toBe('stream-not-found');
    }));

    it('reads all streams in position order, after an exclusive position', withStore(async (store, stream) => {
      right(await store.append(stream('x'), 'no-stream', [event('X', 1)]));
      right(await store.append(stream('y'), 'no-stream', [event('Y', 2)]));
      right(await store.append(stream('x'), 0n, [event('X', 3)]));
      const mine = (events: StoredEvent[]) => events.filter((e) => e.streamId.startsWith(stream('')));
      const all = mine(right(await store.readAll('start', 10_000)));
      expect(all.map((e) => e.type)).toEqual(['X', 'Y', 'X']);
      const after = mine(right(await store.readAll(all[0]!.position, 10_000)));
      expect(after.map((e) => e.type)).toEqual(['Y', 'X']);
    }));

    it('reads some streams only: their events of a page, and the last position the page covered', withStore(async (store, stream) => {
      right(await store.append(stream('x'), 'no-stream', [event('X', 1)]));
      right(await store.append(stream('y'), 'no-stream', [event('Y', 2)]));
      right(await store.append(stream('x'), 0n, [event('X', 3)]));
      const all = right(await store.readAll('start', 10_000)).filter((e) => e.streamId.startsWith(stream('')));
      const [x1, y2, x3] = all;
      const xs = right(await readAllOf(store, stream('x'), x1!.position - 1n, 10_000));
      expect(xs.events.map((e) => [e.type, e.streamId, e.revision, e.position, e.text, e.hash, e.data, e.metadata])).toEqual(
        [x1!, x3!].map((e) => [e.type, e.streamId, e.revision, e.position, e.text, e.hash, e.data, e.metadata]));
      expect(xs.last).toBe(x3!.position);
      const ys = right(await readAllOf(store, stream('y'), x1!.position, 1));
      expect([ys.events.map((e) => e.type), ys.last]).toEqual([['Y'], y2!.position]);
      const none = right(await readAllOf(store, stream('y'), y2!.position, 1));
      expect([none.events, none.last]).toEqual([[], x3!.position]);
      const end = right(await readAllOf(store, stream('y'), x3!.position, 10));
      if (end.last === undefined) expect(end.events).toEqual([]);
    }));

    it('subscribes: catches up, then follows live appends, one event at a time, and stops', withStore(async (store, stream) => {
      right(await store.append(stream(), 'no-stream', [event('A', 1), event('B', 2)]));
      const seen: string[] = [];
      let running = 0;
      let overlapped = false;
      let resolveDone: () => void = () => undefined;
      const done = new Promise<void>((resolve) => { resolveDone = resolve; });
      const subscription = store.subscribeAll({
        after: 'start',
        onEvent: async (e) => {
          if (!e.streamId.startsWith(stream(''))) return;
          running++;
          if (running > 1) overlapped = true;
          await new Promise((r) => setTimeout(r, 5));
          seen.push(e.type);
          running--;
          if (seen.length === 4) resolveDone();
        },
      });
      right(await store.append(stream(), 1n, [event('C', 3)]));
      right(await store.append(stream(), 2n, [event('D', 4)]));
      await done;
      await subscription.stop();
      expect(seen).toEqual(['A', 'B', 'C', 'D']);
      expect(overlapped).toBe(false);
      right(await store.append(stream(), 3n, [event('E', 5)]));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(4);
    }));

    it('subscribes from an exclusive position', withStore(async (store, stream) => {
      const first = right(await store.append(stream(), 'no-stream', [event('A', 1)]));
      right(await store.append(stream(), 0n, [event('B', 2)]));
      const seen: string[] = [];
      await new Promise<void>((resolve) => {
        const subscription = store.subscribeAll({
          after: first.position,
          onEvent: async (e) => {
            if (e.streamId === stream()) seen.push(e.type);
            if (seen.length === 1) void subscription.stop().then(resolve);
          },
        });
      });
      expect(seen).toEqual(['B']);
    }));
  });
};
