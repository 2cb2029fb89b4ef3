// `ledger`: the command-line entry point.
//   ledger run <file.jsonl> [--json] [--strict] [--data DIR] [--root-governors FILE] [--governor-key FILE]...
//   ledger audit [--data DIR] [--pool ID] [--at POSITION|ISO-TIME] [--check-every N] [--root-governors FILE]
//                [--checkpoints FILE|URL --checkpoint-key HEX|FILE|URL] [--json]
//   ledger stress [--data DIR] [--pool ID] (--scenario FILE | --shock PPM --liquidator ID) [--json]
//   ledger serve
//   ledger principal add <id> --role R... --pool P... [--nats-user U] [--description D] [--file F]
//   ledger principal list [--file F]
//   ledger principal remove <id> [--file F]
//   ledger keygen [--out FILE]
//   ledger nats-config [--principals FILE]
//   ledger nats-reset [--confirm]
//   ledger migrate --data DIR
//   ledger help

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeCommand, decodeWith, formatDecimal, parseJson, isGovernanceCommand,
  type Event, type Governors, type PoolState,
} from '../domain/index.js';
import { SqliteEventStore } from '../adapters/sqlite/sqlite-event-store.js';
import { migrateFormatOne } from '../adapters/sqlite/migrate.js';
import type { EventStore } from './ledger/event-store.js';
import { PoolWriter, poolStream } from './ledger/pool-writer.js';
import { accountView, emptyModel, type Document } from '../projections/read-models.js';
import { projectAll } from '../projections/runner.js';
import { openStore, storeConfigFrom } from './ledger/store-config.js';
import { audit, describeProblem, type AuditOptions, type AuditReport } from './audit.js';
import { serviceConfigFrom, startService } from './service.js';
import { ensurePrincipals } from './auth/principals.js';
import { NewPrincipalSpec, PrincipalRegistry } from './auth/registry.js';
import { encodeOutcome, type Outcome } from './outcome.js';
import { stressCommand, stressUsage } from './stress-cli.js';
import { PRINCIPALS_FILE_NAME, readPrincipals } from './auth/principals.js';
import { natsServerConfig } from './bus/nats-config.js';
import { connect } from 'nats';
import { connectionOptions, natsIdentityFrom, redactedServers } from './bus/connection.js';
import { resetLedgerStreams } from './bus/nats-reset.js';
import { generateGovernorKey, readGovernorKey, readGovernorsFile, signCommand, type GovernorKey } from './governance-keys.js';
import { parseCheckpoints, publicKeyHexOf, type Checkpoint } from './ledger/checkpoints.js';
import { describeProgress, progressReporter, streamLength } from './progress.js';

