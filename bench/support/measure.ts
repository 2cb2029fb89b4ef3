// How every benchmark measures and reports: CPU time (process.cpuUsage, user + system, all threads
// of this process) and wall time per round, medians over rounds, and one JSON line of figures at
// the end of the output, so that `npm run bench` (bench/run.ts) and the smoke test can read them.
// CPU time is the steadier figure on a shared machine (other processes inflate wall time far more);
// wall time is what a producer waiting on fsync or on another process sees.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** BENCH_QUICK=1: a short run of every script (the smoke test's mode; its figures mean little). */
export const QUICK = process.env.BENCH_QUICK === '1';

/** A whole-number setting from the environment, with its full and quick defaults. */
export const setting = (name: string, full: number, quick: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return QUICK ? quick : full;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}=${value}: expected a positive whole number`);
  return n;
};

export interface Timing {
  /** CPU seconds (user + system) of this process. */
  readonly cpu: number;
  /** Wall-clock seconds. */
  readonly wall: number;
}

/** Start a timer; the returned function gives the CPU and wall seconds since. */
export const timer = (): (() => Timing) => {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  return () => {
    const used = process.cpuUsage(cpu);
    return { cpu: (used.user + used.system) / 1e6, wall: Number(process.hrtime.bigint() - wall) / 1e9 };
  };
};

/** Time one piece of work (sync or async). */
export const timed = async <A>(work: () => A | Promise<A>): Promise<{ readonly value: A; readonly timing: Timing }> => {
  const stop = timer();
  const value = await work();
  return { value, timing: stop() };
};

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Rates (work per second) of a set of rounds: the median by CPU time and by wall time. */
export interface Rates {
  readonly cpu: number;
  readonly wall: number;
  /** Every round's rate by CPU time, in order (printed so the spread shows). */
  readonly cpuRounds: ReadonlyArray<number>;
}

export const rates = (rounds: ReadonlyArray<{ readonly work: number; readonly timing: Timing }>): Rates => {
  const cpuRounds = rounds.map((r) => r.work / r.timing.cpu);
  return { cpu: median(cpuRounds), wall: median(rounds.map((r) => r.work / r.timing.wall)), cpuRounds };
};

export const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
export const pct = (part: number, whole: number): number => (part / whole) * 100;
export const describeRates = (r: Rates, unit: string): string =>
  `${fmt(r.cpu)} ${unit}/CPU-s, ${fmt(r.wall)} ${unit}/s wall (medians; CPU rounds ${r.cpuRounds.map(fmt).join(', ')})`;

/** The benchmark's figures: printed last, as one JSON line (keys are snake_case, values plain numbers). */
export const printFigures = (figures: Readonly<Record<string, number>>): void => {
  for (const [name, value] of Object.entries(figures)) {
    if (!Number.isFinite(value)) throw new Error(`figure ${name} is ${value}`);
  }
  console.log(JSON.stringify(figures));
};

/**
 * The node arguments that run one of the project's scripts, given relative to bench/support
 * without its extension: the compiled file when the benchmarks run compiled (`npm run bench`),
 * else the TypeScript source through tsx (the smoke test runs the sources).
 */
export const nodeArgs = (script: string): string[] => {
  const here = import.meta.url;
  return here.endsWith('.ts') ? ['--import', 'tsx', fileURLToPath(new URL(`${script}.ts`, here))] : [fileURLToPath(new URL(`${script}.js`, here))];
};

/** How to start the service the way production does (`node dist/services/main.js serve`). */
export const serviceArgs = (): string[] => [...nodeArgs('../../services/main'), 'serve'];

let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user + system) another process has used so far, from /proc (Linux); undefined
 * where there is no /proc or the process is gone.
 */
export const processCpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
};
