// The service's health: liveness (the process answers) and readiness (it can take commands now).
// Readiness gathers one check per part: the store (a write probe and recent append errors), the
// event forwarder (stuck, lag), the NATS intake (backlog, redeliveries) and the projection (lag,
// errors). Each check says why it fails; the routes and the `ledger_ready` metric share them.

import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Check {
  readonly ok: boolean;
  /** Why it is not ok (absent when ok). */
  readonly reason?: string;
  readonly [detail: string]: unknown;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, Check>>;
}

/** When a part counts as not ready. */
export interface ReadinessLimits {
  /** An append error keeps the store not ready this long, unless an append succeeds since. */
  readonly appendErrorHoldMs: number;
  /** The forwarder failing to publish one event this long is stuck. */
  readonly forwarderStuckMs: number;
  /** Events the forwarder may be behind the log. */
  readonly forwarderMaxLag: number;
  /** Commands that may wait in JetStream for the intake. */
  readonly intakeMaxBacklog: number;
  /** Redeliveries per minute that make a storm. */
  readonly intakeMaxRedeliveriesPerMinute: number;
  /** Events the read models may be behind the log. */
  readonly projectionMaxLag: number;
  /** A projection error keeps it not ready this long. */
  readonly projectionErrorHoldMs: number;
}

export const DEFAULT_READINESS_LIMITS: ReadinessLimits = {
  appendErrorHoldMs: 30_000,
  forwarderStuckMs: 30_000,
  forwarderMaxLag: 10_000,
  intakeMaxBacklog: 10_000,
  intakeMaxRedeliveriesPerMinute: 600,
  projectionMaxLag: 10_000,
  projectionErrorHoldMs: 60_000,
};

/** A part's own account of its health, asked at each readiness check. */
export type CheckSource = (now: number, limits: ReadinessLimits) => Check | Promise<Check>;

/** Events counted over the last minute (a rate without a timer). */
export class MinuteRate {
  private readonly times: number[] = [];

  record(now = Date.now()): void {
    this.times.push(now);
    if (this.times.length > 100_000) this.times.splice(0, this.times.length - 100_000);
  }

  perMinute(now = Date.now()): number {
    while (this.times.length > 0 && this.times[0]! <= now - 60_000) this.times.shift();
    return this.times.length;
  }
}

/**
 * The store's check: a command the store did not take (disk full, locked store) makes it not
 * ready until an append succeeds or `appendErrorHoldMs` passes; the probe (when there is one)
 * must succeed as well.
 */
export const storeCheck = (appends: { readonly lastAppendFailure?: Failure | undefined; readonly lastAppendAt?: number | undefined }, probe?: () => Promise<void>): CheckSource => async (now, limits) => {
    const error = appends.lastAppendFailure;
    const recent = error !== undefined && (appends.lastAppendAt === undefined || appends.lastAppendAt < error.at) && now - error.at < limits.appendErrorHoldMs;
    const details = { ...(error === undefined ? {} : { lastAppendError: { at: new Date(error.at).toISOString(), message: error.message } }) };
    if (recent) return { ok: false, reason: `an append failed ${Math.round((now - error.at) / 1000)} s ago: ${error.message}`, ...details };
    try {
      await probe?.();
    } catch (failure) {
      return { ok: false, reason: `the write probe failed: ${(failure as Error).message}`, ...details };
    }
    return { ok: true, ...details };
};

/**
 * A write probe for a store kept in a directory: write, sync and remove a small file there, as an
 * append would need (a full disk or a read-only file system fails it).
 */
export const directoryWriteProbe = (directory: string) => async (): Promise<void> => {
  const path = join(directory, '.ledger-write-probe');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.alloc(4096));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
};

/** Every check, and whether all pass. A check that throws fails, naming the error. */
export const readiness = async (sources: Readonly<Record<string, CheckSource>>, limits: ReadinessLimits = DEFAULT_READINESS_LIMITS, now = Date.now()): Promise<Readiness> => {
  const entries = await Promise.all(Object.entries(sources).map(async ([name, source]): Promise<[string, Check]> => {
    try {
      return [name, await source(now, limits)];
    } catch (error) {
      return [name, { ok: false, reason: `check failed: ${(error as Error).message}` }];
    }
  }));
  return { ready: entries.every(([, check]) => check.ok), checks: Object.fromEntries(entries) };
};

/** Call `log` at most once per `intervalMs` per key, with how many were held back since. */
export const throttled = (intervalMs: number) => {
  const last = new Map<string, { at: number; held: number }>();
  return (key: string, log: (held: number) => void, now = Date.now()): void => {
    const entry = last.get(key);
    if (entry !== undefined && now - entry.at < intervalMs) {
      entry.held++;
      return;
    }
    log(entry?.held ?? 0);
    last.set(key, { at: now, held: 0 });
  };
};

/** A failure remembered for readiness: when, and what. */
export interface Failure {
  readonly at: number;
  readonly message: string;
}

/** The projection's check: not too far behind the log, and no recent error. */
export const projectionCheck = (lag: () => { readonly seen: bigint | 'start'; readonly stored: bigint | 'start'; readonly behind: bigint }, lastError: () => Failure | undefined = () => undefined): CheckSource => (now, limits) => {
  const { seen, stored, behind } = lag();
  const error = lastError();
  const details = { seen: String(seen), stored: String(stored), behind: behind.toString(), ...(error === undefined ? {} : { lastError: { at: new Date(error.at).toISOString(), message: error.message } }) };
  if (error !== undefined && now - error.at < limits.projectionErrorHoldMs) return { ok: false, reason: `projection error ${Math.round((now - error.at) / 1000)} s ago: ${error.message}`, ...details };
  if (behind > BigInt(limits.projectionMaxLag)) return { ok: false, reason: `${behind} events behind the log (at most ${limits.projectionMaxLag})`, ...details };
  return { ok: true, ...details };
};
