// Readiness on a long log: the time from starting the service (`node dist/services/main.js serve`,
// as production starts it, embedded SQLite, in-memory read models) on a data directory holding a
// 1,000,000-event log (bench/support/log.ts: generated through the real pool writer, with its
// snapshots and checkpoints) until /readyz answers 200: the read models are up to date with the
// log and the pool's writer has loaded and verified its state.
// - First a cold start: no read-model checkpoint in the directory (one left there is removed), so
//   the log is verified and folded whole (`ready_cold_s`, `ready_cold_cpu_s`). Its stop (SIGTERM)
//   writes the read-model checkpoint.
// - Then BENCH_ROUNDS restarts (`ready_s`, `ready_cpu_s`: medians): the checkpoint is verified
//   against the log (the chain hashed from the first event, as stored) and only the tail folded.
// Wall time, and the service's own CPU time from /proc. Target: < 10 s.
// BENCH_LOG_DIR: start on that data directory's log (bench/run.ts generates one for this and the
// replay benchmark) instead of generating BENCH_EVENTS events; the service writes its snapshots and
// checkpoints there, so give it a copy. An interrupted benchmark (SIGINT, SIGTERM) stops the service.
// BENCH_READY_BASELINE (the services/main.js of another build, e.g. the code before a change) and
// BENCH_READY_BASELINE_DIR (another copy of the same log): that build is started too, a cold start
// and then a restart beside each of this build's, in alternating order, on its own copy (each build
// keeps its own read-model checkpoint); its medians and the rounds' ratios are printed as well.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, freePort } from '../../test/support/nats-server.js';
import { benchContext } from '../support/workload.js';
import { fmt, median, printFigures, processCpuSeconds, serviceArgs, setting } from '../support/measure.js';
import { describeLog, generateLog, LOG_EVENTS, logFile } from '../support/log.js';
import { lastRowid } from '../support/sqlite-raw.js';

const ROUNDS = setting('BENCH_ROUNDS', 3, 1);
/** Give up on a start after this long. */
const LIMIT_MS = 30 * 60_000;

const given = process.env.BENCH_LOG_DIR;
const dir: string = given ?? describeLog(await generateLog(LOG_EVENTS)).dir;
const config = mkdtempSync(join(tmpdir(), 'ledger-bench-ready-'));

/** A build of the service and the data directory it starts on. */
interface Build { readonly name: string; readonly args: ReadonlyArray<string>; readonly dir: string }
const builds: Build[] = [{ name: 'this build', args: serviceArgs(), dir }];
const baselineMain = process.env.BENCH_READY_BASELINE;
const baselineDir = process.env.BENCH_READY_BASELINE_DIR;
if ((baselineMain === undefined) !== (baselineDir === undefined)) throw new Error('BENCH_READY_BASELINE and BENCH_READY_BASELINE_DIR go together');
if (baselineMain !== undefined && baselineDir !== undefined) builds.push({ name: 'baseline', args: [baselineMain, 'serve'], dir: baselineDir });

/** The service running now: stopped if this benchmark is interrupted. */
let running: ChildProcess | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    running?.kill('SIGKILL');
    rmSync(config, { recursive: true, force: true });
    process.exit(130);
  });
}

/** Poll /readyz until it answers 200; resolves with the wall and service CPU seconds from the spawn. */
interface Phases { readonly open: number; readonly decode: number; readonly verify: number; readonly documents: number }

const startOnce = async (build: Build): Promise<{ readonly wall: number; readonly cpu: number | undefined; readonly phases: Phases | undefined }> => {
  const port = await freePort();
  const rootGovernorsFile = join(config, 'root-governors.json');
  writeFileSync(rootGovernorsFile, JSON.stringify(benchContext.rootGovernors));
  const started = process.hrtime.bigint();
  // The service's warnings go to this process's stderr (stdout carries the figures); its info line
  // on the read-model checkpoint it started from gives the phases of the start.
  const service = spawn(process.execPath, build.args, {
    stdio: ['ignore', 'pipe', 2],
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: build.dir, LOG_LEVEL: 'info', ROOT_GOVERNORS_FILE: rootGovernorsFile },
  });
  running = service;
  let phases: Phases | undefined;
  let pending = '';
  service.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      let entry: { level?: number; msg?: string; phasesMs?: Phases };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.msg === 'read models started from their checkpoint' && entry.phasesMs !== undefined) phases = entry.phasesMs;
      else if ((entry.level ?? 0) >= 40) process.stderr.write(`${line}\n`);
    }
  });
  const stopped = exited(service);
  try {
    for (;;) {
      if (service.exitCode !== null || service.signalCode !== null) throw new Error(`the service stopped before it was ready (${service.exitCode ?? service.signalCode})`);
      if (Number(process.hrtime.bigint() - started) / 1e6 > LIMIT_MS) throw new Error(`not ready after ${LIMIT_MS / 60_000} minutes`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) return { wall: Number(process.hrtime.bigint() - started) / 1e9, cpu: processCpuSeconds(service.pid!), phases };
      // Not more often: each poll costs this process CPU the service would otherwise have.
      await sleep(50);
    }
  } finally {
    // A clean stop: the service keeps its read-model checkpoint.
    service.kill('SIGTERM');
    await stopped;
    running = undefined;
  }
};