/** The text of a file, or of a URL (GET, with the bearer token in LEDGER_TOKEN when set). */
const textOf = async (source: string): Promise<string> => {
  if (!/^https?:\/\//.test(source)) return readFileSync(source, 'utf8');
  const token = process.env.LEDGER_TOKEN;
  const response = await fetch(source, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${source}: HTTP ${response.status}`);
  return response.text();
};

/** --checkpoints and --checkpoint-key, read and decoded, or a message naming the option. */
const checkpointsOption = async (source: string | undefined, keySource: string | undefined): Promise<E.Either<string, { readonly list: Checkpoint[]; readonly publicKey: string } | undefined>> => {
  if (source === undefined && keySource === undefined) return E.right(undefined);
  if (source === undefined || keySource === undefined) return E.left('--checkpoints and --checkpoint-key go together: the checkpoints and the key they must be signed with');
  let keyText: string;
  let text: string;
  try {
    keyText = /^[0-9a-f]{64}$/.test(keySource) ? keySource : await textOf(keySource);
    if (/^https?:\/\//.test(keySource)) keyText = String((JSON.parse(keyText) as { publicKey?: unknown }).publicKey);
  } catch (error) {
    return E.left(`--checkpoint-key: ${(error as Error).message}`);
  }
  const publicKey = publicKeyHexOf(keyText);
  if (E.isLeft(publicKey)) return E.left(`--checkpoint-key: ${publicKey.left}`);
  try {
    text = await textOf(source);
  } catch (error) {
    return E.left(`--checkpoints: ${(error as Error).message}`);
  }
  const list = parseCheckpoints(text);
  if (E.isLeft(list)) return E.left(`--checkpoints: ${list.left.message}`);
  return E.right({ list: list.right, publicKey: publicKey.right });
};

/** Progress of long work on stderr, once a second; nothing for work done within the first second. */
const stderrProgress = (label: string, unit: string, total: number | undefined) => {
  const started = Date.now();
  const reporter = progressReporter(total, (p) => process.stderr.write(`${describeProgress(label, unit, p)}\n`));
  return { tick: reporter.tick, finish: () => (Date.now() - started >= 1_000 ? reporter.finish() : undefined) };
};

/** The governor set in the file an option names, or a message naming the option and the field. */
const governorsOption = (option: string, path: string | undefined): E.Either<string, Governors | undefined> => {
  if (path === undefined) return E.right(undefined);
  const read = readGovernorsFile(path);
  if (E.isRight(read)) return read;
  const error = read.left;
  return E.left(`${option} ${path}: ${'errors' in error ? error.errors.map((e) => `${e.path}: ${e.message}`).join('; ') : error.message}`);
};

const usage = `usage:
  ledger run <file.jsonl> [--json] [--strict] [--data DIR] [--root-governors FILE] [--governor-key FILE]...
      run one JSON command per line through the full command side (decide, hash chain, durable
      append) on a fresh embedded store, print each line's outcome, then every read model of each
      pool (fund health, tranches, markets, accounts). A line that cannot be decoded is reported with its line number and the
      run goes on.
      --data DIR          use (and keep) the embedded store in DIR: a second run resumes it, and
                          commands it already handled are not applied twice
      --json              one JSON object per line, then {"pool": ...}
      --strict            exit with status 2 if any line could not be decoded
      --root-governors FILE  the deployment's root governors ({"publicKeys": [...], "threshold": n}),
                          who alone may create a pool; without it every CreatePool is refused
      --governor-key FILE sign every governance command that carries no signatures with this key
                          (repeat for more keys)
  ledger audit [--data DIR] [--pool ID] [--at POSITION|ISO-TIME] [--check-every N] [--root-governors FILE]
               [--checkpoints FILE|URL --checkpoint-key HEX|FILE|URL] [--json]
      read the pool's whole log (from DIR/events.sqlite, else EVENTSTORE_URL or DATA_DIR), verify
      the hash chain, re-verify every governance approval, replay every event checking invariants
      1 to 4, and report; with --at, the
      state as of that event position or time. With MONGODB_URL set, the stored read models are
      compared with the ones the log gives. Exits 1 at the first problem, naming its position.
      --pool ID           the pool (default main)
      --check-every N     check invariants 1-3 after every Nth event (default 1: every event)
      --root-governors FILE  the root governor set the pool's creation must have been approved by
      --data DIR          a directory holding a store (DIR/events.sqlite); one that does not
                          exist is an error, never created
      --json              the report as JSON
      --checkpoints FILE|URL  signed checkpoints the log must contain: JSON lines, or a JSON array
                          (the answer of GET /v1/pools/{poolId}/checkpoints; a URL is fetched with
                          the bearer token in LEDGER_TOKEN). Each signature is verified and the log
                          must have the same hash at each checkpoint's revision.
      --checkpoint-key K  the service's public key: 64 hex digits, a file (hex or PEM), or a URL
                          (GET /v1/checkpoint-key); keep your own copy rather than trust the service's
      Every snapshot kept is compared with the replayed state at its revision.
      progress (count, rate, time left) goes to stderr for work longer than a second
${stressUsage}
  ledger serve
      the service: HTTP on HOST:PORT (default 127.0.0.1:8080), the SQLite store under DATA_DIR
      (default ./data), in-memory read models rebuilt at start; EVENTSTORE_URL and MONGODB_URL
      switch to those. Principals from PRINCIPALS_FILE, else DATA_DIR/principals.json (created
      on the first start with an operator whose token is in DATA_DIR/operator.token). Re-reads
      the principals file on SIGHUP; stops cleanly on SIGTERM or SIGINT. STRESS_SHOCK_PPM sets
      the Cover-2 shocks fund health reports ("300000", or "250000,BTC-PERP=400000"); the read
      models' rebuild at start is logged with its progress.
  ledger principal add <id> --role R [--role R]... --pool P [--pool P]... [--nats-user U]
                       [--description D] [--file F]
      add a principal to the principals file (--file, else PRINCIPALS_FILE, else
      DATA_DIR/principals.json, created if missing) and print its bearer token, this once
  ledger principal list [--file F]       the principals, without their token hashes (JSON)
  ledger principal remove <id> [--file F]
      a running service applies a change on SIGHUP (or at its next start)
  ledger keygen [--out FILE]
      generate an ed25519 governor key: {"publicKey": hex, "privateKeyPem": ...}, written to FILE
      (readable by its owner only) or printed
  ledger nats-reset [--confirm]
      after the event log was reset or restored (the service refuses to start on streams that
      hold another log's history): delete the ledger's NATS streams (events, outcomes, commands;
      the DLQ is kept), connecting with the service's NATS_URL and NATS_* credentials. Stop the
      service first; without --confirm, only says what it would delete
  ledger migrate --data DIR
      rewrite the embedded store DIR/events.sqlite from format 1 (written by earlier versions,
      which the other commands refuse to read) into the current format: the old hash chain and
      the checkpoints kept in it are verified first (the first break stops it, changing nothing),
      then every pool event is carried over, chained with the current rule. Every hash and the
      log's identity change: snapshots and checkpoints are not carried over (the service writes
      new ones), the old file is kept as DIR/events.format1.sqlite for audits against checkpoints
      published before, and the NATS streams must be reset (ledger nats-reset --confirm). Stop
      the service first
  ledger nats-config [--principals FILE]
      print a nats-server configuration for the principals file (FILE, else PRINCIPALS_FILE, else
      DATA_DIR/principals.json): a user per principal with a NATS identity and one for the
      ledger, passwords from NATS_<USER>_PASSWORD variables, and subject permissions
  ledger help    this text

Exit status: 0 when the file was run, 2 with --strict when a line could not be decoded,
1 on a usage error or an unreadable file.`;

interface LineOutcome {
  readonly line: number;
  readonly outcome: Outcome;
}

export interface RunOptions {
  /** The event store the pools' streams live in. */
  readonly store: EventStore;
  /** Keys that sign governance commands which carry no signatures. */
  readonly governorKeys?: ReadonlyArray<GovernorKey>;
  /** The deployment's root governors (without them, CreatePool is refused). */
  readonly rootGovernors?: Governors;
  readonly clock?: () => number;
  /** Called after each line with how many lines were handled. */
  readonly onLine?: (handled: number) => void;
}

/**
 * Each line through the full command side, in order: decoded, then submitted to the pool's
 * writer (decided, chained, appended durably). A line that does not decode is reported and
 * skipped. Returns every line's outcome and the final state of every pool the file named.
 */
export const runLines = async (lines: ReadonlyArray<string>, options: RunOptions): Promise<{ outcomes: LineOutcome[]; pools: Map<string, PoolState> }> => {
  const keys = options.governorKeys ?? [];
  const writers = new Map<string, PoolWriter>();
  const writerFor = async (poolId: string): Promise<PoolWriter> => {
    let writer = writers.get(poolId);
    if (writer === undefined) {
      writer = await PoolWriter.open(options.store, poolId, {
        maxLatencyMs: 0, ...(options.clock === undefined ? {} : { clock: options.clock }), ...(options.rootGovernors === undefined ? {} : { rootGovernors: options.rootGovernors }),
      });
      writers.set(poolId, writer);
    }
    return writer;
  };
  const outcomes: LineOutcome[] = [];
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    if (text.trim() === '') continue;
    const json = parseJson(text);
    if (E.isLeft(json)) {
      outcomes.push({ line, outcome: { status: 'invalid', error: json.left } });
      continue;
    }
    const command = decodeCommand(json.right);
    if (E.isLeft(command)) {
      const commandId = (json.right as { commandId?: unknown } | null)?.commandId;
      outcomes.push({ line, outcome: { status: 'invalid', ...(typeof commandId === 'string' ? { commandId } : {}), error: command.left } });
      continue;
    }
    const unsigned = command.right;
    const toSubmit = keys.length > 0 && isGovernanceCommand(unsigned) && unsigned.signatures.length === 0 ? signCommand(unsigned, ...keys) : unsigned;
    const writer = await writerFor(toSubmit.poolId);
    outcomes.push({ line, outcome: await writer.submit({ command: toSubmit, actor: 'cli' }) });
    options.onLine?.(line);
  }
  return { outcomes, pools: new Map([...writers].map(([poolId, writer]) => [poolId, writer.current.state])) };
};

interface ReadModelsOfPool {
  readonly poolId: string;
  readonly fundHealth: unknown;
  readonly tranches: unknown[];
  readonly markets: unknown[];
  readonly accounts: unknown[];
}

/** Every read model of a pool, projected from its log, accounts with their mark-dependent figures. */
const readModelsOf = async (store: EventStore, poolId: string): Promise<ReadModelsOfPool | undefined> => {
  const events = await store.readStream(poolStream(poolId), 0n, Number.MAX_SAFE_INTEGER);
  if (E.isLeft(events)) return undefined;
  const model = emptyModel();
  const documents = [...projectAll(events.right, model).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const state = model.pools.get(poolId)?.state;
  if (state === undefined || state.status !== 'active') return undefined;
  const bodies = (collection: Document['collection']) => documents.filter((d) => d.collection === collection).map((d) => d.body);
  return {
    poolId,
    fundHealth: bodies('fund-health')[0] ?? null,
    tranches: bodies('tranches'),
    markets: bodies('markets'),
    accounts: documents.flatMap((d) => (d.collection === 'accounts' ? [accountView(state, d.body)] : [])),
  };
};

const describeEvent = (event: Event): string => {
  switch (event.type) {
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
      return `${event.type} ${event.accountId} ${formatDecimal(event.amount)}`;
    case 'TradeExecuted':
      return `${event.type} ${event.tradeId}: ${event.taker} ${event.takerSide}s ${formatDecimal(event.size)} ${event.marketId} @ ${formatDecimal(event.price)} from ${event.maker}; fees ${formatDecimal(event.takerFee)} + ${formatDecimal(event.makerFee)}${event.makerRebate === undefined ? '' : ` (maker rebate ${formatDecimal(event.makerRebate)})`}, fund share ${event.fundSharePpm} ppm`;
    case 'MarkPriceUpdated':
      return `${event.type} ${event.marketId} ${formatDecimal(event.price)}`;
    case 'MarketListed':
      return `${event.type} ${event.marketId}`;
    case 'PoolCreated':
      return `${event.type} ${event.poolId}`;
    case 'Staked':
      return `${event.type} ${event.stakerId} ${formatDecimal(event.amount)} into ${event.trancheId} for ${formatDecimal(event.sharesMinted)} shares`;
    case 'UnstakeRequested':
      return `${event.type} ${event.requestId}: ${event.stakerId} ${formatDecimal(event.shares)} shares of ${event.trancheId} worth ${formatDecimal(event.value)}, from ${new Date(event.availableAt).toISOString()}`;
    case 'UnstakeCompleted':
      return `${event.type} ${event.requestId}: ${event.stakerId} paid ${formatDecimal(event.payout)} for ${formatDecimal(event.shares)} shares of ${event.trancheId}`;
    case 'UnstakeCancelled':
      return `${event.type} ${event.requestId}`;
    case 'PositionLiquidated':
      return `${event.type} ${event.accountId} ${formatDecimal(event.size)} ${event.marketId}: ${event.liquidatorId} takes ${formatDecimal(event.liquidatorSize)} @ ${formatDecimal(event.price)} (bankruptcy ${formatDecimal(event.bankruptcyPrice)}); deficit ${formatDecimal(event.deficit)}, penalty ${formatDecimal(event.penalty)}`;
    case 'InsuranceFundDrawn':
      return `${event.type} ${formatDecimal(event.amount)}: ${event.draws.map((d) => `${d.trancheId} ${formatDecimal(d.amount)}${d.writtenOff ? ' (written off)' : ''}`).join(', ')}`;
    case 'PositionsAutoDeleveraged':
      return `${event.type} at ${formatDecimal(event.bankruptcyPrice)}: ${event.fills.map((f) => `${f.accountId} ${formatDecimal(f.size)} for ${formatDecimal(f.notional)}`).join(', ')}` +
        (event.lossAtMark === undefined ? '' : `; loss at mark ${formatDecimal(event.lossAtMark)} for a deficit covered of ${formatDecimal(event.deficitCovered ?? 0n)}`);
    case 'LossSocialized':
      return `${event.type} ${formatDecimal(event.amount)} over ${event.postings.length} accounts`;
    case 'BadDebtRecorded':
      return `${event.type} ${formatDecimal(event.amount)}`;
    case 'ParametersChanged':
      return `${event.type}`;
    case 'TrancheAdded':
      return `${event.type} ${event.trancheId} at seniority ${event.seniority}`;
    case 'Recapitalized':
      return `${event.type} ${formatDecimal(event.amount)}: bad debt repaid ${formatDecimal(event.badDebtRepaid)}, ${formatDecimal(event.sharesMinted)} shares of ${event.trancheId} to the protocol`;
    case 'FundingRateApplied':
      return `${event.type} ${event.marketId} ${event.fundingRatePpm} ppm at ${formatDecimal(event.mark)}: index ${formatDecimal(event.fundingIndex)}`;
    case 'FundingSettled':
      return `${event.type} ${event.accountId}: ${event.settlements.map((s) => `${s.marketId} ${formatDecimal(s.amount)}`).join(', ')}`;
    case 'FundPaidOut':
      return `${event.type} ${formatDecimal(event.amount)} to ${event.recipient.kind === 'account' ? event.recipient.accountId : 'external'} (${event.governanceRef}: ${event.reason})`;
    case 'CommandRejected':
      return `${event.type} ${event.commandType}: ${event.error.code}${event.error.field === undefined ? '' : ` (${event.error.field})`}`;
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
    case 'failed':
      return `line ${line}: failed ${outcome.commandId}: ${outcome.error.code}: ${outcome.error.message}`;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
};

const run = async (args: string[]): Promise<number> => {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'governor-key': { type: 'string', multiple: true, default: [] },
      'root-governors': { type: 'string' },
      data: { type: 'string' },
    },
    allowPositionals: true,
  });
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
  const governorKeys: GovernorKey[] = [];
  for (const path of values['governor-key'] ?? []) {
    const key = readGovernorKey(path);
    if (E.isLeft(key)) {
      console.error(key.left.message);
      return 1;
    }
    governorKeys.push(key.right);
  }
  const rootGovernors = governorsOption('--root-governors', values['root-governors']);
  if (E.isLeft(rootGovernors)) {
    console.error(rootGovernors.left);
    return 1;
  }
  // The events go to the embedded store in --data (kept, so `ledger run` can resume it and an
  // auditor can check it), or to a fresh one in a temporary directory.
  const dir = values.data ?? mkdtempSync(join(tmpdir(), 'ledger-run-'));
  const store = new SqliteEventStore(join(dir, 'events.sqlite'), { writerLock: true });
  let result: Awaited<ReturnType<typeof runLines>>;
  const models: ReadModelsOfPool[] = [];
  try {
    const lines = text.split('\n');
    const progress = stderrProgress(`ledger run ${file}`, 'lines', lines.length);
    result = await runLines(lines, { store, governorKeys, onLine: progress.tick, ...(rootGovernors.right === undefined ? {} : { rootGovernors: rootGovernors.right }) });
    progress.finish();
    for (const poolId of result.pools.keys()) {
      const pool = await readModelsOf(store, poolId);
      if (pool !== undefined) models.push(pool);
    }
  } finally {
    await store.close();
    if (values.data === undefined) rmSync(dir, { recursive: true, force: true });
  }
  if (values.json) {
    for (const o of result.outcomes) console.log(JSON.stringify({ line: o.line, ...(encodeOutcome(o.outcome) as object) }));
    for (const readModels of models) console.log(JSON.stringify({ readModels }));
  } else {
    for (const o of result.outcomes) console.log(describeOutcome(o));
    console.log(models.length === 0 ? '\nno pool was created' : models.map((m) => `\nread models of pool ${m.poolId}\n${JSON.stringify(m, null, 2)}`).join('\n'));
  }
  const outcomes = result.outcomes;
  return values.strict && outcomes.some((o) => o.outcome.status === 'invalid') ? 2 : 0;
};

const keygen = (args: string[]): number => {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  const key = generateGovernorKey();
  const json = `${JSON.stringify(key, null, 2)}\n`;
  if (values.out === undefined) {
    process.stdout.write(json);
  } else {
    writeFileSync(values.out, json, { mode: 0o600, flag: 'wx' });
    console.log(`wrote ${values.out}; public key ${key.publicKey}`);
  }
  return 0;
};

const natsConfig = (args: string[]): number => {
  const { values } = parseArgs({ args, options: { principals: { type: 'string' } } });
  const path = values.principals ?? process.env.PRINCIPALS_FILE ?? join(process.env.DATA_DIR ?? './data', PRINCIPALS_FILE_NAME);
  const config = E.flatMap(natsServerConfig)(readPrincipals(path));
  if (E.isLeft(config)) {
    console.error(config.left.message);
    return 1;
  }
  process.stdout.write(config.right);
  return 0;
};

const auditCommand = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      pool: { type: 'string', default: 'main' },
      at: { type: 'string' },
      'check-every': { type: 'string', default: '1' },
      'root-governors': { type: 'string' },
      checkpoints: { type: 'string' },
      'checkpoint-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const rootGovernors = governorsOption('--root-governors', values['root-governors']);
  if (E.isLeft(rootGovernors)) {
    console.error(rootGovernors.left);
    return 1;
  }
  const checkpoints = await checkpointsOption(values.checkpoints, values['checkpoint-key']);
  if (E.isLeft(checkpoints)) {
    console.error(checkpoints.left);
    return 1;
  }
  const checkEvery = Number(values['check-every']);
  if (!Number.isSafeInteger(checkEvery) || checkEvery < 1) {
    console.error('--check-every: expected a whole number of events, at least 1');
    return 1;
  }
  let at: AuditOptions['at'];
  if (values.at !== undefined) {
    if (/^[0-9]+$/.test(values.at)) at = { position: BigInt(values.at) };
    else if (!Number.isNaN(Date.parse(values.at))) at = { time: Date.parse(values.at) };
    else {
      console.error(`--at: expected an event position or an ISO time, got "${values.at}"`);
      return 1;
    }
  }
  let store: EventStore;
  if (values.data !== undefined) {
    // Opening a store creates it: a mistyped directory must fail, not audit an empty new ledger.
    const path = join(values.data, 'events.sqlite');
    if (!existsSync(path)) {
      console.error(`--data ${values.data}: no ledger store there (${path} does not exist); nothing was created`);
      return 1;
    }
    store = new SqliteEventStore(path);
  } else {
    const config = storeConfigFrom(process.env);
    if (E.isLeft(config)) {
      console.error(`configuration: ${config.left.message}`);
      return 1;
    }
    store = openStore(config.right);
  }
  // Stored read models to compare, when there are any (the in-memory default has none).
  const readModels = process.env.MONGODB_URL !== undefined && at === undefined ? await (await import('../adapters/mongodb/mongo-read-model-store.js')).MongoReadModelStore.connect(process.env.MONGODB_URL) : undefined;
  try {
    const poolId = values.pool ?? 'main';
    const progress = stderrProgress(`ledger audit ${poolId}`, 'events', Number(await streamLength(store, poolStream(poolId))));
    const report = await audit(store, {
      poolId, checkEvery, ...(at === undefined ? {} : { at }), ...(readModels === undefined ? {} : { readModels }),
      ...(rootGovernors.right === undefined ? {} : { rootGovernors: rootGovernors.right }),
      ...(checkpoints.right === undefined ? {} : { checkpoints: checkpoints.right }),
      onProgress: progress.tick, progressEvery: 1_000,
    });
    progress.finish();
    if (values.json) console.log(JSON.stringify(auditJson(report), null, 2));
    else console.log(describeAudit(report, checkEvery, at !== undefined));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
    await readModels?.close();
  }
};

const auditJson = (report: AuditReport): unknown => ({
  poolId: report.poolId,
  ok: report.ok,
  eventsReplayed: report.eventsReplayed,
  lastPosition: report.lastPosition?.toString() ?? null,
  lastRevision: report.lastRevision?.toString() ?? null,
  lastHash: report.lastHash,
  liquidationsChecked: report.liquidationsChecked,
  rejectionsRecorded: report.rejectionsRecorded,
  approvalsVerified: report.approvalsVerified,
  checkpointsVerified: report.checkpointsVerified,
  snapshotsVerified: report.snapshotsVerified,
  problem: report.problem === undefined ? null : { kind: report.problem.kind, message: describeProblem(report.problem) },
  pool: report.view ?? null,
});

const describeAudit = (report: AuditReport, checkEvery: number, partial: boolean): string => {
  const lines = [
    `audit of pool ${report.poolId}${partial ? ` as of position ${report.lastPosition ?? '-'}` : ''}: ${report.ok ? 'OK' : 'FAILED'}`,
    `  events replayed:        ${report.eventsReplayed}${report.lastPosition === undefined ? '' : ` (last at position ${report.lastPosition}, revision ${report.lastRevision})`}`,
    `  hash chain:             ${report.problem?.kind === 'broken-chain' ? 'BROKEN' : 'unbroken'}, last hash ${report.lastHash}`,
    `  invariants 1-3:         checked after ${checkEvery === 1 ? 'every event' : `every ${checkEvery} events and at the end`}`,
    `  waterfall (invariant 4): ${report.liquidationsChecked} liquidations checked`,
    `  refusals recorded:      ${report.rejectionsRecorded} (each command id once, one fingerprint per command)`,
    `  governance:             ${report.problem?.kind === 'governance' ? 'an approval does NOT verify' : `${report.approvalsVerified} approvals re-verified`}`,
    `  checkpoints:            ${report.problem?.kind === 'checkpoint' ? 'one is NOT in the log (or not signed by the key)' : `${report.checkpointsVerified} signed checkpoints found in the log`}`,
    `  snapshots:              ${report.problem?.kind === 'snapshot' ? 'one does NOT match the replay' : `${report.snapshotsVerified} match the replayed state`}`,
  ];
  if (report.problem !== undefined) lines.push(`  problem:                ${describeProblem(report.problem)}`);
  if (report.view !== undefined) {
    const v = report.view;
    lines.push(`  pool:                   fund ${v.fundAssets} (${v.tranches.map((t) => `${t.trancheId} ${t.assets}`).join(', ')}), treasury ${v.treasury}, open interest ${v.openInterest}, bad debt ${v.badDebt}, ${v.accounts.length} accounts`);
  }
  if (partial && report.view !== undefined) lines.push(JSON.stringify(report.view, null, 2));
  return lines.join('\n');
};

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Run the service until SIGTERM or SIGINT, then stop it cleanly, within SHUTDOWN_TIMEOUT_MS. */
const serve = async (): Promise<number> => {
  const config = serviceConfigFrom(process.env);
  if (E.isLeft(config)) {
    console.error(`refusing to start, bad configuration: ${config.left.message}`);
    return 1;
  }
  const service = await startService(config.right);
  const reload = () => void service.reloadPrincipals();
  process.on('SIGHUP', reload);
  const failure = await new Promise<Error | undefined>((resolve) => {
    const stop = () => resolve(undefined);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    void service.failed.then(resolve);
  });
  process.off('SIGHUP', reload);
  // Bounded: whatever state NATS and the store are in, the process ends (status 1 when the stop
  // did not finish in time, or failed, naming what it was doing).
  const bound = config.right.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    service.stop().then(() => 'stopped' as const, (error: unknown) => error as Error),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), bound); }),
  ]);
  clearTimeout(timer);
  if (ended === 'timeout') console.error(`the service did not stop within ${bound} ms (still ${service.stopping() ?? 'stopping'}); exiting anyway`);
  else if (ended !== 'stopped') console.error(`the service did not stop cleanly (${service.stopping() ?? 'stopping'}): ${ended.message}`);
  if (failure !== undefined) console.error(`the service stopped: ${failure.message}`);
  // Nothing may keep the process alive now (a NATS client reconnecting, a stuck handle).
  process.exit(ended === 'stopped' && failure === undefined ? 0 : 1);
};

/**
 * Delete the ledger's NATS streams (events, outcomes, commands) after the event log was reset or
 * restored; without --confirm, only say what would be deleted. Connects like the service does.
 */
const migrate = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({ args, options: { data: { type: 'string' } } });
  if (values.data === undefined) {
    console.error(helpOf('migrate'));
    return 1;
  }
  const report = await migrateFormatOne(join(values.data, 'events.sqlite'));
  for (const pool of report.pools) {
    console.log(`${pool.streamId}: ${pool.events} events migrated; old head ${pool.oldHead}, new head ${pool.newHead}, new log identity ${pool.newIdentity}`);
  }
  console.log(`old chain verified (${report.checkpointsVerified} checkpoints kept in it matched); ${report.dropped} snapshot and checkpoint events not carried over; the old log is kept as ${report.keptAs}`);
  console.log('next: ledger nats-reset --confirm if the service forwards events to NATS; the service signs a new checkpoint as it runs');
  return 0;
};

const natsReset = async (args: string[]): Promise<number> => {
  const { values } = parseArgs({ args, options: { confirm: { type: 'boolean', default: false } } });
  const url = process.env.NATS_URL;
  if (url === undefined || url === '') {
    console.error('NATS_URL is not set: give the service\'s NATS_URL and NATS credentials');
    return 1;
  }
  const identity = natsIdentityFrom(process.env);
  if (E.isLeft(identity)) {
    console.error(`bad configuration: ${identity.left.message}`);
    return 1;
  }
  const nc = await connect({ ...connectionOptions(identity.right), servers: url.split(','), name: 'ledger nats-reset' });
  try {
    const streams = await resetLedgerStreams(await nc.jetstreamManager(), values.confirm);
    for (const s of streams) {
      console.error(s.messages === undefined ? `${s.stream}: absent` : `${s.stream}: ${s.messages} messages${s.deleted ? ', deleted' : ' (would be deleted)'}`);
    }
    if (!values.confirm) {
      console.error(`nothing deleted on ${redactedServers(url)}: stop the service, then run \`ledger nats-reset --confirm\``);
      return 1;
    }
    console.error('the ledger\'s NATS streams are deleted (the DLQ is kept); start the service: it creates them again and publishes the whole log');
    return 0;
  } finally {
    await nc.close();
  }
};

