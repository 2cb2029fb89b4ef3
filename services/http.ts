// The HTTP API (fastify): commands in, read models out. Translation only: commands are decoded
// with the same codecs as every other intake and decided by the pool's writer; queries read the
// read-model store and derive mark-dependent figures from the projection's state.
// Every route but /livez, /readyz, /healthz, /openapi.json, /v1/checkpoint-key and the dashboard page (/ and /dashboard/*), which show no ledger data, needs a bearer token of a
// principal (401 without one), and `authorize` decides what that principal may do (403), before
// any command is decided.

import bearerAuth from '@fastify/bearer-auth';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { Logger } from 'pino';
import {
  adlQueue, authorize, commandTypes, CorrelationId, decodeCommand, decodeStoredEvent, decodeWith, eventTypes, Id, invalidInput, parseJson,
  type AccessDenied, type Action, type ActivePool, type InvalidInput,
} from '../domain/index.js';
import { grantOf, principalForToken, PrincipalId, type Principal } from './auth/principals.js';
import { NewPrincipalSpec, type PrincipalChangeError, type PrincipalRegistry } from './auth/registry.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { accountsOfEvent, accountView } from '../projections/read-models.js';
import {
  AccountBody, AccountsBody, accountsPage, AdlQueueBody, AtRiskBody, atRiskBody, currentFundHealth, EventsBody, FundHealthBody, FundHealthHistoryBody,
  fundHealthHistoryBody, GovernanceBody, HistoryBody, historyPage, MarketBody, marketParameters, MarketsBody, PoolBody, poolBody, PoolListBody, poolListItem,
  TrancheBody, fundFigures, type StressSettings,
} from './read-api.js';
import type { ProjectionRunner } from '../projections/runner.js';
import { logIndex, type EventStore, type StoredEvent } from './ledger/event-store.js';
import { eventIdOf } from './ledger/chain.js';
import { poolStream } from './ledger/pool-writer.js';
import { CheckpointCodec, checkpointStream, encodeCheckpoint } from './ledger/checkpoints.js';
import type { Metrics } from './metrics.js';
import { encodeOutcome, type Outcome } from './outcome.js';
import { openApiDocument } from './openapi.js';
import type { PoolRegistry } from './pools.js';
import { projectionCheck, readiness, type Readiness } from './health.js';
import { StressDesk, stressRoutes } from './stress.js';
import { dashboardRoutes } from './dashboard.js';

export interface HttpDependencies {
  readonly pools: PoolRegistry;
  readonly events: EventStore;
  readonly readModels: ReadModelStore;
  readonly runner: ProjectionRunner;
  readonly metrics: Metrics;
  /** Who may call: principals with their roles, pools and token hashes. */
  readonly principals: PrincipalRegistry;
  readonly logger?: Logger | false;
  /** Largest request body, bytes. */
  readonly bodyLimit?: number;
  /** The public key checkpoints are signed with (hex and PEM), served to auditors. */
  readonly checkpointKey?: { readonly publicKey: string; readonly pem: string };
  /** The Cover-2 shocks fund health reports by default (30% for every market unless set). */
  readonly stress?: StressSettings;
  /** How often the live event stream looks for new events, ms (default 250). */
  readonly streamPollMs?: number;
  /** Whether the service can take commands now (default: the projection's check alone). */
  readonly readiness?: () => Promise<Readiness>;
  /** Stress runs (default: on the projection's pool states). */
  readonly stressDesk?: StressDesk;
}

// Domain rejections that are about the state of things (someone got there first, or the command
// id is taken by a different command) answer 409; the others, that the command cannot be carried
// out as asked, 422.
const CONFLICTS = new Set(['POOL_ALREADY_EXISTS', 'MARKET_ALREADY_LISTED', 'DUPLICATE_TRADE', 'DUPLICATE_REQUEST', 'TRANCHE_ALREADY_EXISTS', 'COMMAND_ID_REUSED']);

