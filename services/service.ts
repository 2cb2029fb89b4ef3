// The service: one process with the embedded defaults (SQLite store under DATA_DIR, in-memory read
// models started from their signed checkpoint, verified against the log, and the log's tail,
// HTTP on PORT), or EventStoreDB and MongoDB when
// EVENTSTORE_URL and MONGODB_URL are set. Configuration is decoded like any other input, and a
// bad value stops the start with a message naming it. Secure by default: HTTP listens on
// 127.0.0.1 unless HOST says otherwise, and every route with ledger data needs a principal's token
// (the principals file is created with a bootstrap operator on the first start).

import { dirname, join } from 'node:path';
import { FOLD_CHECKPOINT_FILE } from '../projections/fold-checkpoint.js';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import pino, { type Logger } from 'pino';
import { decodeWith, invalidInput, type Governors, type InvalidInput } from '../domain/index.js';
import { readGovernorsFile } from './governance-keys.js';
import { MemoryReadModelStore } from '../adapters/memory/memory-read-model-store.js';
import { ProjectionRunner } from '../projections/runner.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { ensurePrincipals, type PrincipalsFile } from './auth/principals.js';
import { PrincipalRegistry } from './auth/registry.js';
import { buildHttpApp } from './http.js';
import { openStore, storeConfigFrom, type StoreConfig } from './ledger/store-config.js';
import { Metrics } from './metrics.js';
import { PoolRegistry } from './pools.js';
import { connect, type NatsConnection } from 'nats';
import { startNatsIntake, type NatsIntake } from './bus/nats-intake.js';
import { connectionOptions, describeIdentity, natsIdentityFrom, redactedServers, type NatsIdentity } from './bus/connection.js';
import { startEventForwarder, type EventForwarder } from './bus/event-forwarder.js';
import { startCheckpointPublisher, type CheckpointPublisher } from './bus/checkpoint-publisher.js';
import { loadOrCreateSigner, type Checkpoint } from './ledger/checkpoints.js';
import { ChainBrokenError } from '../projections/runner.js';
import { catchUpLogging, stressSettingsFrom } from './read-settings.js';
import type { StressSettings } from './read-api.js';
import { DEFAULT_READINESS_LIMITS, directoryWriteProbe, projectionCheck, readiness, storeCheck, throttled, type CheckSource, type Failure } from './health.js';
import type { EventStore } from './ledger/event-store.js';
import { committedFeedOf } from './ledger/committed-feed.js';

export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly store: StoreConfig;
  readonly mongodbUrl?: string;
  readonly natsUrl?: string;
  /** Credentials, TLS and inbox prefix for NATS (NATS_USER, NATS_PASSWORD_FILE, NATS_TLS_CA_FILE, ...). */
  readonly nats?: NatsIdentity;
  /** Where the principals file is created on the first start (DATA_DIR, default ./data). */
  readonly dataDir?: string;
  /** The principals file to use instead (PRINCIPALS_FILE); it must exist. */
  readonly principalsFile?: string;
  /** How long JetStream waits for an ack before redelivering a command. */
  readonly natsAckWaitMs?: number;
  /** The deployment's root governors (ROOT_GOVERNORS_FILE); without them no pool can be created. */
  readonly rootGovernors?: Governors;
  /** The checkpoint signing key (CHECKPOINT_KEY_FILE; default: created under the data directory). */
  readonly checkpointKeyFile?: string;
  /** Sign a checkpoint every this many events (CHECKPOINT_EVERY)... */
  readonly checkpointEvery?: number;
  /** ...or after this many ms with events since the last (CHECKPOINT_INTERVAL_MS). */
  readonly checkpointIntervalMs?: number;
  /** The Cover-2 shocks fund health reports (STRESS_SHOCK_PPM). */
  readonly stress?: StressSettings;
  /** How long a stop (SIGTERM) may take before the process exits anyway, with status 1 (SHUTDOWN_TIMEOUT_MS). */
  readonly shutdownTimeoutMs?: number;
  /** In-memory read models: keep a read-model checkpoint after this many events (READ_MODEL_CHECKPOINT_EVERY; 0: never). */
  readonly readModelCheckpointEvery?: number;
}

const pattern = (name: string, regex: RegExp, expected: string) => new t.Type<string, string, unknown>(
  name,
  (u): u is string => typeof u === 'string' && regex.test(u),
  (u, c) => (typeof u === 'string' && regex.test(u) ? t.success(u) : t.failure(u, c, expected)),
  t.identity,
);
const PortString = new t.Type<number, string, unknown>('Port', (u): u is number => typeof u === 'number',
  (u, c) => {
    const port = typeof u === 'string' && /^[0-9]{1,5}$/.test(u) ? Number(u) : NaN;
    return port >= 0 && port <= 65_535 ? t.success(port) : t.failure(u, c, 'expected a TCP port, 0 to 65535');
  }, String);

