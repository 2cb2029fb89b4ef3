// The OpenAPI description of the HTTP API (served at /openapi.json), generated from the codecs:
// every command's fields from the command codecs, every answer from the read API's codecs, so the
// description cannot drift from what the service decodes and sends. Each route says what it
// needs: a principal's bearer token and the role (and pool) that `authorize` asks for.

import type * as t from 'io-ts';
import { commandCodecs, commandRole, commandTypes, eventTypes, jsonSchemaOf, roles, StressScenario, type JsonSchema } from '../domain/index.js';
import {
  AccountBody, AccountsBody, AdlQueueBody, AtRiskBody, ErrorBody, EventsBody, FundHealthBody, FundHealthHistoryBody, GovernanceBody, HealthBody, HistoryBody,
  MarketBody, MarketsBody, OutcomeBody, PoolBody, PoolListBody, TrancheBody,
} from './read-api.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = ref('Error');
const errors = {
  400: json(error, 'Bad input: code INVALID_INPUT and the path of each bad field'),
  404: json(error, 'No such pool, account or market: code NOT_FOUND'),
  503: json(error, 'A store is unavailable'),
};
const authErrors = {
  401: { ...json(error, 'No bearer token, or not the token of a principal: code UNAUTHENTICATED'), headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } },
  403: json(error, 'The principal lacks the role, or the pool: code FORBIDDEN'),
};
const bearer = [{ bearer: [] }];
/** A route that needs a principal: what it needs, its responses with 401 and 403. */
const secured = <R extends object>(operationId: string, needs: string, operation: { readonly responses: R } & Record<string, unknown>) => ({
  operationId, ...operation, description: `${typeof operation.description === 'string' ? `${operation.description} ` : ''}Needs ${needs}.`,
  security: bearer, responses: { ...operation.responses, ...authErrors },
});
const readsPool = 'role reader (or operator) on the pool';
const commandRoles = commandTypes.map((type) => `${type}: ${commandRole[type]}`).join(', ');
const path = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$' }, description });
const poolId = path('poolId', 'the pool');
const accountId = path('accountId', 'the account');
const marketId = path('marketId', 'the market');
const query = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, schema, description });
const limit = (max: number, byDefault: number) => query('limit', `1 to ${max} (default ${byDefault})`, { type: 'string', pattern: '^[0-9]+$' });
const principal = {
  type: 'object', required: ['id', 'roles', 'pools', 'http'],
  properties: {
    id: { type: 'string' }, roles: { type: 'array', items: { enum: roles } }, pools: { type: 'array', items: { type: 'string' }, description: 'pool ids, or * for every pool' },
    http: { type: 'boolean', description: 'whether it has a bearer token' }, natsUser: { type: 'string' }, description: { type: 'string' },
  },
};

const bodies: Record<string, t.Mixed> = {
  Error: ErrorBody, Outcome: OutcomeBody, FundHealth: FundHealthBody, FundHealthHistory: FundHealthHistoryBody, Tranche: TrancheBody, Account: AccountBody,
  Accounts: AccountsBody, AccountsAtRisk: AtRiskBody, AccountHistory: HistoryBody, Market: MarketBody, Markets: MarketsBody, AdlQueue: AdlQueueBody,
  Pools: PoolListBody, Pool: PoolBody, Governance: GovernanceBody, Events: EventsBody, Health: HealthBody,
};
const schemas: Record<string, JsonSchema> = {
  ...Object.fromEntries(Object.entries(bodies).map(([name, codec]) => [name, jsonSchemaOf(codec)])),
  ...Object.fromEntries(commandTypes.map((type) => [type, jsonSchemaOf(commandCodecs[type])])),
  Command: { oneOf: commandTypes.map(ref), discriminator: { propertyName: 'type', mapping: Object.fromEntries(commandTypes.map((type) => [type, ref(type).$ref])) } },
  Principal: principal,
};

