// Settings of the read side: the Cover-2 shocks fund health reports (STRESS_SHOCK_PPM), and the
// progress of the read models' rebuild at start, logged.

import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { invalidInput, type InvalidInput } from '../domain/index.js';
import type { RunnerOptions } from '../projections/runner.js';
import type { EventStore } from './ledger/event-store.js';
import { describeProgress, logHead, progressReporter } from './progress.js';
import type { StressSettings } from './read-api.js';

const PPM = /^(0|[1-9][0-9]{0,6})$/;
const MARKET = /^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/;

/**
 * STRESS_SHOCK_PPM: a default shock and per-market ones, "300000" or "250000,BTC-PERP=400000"
 * (ppm against the holders, at most 1000000). Unset: 30% for every market.
 */
export const stressSettingsFrom = (value: string | undefined): E.Either<InvalidInput, StressSettings> => {
  const settings = { shockPpm: 300_000, shockByMarket: {} as Record<string, number> };
  if (value === undefined) return E.right(settings);
  const bad = (message: string) => E.left(invalidInput([{ path: 'STRESS_SHOCK_PPM', message }]));
  for (const part of value.split(',')) {
    const [left, right] = part.trim().split('=');
    const ppm = right ?? left ?? '';
    if (!PPM.test(ppm) || Number(ppm) > 1_000_000) return bad(`expected ppm from 0 to 1000000, got "${ppm}" (e.g. 300000 or 250000,BTC-PERP=400000)`);
    if (right === undefined) settings.shockPpm = Number(ppm);
    else if (left === undefined || !MARKET.test(left)) return bad(`expected a market id before "=", got "${left ?? ''}"`);
    else settings.shockByMarket[left] = Number(ppm);
  }
  return E.right(settings);
};

/** Runner options that log the read models' catch-up at start: count, rate and time left. */
export const catchUpLogging = (events: EventStore, logger: Logger): Pick<RunnerOptions, 'logHead' | 'onCatchUp'> => {
  let reporter: ReturnType<typeof progressReporter> | undefined;
  return {
    logHead: async () => {
      const head = await logHead(events);
      if (head > 0n) logger.info({ events: Number(head) }, 'rebuilding the read models from the log');
      return head;
    },
    onCatchUp: ({ folded, upTo, done }) => {
      reporter ??= progressReporter(Number(upTo), (p) => logger.info({ folded: p.done, of: p.total, perSecond: Math.round(p.rate), secondsLeft: p.secondsLeft === undefined ? null : Math.ceil(p.secondsLeft) },
        describeProgress('read models', 'events', p)), { everyMs: 0 });
      reporter.tick(Number(folded));
      if (done) logger.info({ events: Number(folded) }, 'read models caught up with the log');
    },
  };
};
