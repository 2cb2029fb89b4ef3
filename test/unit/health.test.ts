// Readiness checks, given/when/then with hand-computed times (ms since the epoch, made up).

import { describe, expect, it } from 'vitest';
import { DEFAULT_READINESS_LIMITS as limits, MinuteRate, projectionCheck, readiness, storeCheck, throttled } from '../../services/health.js';
import { retryDelayMs } from '../../services/bus/nats-intake.js';

describe('the store check', () => {
  it('is not ready for 30 s after a failed append, unless an append succeeds since', async () => {
    // given a failure at t = 100,000 and the last append before it
    const appends = { lastAppendFailure: { at: 100_000, message: 'STORE_UNAVAILABLE: database or disk is full' }, lastAppendAt: 90_000 };
    // then 29.999 s later it is not ready, naming the cause; 30 s later it is
    expect(await storeCheck(appends)(129_999, limits)).toMatchObject({ ok: false, reason: 'an append failed 30 s ago: STORE_UNAVAILABLE: database or disk is full' });
    expect(await storeCheck(appends)(130_000, limits)).toMatchObject({ ok: true });
    // and an append after the failure makes it ready at once
    expect(await storeCheck({ ...appends, lastAppendAt: 100_001 })(100_002, limits)).toMatchObject({ ok: true });
  });

  it('is not ready when the write probe fails', async () => {
    const check = storeCheck({}, async () => { throw new Error('ENOSPC: no space left on device'); });
    expect(await check(0, limits)).toMatchObject({ ok: false, reason: 'the write probe failed: ENOSPC: no space left on device' });
  });
});

describe('the projection check', () => {
  it('is not ready beyond 10,000 events behind, or within a minute of an error', async () => {
    expect(await projectionCheck(() => ({ seen: 10_500n, stored: 500n, behind: 10_000n }))(0, limits)).toMatchObject({ ok: true });
    expect(await projectionCheck(() => ({ seen: 10_501n, stored: 500n, behind: 10_001n }))(0, limits)).toMatchObject({ ok: false, reason: '10001 events behind the log (at most 10000)' });
    const error = () => ({ at: 1_000, message: 'read models unavailable' });
    expect(await projectionCheck(() => ({ seen: 1n, stored: 1n, behind: 0n }), error)(60_999, limits)).toMatchObject({ ok: false });
    expect(await projectionCheck(() => ({ seen: 1n, stored: 1n, behind: 0n }), error)(61_000, limits)).toMatchObject({ ok: true });
  });
});

describe('readiness', () => {
  it('is ready only when every check passes; a check that throws fails, naming why', async () => {
    const ok = { store: () => ({ ok: true }), projection: () => ({ ok: true }) };
    expect(await readiness(ok)).toEqual({ ready: true, checks: { store: { ok: true }, projection: { ok: true } } });
    expect(await readiness({ ...ok, intake: () => { throw new Error('no consumer'); } })).toEqual({
      ready: false, checks: { store: { ok: true }, projection: { ok: true }, intake: { ok: false, reason: 'check failed: no consumer' } },
    });
  });
});

describe('rates and retries', () => {
  it('counts events of the last minute only', () => {
    const rate = new MinuteRate();
    for (const at of [0, 30_000, 59_999, 60_000]) rate.record(at);
    // at t = 60,000 the event at 0 is a minute old: 3 remain; at 90,000 those after 30,000: 2
    expect(rate.perMinute(60_000)).toBe(3);
    expect(rate.perMinute(90_000)).toBe(2);
  });

  it('waits 1, 2, 4, 8, 16, then 30 s before a command the store failed is delivered again', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('logs at most once per interval per key, with how many were held back', () => {
    const logged: Array<[string, number]> = [];
    const once = throttled(10_000);
    for (const [key, at] of [['a', 0], ['a', 5_000], ['b', 6_000], ['a', 9_999], ['a', 10_000]] as const) once(key, (held) => logged.push([key, held]), at);
    expect(logged).toEqual([['a', 0], ['b', 0], ['a', 2]]);
  });
});
