// Prometheus metrics of the service.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from './outcome.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly commands = new Counter({
    name: 'ledger_commands_total', help: 'Commands handled, by outcome and code', labelNames: ['status', 'code'] as const, registers: [this.registry],
  });
  readonly commandLatency = new Histogram({
    name: 'ledger_command_seconds', help: 'Time from submission to a durable outcome (decide and append)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry],
  });
  readonly appendLatency = new Histogram({
    name: 'ledger_append_seconds', help: 'Duration of one durable append (a group-committed batch)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ledger_append_batch_events', help: 'Events in one durable append', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: 'ledger_http_auth_failures_total', help: 'HTTP requests refused: no or unknown credentials (unauthenticated), or not allowed (forbidden)',
    labelNames: ['reason'] as const, registers: [this.registry],
  });
  readonly projectionLag = new Gauge({
    name: 'ledger_projection_lag_events', help: 'Positions between the last event seen and the last stored in the read models', registers: [this.registry],
  });

  /** Report how many pool writers are held (one per pool that exists: unknown pools get none). */
  trackPoolWriters(count: () => number): void {
    new Gauge({
      name: 'ledger_pool_writers', help: 'Pool writers held in memory', registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  recordAppend(events: number, seconds: number): void {
    this.batchSize.observe(events);
    this.appendLatency.observe(seconds);
  }

  recordAuthFailure(reason: 'unauthenticated' | 'forbidden'): void {
    this.authFailures.inc({ reason });
  }

  recordOutcome(outcome: Outcome | { readonly status: 'forbidden'; readonly error: { readonly code: string } }, seconds: number): void {
    const code = outcome.status === 'accepted' ? '' : outcome.error.code;
    this.commands.inc({ status: outcome.status, code });
    this.commandLatency.observe(seconds);
  }
}
