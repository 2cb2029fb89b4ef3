// The HTTP API (fastify): commands in, read models out. Translation only: commands are decoded
// with the same codecs as every other intake and decided by the pool's writer; queries read the
// read-model store and derive mark-dependent figures from the projection's state.

import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { Logger } from 'pino';
import { adlQueue, decodeCommand, decodeWith, Id, invalidInput, type InvalidInput } from '../domain/index.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { accountView } from '../projections/read-models.js';
import type { ProjectionRunner } from '../projections/runner.js';
import { logIndex, type EventStore } from './ledger/event-store.js';
import { poolStream } from './ledger/pool-writer.js';
import type { Metrics } from './metrics.js';
import { encodeOutcome, type Outcome } from './outcome.js';
import { openApiDocument } from './openapi.js';
import type { PoolRegistry } from './pools.js';

export interface HttpDependencies {
  readonly pools: PoolRegistry;
  readonly events: EventStore;
  readonly readModels: ReadModelStore;
  readonly runner: ProjectionRunner;
  readonly metrics: Metrics;
  readonly logger?: Logger | false;
  /** Largest request body, bytes. */
  readonly bodyLimit?: number;
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

const badRequest = (reply: FastifyReply, error: InvalidInput) => reply.code(400).send(error);
const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ code: 'NOT_FOUND', message: `${what} not found` });
const unavailable = (reply: FastifyReply, message: string) => reply.code(503).send({ code: 'READ_MODELS_UNAVAILABLE', message });

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

  // Malformed JSON, a body too large, or the wrong content type: the same structured error as
  // any other bad input.
  app.setErrorHandler((failure, _request, reply) => {
    const error = failure as { readonly statusCode?: number; readonly message?: string };
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      reply.log.error(failure);
      return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
    }
    return reply.code(status).send(invalidInput([{ path: '(root)', message: error.message ?? 'bad request' }]));
  });

  app.post('/v1/pools/:poolId/commands', async (request, reply) => {
    const params = decodeOr(PoolParams, request.params, reply);
    if (params === undefined) return reply;
    const command = decodeCommand(request.body);
    if (E.isLeft(command)) return badRequest(reply, command.left);
    if (command.right.poolId !== params.poolId) {
      return badRequest(reply, invalidInput([{ path: 'poolId', message: `the command is for pool "${command.right.poolId}", the path for "${params.poolId}"` }]));
    }
    const started = process.hrtime.bigint();
    let outcome: Outcome;
    try {
      const writer = await deps.pools.writer(params.poolId);
      outcome = await writer.submit({ command: command.right, actor: `http:${request.ip}`, correlationId: String(request.headers['x-correlation-id'] ?? command.right.commandId) });
    } catch (error) {
      outcome = { status: 'failed', commandId: command.right.commandId, error: { code: 'STORE_UNAVAILABLE', message: (error as Error).message } };
    }
    deps.metrics.recordOutcome(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    return reply.code(statusOf(outcome)).send(encodeOutcome(outcome));
  });

  app.get('/v1/pools/:poolId/fund-health', async (request, reply) => {
    const params = decodeOr(PoolParams, request.params, reply);
    if (params === undefined) return reply;
    const document = await deps.readModels.get('fund-health', params.poolId);
    if (E.isLeft(document)) return unavailable(reply, document.left.message);
    return document.right === undefined ? notFound(reply, `pool "${params.poolId}"`) : document.right.body;
  });

  app.get('/v1/pools/:poolId/tranches', async (request, reply) => {
    const params = decodeOr(PoolParams, request.params, reply);
    if (params === undefined) return reply;
    const documents = await deps.readModels.list('tranches', params.poolId);
    if (E.isLeft(documents)) return unavailable(reply, documents.left.message);
    if (documents.right.length === 0) return notFound(reply, `pool "${params.poolId}"`);
    return documents.right.map((d) => d.body).sort((a, b) => a.seniority - b.seniority);
  });

  app.get('/v1/pools/:poolId/accounts/:accountId', async (request, reply) => {
    const params = decodeOr(AccountParams, request.params, reply);
    if (params === undefined) return reply;
    const document = await deps.readModels.get('accounts', `${params.poolId}/${params.accountId}`);
    if (E.isLeft(document)) return unavailable(reply, document.left.message);
    if (document.right === undefined) return notFound(reply, `account "${params.accountId}"`);
    const pool = deps.runner.poolState(params.poolId);
    const view = pool?.status === 'active' ? accountView(pool, document.right.body) : undefined;
    return view ?? document.right.body;
  });

  app.get('/v1/pools/:poolId/markets/:marketId', async (request, reply) => {
    const params = decodeOr(MarketParams, request.params, reply);
    if (params === undefined) return reply;
    const document = await deps.readModels.get('markets', `${params.poolId}/${params.marketId}`);
    if (E.isLeft(document)) return unavailable(reply, document.left.message);
    return document.right === undefined ? notFound(reply, `market "${params.marketId}"`) : document.right.body;
  });

  app.get('/v1/pools/:poolId/markets/:marketId/adl-queue', async (request, reply) => {
    const params = decodeOr(MarketParams, request.params, reply);
    if (params === undefined) return reply;
    const pool = deps.runner.poolState(params.poolId);
    if (pool?.status !== 'active' || !pool.markets.has(params.marketId)) return notFound(reply, `market "${params.marketId}"`);
    return { poolId: params.poolId, marketId: params.marketId, ...adlQueue(pool, params.marketId) };
  });

  app.get('/v1/pools/:poolId/events', async (request, reply) => {
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

  app.get('/healthz', async () => {
    const lag = deps.runner.lag();
    return { status: 'ok', projection: { seen: String(lag.seen), stored: String(lag.stored), behind: lag.behind.toString() } };
  });

  app.get('/metrics', async (_request, reply) => {
    deps.metrics.projectionLag.set(Number(deps.runner.lag().behind));
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get('/openapi.json', async () => openApiDocument);

  return app;
};