export const statusOf = (outcome: Outcome): number => {
  switch (outcome.status) {
    case 'accepted':
      return 200;
    case 'rejected':
      return CONFLICTS.has(outcome.error.code) ? 409 : 422;
    case 'invalid':
      return 400;
    case 'failed':
      return 503;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
};

const PoolParams = t.type({ poolId: Id });
const AccountParams = t.type({ poolId: Id, accountId: Id });
const MarketParams = t.type({ poolId: Id, marketId: Id });
/** A whole number from min to max, from a query string. */
const queryInteger = (name: string, min: number, max: number) => new t.Type<number, string, unknown>(name, (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^[0-9]{1,16}$/.test(u) ? Number(u) : NaN;
    return n >= min && n <= max ? t.success(n) : t.failure(u, c, `expected an integer from ${min} to ${max}`);
  }, String);
const Limit = queryInteger('Limit', 1, 1000);
const ISO_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;
/** A point in time: an ISO-8601 time with its zone, or ms since the epoch. */
const Time = new t.Type<number, string, unknown>('Time', (u): u is number => typeof u === 'number', (u, c) => {
  const ms = typeof u !== 'string' ? NaN : /^[0-9]{1,16}$/.test(u) ? Number(u) : ISO_TIME.test(u) ? Date.parse(u) : NaN;
  return Number.isSafeInteger(ms) ? t.success(ms) : t.failure(u, c, 'expected an ISO-8601 time with its zone (2026-01-31T12:00:00Z) or ms since the epoch');
}, String);
type Bound = { readonly revision: bigint } | { readonly time: number };
/** An end of an event range: a stream revision (digits), or an ISO-8601 time. */
const RevisionOrTime = new t.Type<Bound, string, unknown>('RevisionOrTime', (u): u is Bound => typeof u === 'object' && u !== null, (u, c) => {
  if (typeof u === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(u)) return t.success({ revision: BigInt(u) });
  if (typeof u === 'string' && ISO_TIME.test(u) && !Number.isNaN(Date.parse(u))) return t.success({ time: Date.parse(u) });
  return t.failure(u, c, 'expected a revision (a non-negative integer) or an ISO-8601 time with its zone');
}, (b) => ('revision' in b ? b.revision.toString() : new Date(b.time).toISOString()));
const EventTypeName = t.keyof(Object.fromEntries(eventTypes.map((e) => [e, null])) as Record<string, null>, 'EventType');
const EventsQuery = t.partial({ after: logIndex('Revision'), from: RevisionOrTime, to: RevisionOrTime, limit: Limit, type: EventTypeName, accountId: Id });
const StreamQuery = t.partial({ after: logIndex('Revision') });
const AccountsQuery = t.partial({ sort: t.keyof({ marginRatio: null, equity: null, adlRank: null }), cursor: queryInteger('Cursor', 0, Number.MAX_SAFE_INTEGER), limit: Limit });
const LimitQuery = t.partial({ limit: Limit });
/** Checkpoints from an index (`from`), at most `limit`. */
const CheckpointsQuery = t.partial({ from: logIndex('Index'), limit: Limit });
const HistoryQuery = t.partial({ cursor: logIndex('Position'), limit: Limit });
const FundHealthQuery = t.partial({ shockPpm: queryInteger('ShockPpm', 0, 1_000_000) });
const FundHistoryQuery = t.partial({ resolution: t.keyof({ '1m': null, '1h': null, '1d': null }), from: Time, to: Time, limit: queryInteger('Limit', 1, 5000) });
/** Events a filtered read looks at before it answers with what it found and a cursor. */
const SCAN_BUDGET = 10_000;

const PrincipalParams = t.type({ id: PrincipalId });

const badRequest = (reply: FastifyReply, error: InvalidInput) => reply.code(400).send(error);
const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ code: 'NOT_FOUND', message: `${what} not found` });
const unavailable = (reply: FastifyReply, message: string) => reply.code(503).send({ code: 'READ_MODELS_UNAVAILABLE', message });