const wholeNumber = (name: string, min: number, max: number, expected: string) => new t.Type<number, string, unknown>(name, (u): u is number => typeof u === 'number', (u, c) => {
  const n = typeof u === 'string' && /^[0-9]{1,9}$/.test(u) ? Number(u) : NaN;
  return n >= min && n <= max ? t.success(n) : t.failure(u, c, expected);
}, String);

const ServiceEnvironment = t.partial({
  PORT: PortString,
  HOST: pattern('Host', /^[A-Za-z0-9.:-]+$/, 'expected a host name or address'),
  LOG_LEVEL: pattern('LogLevel', /^(fatal|error|warn|info|debug|trace|silent)$/, 'expected fatal, error, warn, info, debug, trace or silent'),
  MONGODB_URL: pattern('MongoUrl', /^mongodb(\+srv)?:\/\/\S+$/, 'expected a MongoDB connection string, mongodb://...'),
  NATS_URL: pattern('NatsUrl', /^(nats|tls):\/\/\S+(,(nats|tls):\/\/\S+)*$/, 'expected nats://host:port (several separated by commas)'),
  NATS_ACK_WAIT_MS: new t.Type<number, string, unknown>('AckWaitMs', (u): u is number => typeof u === 'number', (u, c) => {
    const ms = typeof u === 'string' && /^[0-9]{1,7}$/.test(u) ? Number(u) : NaN;
    return ms >= 1_000 && ms <= 3_600_000 ? t.success(ms) : t.failure(u, c, 'expected milliseconds, 1000 to 3600000');
  }, String),
  DATA_DIR: pattern('Path', /\S/, 'expected a directory'),
  PRINCIPALS_FILE: pattern('PrincipalsFile', /\S/, 'expected the path of a principals file'),
  ROOT_GOVERNORS_FILE: pattern('Path', /^\S+$/, 'expected the path of a JSON file {"publicKeys": [...], "threshold": n}'),
  CHECKPOINT_KEY_FILE: pattern('Path', /^\S+$/, 'expected the path of a PKCS#8 PEM ed25519 private key'),
  CHECKPOINT_EVERY: wholeNumber('CheckpointEvery', 1, 10_000_000, 'expected a number of events, 1 to 10000000'),
  CHECKPOINT_INTERVAL_MS: wholeNumber('CheckpointIntervalMs', 1_000, 86_400_000, 'expected milliseconds, 1000 to 86400000'),
  READ_MODEL_CHECKPOINT_EVERY: wholeNumber('ReadModelCheckpointEvery', 0, 100_000_000, 'expected a number of events, 0 (never) to 100000000'),
  SHUTDOWN_TIMEOUT_MS: new t.Type<number, string, unknown>('ShutdownTimeoutMs', (u): u is number => typeof u === 'number', (u, c) => {
    const ms = typeof u === 'string' && /^[0-9]{1,7}$/.test(u) ? Number(u) : NaN;
    return ms >= 100 && ms <= 600_000 ? t.success(ms) : t.failure(u, c, 'expected milliseconds, 100 to 600000');
  }, String),
});

/** The root governors file named by ROOT_GOVERNORS_FILE, decoded; its errors name the variable and the field. */
const rootGovernorsFrom = (path: string | undefined): E.Either<InvalidInput, Governors | undefined> => {
  if (path === undefined) return E.right(undefined);
  const read = readGovernorsFile(path);
  if (E.isRight(read)) return read;
  const error = read.left;
  return E.left(invalidInput('errors' in error
    ? error.errors.map((e) => ({ path: `ROOT_GOVERNORS_FILE ${path}: ${e.path}`, message: e.message }))
    : [{ path: 'ROOT_GOVERNORS_FILE', message: error.message }]));
};

