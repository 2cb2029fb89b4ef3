// Waiting for something asynchronous in integration tests, and capturing what a logger wrote.

import pino, { type Logger } from 'pino';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Probe every 50 ms until the probe gives a value; fail naming `what` after `tries` probes. */
export const eventually = async <A>(probe: () => Promise<A | undefined> | A | undefined, what: string, tries = 400): Promise<A> => {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
};

export type LogLine = { level: number; msg: string; [k: string]: unknown };

/** A logger whose lines are kept, parsed, for the test to read. */
export const capture = (): { lines: LogLine[]; logger: Logger } => {
  const lines: LogLine[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as LogLine); } }) };
};