/** An event of the log as the API shows it. */
const eventJson = (e: StoredEvent) => ({
  revision: e.revision.toString(), position: e.position.toString(), eventId: eventIdOf(e.hash), type: e.type, data: e.data as Record<string, unknown>, metadata: e.metadata as unknown as Record<string, unknown>,
  hash: e.hash,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A body refused by the JSON parser (duplicate key, too deep, not JSON), answered as 400. */
class BadBody extends Error {
  readonly statusCode = 400;
  constructor(readonly invalid: InvalidInput) {
    super(invalid.message);
  }
}

const changeStatus = (error: PrincipalChangeError): number => {
  switch (error.code) {
    case 'INVALID_INPUT':
      return 400;
    case 'PRINCIPAL_NOT_FOUND':
      return 404;
    case 'PRINCIPAL_ALREADY_EXISTS':
    case 'NATS_USER_TAKEN':
    case 'LAST_OPERATOR':
      return 409;
    case 'PRINCIPALS_FILE_UNREADABLE':
      return 503;
    default: {
      const unreachable: never = error;
      return unreachable;
    }
  }
};

/** Decode request parts (params, query) or answer 400 naming the fields. */
const decodeOr = <A>(codec: t.Type<A, unknown, unknown>, input: unknown, reply: FastifyReply): A | undefined => {
  const decoded = decodeWith(codec)(input);
  if (E.isLeft(decoded)) {
    void badRequest(reply, decoded.left);
    return undefined;
  }
  return decoded.right;
};

export const buildHttpApp = (deps: HttpDependencies): FastifyInstance => {
  const bodyLimit = deps.bodyLimit ?? 256 * 1024;
  const ready = deps.readiness ?? (() => readiness({ projection: projectionCheck(() => deps.runner.lag()) }));
  const app = (deps.logger ? Fastify({ loggerInstance: deps.logger, bodyLimit }) : Fastify({ logger: false, bodyLimit })) as unknown as FastifyInstance;

  // JSON bodies through the same parser as every other boundary: a repeated key or nesting deeper
  // than the limit is refused naming where, before anything walks the value.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const parsed = parseJson(body as string);
    if (E.isLeft(parsed)) done(new BadBody(parsed.left), undefined);
    else done(null, parsed.right);
  });

  // Malformed JSON, a body too large, or the wrong content type: the same structured error as
  // any other bad input.
  app.setErrorHandler((failure, _request, reply) => {
    if (failure instanceof BadBody) return reply.code(400).send(failure.invalid);
    const error = failure as { readonly statusCode?: number; readonly message?: string };
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      reply.log.error(failure);
      return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
    }
    return reply.code(status).send(invalidInput([{ path: '(root)', message: error.message ?? 'bad request' }]));
  });

  // Every answer counted by route pattern and status (400s and 401s included).
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.recordHttpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  deps.metrics.trackFunds(() => deps.runner.poolIds().flatMap((poolId) => {
    const pool = deps.runner.poolState(poolId);
    const aggregates = deps.runner.poolAggregates(poolId);
    return pool?.status === 'active' && aggregates !== undefined ? [fundFigures(pool, aggregates)] : [];
  }));

  // Live event streams, ended when the app closes (they would otherwise hold it open).
  const streams = new Set<{ open: boolean; end: () => void }>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
    streams.clear();
  });

  // The principal each authenticated request comes from (set by the bearer check).
  const principalOf = new WeakMap<FastifyRequest, Principal>();

  const forbid = (reply: FastifyReply, denial: AccessDenied) => {
    deps.metrics.recordAuthFailure('forbidden');
    return reply.code(403).send(denial);
  };

  /** A route hook: the request's principal must be allowed the action (403 otherwise), before the body is read. */
  const allow = (action: (request: FastifyRequest) => Action) => async (request: FastifyRequest, reply: FastifyReply) => {
    const decided = authorize(grantOf(principalOf.get(request)!), action(request));
    if (E.isLeft(decided)) return forbid(reply, decided.left);
    return undefined;
  };
  const poolOf = (request: FastifyRequest): string => String((request.params as { poolId?: unknown }).poolId);

  // Commands: before the body is read, the principal must be allowed some command on the pool; once
  // the command is decoded, that command.
  const allowSomeCommand = async (request: FastifyRequest, reply: FastifyReply) => {
    const grant = grantOf(principalOf.get(request)!);
    const poolId = poolOf(request);
    if (commandTypes.some((commandType) => E.isRight(authorize(grant, { kind: 'command', commandType, poolId })))) return undefined;
    return forbid(reply, { code: 'FORBIDDEN', message: `principal "${grant.id}" may submit no command to pool "${poolId}"` });
  };

  void app.register(async (scope) => {
    await scope.register(bearerAuth, {
      keys: [],
      auth: (token, request) => {
        const principal = principalForToken(deps.principals.current, token);
        if (principal === undefined) return false;
        principalOf.set(request, principal);
        return true;
      },
      errorResponse: (error) => {
        const code = (error as { code?: string }).code ?? '';
        const body = code.startsWith('FST_BEARER_AUTH')
          ? { code: 'UNAUTHENTICATED', message: `${error.message}: expected Authorization: Bearer <token> of a principal` }
          : { code: 'INTERNAL', message: 'internal error' };
        return body as unknown as { error: string };
      },
      verifyErrorLogLevel: 'warn',
    });
    // The 401s come from the bearer check: say which scheme to use, and count them.
    scope.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode === 401) {
        deps.metrics.recordAuthFailure('unauthenticated');
        void reply.header('www-authenticate', 'Bearer realm="ledger"');
      }
      return payload;
    });

    const readPool = allow((request) => ({ kind: 'read', poolId: poolOf(request) }));

    scope.post('/v1/pools/:poolId/commands', { onRequest: allowSomeCommand }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const command = decodeCommand(request.body);
      if (E.isLeft(command)) return badRequest(reply, command.left);
      if (command.right.poolId !== params.poolId) {
        return badRequest(reply, invalidInput([{ path: 'poolId', message: `the command is for pool "${command.right.poolId}", the path for "${params.poolId}"` }]));
      }
      const principal = principalOf.get(request)!;
      const allowed = authorize(grantOf(principal), { kind: 'command', commandType: command.right.type, poolId: params.poolId });
      if (E.isLeft(allowed)) return forbid(reply, allowed.left);
      const header = request.headers['x-correlation-id'];
      const correlation = header === undefined ? E.right(command.right.commandId) : decodeWith(CorrelationId)(header);
      if (E.isLeft(correlation)) return badRequest(reply, invalidInput(correlation.left.errors.map((e) => ({ ...e, path: 'x-correlation-id' }))));
      const started = process.hrtime.bigint();
      let outcome: Outcome;
      try {
        const writer = await deps.pools.writer(params.poolId);
        outcome = await writer.submit({ command: command.right, actor: principal.id, correlationId: correlation.right });
      } catch (error) {
        outcome = { status: 'failed', commandId: command.right.commandId, error: { code: 'STORE_UNAVAILABLE', message: (error as Error).message } };
      }
      deps.metrics.recordOutcome(outcome, Number(process.hrtime.bigint() - started) / 1e9);
      return reply.code(statusOf(outcome)).send(encodeOutcome(outcome));
    });

    const stressDefaults: StressSettings = deps.stress ?? { shockPpm: 300_000, shockByMarket: {} };
    /** The pool's state as the projection has it, if the pool exists. */
    const activePool = (poolId: string): ActivePool | undefined => {
      const pool = deps.runner.poolState(poolId);
      return pool?.status === 'active' ? pool : undefined;
    };

    scope.get('/v1/pools', async (request) => {
      const grant = grantOf(principalOf.get(request)!);
      const items = deps.runner.poolIds()
        .filter((poolId) => E.isRight(authorize(grant, { kind: 'read', poolId })))
        .flatMap((poolId) => {
          const pool = activePool(poolId);
          return pool === undefined ? [] : [poolListItem(pool)];
        });
      return PoolListBody.encode({ items });
    });

    scope.get('/v1/pools/:poolId', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const pool = activePool(params.poolId);
      return pool === undefined ? notFound(reply, `pool "${params.poolId}"`) : PoolBody.encode(poolBody(pool));
    });

    scope.get('/v1/pools/:poolId/governance', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const pool = activePool(params.poolId);
      const aggregates = deps.runner.poolAggregates(params.poolId);
      if (pool === undefined || aggregates === undefined) return notFound(reply, `pool "${params.poolId}"`);
      return GovernanceBody.encode({ poolId: pool.poolId, governors: pool.governors, governanceSeq: pool.governanceSeq, history: aggregates.governance.map((g) => ({ ...g, signers: [...g.signers] })) });
    });

    scope.get('/v1/pools/:poolId/fund-health', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(FundHealthQuery, request.query, reply);
      if (query === undefined) return reply;
      const document = await deps.readModels.get('fund-health', params.poolId);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      if (document.right === undefined) return notFound(reply, `pool "${params.poolId}"`);
      // A shock in the query applies to every market.
      const stress = query.shockPpm === undefined ? stressDefaults : { shockPpm: query.shockPpm, shockByMarket: {} };
      return FundHealthBody.encode(currentFundHealth(document.right.body, activePool(params.poolId), stress));
    });

    scope.get('/v1/pools/:poolId/fund-health/history', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(FundHistoryQuery, request.query, reply);
      if (query === undefined) return reply;
      const aggregates = deps.runner.poolAggregates(params.poolId);
      if (aggregates === undefined || activePool(params.poolId) === undefined) return notFound(reply, `pool "${params.poolId}"`);
      const to = query.to ?? Date.now();
      const from = query.from ?? 0;
      if (from > to) return badRequest(reply, invalidInput([{ path: 'from', message: 'from must not be after to' }]));
      return FundHealthHistoryBody.encode(fundHealthHistoryBody(aggregates, params.poolId, query.resolution ?? '1h', from, to, query.limit ?? 500));
    });

    scope.get('/v1/pools/:poolId/tranches', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const documents = await deps.readModels.list('tranches', params.poolId);
      if (E.isLeft(documents)) return unavailable(reply, documents.left.message);
      if (documents.right.length === 0) return notFound(reply, `pool "${params.poolId}"`);
      return t.array(TrancheBody).encode(documents.right.map((d) => d.body).sort((a, b) => a.seniority - b.seniority).map((b) => ({ ...b, stakers: [...b.stakers], pendingUnstakes: [...b.pendingUnstakes] })));
    });

    scope.get('/v1/pools/:poolId/accounts', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(AccountsQuery, request.query, reply);
      if (query === undefined) return reply;
      const pool = activePool(params.poolId);
      if (pool === undefined) return notFound(reply, `pool "${params.poolId}"`);
      return AccountsBody.encode(accountsPage(pool, query.sort ?? 'marginRatio', query.cursor ?? 0, query.limit ?? 100));
    });

    scope.get('/v1/pools/:poolId/accounts/at-risk', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(LimitQuery, request.query, reply);
      if (query === undefined) return reply;
      const pool = activePool(params.poolId);
      if (pool === undefined) return notFound(reply, `pool "${params.poolId}"`);
      return AtRiskBody.encode(atRiskBody(pool, query.limit ?? 20));
    });

    scope.get('/v1/pools/:poolId/accounts/:accountId', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(AccountParams, request.params, reply);
      if (params === undefined) return reply;
      const document = await deps.readModels.get('accounts', `${params.poolId}/${params.accountId}`);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      if (document.right === undefined) return notFound(reply, `account "${params.accountId}"`);
      const pool = activePool(params.poolId);
      const view = pool === undefined ? undefined : accountView(pool, document.right.body);
      const body = view ?? document.right.body;
      return AccountBody.encode({ ...body, positions: [...body.positions], history: [...body.history], ...(view === undefined ? {} : { positionsAtMark: [...view.positionsAtMark] }) });
    });

    scope.get('/v1/pools/:poolId/accounts/:accountId/history', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(AccountParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(HistoryQuery, request.query, reply);
      if (query === undefined) return reply;
      const pool = activePool(params.poolId);
      const aggregates = deps.runner.poolAggregates(params.poolId);
      if (pool === undefined || aggregates === undefined || !pool.accounts.has(params.accountId)) return notFound(reply, `account "${params.accountId}"`);
      return HistoryBody.encode(historyPage(aggregates, params.poolId, params.accountId, query.cursor, query.limit ?? 100));
    });

    scope.get('/v1/pools/:poolId/markets', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const pool = activePool(params.poolId);
      if (pool === undefined) return notFound(reply, `pool "${params.poolId}"`);
      const documents = await deps.readModels.list('markets', params.poolId);
      if (E.isLeft(documents)) return unavailable(reply, documents.left.message);
      const items = documents.right.map((d) => d.body).sort((a, b) => (a.marketId < b.marketId ? -1 : 1))
        .map((body) => ({ ...body, ...withParameters(pool, body.marketId) }));
      return MarketsBody.encode({ poolId: params.poolId, items });
    });

    const withParameters = (pool: ActivePool | undefined, marketId: string) => {
      const parameters = pool === undefined ? undefined : marketParameters(pool, marketId);
      return parameters === undefined ? {} : { parameters };
    };

    scope.get('/v1/pools/:poolId/markets/:marketId', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(MarketParams, request.params, reply);
      if (params === undefined) return reply;
      const document = await deps.readModels.get('markets', `${params.poolId}/${params.marketId}`);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      return document.right === undefined ? notFound(reply, `market "${params.marketId}"`) : MarketBody.encode({ ...document.right.body, ...withParameters(activePool(params.poolId), params.marketId) });
    });

    scope.get('/v1/pools/:poolId/markets/:marketId/adl-queue', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(MarketParams, request.params, reply);
      if (params === undefined) return reply;
      const pool = activePool(params.poolId);
      if (pool === undefined || !pool.markets.has(params.marketId)) return notFound(reply, `market "${params.marketId}"`);
      return AdlQueueBody.encode({ poolId: params.poolId, marketId: params.marketId, ...adlQueue(pool, params.marketId) });
    });

    scope.get('/v1/pools/:poolId/events', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(EventsQuery, request.query, reply);
      if (query === undefined) return reply;
      const limit = query.limit ?? 100;
      const first = query.after !== undefined ? query.after + 1n : query.from !== undefined && 'revision' in query.from ? query.from.revision : 0n;
      const filtered = query.type !== undefined || query.accountId !== undefined || (query.from !== undefined && 'time' in query.from) || query.to !== undefined;
      const found: StoredEvent[] = [];
      let next = first;
      let scanned = 0;
      let ended = false;
      // Without filters one read answers; with them, pages are read until the page is full, the
      // range or the log ends, or the scan budget is spent (the cursor says where to go on).
      while (found.length < limit && scanned < SCAN_BUDGET) {
        const asked = filtered ? 500 : limit;
        const read = await deps.events.readStream(poolStream(params.poolId), next, asked);
        if (E.isLeft(read)) return read.left.kind === 'stream-not-found' ? notFound(reply, `pool "${params.poolId}"`) : unavailable(reply, read.left.kind);
        if (read.right.length === 0) {
          ended = true;
          break;
        }
        for (const e of read.right) {
          scanned++;
          next = e.revision + 1n;
          if (query.to !== undefined && ('revision' in query.to ? e.revision > query.to.revision : e.metadata.timestamp > query.to.time)) {
            ended = true;
            break;
          }
          if (matches(e, query)) found.push(e);
          if (found.length === limit) break;
        }
        if (read.right.length < asked && found.length < limit) ended = true;
        if (ended || !filtered) break;
      }
      if (found.length === 0 && first === 0n && next === 0n) return notFound(reply, `pool "${params.poolId}"`);
      if (!ended) void reply.header('x-next-after', (next - 1n).toString());
      return EventsBody.encode(found.map(eventJson));
    });

    const matches = (e: StoredEvent, query: t.TypeOf<typeof EventsQuery>): boolean => {
      if (query.type !== undefined && e.type !== query.type) return false;
      if (query.from !== undefined && 'time' in query.from && e.metadata.timestamp < query.from.time) return false;
      if (query.accountId !== undefined) {
        const decoded = decodeStoredEvent(e.data);
        if (E.isLeft(decoded) || !accountsOfEvent(decoded.right).includes(query.accountId)) return false;
      }
      return true;
    };

    // The live stream: server-sent events, each with its revision as its id, so a client that
    // reconnects with Last-Event-ID (or ?after=) resumes after the last event it saw.
    scope.get('/v1/pools/:poolId/events/stream', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(StreamQuery, request.query, reply);
      if (query === undefined) return reply;
      const header = request.headers['last-event-id'];
      let after = query.after;
      if (header !== undefined) {
        const decoded = decodeWith(logIndex('Revision'))(header);
        if (E.isLeft(decoded)) return badRequest(reply, invalidInput(decoded.left.errors.map((e) => ({ ...e, path: 'last-event-id' }))));
        after = decoded.right;
      }
      const probe = await deps.events.readStream(poolStream(params.poolId), 0n, 1);
      if (E.isLeft(probe)) return probe.left.kind === 'stream-not-found' ? notFound(reply, `pool "${params.poolId}"`) : unavailable(reply, probe.left.kind);
      if (probe.right.length === 0) return notFound(reply, `pool "${params.poolId}"`);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write(': live events of pool ' + params.poolId + '\n\n');
      const stream = { open: true, end: () => undefined as void };
      stream.end = () => {
        stream.open = false;
        raw.end();
      };
      streams.add(stream);
      request.raw.on('close', () => {
        stream.open = false;
        streams.delete(stream);
      });
      let next = after === undefined ? 0n : after + 1n;
      let quietSince = Date.now();
      while (stream.open) {
        const read = await deps.events.readStream(poolStream(params.poolId), next, 500);
        if (E.isLeft(read)) {
          raw.write(`event: error\ndata: ${JSON.stringify({ code: 'STORE_UNAVAILABLE', message: read.left.kind })}\n\n`);
          break;
        }
        for (const e of read.right) {
          raw.write(`id: ${e.revision}\nevent: ${e.type}\ndata: ${JSON.stringify(eventJson(e))}\n\n`);
          next = e.revision + 1n;
        }
        if (read.right.length === 0) {
          // A comment now and then keeps proxies from closing a quiet stream.
          if (Date.now() - quietSince > 15_000) {
            raw.write(': keep-alive\n\n');
            quietSince = Date.now();
          }
          await sleep(deps.streamPollMs ?? 250);
        } else quietSince = Date.now();
      }
      streams.delete(stream);
      if (!raw.writableEnded) raw.end();
      return reply;
    });

    // The pool's signed checkpoints, oldest first (`from`: the index of the first, `limit`: how many).
    scope.get('/v1/pools/:poolId/checkpoints', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(CheckpointsQuery, request.query, reply);
      if (query === undefined) return reply;
      const read = await deps.events.readStream(checkpointStream(params.poolId), query.from ?? 0n, query.limit ?? 1000);
      if (E.isLeft(read)) return read.left.kind === 'stream-not-found' ? [] : unavailable(reply, read.left.kind);
      const checkpoints = [];
      for (const stored of read.right) {
        const decoded = decodeWith(CheckpointCodec)(stored.data);
        // The audit judges checkpoints; a stored one that does not decode is served as an error.
        if (E.isLeft(decoded)) return reply.code(500).send({ code: 'CORRUPT_CHECKPOINT', message: `checkpoint at position ${stored.position}: ${decoded.left.message}` });
        checkpoints.push(encodeCheckpoint(decoded.right));
      }
      return checkpoints;
    });

    stressRoutes(scope, deps.stressDesk ?? new StressDesk((poolId) => deps.runner.poolState(poolId)), readPool);

    scope.get('/metrics', { onRequest: allow(() => ({ kind: 'read-all' })) }, async (_request, reply) => {
      deps.metrics.projectionLag.set(Number(deps.runner.lag().behind));
      deps.metrics.ready.set((await ready()).ready ? 1 : 0);
      return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });

    const administer = allow(() => ({ kind: 'administer' }));
    const refused = (reply: FastifyReply, error: PrincipalChangeError) => reply.code(changeStatus(error)).send(error);

    scope.post('/v1/principals', { onRequest: administer }, async (request, reply) => {
      const spec = decodeOr(NewPrincipalSpec, request.body, reply);
      if (spec === undefined) return reply;
      const added = deps.principals.add(spec);
      if (E.isLeft(added)) return refused(reply, added.left);
      request.log.info({ principal: added.right.principal.id, by: principalOf.get(request)!.id }, 'principal added');
      // The token is shown this once: keep it out of every cache.
      return reply.code(201).header('cache-control', 'no-store').send({ ...added.right.principal, token: added.right.token });
    });

    scope.get('/v1/principals', { onRequest: administer }, async () => deps.principals.list());

    scope.delete('/v1/principals/:id', { onRequest: administer }, async (request, reply) => {
      const params = decodeOr(PrincipalParams, request.params, reply);
      if (params === undefined) return reply;
      const removed = deps.principals.remove(params.id);
      if (E.isLeft(removed)) return refused(reply, removed.left);
      request.log.info({ principal: params.id, by: principalOf.get(request)!.id }, 'principal removed');
      return removed.right;
    });
  });

  // Health, open (no ledger data): /livez says the process answers; /readyz whether it can take
  // commands now, each check with why not (503 when one fails); /healthz is /readyz.
  app.get('/livez', async () => ({ status: 'ok', uptimeSeconds: Math.floor(process.uptime()) }));
  const readyRoute = async (_request: FastifyRequest, reply: FastifyReply) => {
    const state = await ready();
    deps.metrics.ready.set(state.ready ? 1 : 0);
    const lag = deps.runner.lag();
    return reply.code(state.ready ? 200 : 503).send({
      status: state.ready ? 'ok' : 'not ready', checks: state.checks,
      projection: { seen: String(lag.seen), stored: String(lag.stored), behind: lag.behind.toString() },
    });
  };
  app.get('/readyz', readyRoute);
  app.get('/healthz', readyRoute);

  app.get('/openapi.json', async () => openApiDocument);
  dashboardRoutes(app);

  // The key checkpoints are signed with: public, so that anyone can check what they keep.
  app.get('/v1/checkpoint-key', async (_request, reply) =>
    (deps.checkpointKey === undefined ? notFound(reply, 'checkpoint key') : { algorithm: 'ed25519', publicKey: deps.checkpointKey.publicKey, pem: deps.checkpointKey.pem }));

  return app;
};

