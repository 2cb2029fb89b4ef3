// The HTTP API (fastify): commands in, read models out. Translation only: commands are decoded
// with the same codecs as every other intake and decided by the pool's writer; queries read the
// read-model store and derive mark-dependent figures from the projection's state.
// Every route but /healthz, /openapi.json and the dashboard page (/ and /dashboard/*; they show no ledger data) needs a bearer token of a
// principal (401 without one), and `authorize` decides what that principal may do (403), before
// any command is decided.

import bearerAuth from '@fastify/bearer-auth';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { Logger } from 'pino';
import {
  adlQueue, authorize, commandTypes, CorrelationId, decodeCommand, decodeWith, Id, invalidInput, parseJson,
  type AccessDenied, type Action, type InvalidInput,
} from '../domain/index.js';
import { grantOf, principalForToken, PrincipalId, type Principal } from './auth/principals.js';
import { NewPrincipalSpec, type PrincipalChangeError, type PrincipalRegistry } from './auth/registry.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { accountView } from '../projections/read-models.js';
import type { ProjectionRunner } from '../projections/runner.js';
import { logIndex, type EventStore } from './ledger/event-store.js';
import { poolStream } from './ledger/pool-writer.js';
import type { Metrics } from './metrics.js';
import { encodeOutcome, type Outcome } from './outcome.js';
import { openApiDocument } from './openapi.js';
import type { PoolRegistry } from './pools.js';
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
const EventsQuery = t.partial({
  from: logIndex('Revision'),
  limit: new t.Type<number, string, unknown>('Limit', (u): u is number => typeof u === 'number',
    (u, c) => {
      const n = typeof u === 'string' && /^[0-9]{1,4}$/.test(u) ? Number(u) : NaN;
      return n >= 1 && n <= 1000 ? t.success(n) : t.failure(u, c, 'expected an integer from 1 to 1000');
    }, String),
});

const PrincipalParams = t.type({ id: PrincipalId });

const badRequest = (reply: FastifyReply, error: InvalidInput) => reply.code(400).send(error);
const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ code: 'NOT_FOUND', message: `${what} not found` });
const unavailable = (reply: FastifyReply, message: string) => reply.code(503).send({ code: 'READ_MODELS_UNAVAILABLE', message });

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

    scope.get('/v1/pools/:poolId/fund-health', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const document = await deps.readModels.get('fund-health', params.poolId);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      return document.right === undefined ? notFound(reply, `pool "${params.poolId}"`) : document.right.body;
    });

    scope.get('/v1/pools/:poolId/tranches', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const documents = await deps.readModels.list('tranches', params.poolId);
      if (E.isLeft(documents)) return unavailable(reply, documents.left.message);
      if (documents.right.length === 0) return notFound(reply, `pool "${params.poolId}"`);
      return documents.right.map((d) => d.body).sort((a, b) => a.seniority - b.seniority);
    });

    scope.get('/v1/pools/:poolId/accounts/:accountId', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(AccountParams, request.params, reply);
      if (params === undefined) return reply;
      const document = await deps.readModels.get('accounts', `${params.poolId}/${params.accountId}`);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      if (document.right === undefined) return notFound(reply, `account "${params.accountId}"`);
      const pool = deps.runner.poolState(params.poolId);
      const view = pool?.status === 'active' ? accountView(pool, document.right.body) : undefined;
      return view ?? document.right.body;
    });

    scope.get('/v1/pools/:poolId/markets/:marketId', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(MarketParams, request.params, reply);
      if (params === undefined) return reply;
      const document = await deps.readModels.get('markets', `${params.poolId}/${params.marketId}`);
      if (E.isLeft(document)) return unavailable(reply, document.left.message);
      return document.right === undefined ? notFound(reply, `market "${params.marketId}"`) : document.right.body;
    });

    scope.get('/v1/pools/:poolId/markets/:marketId/adl-queue', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(MarketParams, request.params, reply);
      if (params === undefined) return reply;
      const pool = deps.runner.poolState(params.poolId);
      if (pool?.status !== 'active' || !pool.markets.has(params.marketId)) return notFound(reply, `market "${params.marketId}"`);
      return { poolId: params.poolId, marketId: params.marketId, ...adlQueue(pool, params.marketId) };
    });

    scope.get('/v1/pools/:poolId/events', { onRequest: readPool }, async (request, reply) => {
      const params = decodeOr(PoolParams, request.params, reply);
      if (params === undefined) return reply;
      const query = decodeOr(EventsQuery, request.query, reply);
      if (query === undefined) return reply;
      const read = await deps.events.readStream(poolStream(params.poolId), query.from ?? 0n, query.limit ?? 100);
      if (E.isLeft(read)) return read.left.kind === 'stream-not-found' ? notFound(reply, `pool "${params.poolId}"`) : unavailable(reply, read.left.kind);
      return read.right.map((e) => ({
        revision: e.revision.toString(), position: e.position.toString(), eventId: e.eventId, type: e.type, data: e.data, metadata: e.metadata,
      }));
    });

    stressRoutes(scope, deps.stressDesk ?? new StressDesk((poolId) => deps.runner.poolState(poolId)), readPool);

    scope.get('/metrics', { onRequest: allow(() => ({ kind: 'read-all' })) }, async (_request, reply) => {
      deps.metrics.projectionLag.set(Number(deps.runner.lag().behind));
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

  app.get('/healthz', async () => {
    const lag = deps.runner.lag();
    return { status: 'ok', projection: { seen: String(lag.seen), stored: String(lag.stored), behind: lag.behind.toString() } };
  });

  app.get('/openapi.json', async () => openApiDocument);
  dashboardRoutes(app);

  return app;
};

