// The service's stress runs give the event loop back: the generator is run in slices of `sliceMs`,
// and other work (timers, requests) runs between slices, never within one. The slicing is checked
// on a clock the test moves itself, so the result does not depend on the machine's load.

import { describe, expect, it } from 'vitest';
import { runInSlices } from '../../services/stress.js';
import type { StressProgress } from '../../domain/index.js';

describe('runInSlices', () => {
  it('returns the result, working 15 ms at a time and letting the event loop turn between slices, never within one', async () => {
    let clock = 0;
    // Counts turns of the event loop: one per pass through its check phase.
    let turns = 0;
    let turning = true;
    const turn = () => {
      turns++;
      if (turning) setImmediate(turn);
    };
    setImmediate(turn);
    const turnsSeen: number[] = [];
    function* work(): Generator<StressProgress, string> {
      for (let i = 0; i < 40; i++) {
        clock += 2; // each step takes 2 ms
        turnsSeen.push(turns);
        yield { stepsDone: i, stepsPlanned: 40, liquidations: 0 };
      }
      return 'done';
    }
    try {
      expect(await runInSlices(work(), 15, () => clock)).toBe('done');
    } finally {
      turning = false;
    }
    // 2 ms steps in 15 ms slices: a slice ends after its 8th step (16 ms), so 5 slices of 8 steps.
    const slices = [0, 1, 2, 3, 4].map((k) => turnsSeen.slice(8 * k, 8 * k + 8));
    for (const slice of slices) expect(new Set(slice).size).toBe(1);
    for (let k = 1; k < slices.length; k++) expect(slices[k]![0]).toBeGreaterThan(slices[k - 1]![0]!);
    expect(turnsSeen[0]).toBe(0);
  });

  it('lets a timer fire during a run on the real clock', async () => {
    function* busy(): Generator<StressProgress, string> {
      for (let i = 0; i < 100; i++) {
        const until = performance.now() + 2;
        while (performance.now() < until) { /* work */ }
        yield { stepsDone: i, stepsPlanned: 100, liquidations: 0 };
      }
      return 'done';
    }
    let fired = 0;
    const timer = setInterval(() => fired++, 1);
    try {
      expect(await runInSlices(busy(), 15)).toBe('done');
    } finally {
      clearInterval(timer);
    }
    // A run that never gave the loop back would let the timer fire only after it ended.
    expect(fired).toBeGreaterThan(0);
  });
});
