// Progress of long work (a big file run, an audit, the read models rebuilt at start): count, rate
// and time left, at most once a second, so a person watching knows it is moving and for how long.

import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from './ledger/event-store.js';

export interface Progress {
  readonly done: number;
  readonly total: number | undefined;
  /** Per second since the start. */
  readonly rate: number;
  /** Seconds left at that rate (undefined without a total or a rate). */
  readonly secondsLeft: number | undefined;
}

export const describeProgress = (label: string, unit: string, p: Progress): string => {
  const count = p.total === undefined ? p.done.toLocaleString('en-US') : `${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}`;
  const percent = p.total === undefined || p.total === 0 ? '' : ` (${Math.floor((100 * p.done) / p.total)}%)`;
  const left = p.secondsLeft === undefined ? '' : `, ${Math.ceil(p.secondsLeft)} s left`;
  return `${label}: ${count} ${unit}${percent}, ${Math.round(p.rate).toLocaleString('en-US')}/s${left}`;
};

/** A reporter: `tick(done)` as work advances reports at most every `everyMs`; `finish` always reports. */
export const progressReporter = (
  total: number | undefined, report: (progress: Progress) => void, options: { readonly everyMs?: number; readonly clock?: () => number } = {},
) => {
  const clock = options.clock ?? Date.now;
  const everyMs = options.everyMs ?? 1_000;
  const started = clock();
  let last = started;
  let done = 0;
  const emit = (now: number) => {
    const seconds = Math.max((now - started) / 1000, 1e-3);
    const rate = done / seconds;
    report({ done, total, rate, secondsLeft: total === undefined || rate === 0 ? undefined : Math.max(total - done, 0) / rate });
  };
  return {
    tick(count: number): void {
      done = count;
      const now = clock();
      if (now - last >= everyMs) {
        last = now;
        emit(now);
      }
    },
    finish(): void {
      emit(clock());
    },
  };
};

/** Smallest n >= 0 with `exists(n)` false, for a predicate true up to some point and false after: O(log n) probes. */
const firstMissing = async (exists: (n: bigint) => Promise<boolean>): Promise<bigint> => {
  if (!(await exists(0n))) return 0n;
  let low = 0n;
  let high = 1n;
  while (await exists(high)) {
    low = high;
    high *= 2n;
  }
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (await exists(middle)) low = middle;
    else high = middle;
  }
  return high;
};

/** How many events a stream holds (0 when it does not exist), found by probing. */
export const streamLength = async (store: EventStore, streamId: string): Promise<bigint> =>
  firstMissing(async (revision) => {
    const read = await store.readStream(streamId, revision, 1);
    return E.isRight(read) && read.right.length > 0;
  });

/** The position of the last event of the log (0 when empty), found by probing. */
export const logHead = async (store: EventStore): Promise<bigint> =>
  firstMissing(async (position) => {
    const read = await store.readAll(position, 1);
    return E.isRight(read) && read.right.length > 0;
  });