type Start = Awaited<ReturnType<typeof startOnce>>;
const cpuText = (start: Start) => (start.cpu === undefined ? '' : `, ${start.cpu.toFixed(2)} s of the service's CPU`);
const label = (build: Build) => (builds.length === 1 ? '' : ` (${build.name})`);

try {
  const rows = lastRowid(logFile(dir));
  const colds: Start[] = [];
  for (const build of builds) {
    // The read-model checkpoint the service keeps in its data directory: none for the cold start.
    rmSync(join(build.dir, 'read-models.checkpoint'), { force: true });
    const cold = await startOnce(build);
    console.log(`cold start${label(build)} (no read-model checkpoint: the whole log verified and folded): ready in ${cold.wall.toFixed(2)} s wall${cpuText(cold)}`);
    colds.push(cold);
  }
  const starts: Start[][] = builds.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternating which build goes first, so that neither always follows the other.
    const order = builds.map((_, i) => i);
    if (round % 2 === 0) order.reverse();
    for (const i of order) {
      const start = await startOnce(builds[i]!);
      const p = start.phases;
      console.log(`start ${round}${label(builds[i]!)}: ready in ${start.wall.toFixed(2)} s wall${cpuText(start)}${p === undefined ? ' (the read-model checkpoint was not used)'
        : `; read-model checkpoint: read and checked ${p.open} ms, decoded ${p.decode} ms, then waited ${p.verify} ms for the log's verification up to it, documents built ${p.documents} ms (wall)`}`);
      starts[i]!.push(start);
    }
  }
  const [ours, baseline] = starts as [Start[], Start[] | undefined];
  const phase = (name: keyof Phases): number[] => ours.flatMap((s) => (s.phases === undefined ? [] : [s.phases[name] / 1000]));
  const wall = median(ours.map((s) => s.wall));
  const cpus = ours.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));
  console.log(`ready on a log of ${fmt(rows)} stored events, from the read-model checkpoint: median ${wall.toFixed(2)} s wall (target < 10 s), ${fmt(rows / wall)} events/s to ready`);
  let compared: Record<string, number> = {};
  if (baseline !== undefined) {
    const baseCpus = baseline.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));
    const ratios = (of: (s: Start) => number | undefined) => ours.flatMap((s, i) => {
      const a = of(s);
      const b = of(baseline[i]!);
      return a === undefined || b === undefined ? [] : [a / b];
    });
    console.log(`baseline: median ${median(baseline.map((s) => s.wall)).toFixed(2)} s wall${baseCpus.length === 0 ? '' : `, ${median(baseCpus).toFixed(2)} s CPU`}; this build / baseline, round by round: wall ${ratios((s) => s.wall).map((r) => r.toFixed(2)).join(' ')}, CPU ${ratios((s) => s.cpu).map((r) => r.toFixed(2)).join(' ')}`);
    compared = {
      ready_baseline_s: median(baseline.map((s) => s.wall)),
      ...(baseCpus.length === 0 ? {} : { ready_baseline_cpu_s: median(baseCpus), ready_cpu_ratio: median(ratios((s) => s.cpu)) }),
      ready_wall_ratio: median(ratios((s) => s.wall)),
      ready_baseline_cold_s: colds[1]!.wall,
    };
  }
  const cold = colds[0]!;
  printFigures({
    ready_s: wall,
    ...(cpus.length === 0 ? {} : { ready_cpu_s: median(cpus) }),
    ...(phase('verify').length === 0 ? {} : {
      ready_checkpoint_open_s: median(phase('open')), ready_checkpoint_decode_s: median(phase('decode')),
      ready_verify_s: median(phase('verify')), ready_documents_s: median(phase('documents')),
    }),
    ready_cold_s: cold.wall,
    ...(cold.cpu === undefined ? {} : { ready_cold_cpu_s: cold.cpu }),
    ready_events_per_s: rows / wall,
    ready_log_events: rows,
    ...compared,
  });
} finally {
  rmSync(config, { recursive: true, force: true });
  if (given === undefined) rmSync(dir, { recursive: true, force: true });
}
