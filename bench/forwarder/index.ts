// The event forwarder alone: this process's CPU per event while the forwarder publishes a log of
// BENCH_EVENTS (20,000) pool events of about 600 bytes each, read from SQLite, to the event stream
// of a nats-server of its own, from its start until JetStream has acknowledged the last one;
// BENCH_ROUNDS (3) rounds, each on a fresh server, median. To compare two versions of the
// forwarder, build both and run each in turn (interleaved): the figure is this process's CPU only,
// not nats-server's.
// Needs `nats-server` on the PATH.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { connect } from 'nats';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { startEventForwarder } from '../../services/bus/event-forwarder.js';
import { GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import type { ExpectedRevision } from '../../services/ledger/event-store.js';
import { NatsServer } from '../../test/support/nats-server.js';
import { fmt, median, printFigures, setting } from '../support/measure.js';

const EVENTS = setting('BENCH_EVENTS', 20_000, 2_000);
const ROUNDS = setting('BENCH_ROUNDS', 3, 1);

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-forwarder-'));
try {
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  let prev = GENESIS_HASH;
  let revision: ExpectedRevision = 'no-stream';
  for (let i = 0; i < EVENTS; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(EVENTS, i + 500); k++) {
      const metadata = { actor: 'bench', commandId: `c-${k}`, correlationId: `c-${k}`, causationId: `c-${k}`, timestamp: 1_700_000_000_000 + k };
      const event = sealed(prev, { type: 'TradeExecuted', data: { n: k, pad: 'p'.repeat(450) }, metadata });
      prev = event.hash;
      batch.push(event);
    }
    const appended = await store.append('pool-main', revision, batch);
    if (E.isLeft(appended)) throw new Error(JSON.stringify(appended.left));
    revision = BigInt(i + batch.length - 1);
  }
  const last = BigInt(EVENTS);
  const perEvent: number[] = [];
  const perWallSecond: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const serverDir = mkdtempSync(join(dir, 'nats-'));
    const server = await NatsServer.start(serverDir);
    const nc = await connect({ servers: server.url, noAsyncTraces: true });
    const cpu = process.cpuUsage();
    const started = Date.now();
    const forwarder = await startEventForwarder(nc, store, {});
    while (forwarder.forwarded() === 'start' || (forwarder.forwarded() as bigint) < last) await new Promise((r) => setTimeout(r, 5));
    const used = process.cpuUsage(cpu);
    const wall = (Date.now() - started) / 1000;
    await forwarder.stop();
    await nc.close();
    await server.stop();
    perEvent.push((used.user + used.system) / EVENTS);
    perWallSecond.push(EVENTS / wall);
    console.log(`round ${round + 1}: ${fmt((used.user + used.system) / EVENTS)} µs of CPU per event, ${fmt(EVENTS / wall)} events/s wall`);
  }
  await store.close();
  console.log(`forwarder: median ${fmt(median(perEvent))} µs of this process's CPU per event, ${fmt(median(perWallSecond))} events/s wall (${EVENTS.toLocaleString('en')} events, ${ROUNDS} rounds)`);
  printFigures({ forwarder_cpu_us_per_event: median(perEvent), forwarder_events_per_wall_s: median(perWallSecond) });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
