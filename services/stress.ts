// The risk desk's stress runs in the service: the engine (domain/stress.ts) on the projection's
// state of the pool, run in slices of a few milliseconds with the event loop free in between, so
// commands and queries go on while a stress of a large pool runs. The newest result of each pool
// is kept in memory (`GET .../stress/latest`). Translation only: the rules are the engine's.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeScenario, decodeWith, Id, stress, type InvalidInput, type PoolState, type StressProgress, type StressResult } from '../domain/index.js';

export interface StressReport extends StressResult {
  /** When the run started (ISO 8601) and how long it took. */
  readonly ranAt: string;
  readonly durationMs: number;
}

export type StressOutcome =
  | { readonly status: 'done'; readonly report: StressReport }
  | { readonly status: 'invalid'; readonly error: InvalidInput }
  | { readonly status: 'unknown-pool' };

/** Runs a stress generator to its end, giving the event loop back after every `sliceMs` (by `now`, a clock in ms). */
export const runInSlices = async <R>(generator: Generator<StressProgress, R>, sliceMs = 15, now: () => number = () => performance.now()): Promise<R> => {
  for (;;) {
    const started = now();
    for (;;) {
      const next = generator.next();
      if (next.done === true) return next.value;
      if (now() - started >= sliceMs) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
};

export class StressDesk {
  private readonly latestByPool = new Map<string, StressReport>();
  /** One run per pool at a time: a second request waits for the first. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(readonly stateOf: (poolId: string) => PoolState | undefined, private readonly sliceMs = 15) {}

  latest(poolId: string): StressReport | undefined {
    return this.latestByPool.get(poolId);
  }

  async run(poolId: string, input: unknown): Promise<StressOutcome> {
    const scenario = decodeScenario(input);
    if (E.isLeft(scenario)) return { status: 'invalid', error: scenario.left };
    const previous = this.running.get(poolId) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(async (): Promise<StressOutcome> => {
      const state = this.stateOf(poolId);
      if (state?.status !== 'active') return { status: 'unknown-pool' };
      const started = Date.now();
      const outcome = await runInSlices(stress(state, scenario.right, { now: started, actor: 'stress' }), this.sliceMs);
      if (E.isLeft(outcome)) return { status: 'invalid', error: outcome.left };
      const report: StressReport = { ...outcome.right.result, ranAt: new Date(started).toISOString(), durationMs: Date.now() - started };
      this.latestByPool.set(poolId, report);
      return { status: 'done', report };
    });
    this.running.set(poolId, turn);
    try {
      return await turn;
    } finally {
      if (this.running.get(poolId) === turn) this.running.delete(poolId);
    }
  }
}

const PoolParams = t.type({ poolId: Id });
/**
 * POST /v1/pools/:poolId/stress and GET /v1/pools/:poolId/stress/latest, behind the pool's read
 * permission.
 */
export const stressRoutes = (scope: FastifyInstance, desk: StressDesk, readPool: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void => {
  const poolOf = (request: FastifyRequest, reply: FastifyReply): string | undefined => {
    const params = decodeWith(PoolParams)(request.params);
    if (E.isRight(params)) return params.right.poolId;
    void reply.code(400).send(params.left);
    return undefined;
  };
  const notFound = (reply: FastifyReply, message: string) => reply.code(404).send({ code: 'NOT_FOUND', message });

  scope.post('/v1/pools/:poolId/stress', { onRequest: readPool }, async (request, reply) => {
    const poolId = poolOf(request, reply);
    if (poolId === undefined) return reply;
    const outcome = await desk.run(poolId, request.body);
    switch (outcome.status) {
      case 'done':
        return outcome.report;
      case 'invalid':
        return reply.code(400).send(outcome.error);
      case 'unknown-pool':
        return notFound(reply, `pool "${poolId}" not found`);
      default: {
        const unreachable: never = outcome;
        return unreachable;
      }
    }
  });

  scope.get('/v1/pools/:poolId/stress/latest', { onRequest: readPool }, async (request, reply) => {
    const poolId = poolOf(request, reply);
    if (poolId === undefined) return reply;
    return desk.latest(poolId) ?? notFound(reply, `no stress result for pool "${poolId}" yet`);
  });
};
