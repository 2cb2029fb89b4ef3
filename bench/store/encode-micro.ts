// Micro-benchmark: the CPU cost per command of the writer's two encodings besides deciding, each
// the general way and the shortcut the writer takes, on the same real trades, rounds interleaved:
//   - the fingerprint: sha256 (hex) of the canonical JSON of the command's wire form (encode the
//     command with io-ts, canonicalize, createHash) against the flat commands' text written field
//     by field and a one-shot sha256. Same value (checked here on every command);
//   - a trade's stored data: encode the event to its v2 form with io-ts, then canonicalize it,
//     against the text written field by field. Same bytes (checked here on every trade).
// CPU time (process.cpuUsage), median of rounds.

import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { commandFingerprint, compactTradeText, decide, encodeEvent, evolve, initialState, type Command, type PoolState, type TradeExecuted } from '../../domain/index.js';
import { referenceCommandText } from '../../domain/idempotency.js';
import { canonicalText } from '../../services/ledger/stored-text.js';
import { benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const setup: PoolSetup = { accounts: 1_000, markets: 10, collateral: 1_000_000_000n };
const commands: Command[] = [];
const trades: TradeExecuted[] = [];
let state: PoolState = initialState;
for (const command of [...setupCommands(setup, defaultStartPrice), ...tradingCommands(Math.ceil(COMMANDS * 1.1), setup, 7)]) {
  if (commands.length >= COMMANDS) break;
  const decision = decide(command, state, benchContext);
  if (E.isLeft(decision)) continue;
  if (command.type === 'ExecuteTrade') commands.push(command);
  for (const event of decision.right) {
    if (event.type === 'TradeExecuted') trades.push(event);
    state = evolve(state, event);
  }
}

const referenceFingerprint = (command: Command): string => createHash('sha256').update(referenceCommandText(command), 'utf8').digest('hex');
for (const command of commands) if (commandFingerprint(command) !== referenceFingerprint(command)) throw new Error(`fingerprint differs for ${command.commandId}`);
for (const trade of trades) if (compactTradeText(trade) !== canonicalText(encodeEvent(trade))) throw new Error(`stored text differs for ${trade.tradeId}`);

let sink = 0;
const cpuMicrosPer = (n: number, work: () => void): number => {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rounds = { fpOld: [] as number[], fpNew: [] as number[], textOld: [] as number[], textNew: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  rounds.fpOld.push(cpuMicrosPer(commands.length, () => { for (const c of commands) sink += referenceFingerprint(c).length; }));
  rounds.fpNew.push(cpuMicrosPer(commands.length, () => { for (const c of commands) sink += commandFingerprint(c).length; }));
  rounds.textOld.push(cpuMicrosPer(trades.length, () => { for (const t of trades) sink += canonicalText(encodeEvent(t)).length; }));
  rounds.textNew.push(cpuMicrosPer(trades.length, () => { for (const t of trades) sink += compactTradeText(t)!.length; }));
}
const f = (x: number) => x.toFixed(2);
const line = (name: string, old: number[], now: number[]) =>
  console.log(`  ${name.padEnd(22)} general ${f(median(old))}  shortcut ${f(median(now))}  (${(median(old) / median(now)).toFixed(1)}x)`);
console.log(`encode micro: ${commands.length.toLocaleString('en-US')} trade commands, ${trades.length.toLocaleString('en-US')} trades (${ROUNDS} rounds, CPU µs each, median; same values checked)`);
line('fingerprint', rounds.fpOld, rounds.fpNew);
line('trade stored data', rounds.textOld, rounds.textNew);
console.log(JSON.stringify({ fingerprintMicros: median(rounds.fpOld), fingerprintShortcutMicros: median(rounds.fpNew), tradeTextMicros: median(rounds.textOld), tradeTextShortcutMicros: median(rounds.textNew), sink: sink > 0 }));
