// `ledger`: the command-line entry point.
//   ledger run <file.jsonl> [--json] [--strict]   run one command per line through the pool decider
//   ledger help
// `run` keeps the pool in memory for now; the event store arrives with the storage work.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import {
  decide, decodeCommand, evolve, formatDecimal, initialState, invalidInput, poolView,
  type Event, type PoolState,
} from '../domain/index.js';
import { encodeOutcome, type Outcome } from './outcome.js';

const usage = `usage:
  ledger run <file.jsonl> [--json] [--strict]
      run one JSON command per line through the pool decider, print each line's outcome, then the
      pool (accounts, tranches, markets). A line that cannot be decoded is reported with its line
      number and the run goes on.
      --json     one JSON object per line, then {"pool": ...}
      --strict   exit with status 2 if any line could not be decoded
  ledger help    this text

Exit status: 0 when the file was run, 2 with --strict when a line could not be decoded,
1 on a usage error or an unreadable file.`;

interface LineOutcome {
  readonly line: number;
  readonly outcome: Outcome;
}

/** Decode, decide and apply each line in order; bad lines are reported and skipped. */
export const runLines = (lines: ReadonlyArray<string>, now: () => number = Date.now): { outcomes: LineOutcome[]; state: PoolState } => {
  let state: PoolState = initialState;
  const outcomes: LineOutcome[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      outcomes.push({ line, outcome: { status: 'invalid', error: invalidInput([{ path: '(root)', message: `not JSON: ${(error as Error).message}` }]) } });
      return;
    }
    const command = decodeCommand(json);
    if (E.isLeft(command)) {
      const commandId = (json as { commandId?: unknown }).commandId;
      outcomes.push({ line, outcome: { status: 'invalid', ...(typeof commandId === 'string' ? { commandId } : {}), error: command.left } });
      return;
    }
    const decision = decide(command.right, state, { now: now(), actor: 'cli' });
    if (E.isLeft(decision)) {
      outcomes.push({ line, outcome: { status: 'rejected', commandId: command.right.commandId, error: decision.left } });
      return;
    }
    for (const event of decision.right) state = evolve(state, event);
    outcomes.push({ line, outcome: { status: 'accepted', commandId: command.right.commandId, events: decision.right } });
  });
  return { outcomes, state };
};

const describeEvent = (event: Event): string => {
  switch (event.type) {
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
      return `${event.type} ${event.accountId} ${formatDecimal(event.amount)}`;
    case 'TradeExecuted':
      return `${event.type} ${event.tradeId}: ${event.taker} ${event.takerSide}s ${formatDecimal(event.size)} ${event.marketId} @ ${formatDecimal(event.price)} from ${event.maker}; fees ${formatDecimal(event.takerFee)} + ${formatDecimal(event.makerFee)}, fund share ${event.fundSharePpm} ppm`;
    case 'MarkPriceUpdated':
      return `${event.type} ${event.marketId} ${formatDecimal(event.price)}`;
    case 'MarketListed':
      return `${event.type} ${event.marketId}`;
    case 'PoolCreated':
      return `${event.type} ${event.poolId}`;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
};

const describeOutcome = ({ line, outcome }: LineOutcome): string => {
  switch (outcome.status) {
    case 'accepted':
      return `line ${line}: accepted ${outcome.commandId}\n${outcome.events.map((e) => `    ${describeEvent(e)}`).join('\n')}`;
    case 'rejected':
      return `line ${line}: rejected ${outcome.commandId}: ${outcome.error.code}${outcome.error.field !== undefined ? ` (${outcome.error.field})` : ''}: ${outcome.error.message}`;
    case 'invalid':
      return `line ${line}: invalid input${outcome.commandId !== undefined ? ` ${outcome.commandId}` : ''}: ${outcome.error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
};

const run = (args: string[]): number => {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, strict: { type: 'boolean', default: false } }, allowPositionals: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    console.error(usage);
    return 1;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`cannot read ${file}: ${(error as Error).message}`);
    return 1;
  }
  const { outcomes, state } = runLines(text.split('\n'));
  const view = poolView(state);
  if (values.json) {
    for (const o of outcomes) console.log(JSON.stringify({ line: o.line, ...(encodeOutcome(o.outcome) as object) }));
    console.log(JSON.stringify({ pool: view ?? null }));
  } else {
    for (const o of outcomes) console.log(describeOutcome(o));
    console.log(view === undefined ? '\nno pool was created' : `\npool ${JSON.stringify(view, null, 2)}`);
  }
  return values.strict && outcomes.some((o) => o.outcome.status === 'invalid') ? 2 : 0;
};

export const main = (argv: string[]): number => {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      try {
        return run(rest);
      } catch (error) {
        console.error((error as Error).message);
        console.error(usage);
        return 1;
      }
    case 'help':
    case '--help':
    case undefined:
      console.log(usage);
      return command === undefined ? 1 : 0;
    default:
      console.error(`unknown command "${command}"\n${usage}`);
      return 1;
  }
};
