// The service's stress runs give the event loop back: a generator that works 2 ms between
// progress reports, run for about 600 ms in slices, lets a timer fire all along.

import { describe, expect, it } from 'vitest';
import { runInSlices } from '../../services/stress.js';
import type { StressProgress } from '../../domain/index.js';

function* busy(reports: number, msEach: number): Generator<StressProgress, string> {
  for (let i = 0; i < reports; i++) {
    const until = performance.now() + msEach;
    while (performance.now() < until) { /* work */ }
    yield { stepsDone: i, stepsPlanned: reports, liquidations: 0 };
  }
  return 'done';
}

describe('runInSlices', () => {
  it('returns the result and lets timers run between slices', async () => {
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const started = performance.now();
    try {
      expect(await runInSlices(busy(300, 2), 15)).toBe('done');
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(500);
    // A blocking run would give one tick at the end; slices of 15 ms give one at least every ~20 ms.
    expect(ticks.length).toBeGreaterThan(elapsed / 100);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(Math.max(...gaps)).toBeLessThan(250);
  });
});
