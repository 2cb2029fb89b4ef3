// Prometheus metrics of the service.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from './outcome.js';

/** A pool's fund figures for the gauges, in quote units (Prometheus samples are floats: for alerting, never for accounts). */
export interface FundFigures {
  readonly poolId: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: number }>;
  readonly fundAssets: number;
  readonly openInterest: number;
  /** null without open interest. */
  readonly coveragePpm: number | null;
  readonly treasury: number;
  readonly badDebt: number;
  readonly draws: { readonly count: number; readonly total: number };
  readonly adl: { readonly count: number; readonly fills: number };
  readonly socialized: { readonly count: number; readonly total: number };
}

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
  private readonly httpRequests = new Counter({
    name: 'ledger_http_requests_total', help: 'HTTP requests answered, by method, route (the path pattern) and status', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });
  readonly httpLatency = new Histogram({
    name: 'ledger_http_request_seconds', help: 'Time to answer an HTTP request, by method and route', labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  private fundsTracked = false;
  readonly projectionLag = new Gauge({
    name: 'ledger_projection_lag_events', help: 'Positions between the last event seen and the last stored in the read models', registers: [this.registry],
  });

  constructor() {
    // Process defaults: CPU, memory, event-loop lag, handles, GC.
    collectDefaultMetrics({ register: this.registry });
  }

  recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpLatency.observe({ method, route }, seconds);
  }

  /**
   * Fund gauges per pool and tranche, and the running totals of draws, ADL and socialization, read
   * from `figures` at each scrape (once per registry).
   */
  trackFunds(figures: () => ReadonlyArray<FundFigures>): void {
    if (this.fundsTracked) return;
    this.fundsTracked = true;
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (f: FundFigures) => number | null) => new Gauge({
      name, help, labelNames: ['pool'] as const, registers,
      collect() {
        this.reset();
        for (const f of figures()) {
          const v = value(f);
          if (v !== null) this.set({ pool: f.poolId }, v);
        }
      },
    });
    new Gauge({
      name: 'ledger_fund_tranche_assets', help: 'Assets of each tranche, quote units', labelNames: ['pool', 'tranche'] as const, registers,
      collect() {
        this.reset();
        for (const f of figures()) for (const t of f.tranches) this.set({ pool: f.poolId, tranche: t.trancheId }, t.assets);
      },
    });
    gauge('ledger_fund_assets', 'Insurance fund assets (all tranches), quote units', (f) => f.fundAssets);
    gauge('ledger_fund_coverage_ppm', 'Fund assets / open interest, ppm (absent without open interest)', (f) => f.coveragePpm);
    gauge('ledger_open_interest', 'Open interest at mark, quote units', (f) => f.openInterest);
    gauge('ledger_treasury', 'Treasury balance, quote units', (f) => f.treasury);
    gauge('ledger_bad_debt', 'Outstanding bad debt, quote units', (f) => f.badDebt);
    const counter = (name: string, help: string, value: (f: FundFigures) => number) => new Counter({
      name, help, labelNames: ['pool'] as const, registers,
      collect() {
        this.reset();
        for (const f of figures()) this.inc({ pool: f.poolId }, value(f));
      },
    });
    counter('ledger_fund_draws_total', 'Insurance fund draws since the pool was created', (f) => f.draws.count);
    counter('ledger_fund_drawn_total', 'Amount drawn from the fund since the pool was created, quote units', (f) => f.draws.total);
    counter('ledger_adl_events_total', 'Auto-deleveraging events since the pool was created', (f) => f.adl.count);
    counter('ledger_adl_fills_total', 'Auto-deleveraging fills since the pool was created', (f) => f.adl.fills);
    counter('ledger_socializations_total', 'Losses socialized since the pool was created', (f) => f.socialized.count);
    counter('ledger_socialized_total', 'Amount socialized since the pool was created, quote units', (f) => f.socialized.total);
  }

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
