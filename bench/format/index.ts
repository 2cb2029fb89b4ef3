// The stored event format: bytes per stored event (data only, as JSON text) in schema version 1
// (postings included) and version 2 (compact), and decoding cost per stored event: io-ts on the v1
// text (the format before), io-ts on the v2 text, and the hand-written decoder on the v2 text;
// and encoding cost in each version.
// A log of domain-decided events (trades, marks, deposits); CPU time (process.cpuUsage), median of
// several rounds, variants interleaved in one process so their ratios are comparable.

import * as E from 'fp-ts/lib/Either.js';
import { decide, decodeEvent, decodeStoredEvent, encodeEvent, encodeEventV1, evolve, initialState, type Event, type PoolState } from '../../domain/index.js';
import { benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const setup: PoolSetup = { accounts: 10_000, markets: 10, collateral: 1_000_000_000n };
let state: PoolState = initialState;
const events: Event[] = [];
let now = benchContext.now;
for (const command of [...setupCommands(setup, defaultStartPrice), ...tradingCommands(COMMANDS, setup, 7)]) {
  now += 50;
  const decision = decide(command, state, { ...benchContext, now });
  if (E.isLeft(decision)) continue;
  for (const event of decision.right) {
    state = evolve(state, event);
    events.push(event);
  }
}

const v1 = events.map((e) => JSON.stringify(encodeEventV1(e)));
const v2 = events.map((e) => JSON.stringify(encodeEvent(e)));

// --- bytes --------------------------------------------------------------------------------------
const bytes = new Map<string, { n: number; v1: number; v2: number }>();
events.forEach((e, i) => {
  const entry = bytes.get(e.type) ?? { n: 0, v1: 0, v2: 0 };
  entry.n++;
  entry.v1 += Buffer.byteLength(v1[i]!);
  entry.v2 += Buffer.byteLength(v2[i]!);
  bytes.set(e.type, entry);
});
console.log(`log: ${events.length.toLocaleString('en-US')} events decided`);
for (const [type, { n, v1: a, v2: b }] of bytes) {
  console.log(`  ${type.padEnd(20)} ${String(n).padStart(7)} events  data v1 ${(a / n).toFixed(0).padStart(5)} B  v2 ${(b / n).toFixed(0).padStart(5)} B  (${((b / a) * 100).toFixed(0)}%)`);
}
const total = [...bytes.values()].reduce((s, x) => ({ v1: s.v1 + x.v1, v2: s.v2 + x.v2 }), { v1: 0, v2: 0 });
console.log(`  all events: v1 ${(total.v1 / events.length).toFixed(0)} B/event, v2 ${(total.v2 / events.length).toFixed(0)} B/event`);

// --- decoding -----------------------------------------------------------------------------------
const parsedV1 = v1.map((text) => JSON.parse(text) as unknown);
const parsedV2 = v2.map((text) => JSON.parse(text) as unknown);

const cpuMicros = (run: () => void): number => {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
};
const decodeAll = (inputs: ReadonlyArray<unknown>, decode: (u: unknown) => E.Either<unknown, Event>) => () => {
  for (const input of inputs) if (E.isLeft(decode(input))) throw new Error('a stored event did not decode');
};
const variants = {
  'io-ts, v1 data (before)': decodeAll(parsedV1, decodeEvent),
  'io-ts, v2 data': decodeAll(parsedV2, decodeEvent),
  'hand-written, v2 data': decodeAll(parsedV2, decodeStoredEvent),
  'hand-written, v1 data': decodeAll(parsedV1, decodeStoredEvent),
  // Encoding a v2 trade reads its value flows off its postings and checks that they rebuild.
  'encode v1 (before)': () => { for (const e of events) encodeEventV1(e); },
  'encode v2': () => { for (const e of events) encodeEvent(e); },
  'JSON.parse, v1 text': () => { for (const t of v1) JSON.parse(t); },
  'JSON.parse, v2 text': () => { for (const t of v2) JSON.parse(t); },
} as const;
const samples = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
for (const run of Object.values(variants)) run(); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) samples.get(name)!.push(cpuMicros(run) / events.length);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures: Record<string, number> = {};
console.log(`decode and encode, CPU µs per stored event (median of ${ROUNDS} rounds over ${events.length.toLocaleString('en-US')} events):`);
for (const [name, xs] of samples) {
  figures[name] = median(xs);
  console.log(`  ${name.padEnd(26)} ${median(xs).toFixed(2)} µs`);
}
const trades = bytes.get('TradeExecuted');
console.log(JSON.stringify({
  tradeBytesV1: trades === undefined ? null : Math.round(trades.v1 / trades.n),
  tradeBytesV2: trades === undefined ? null : Math.round(trades.v2 / trades.n),
  decodeIoTsV1Us: figures['io-ts, v1 data (before)'],
  decodeIoTsV2Us: figures['io-ts, v2 data'],
  decodeHandWrittenV2Us: figures['hand-written, v2 data'],
  encodeV1Us: figures['encode v1 (before)'],
  encodeV2Us: figures['encode v2'],
}));
