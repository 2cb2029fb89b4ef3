// The OpenAPI description of the HTTP API (served at /openapi.json).

import { commandTypes } from '../domain/index.js';

const decimal = { type: 'string', pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$', description: 'exact decimal (never a JSON number)' };
const error = {
  type: 'object', required: ['code', 'message'],
  properties: {
    code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};
const poolId = { name: 'poolId', in: 'path', required: true, schema: { type: 'string' } };
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(error, 'Bad input: code INVALID_INPUT and the path of each bad field'),
  404: json(error, 'No such pool, account or market'),
  503: json(error, 'A store is unavailable'),
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Insurance-fund ledger', version: '1', description: 'Commands for a clearing pool and its read models. Amounts are decimal strings.' },
  paths: {
    '/v1/pools/{poolId}/commands': {
      post: {
        summary: 'Submit a command (the same codecs and outcomes as the bus)',
        parameters: [poolId],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['type', 'schemaVersion', 'commandId', 'poolId'], properties: { type: { enum: commandTypes }, schemaVersion: { const: 1 }, commandId: { type: 'string' }, poolId: { type: 'string' } } } } } },
        responses: {
          200: json({ type: 'object', properties: { status: { const: 'accepted' }, commandId: { type: 'string' }, events: { type: 'array' }, deduplicated: { type: 'boolean' } } }, 'Accepted, durable (or a repeat of an accepted command)'),
          400: errors[400],
          409: json(error, 'Rejected: someone got there first (duplicate trade, existing pool or market), or COMMAND_ID_REUSED: the command id was used by a different command'),
          422: json(error, 'Rejected by the domain, with its code (INSUFFICIENT_MARGIN, NOT_LIQUIDATABLE, ...); a repeat of a rejected command gets the same answer, with deduplicated: true'),
          503: errors[503],
        },
      },
    },
    '/v1/pools/{poolId}/fund-health': { get: { summary: 'Fund health read model', parameters: [poolId], responses: { 200: json({ type: 'object', properties: { fundAssets: decimal, openInterest: decimal, badDebt: decimal } }, 'Fund health'), ...errors } } },
    '/v1/pools/{poolId}/tranches': { get: { summary: 'Tranche read models, junior first', parameters: [poolId], responses: { 200: json({ type: 'array' }, 'Tranches'), ...errors } } },
    '/v1/pools/{poolId}/accounts/{accountId}': { get: { summary: 'Account read model with mark-dependent figures', parameters: [poolId, { name: 'accountId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Account'), ...errors } } },
    '/v1/pools/{poolId}/markets/{marketId}': { get: { summary: 'Market read model', parameters: [poolId, { name: 'marketId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Market'), ...errors } } },
    '/v1/pools/{poolId}/markets/{marketId}/adl-queue': { get: { summary: 'ADL queue of both sides: rank and 1-5 lights', parameters: [poolId, { name: 'marketId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Queue'), ...errors } } },
    '/v1/pools/{poolId}/events': {
      get: {
        summary: 'Events of the pool stream',
        parameters: [poolId, { name: 'from', in: 'query', schema: { type: 'string', description: 'first revision (default 0)' } }, { name: 'limit', in: 'query', schema: { type: 'string', description: '1 to 1000 (default 100)' } }],
        responses: { 200: json({ type: 'array' }, 'Events with revision, position, data and metadata'), ...errors },
      },
    },
    '/healthz': { get: { summary: 'Liveness and projection lag', responses: { 200: json({ type: 'object' }, 'OK') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain; version=0.0.4' } } } },
  },
} as const;
