// `npm run bench [name ...]`: the benchmarks one after another, each in a process of its own (so
// one's garbage and JIT state do not weigh on the next), their output passed through, and at the
// end ONE JSON line with every figure they printed ({"domain_trades_per_s_100k": ..., ...}).
// Without names: every benchmark but memory (a million commands for one figure of growth; name
// it to run it). The replay and readiness benchmarks share one generated log (BENCH_EVENTS,
// default 1,000,000, or the data directory BENCH_LOG_DIR names). BENCH_QUICK=1 runs everything
// short. The exit status is 1 if a benchmark failed; the JSON line still carries the others.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { natsServerMissing } from '../test/support/nats-server.js';
import { describeLog, generateLog, LOG_EVENTS } from './support/log.js';
import { nodeArgs, printFigures } from './support/measure.js';

const BENCHMARKS = ['domain', 'cascade', 'store', 'replay', 'ready', 'ingest', 'memory'] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const isBenchmark = (name: string): name is Benchmark => (BENCHMARKS as readonly string[]).includes(name);

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !isBenchmark(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: expected some of ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const names: Benchmark[] = asked.length > 0 ? asked.filter(isBenchmark) : BENCHMARKS.filter((name) => name !== 'memory');

/** Run one benchmark; resolves with the figures of its last output line (undefined if it failed). */
const run = (name: Benchmark, env: NodeJS.ProcessEnv): Promise<Record<string, number> | undefined> => new Promise((resolve) => {
  console.log(`\n=== ${name}`);
  const child = spawn(process.execPath, [...(name === 'memory' ? ['--expose-gc'] : []), ...nodeArgs(`../${name}/index`)], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let last = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    console.log(line);
    if (line.trim() !== '') last = line;
  });
  child.on('close', (code, signal) => {
    if (code !== 0) {
      console.error(`${name} failed (${code ?? signal})`);
      resolve(undefined);
      return;
    }
    try {
      resolve(JSON.parse(last) as Record<string, number>);
    } catch {
      console.error(`${name} did not end with its figures as a JSON line`);
      resolve(undefined);
    }
  });
});

const figures: Record<string, number> = {};
const failed: string[] = [];
let generatedLog: string | undefined;
try {
  let logDir = process.env.BENCH_LOG_DIR;
  if (logDir === undefined && (names.includes('replay') || names.includes('ready'))) {
    console.log('=== log (shared by replay and ready)');
    const log = describeLog(await generateLog(LOG_EVENTS));
    figures.log_writer_events_per_s = log.events / log.seconds;
    logDir = generatedLog = log.dir;
  }
  for (const name of names) {
    const missing = name === 'ingest' ? natsServerMissing() : undefined;
    if (missing !== undefined) {
      console.error(`\n=== ingest not run: ${missing}`);
      failed.push(name);
      continue;
    }
    const printed = await run(name, { ...process.env, ...(logDir === undefined ? {} : { BENCH_LOG_DIR: logDir }) });
    if (printed === undefined) failed.push(name);
    else Object.assign(figures, printed);
  }
} finally {
  if (generatedLog !== undefined) rmSync(generatedLog, { recursive: true, force: true });
}
if (failed.length > 0) {
  console.error(`not measured: ${failed.join(', ')}`);
  process.exitCode = 1;
}
console.log('');
printFigures(figures);
