// Micro-benchmark: the CPU cost per event of sealing an event for the store (write) and of
// checking its link (read), in the format before stored text (format 1: event id, hash over
// canonical JSON, data and metadata stringified for the row) and now (one canonical text written
// once, one sha256 over prevHash and the text). Real events: trades, marks and deposits decided
// by the domain. CPU time (process.cpuUsage), median of rounds.

import * as E from 'fp-ts/lib/Either.js';
import { commandFingerprint, decide, encodeEvent, evolve, initialState, type PoolState } from '../../domain/index.js';
import { chainHash, GENESIS_HASH, sealed } from '../../services/ledger/chain.js';
import type { EventMetadata } from '../../services/ledger/event-store.js';
import { formatOneHash, type FormatOneEvent } from '../../services/ledger/format-one.js';
import { eventIdFor } from '../../test/support/format-one-log.js';
import { metadataText } from '../../services/ledger/stored-text.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

// The events, encoded as the writer hands them to sealing.
const setup: PoolSetup = { accounts: 1_000, markets: 10, collateral: 1_000_000_000n };
const events: { type: string; data: unknown; metadata: EventMetadata }[] = [];
let state: PoolState = initialState;
let now = Date.UTC(2026, 0, 1);
for (const command of [...setupCommands(setup, defaultStartPrice), ...tradingCommands(Math.ceil(EVENTS * 1.05), setup, 5)]) {
  if (events.length >= EVENTS) break;
  now += 50;
  const decision = decide(command, state, { ...benchContext, now });
  if (E.isLeft(decision)) continue;
  for (const event of decision.right) {
    const id = command.commandId;
    events.push({ type: event.type, data: encodeEvent(event), metadata: { commandId: id, correlationId: id, causationId: id, timestamp: now, actor: 'bench', fingerprint: commandFingerprint(command) } });
    state = evolve(state, event);
  }
}

// Format 1 as it was written: a derived event id, the hash over canonical JSON, the row's JSON.
const sealFormatOne = (): FormatOneEvent[] => {
  let prevHash = GENESIS_HASH;
  return events.map((e, i) => {
    const eventId = eventIdFor(POOL_ID, e.metadata.commandId, 0);
    const unhashed = { eventId, type: e.type, data: e.data, metadata: { ...e.metadata, schemaVersion: 1, prevHash, hash: '' }, position: BigInt(i), streamId: 'pool', revision: BigInt(i) };
    const hash = formatOneHash(unhashed);
    prevHash = hash;
    const sealedEvent = { ...unhashed, metadata: { ...unhashed.metadata, hash } };
    // What the adapter then did for the row.
    JSON.stringify(sealedEvent.data);
    JSON.stringify(sealedEvent.metadata);
    return sealedEvent;
  });
};
const verifyFormatOne = (sealedEvents: ReadonlyArray<FormatOneEvent>): void => {
  for (const e of sealedEvents) if (formatOneHash(e) !== e.metadata.hash) throw new Error('broken');
};
const sealNow = () => {
  let prevHash = GENESIS_HASH;
  return events.map((e) => {
    const next = sealed(prevHash, e);
    prevHash = next.hash;
    Buffer.from(next.hash, 'hex'); // the adapter's BLOB
    return next;
  });
};
const verifyNow = (sealedEvents: ReadonlyArray<{ text: string; hash: string }>): void => {
  let prevHash = GENESIS_HASH;
  for (const e of sealedEvents) {
    if (chainHash(prevHash, e.text) !== e.hash) throw new Error('broken');
    prevHash = e.hash;
  }
};

const cpuMicros = (work: () => void): number => {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return used.user + used.system;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const oneSealed = sealFormatOne();
const nowSealed = sealNow();
const rounds = { sealOld: [] as number[], sealNew: [] as number[], verifyOld: [] as number[], verifyNew: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved, so that load on the machine falls on both alike.
  rounds.sealOld.push(cpuMicros(sealFormatOne) / events.length);
  rounds.sealNew.push(cpuMicros(sealNow) / events.length);
  rounds.verifyOld.push(cpuMicros(() => verifyFormatOne(oneSealed)) / events.length);
  rounds.verifyNew.push(cpuMicros(() => verifyNow(nowSealed)) / events.length);
}
const bytesOld = oneSealed.reduce((n, e) => n + e.eventId.length + JSON.stringify(e.data).length + JSON.stringify(e.metadata).length, 0) / events.length;
const bytesNew = nowSealed.reduce((n, e) => n + Buffer.byteLength(e.text) + 32, 0) / events.length;
const metaOld = oneSealed.reduce((n, e) => n + JSON.stringify(e.metadata).length, 0) / events.length;
const metaNew = nowSealed.reduce((n, e) => n + metadataText(e.metadata).length, 0) / events.length;
const f = (x: number) => x.toFixed(2);
console.log(`hash micro: ${events.length.toLocaleString('en-US')} events (${ROUNDS} rounds, CPU µs/event, median)`);
console.log(`  seal for the store:  format 1 ${f(median(rounds.sealOld))}  now ${f(median(rounds.sealNew))}  (${(median(rounds.sealOld) / median(rounds.sealNew)).toFixed(1)}x)`);
console.log(`  verify a link:       format 1 ${f(median(rounds.verifyOld))}  now ${f(median(rounds.verifyNew))}  (${(median(rounds.verifyOld) / median(rounds.verifyNew)).toFixed(1)}x)`);
console.log(`  bytes per event (id + data + metadata + hash): format 1 ${bytesOld.toFixed(0)}  now ${bytesNew.toFixed(0)}; metadata ${metaOld.toFixed(0)} -> ${metaNew.toFixed(0)}`);
console.log(JSON.stringify({ sealOldMicros: median(rounds.sealOld), sealNewMicros: median(rounds.sealNew), verifyOldMicros: median(rounds.verifyOld), verifyNewMicros: median(rounds.verifyNew) }));
