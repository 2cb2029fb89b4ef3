// The OpenAPI description of the HTTP API (served at /openapi.json), with what each route needs:
// a principal's bearer token and the role (and pool) that `authorize` asks for.

import { commandRole, commandTypes, roles } from '../domain/index.js';

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
const authErrors = {
  401: { ...json(error, 'No bearer token, or not the token of a principal: code UNAUTHENTICATED'), headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } },
  403: json(error, 'The principal lacks the role, or the pool: code FORBIDDEN'),
};
const bearer = [{ bearer: [] }];
/** A route that needs a principal: what it needs, its responses with 401 and 403. */
const secured = <R extends object>(needs: string, operation: { readonly responses: R } & Record<string, unknown>) => ({
  ...operation, description: `Needs ${needs}.`, security: bearer, responses: { ...operation.responses, ...authErrors },
});
const readsPool = 'role reader (or operator) on the pool';
const commandRoles = commandTypes.map((type) => `${type}: ${commandRole[type]}`).join(', ');
const principal = {
  type: 'object', required: ['id', 'roles', 'pools', 'http'],
  properties: {
    id: { type: 'string' }, roles: { type: 'array', items: { enum: roles } }, pools: { type: 'array', items: { type: 'string' }, description: 'pool ids, or * for every pool' },
    http: { type: 'boolean', description: 'whether it has a bearer token' }, natsUser: { type: 'string' }, description: { type: 'string' },
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Insurance-fund ledger', version: '1', description: 'Commands for a clearing pool and its read models. Amounts are decimal strings. Every route but /healthz and /openapi.json needs a principal\'s bearer token.' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A principal\'s token (ledger principal add, or POST /v1/principals)' } } },
  paths: {
    '/v1/pools/{poolId}/commands': {
      post: secured(`the role of the command's type on the pool (${commandRoles})`, {
        summary: 'Submit a command (the same codecs and outcomes as the bus)',
        parameters: [poolId, { name: 'x-correlation-id', in: 'header', schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' }, description: 'stored in the events\' metadata (default: the commandId)' }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['type', 'schemaVersion', 'commandId', 'poolId'], properties: { type: { enum: commandTypes }, schemaVersion: { const: 1 }, commandId: { type: 'string' }, poolId: { type: 'string' } } } } } },
        responses: {
          200: json({ type: 'object', properties: { status: { const: 'accepted' }, commandId: { type: 'string' }, events: { type: 'array' }, deduplicated: { type: 'boolean' } } }, 'Accepted, durable (or a repeat of an accepted command)'),
          400: errors[400],
          409: json(error, 'Rejected: someone got there first (duplicate trade, existing pool or market), or COMMAND_ID_REUSED: the command id was used by a different command'),
          422: json(error, 'Rejected by the domain, with its code (INSUFFICIENT_MARGIN, NOT_LIQUIDATABLE, ...); a repeat of a rejected command gets the same answer, with deduplicated: true'),
          503: errors[503],
        },
      }),
    },
    '/v1/pools/{poolId}/fund-health': { get: secured(readsPool, { summary: 'Fund health read model', parameters: [poolId], responses: { 200: json({ type: 'object', properties: { fundAssets: decimal, openInterest: decimal, badDebt: decimal } }, 'Fund health'), ...errors } }) },
    '/v1/pools/{poolId}/tranches': { get: secured(readsPool, { summary: 'Tranche read models, junior first', parameters: [poolId], responses: { 200: json({ type: 'array' }, 'Tranches'), ...errors } }) },
    '/v1/pools/{poolId}/accounts/{accountId}': { get: secured(readsPool, { summary: 'Account read model with mark-dependent figures', parameters: [poolId, { name: 'accountId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Account'), ...errors } }) },
    '/v1/pools/{poolId}/markets/{marketId}': { get: secured(readsPool, { summary: 'Market read model', parameters: [poolId, { name: 'marketId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Market'), ...errors } }) },
    '/v1/pools/{poolId}/markets/{marketId}/adl-queue': { get: secured(readsPool, { summary: 'ADL queue of both sides: rank and 1-5 lights', parameters: [poolId, { name: 'marketId', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Queue'), ...errors } }) },
    '/v1/pools/{poolId}/stress': { post: secured(readsPool, { summary: 'Run a what-if stress scenario on the pool\'s current state (nothing is appended)', parameters: [poolId], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['liquidatorId'] } } } }, responses: { 200: json({ type: 'object' }, 'Stress result'), ...errors } }) },
    '/v1/pools/{poolId}/risk/accounts': { get: secured(readsPool, { summary: 'Accounts nearest liquidation: lowest equity / maintenance first', parameters: [poolId, { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } }], responses: { 200: json({ type: 'object' }, 'Accounts at risk'), ...errors } }) },
    '/v1/pools/{poolId}/stress/latest': { get: secured(readsPool, { summary: 'The newest stress result of the pool', parameters: [poolId], responses: { 200: json({ type: 'object' }, 'Stress result'), ...errors } }) },
    '/v1/pools/{poolId}/events': {
      get: secured(readsPool, {
        summary: 'Events of the pool stream',
        parameters: [poolId, { name: 'from', in: 'query', schema: { type: 'string', description: 'first revision (default 0)' } }, { name: 'limit', in: 'query', schema: { type: 'string', description: '1 to 1000 (default 100)' } }],
        responses: { 200: json({ type: 'array' }, 'Events with revision, position, data and metadata (the actor is the principal that sent the command)'), ...errors },
      }),
    },
    '/v1/principals': {
      post: secured('role operator', {
        summary: 'Add a principal; its bearer token is in the answer, this once',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['id', 'roles', 'pools'], properties: { id: { type: 'string' }, roles: principal.properties.roles, pools: principal.properties.pools, natsUser: { type: 'string' }, description: { type: 'string' } } } } } },
        responses: { 201: json({ ...principal, properties: { ...principal.properties, token: { type: 'string' } } }, 'Added, with its token'), 400: errors[400], 409: json(error, 'The id or the NATS user is taken'), 503: errors[503] },
      }),
      get: secured('role operator', { summary: 'The principals, without token hashes', responses: { 200: json({ type: 'array', items: principal }, 'Principals') } }),
    },
    '/v1/principals/{id}': {
      delete: secured('role operator', {
        summary: 'Remove a principal: its token is refused from then on',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json(principal, 'Removed'), 404: json(error, 'No such principal'), 409: json(error, 'The last operator stays'), 503: errors[503] },
      }),
    },
    '/healthz': { get: { summary: 'Liveness and projection lag (open: no ledger data)', security: [], responses: { 200: json({ type: 'object' }, 'OK') } } },
    '/metrics': { get: secured('role reader (or operator) on every pool (*)', { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain; version=0.0.4' } } }) },
  },
} as const;