export const serviceConfigFrom = (env: Readonly<Record<string, string | undefined>>): E.Either<InvalidInput, ServiceConfig> => {
  const relevant = Object.fromEntries(['PORT', 'HOST', 'LOG_LEVEL', 'MONGODB_URL', 'NATS_URL', 'NATS_ACK_WAIT_MS', 'DATA_DIR', 'PRINCIPALS_FILE', 'ROOT_GOVERNORS_FILE', 'CHECKPOINT_KEY_FILE', 'CHECKPOINT_EVERY', 'CHECKPOINT_INTERVAL_MS', 'READ_MODEL_CHECKPOINT_EVERY', 'SHUTDOWN_TIMEOUT_MS'].flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]]])));
  const decoded = decodeWith(ServiceEnvironment)(relevant);
  if (E.isLeft(decoded)) return decoded;
  const store = storeConfigFrom(env);
  if (E.isLeft(store)) return store;
  const rootGovernors = rootGovernorsFrom(decoded.right.ROOT_GOVERNORS_FILE);
  if (E.isLeft(rootGovernors)) return rootGovernors;
  const nats = natsIdentityFrom(env);
  if (E.isLeft(nats)) return nats;
  const stress = stressSettingsFrom(env.STRESS_SHOCK_PPM);
  if (E.isLeft(stress)) return stress;
  return E.right({
    port: decoded.right.PORT ?? 8080,
    // Only this machine, unless told otherwise: exposing the service is a decision.
    host: decoded.right.HOST ?? '127.0.0.1',
    logLevel: decoded.right.LOG_LEVEL ?? 'info',
    store: store.right,
    ...(decoded.right.MONGODB_URL === undefined ? {} : { mongodbUrl: decoded.right.MONGODB_URL }),
    ...(decoded.right.NATS_URL === undefined ? {} : { natsUrl: decoded.right.NATS_URL }),
    ...(decoded.right.NATS_ACK_WAIT_MS === undefined ? {} : { natsAckWaitMs: decoded.right.NATS_ACK_WAIT_MS }),
    nats: nats.right,
    dataDir: decoded.right.DATA_DIR ?? './data',
    ...(decoded.right.PRINCIPALS_FILE === undefined ? {} : { principalsFile: decoded.right.PRINCIPALS_FILE }),
    ...(rootGovernors.right === undefined ? {} : { rootGovernors: rootGovernors.right }),
    ...(decoded.right.CHECKPOINT_KEY_FILE === undefined ? {} : { checkpointKeyFile: decoded.right.CHECKPOINT_KEY_FILE }),
    ...(decoded.right.CHECKPOINT_EVERY === undefined ? {} : { checkpointEvery: decoded.right.CHECKPOINT_EVERY }),
    ...(decoded.right.CHECKPOINT_INTERVAL_MS === undefined ? {} : { checkpointIntervalMs: decoded.right.CHECKPOINT_INTERVAL_MS }),
    stress: stress.right,
    ...(decoded.right.SHUTDOWN_TIMEOUT_MS === undefined ? {} : { shutdownTimeoutMs: decoded.right.SHUTDOWN_TIMEOUT_MS }),
    ...(decoded.right.READ_MODEL_CHECKPOINT_EVERY === undefined ? {} : { readModelCheckpointEvery: decoded.right.READ_MODEL_CHECKPOINT_EVERY }),
  });
};

export interface RunningService {
  /** Where HTTP listens. */
  readonly address: string;
  /**
   * Re-read the principals file (on SIGHUP). A bad file keeps the principals in force and is
   * logged as an error; either way the result is returned.
   */
  reloadPrincipals(): E.Either<Error, PrincipalsFile>;
  /** Stop intake, finish what is in flight, stop the projection, close the stores. */
  stop(): Promise<void>;
  /** Settles if the service must stop on its own: a pool's hash chain broke while following the log. */
  readonly failed: Promise<Error>;
  /** What `stop` is doing (for a stop that does not end in time). */
  stopping(): string | undefined;
}

/** What a test may put in place of the configured parts. */
export interface ServiceOverrides {
  readonly openStore?: (config: StoreConfig) => EventStore;
}

/** The principals the service answers to: the configured file, or the default one, created when missing. */
const openPrincipals = (config: ServiceConfig, logger: Logger): PrincipalRegistry => {
  const dataDir = config.dataDir ?? (config.store.kind === 'sqlite' ? dirname(config.store.path) : './data');
  const bootstrap = ensurePrincipals(dataDir, config.principalsFile);
  if (E.isLeft(bootstrap)) throw bootstrap.left;
  if (bootstrap.right.operatorTokenPath !== undefined) {
    logger.warn({ principalsFile: bootstrap.right.principalsPath, operatorTokenFile: bootstrap.right.operatorTokenPath },
      'created the principals file with a bootstrap operator; its token is in the operator token file (readable by its owner only)');
  }
  const registry = PrincipalRegistry.open(bootstrap.right.principalsPath);
  if (E.isLeft(registry)) throw registry.left;
  return registry.right;
};

/**
 * Drain the connection (flush what is published) for a moment, then close it whatever state it
 * is in: a connection whose server went away would otherwise keep reconnecting, and the process
 * alive, for ever.
 */