/** The principals file the CLI edits: --file, else the one the service would use. */
const principalsAt = (file: string | undefined): E.Either<Error, PrincipalRegistry> => {
  const bootstrap = ensurePrincipals(process.env.DATA_DIR ?? './data', file ?? process.env.PRINCIPALS_FILE);
  if (E.isLeft(bootstrap)) return bootstrap;
  if (bootstrap.right.operatorTokenPath !== undefined) {
    console.error(`created ${bootstrap.right.principalsPath} with the bootstrap operator; its token is in ${bootstrap.right.operatorTokenPath}`);
  }
  return PrincipalRegistry.open(bootstrap.right.principalsPath);
};

const principal = (args: string[]): number => {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      role: { type: 'string', multiple: true, default: [] },
      pool: { type: 'string', multiple: true, default: [] },
      'nats-user': { type: 'string' },
      description: { type: 'string' },
      file: { type: 'string' },
    },
    allowPositionals: true,
  });
  const [id, ...extra] = positionals;
  if (extra.length > 0 || (action === 'list') !== (id === undefined) || !['add', 'list', 'remove'].includes(action ?? '')) {
    console.error(usage);
    return 1;
  }
  const registry = principalsAt(values.file);
  if (E.isLeft(registry)) {
    console.error(registry.left.message);
    return 1;
  }
  if (action === 'list') {
    console.log(JSON.stringify(registry.right.list(), null, 2));
    return 0;
  }
  if (action === 'remove') {
    const removed = registry.right.remove(id!);
    if (E.isLeft(removed)) {
      console.error(`${removed.left.code}: ${removed.left.message}`);
      return 1;
    }
    console.error(`removed principal ${id} from ${registry.right.path}; send SIGHUP to a running service to apply`);
    return 0;
  }
  const spec = decodeWith(NewPrincipalSpec)({
    id, roles: values.role, pools: values.pool,
    ...(values['nats-user'] === undefined ? {} : { natsUser: values['nats-user'] }),
    ...(values.description === undefined ? {} : { description: values.description }),
  });
  const added = E.isLeft(spec) ? spec : registry.right.add(spec.right);
  if (E.isLeft(added)) {
    // Name the option, as the user typed it.
    console.error(`${added.left.code}: ${added.left.message.replace(/\broles(\.[0-9]+)?\b/g, '--role').replace(/\bpools(\.[0-9]+)?\b/g, '--pool').replace(/\bnatsUser\b/g, '--nats-user')}`);
    return 1;
  }
  console.error(`added principal ${id} to ${registry.right.path}; send SIGHUP to a running service to apply. Its token (shown this once):`);
  // Only the token on stdout, so that it can be captured: TOKEN=$(ledger principal add ...)
  console.log(added.right.token);
  return 0;
};