const get = (operationId: string, summary: string, parameters: object[], ok: object, extra: Record<string, unknown> = {}) => ({
  get: secured(operationId, readsPool, { summary, parameters, responses: { 200: ok, ...errors }, ...extra }),
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Insurance-fund ledger', version: '1',
    description: 'Commands for a clearing pool and its read models. Amounts are exact decimal strings. Every route but /livez, /readyz, /healthz, /openapi.json and /v1/checkpoint-key needs a principal\'s bearer token.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A principal\'s token (ledger principal add, or POST /v1/principals)' } },
    schemas,
  },
  paths: {
    '/v1/pools/{poolId}/commands': {
      post: secured('submitCommand', `the role of the command's type on the pool (${commandRoles})`, {
        summary: 'Submit a command (the same codecs and outcomes as the bus)',
        parameters: [poolId, { name: 'x-correlation-id', in: 'header', schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' }, description: 'stored in the events\' metadata (default: the commandId)' }],
        requestBody: { required: true, content: { 'application/json': { schema: ref('Command') } } },
        responses: {
          200: json(ref('Outcome'), 'Accepted, durable (or a repeat of an accepted command, deduplicated: true)'),
          400: json(error, 'Not a command (or malformed JSON, a repeated key, too deep, a bad x-correlation-id): code INVALID_INPUT and the path of each bad field'),
          409: json(ref('Outcome'), 'Rejected: someone got there first (duplicate trade, existing pool or market), or COMMAND_ID_REUSED: the command id was used by a different command'),
          413: json(error, 'The body is larger than the limit (256 KiB by default): code INVALID_INPUT'),
          422: json(ref('Outcome'), 'Rejected by the domain, with its code (INSUFFICIENT_MARGIN, NOT_LIQUIDATABLE, ...); a repeat of a rejected command gets the same answer, with deduplicated: true'),
          503: json(ref('Outcome'), 'The store failed: status failed'),
        },
      }),
    },
    '/v1/pools': { get: secured('listPools', 'any role; lists only the pools the principal may read', { summary: 'The pools the principal may read', responses: { 200: json(ref('Pools'), 'Pools') } }) },
    '/v1/pools/{poolId}': get('getPool', 'Pool summary: parameters, governors, tranches, treasury and bad debt', [poolId], json(ref('Pool'), 'Pool')),
    '/v1/pools/{poolId}/governance': get('getGovernance', 'Governors and every governance change with its signers', [poolId], json(ref('Governance'), 'Governance')),
    '/v1/pools/{poolId}/fund-health': get('getFundHealth', 'Fund health now, with the Cover-2 stress deficit as of now', [poolId,
      query('shockPpm', 'Cover-2 price shock for every market, ppm (default: the service setting STRESS_SHOCK_PPM, else 300000)', { type: 'string', pattern: '^[0-9]+$' })], json(ref('FundHealth'), 'Fund health')),
    '/v1/pools/{poolId}/fund-health/history': get('getFundHealthHistory', 'Fund-health history: the figures after the last event of each bucket, downsampled to at most `limit` points', [poolId,
      query('resolution', 'bucket width (default 1h)', { enum: ['1m', '1h', '1d'] }), query('from', 'ISO-8601 time or ms since the epoch (default: the start)'),
      query('to', 'ISO-8601 time or ms since the epoch (default: now)'), limit(5000, 500)], json(ref('FundHealthHistory'), 'History')),
    '/v1/pools/{poolId}/tranches': get('listTranches', 'Tranche read models, junior first', [poolId], json({ type: 'array', items: ref('Tranche') }, 'Tranches')),
    '/v1/pools/{poolId}/accounts': get('listAccounts', 'Accounts at current marks, sorted and paged', [poolId,
      query('sort', 'marginRatio (nearest liquidation first, default), equity (largest first), adlRank (deleveraged first)', { enum: ['marginRatio', 'equity', 'adlRank'] }),
      query('cursor', 'the `next` of the previous page'), limit(1000, 100)], json(ref('Accounts'), 'A page of accounts')),
    '/v1/pools/{poolId}/accounts/at-risk': get('listAccountsAtRisk', 'Accounts with a position nearest liquidation at current marks, and how many are liquidatable now', [poolId, limit(1000, 20)], json(ref('AccountsAtRisk'), 'Accounts at risk')),
    '/v1/pools/{poolId}/accounts/{accountId}': get('getAccount', 'Account read model with mark-dependent figures', [poolId, accountId], json(ref('Account'), 'Account')),
    '/v1/pools/{poolId}/accounts/{accountId}/history': get('getAccountHistory', 'Every movement of the account, oldest first, paged', [poolId, accountId,
      query('cursor', 'the `next` of the previous page (a log position)', { type: 'string', pattern: '^[0-9]+$' }), limit(1000, 100)], json(ref('AccountHistory'), 'A page of movements')),
    '/v1/pools/{poolId}/markets': get('listMarkets', 'Markets with their parameters', [poolId], json(ref('Markets'), 'Markets')),
    '/v1/pools/{poolId}/markets/{marketId}': get('getMarket', 'Market read model with its parameters', [poolId, marketId], json(ref('Market'), 'Market')),
    '/v1/pools/{poolId}/markets/{marketId}/adl-queue': get('getAdlQueue', 'ADL queue of both sides: rank and 1-5 lights (null and 0 when ineligible)', [poolId, marketId], json(ref('AdlQueue'), 'Queue')),
    '/v1/pools/{poolId}/stress': {
      post: secured('runStress', readsPool, {
        summary: 'A what-if stress scenario on the pool\'s current state through the real decider; nothing is appended',
        parameters: [poolId], requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(StressScenario) } } },
        responses: { 200: json({ type: 'object' }, 'The stress result'), ...errors },
      }),
    },
    '/v1/pools/{poolId}/stress/latest': get('getLatestStress', 'The newest stress result of the pool', [poolId], json({ type: 'object' }, 'The stress result')),
    '/v1/pools/{poolId}/events': get('listEvents', 'Events of the pool stream, filtered; when more may follow, the X-Next-After header is the cursor for `after`', [poolId,
      query('after', 'cursor: the revision after which to start', { type: 'string', pattern: '^[0-9]+$' }),
      query('from', 'first revision, or an ISO-8601 time (default 0)'), query('to', 'last revision, or an ISO-8601 time'),
      query('type', 'only events of this type', { enum: eventTypes }), query('accountId', 'only events that concern this account'), limit(1000, 100)],
    { ...json(ref('Events'), 'Events with revision, position, data and metadata (the actor is the principal that sent the command)'), headers: { 'X-Next-After': { schema: { type: 'string' }, description: 'present when more events may follow' } } }),
    '/v1/pools/{poolId}/events/stream': get('streamEvents', 'Live events as server-sent events (id: the revision; event: the type; data: as in /events); resumes after Last-Event-ID or ?after=', [poolId,
      { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^[0-9]+$' } }, query('after', 'the revision after which to start (default: the first event)', { type: 'string', pattern: '^[0-9]+$' })],
    { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }),
    '/v1/pools/{poolId}/checkpoints': {
      get: secured('listCheckpoints', readsPool, {
        summary: 'Signed checkpoints of the pool\'s log, oldest first: {logId, poolId, revision, hash, time, publicKey, signature} (keep them; `ledger audit --checkpoints` checks a log against them)',
        parameters: [poolId, { name: 'from', in: 'query', schema: { type: 'string', description: 'index of the first checkpoint (default 0)' } }, { name: 'limit', in: 'query', schema: { type: 'string', description: '1 to 1000 (default 1000)' } }],
        responses: { 200: json({ type: 'array' }, 'Checkpoints'), ...errors },
      }),
    },
    '/v1/checkpoint-key': { get: { operationId: 'getCheckpointKey', summary: 'The ed25519 public key checkpoints are signed with (hex and PEM; open: a public key)', security: [], responses: { 200: json({ type: 'object' }, 'Key') } } },
    '/v1/principals': {
      post: secured('addPrincipal', 'role operator', {
        summary: 'Add a principal; its bearer token is in the answer, this once',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['id', 'roles', 'pools'], properties: { id: { type: 'string' }, roles: principal.properties.roles, pools: principal.properties.pools, natsUser: { type: 'string' }, description: { type: 'string' } } } } } },
        responses: { 201: json({ ...principal, properties: { ...principal.properties, token: { type: 'string' } } }, 'Added, with its token'), 400: errors[400], 409: json(error, 'The id or the NATS user is taken'), 413: json(error, 'The body is too large'), 503: errors[503] },
      }),
      get: secured('listPrincipals', 'role operator', { summary: 'The principals, without token hashes', responses: { 200: json({ type: 'array', items: ref('Principal') }, 'Principals') } }),
    },
    '/v1/principals/{id}': {
      delete: secured('removePrincipal', 'role operator', {
        summary: 'Remove a principal: its token is refused from then on',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json(ref('Principal'), 'Removed'), 400: errors[400], 404: json(error, 'No such principal'), 409: json(error, 'The last operator stays'), 503: errors[503] },
      }),
    },
    '/livez': { get: { operationId: 'live', summary: 'The process is up and answers (open: no ledger data)', security: [], responses: { 200: json({ type: 'object' }, 'Alive') } } },
    '/readyz': { get: { operationId: 'ready', summary: 'Ready to take commands: each check (store, forwarder, intake, projection) with why not (open: no ledger data)', security: [], responses: { 200: json({ type: 'object' }, 'Ready'), 503: json({ type: 'object' }, 'Not ready') } } },
    '/healthz': { get: { operationId: 'health', summary: 'The same as /readyz (open: no ledger data)', security: [], responses: { 200: json({ type: 'object' }, 'Ready'), 503: json({ type: 'object' }, 'Not ready') } } },
    '/openapi.json': { get: { operationId: 'openApi', summary: 'This description (open)', security: [], responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1') } } },
    '/metrics': { get: secured('metrics', 'role reader (or operator) on every pool (*)', { summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } }) },
  },
};