const closeNats = async (nc: NatsConnection, drainMs = 2_000): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([nc.drain().catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, drainMs); })]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
};

export const startService = async (config: ServiceConfig, logger: Logger = pino({ level: config.logLevel }), overrides: ServiceOverrides = {}): Promise<RunningService> => {
  // A bad principals file stops the start before anything opens.
  const principals = openPrincipals(config, logger);
  const dataDir = config.dataDir ?? (config.store.kind === 'sqlite' ? dirname(config.store.path) : './data');
  // The key is read (or created) before the store opens: a bad key stops the start. Never logged.
  const key = loadOrCreateSigner(dataDir, config.checkpointKeyFile);
  if (key.created) logger.warn({ checkpointKeyFile: key.path, publicKey: key.signer.publicKey }, 'created the checkpoint signing key (readable by its owner only); keep a copy of the public key with the checkpoints you keep');
  // One writer: a second process on the same SQLite store is refused here.
  const events = (overrides.openStore ?? ((store: StoreConfig) => openStore(store, { writer: true })))(config.store);
  let checkpointPublisher: CheckpointPublisher | undefined;
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  let readModels: ReadModelStore | undefined;
  let runner: ProjectionRunner | undefined;
  let app: ReturnType<typeof buildHttpApp> | undefined;
  let nats: NatsConnection | undefined;
  let intake: NatsIntake | undefined;
  let forwarder: EventForwarder | undefined;
  const metrics = new Metrics();
  const pools = new PoolRegistry(events, {
    batchSize: 1024, onAppend: (n, seconds) => metrics.recordAppend(n, seconds), ...(config.rootGovernors === undefined ? {} : { rootGovernors: config.rootGovernors }),
    signer: key.signer,
    ...(config.checkpointEvery === undefined ? {} : { checkpointEvery: config.checkpointEvery }),
    ...(config.checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs: config.checkpointIntervalMs }),
    onCheckpoint: (checkpoint: Checkpoint) => checkpointPublisher?.publish(checkpoint),
    onWarning: (message: string) => logger.warn(message),
  });
  metrics.trackPoolWriters(() => pools.writerCount);
  const warnOnce = throttled(10_000);
  metrics.onAppendFailure = (error) => warnOnce(`append-${error.code}`, (held) => logger.error({ error, alsoSinceLastLogged: held }, 'the store did not take a command'));
  let projectionError: Failure | undefined;
  // Committed events go to the projection runner and the NATS forwarder in process (no read back).
  const feed = committedFeedOf(events);
  let stopFeedingRunner: (() => void) | undefined;
  const feedRunner = (projection: ProjectionRunner): void => {
    if (feed !== undefined) stopFeedingRunner = feed.onCommitted((committed) => projection.offer(committed));
  };
  const checks: Record<string, CheckSource> = {
    store: storeCheck(metrics, config.store.kind === 'sqlite' ? directoryWriteProbe(dirname(config.store.path)) : undefined),
  };
  let address: string;
  try {
    readModels = config.mongodbUrl === undefined ? new MemoryReadModelStore() : await (await import('../adapters/mongodb/mongo-read-model-store.js')).MongoReadModelStore.connect(config.mongodbUrl);
    runner = new ProjectionRunner(events, readModels, {
      onError: (error) => {
        if (!(error instanceof ChainBrokenError)) {
          projectionError = { at: Date.now(), message: error.message };
          metrics.projectionErrors.inc();
          logger.error({ err: error }, 'projection error');
          return;
        }
        logger.fatal({ poolId: error.poolId, position: error.position.toString(), revision: error.revision.toString() }, `${error.message}: stopping (see Operations in the README)`);
        fail(error);
      },
      ...catchUpLogging(events, logger),
      // With a committed feed the runner takes new events from it, not from a subscription.
      ...(feed === undefined ? {} : { follow: 'offered' as const }),
      ...(config.stress === undefined ? {} : { stressShockPpm: config.stress.shockPpm, stressShockByMarket: config.stress.shockByMarket }),
      // In-memory read models start from the read-model checkpoint the log vouches for (MongoDB keeps its documents).
      ...(config.mongodbUrl !== undefined || config.readModelCheckpointEvery === 0 ? {} : {
        checkpoint: {
          path: join(dataDir, FOLD_CHECKPOINT_FILE), signer: key.signer,
          ...(config.readModelCheckpointEvery === undefined ? {} : { every: config.readModelCheckpointEvery }),
          onWarning: (message: string) => logger.warn(message),
          onCheckpoint: ({ kind, position, ms, bytes, phases }: { kind: string; position: bigint; ms: number; bytes: number; phases?: Record<string, number> }) =>
            logger.info({ position: Number(position), ms, bytes, ...(phases === undefined ? {} : { phasesMs: phases }) }, kind === 'used' ? 'read models started from their checkpoint' : 'read-model checkpoint written'),
        },
      }),
    });
    // Serve only verified history: the runner verifies and folds the whole log, and each pool's
    // writer loads and verifies its state, before HTTP or NATS take anything.
    await runner.start();
    feedRunner(runner);
    // A store that appends on a thread of its own is ready to before the first command comes.
    await (events as Partial<{ ready(): Promise<void> }>).ready?.();
    await pools.openAll(runner.pools());
    const projection = runner;
    checks.projection = projectionCheck(() => projection.lag(), () => projectionError);
    app = buildHttpApp({
      pools, events, readModels, runner, metrics, principals, logger, readiness: () => readiness(checks, DEFAULT_READINESS_LIMITS),
      checkpointKey: { publicKey: key.signer.publicKey, pem: key.signer.publicKeyPem() }, ...(config.stress === undefined ? {} : { stress: config.stress }),
    });
    if (config.natsUrl !== undefined) {
      // noAsyncTraces: otherwise the client captures two stacks for every request, that is for
      // every event forwarded; a timeout or error still says what failed.
      nats = await connect({ ...connectionOptions(config.nats ?? {}), servers: config.natsUrl.split(','), reconnect: true, maxReconnectAttempts: -1, name: 'ledger', noAsyncTraces: true });
      // The forwarder first: it refuses a bus that holds another log's history before any command is taken.
      forwarder = await startEventForwarder(nats, events, { logger, metrics, head: () => projection.lag().seen, ...(feed === undefined ? {} : { feed }) });
      intake = await startNatsIntake(nats, pools, metrics, () => principals.current, { ...(config.natsAckWaitMs === undefined ? {} : { ackWaitMs: config.natsAckWaitMs }), logger });
      await forwarder.bind();
      checks.forwarder = forwarder.check;
      checks.intake = intake.check;
      checkpointPublisher = await startCheckpointPublisher(nats, (error) => logger.warn({ err: error }, 'checkpoint not published to NATS (it is kept in the store and served over HTTP)'));
      for (const writer of await pools.openWriters()) if (writer.newestCheckpoint !== undefined) checkpointPublisher.publish(writer.newestCheckpoint);
    }
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Close whatever did open, so that a failed start leaves nothing running.
    await intake?.stop().catch(() => undefined);
    await forwarder?.stop().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await runner?.stop().catch(() => undefined);
    await readModels?.close().catch(() => undefined);
    await pools.close().catch(() => undefined);
    await events.close().catch(() => undefined);
    throw error;
  }
  const started = { app, runner, readModels, nats, intake, forwarder };
  let stopStep: string | undefined;
  logger.info({ address, principalsFile: principals.path, store: config.store.kind, readModels: config.mongodbUrl === undefined ? 'memory' : 'mongodb', nats: config.natsUrl === undefined ? null : { servers: redactedServers(config.natsUrl), ...describeIdentity(config.nats ?? {}) }, rootGovernors: config.rootGovernors?.publicKeys.length ?? 'none: CreatePool is refused' }, 'ledger service listening');
  return {
    address,
    failed,
    reloadPrincipals: () => {
      const reloaded = principals.reload();
      if (E.isLeft(reloaded)) logger.error({ principalsFile: principals.path, err: reloaded.left }, 'principals file not reloaded; the previous principals stay in force');
      else logger.info({ principalsFile: principals.path, principals: reloaded.right.principals.length }, 'principals file reloaded');
      return reloaded;
    },
    stopping: () => stopStep,
    stop: async () => {
      logger.info('stopping: no new commands, finishing the batch in flight');
      const step = async (name: string, work: () => Promise<unknown> | undefined): Promise<void> => {
        stopStep = name;
        await work();
      };
      await step('stopping the NATS intake', () => started.intake?.stop());
      await step('closing HTTP', () => started.app.close());
      await step('finishing the batches in flight', () => pools.close());
      await step('publishing the last checkpoint', () => checkpointPublisher?.flush());
      await step('stopping the event forwarder', () => started.forwarder?.stop());
      await step('closing the NATS connection', () => (started.nats === undefined ? undefined : closeNats(started.nats)));
      stopFeedingRunner?.();
      await step('stopping the projection', () => started.runner.stop());
      await step('closing the read models', () => started.readModels.close());
      await step('closing the event store', () => events.close());
      stopStep = undefined;
      logger.info('stopped');
    },
  };
};