/** Run a subcommand; an error it throws (I/O, a refused start) is reported and exits 1. */
const reported = async (subcommand: () => number | Promise<number>, prefix = ''): Promise<number> => {
  try {
    return await subcommand();
  } catch (error) {
    const message = (error as Error).message;
    // parseArgs' "Unknown option" and friends: say where the usage is.
    const hint = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true ? ' (--help for usage)' : '';
    console.error(`${prefix}${message}${hint}`);
    return 1;
  }
};

const subcommands = ['run', 'audit', 'serve', 'stress', 'principal', 'keygen', 'nats-config', 'nats-reset', 'migrate', 'help'];

/** The part of the usage about one subcommand (all its forms), with the exit statuses. */
export const helpOf = (command: string): string => {
  const [body = '', exit = ''] = usage.replace(/^usage:\n/, '').split('\n\nExit status');
  const blocks = body.split(/\n(?=  ledger )/).filter((block) => block.trimStart().startsWith(`ledger ${command}`));
  return `usage:\n${blocks.join('\n')}${command === 'run' ? `\n\nExit status${exit}` : ''}`;
};

export const main = async (argv: string[]): Promise<number> => {
  const [command, ...rest] = argv;
  // --help anywhere after a subcommand shows its usage and starts nothing.
  if (command !== undefined && subcommands.includes(command) && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(helpOf(command));
    return 0;
  }
  switch (command) {
    case 'serve':
      return reported(serve, 'the service failed: ');
    case 'audit':
      return reported(() => auditCommand(rest));
    case 'stress':
      return reported(() => stressCommand(rest));
    case 'keygen':
      return reported(() => keygen(rest));
    case 'principal':
      return reported(() => principal(rest));
    case 'nats-config':
      return reported(() => natsConfig(rest));
    case 'nats-reset':
      return reported(() => natsReset(rest));
    case 'migrate':
      return reported(() => migrate(rest), 'ledger migrate: ');
    case 'run':
      return reported(() => run(rest));
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      console.log(usage);
      return command === undefined ? 1 : 0;
    default:
      console.error(`unknown command "${command}"\n${usage}`);
      return 1;
  }
};
