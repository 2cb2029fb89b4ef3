// Commands per second end to end over NATS: publish on JetStream, the service's intake decides,
// appends durably (embedded SQLite), acks and publishes the outcome; the event forwarder runs as
// in production. Next to it, the raw rate of JetStream on the same server: publish the same
// message bodies to a stream and consume them with a durable consumer that acks each one.
// BENCH_ROUNDS rounds, each a run of trades end to end followed by the raw run of the same bodies;
// the figures are the medians (wall time: the work is spread over the service, nats-server and
// this process), with the service's CPU time per command (from /proc). Target: end to end >= 40%
// of raw JetStream (the ratio of the two medians; the median of each round's own ratio is printed
// beside it).
// Needs `nats-server` on the PATH; it starts its own on a free port with a temporary store, without
// users (the server's permission checks are not what is measured), and one principal `bench` with
// every producer role in the service's principals file, so the intake's checks run as in production.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { encodeCommand, type Command } from '../../domain/index.js';
import { commandSubject } from '../../services/bus/nats-intake.js';
import { addPrincipal, writePrincipals } from '../../services/auth/principals.js';
import { exited, freePort, listening, NatsServer } from '../../test/support/nats-server.js';
import { POOL_ID, benchContext, defaultStartPrice, setupCommands, tradingCommands, type PoolSetup } from '../support/workload.js';
import { fmt, median, pct, printFigures, processCpuSeconds, serviceArgs, setting } from '../support/measure.js';

const COMMANDS = setting('BENCH_COMMANDS', 50_000, 2_000);
const ROUNDS = setting('BENCH_ROUNDS', 3, 2);
const IN_FLIGHT = setting('BENCH_IN_FLIGHT', 2_048, 2_048);
const PRINCIPAL = 'bench';

/** Publish with at most IN_FLIGHT unacknowledged publishes. */
const publishAll = async (nc: NatsConnection, messages: ReadonlyArray<{ subject: string; body: string; id: string }>) => {
  const js = nc.jetstream();
  const inFlight = new Set<Promise<unknown>>();
  for (const m of messages) {
    const done = js.publish(m.subject, m.body, { msgID: m.id });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
};

/** Publish commands and resolve once every outcome has come back, with the count by status. */
const submitAll = async (nc: NatsConnection, commands: ReadonlyArray<Command>, statuses = new Map<string, number>()) => {
  const subscription = nc.subscribe(`ledger.${POOL_ID}.outcome.${PRINCIPAL}.*`);
  const answered = (async () => {
    let n = 0;
    for await (const message of subscription) {
      const status = (JSON.parse(new TextDecoder().decode(message.data)) as { status: string }).status;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (++n === commands.length) break;
    }
  })();
  await publishAll(nc, commands.map((c) => ({ subject: commandSubject(c.poolId, PRINCIPAL, c.type), body: JSON.stringify(encodeCommand(c)), id: c.commandId })));
  await answered;
  return statuses;
};

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-ingest-'));
const natsServer = await NatsServer.start(dir);
const url = natsServer.url;
// A reader of every pool too, whose token reads the service's metrics.
const withReader = addPrincipal({
  version: 1,
  principals: [{ id: PRINCIPAL, roles: ['governance-relay', 'custody', 'oracle', 'matching-engine', 'liquidation-engine', 'lp-gateway'], pools: ['*'], nats: { user: PRINCIPAL } }],
}, { id: 'bench-metrics', roles: ['reader'], pools: ['*'] });
if (E.isLeft(withReader)) throw new Error(withReader.left.message);
writePrincipals(join(dir, 'principals.json'), withReader.right.file);
const metricsToken = withReader.right.token;
try {
  // The service runs in a process of its own, as in production: producers are elsewhere.
  const httpPort = await freePort();
  const address = `http://127.0.0.1:${httpPort}`;
  // The benchmark's governor key is the deployment's root governor set.
  const rootGovernorsFile = join(dir, 'root-governors.json');
  writeFileSync(rootGovernorsFile, JSON.stringify(benchContext.rootGovernors));
  // Its log lines go to this process's stderr: stdout carries the figures.
  const service = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + (process.env.PROF_DIR ?? '/tmp/prof')] : []), ...serviceArgs()], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, PORT: String(httpPort), HOST: '127.0.0.1', DATA_DIR: dir, NATS_URL: url, LOG_LEVEL: 'warn', ROOT_GOVERNORS_FILE: rootGovernorsFile },
  });
  await listening(httpPort, 1_200);
  const nc = await connect({ servers: url });
  const setup: PoolSetup = { accounts: 1_000, markets: 10, collateral: 1_000_000_000n };
  await submitAll(nc, [...setupCommands(setup, defaultStartPrice)]);
  const trades = tradingCommands(COMMANDS, setup, 11, 1_000_000).filter((c) => c.type === 'ExecuteTrade');
  // Raw JetStream: the same bodies through a stream of their own and a durable acking consumer.
  const jsm = await nc.jetstreamManager();
  // Two such streams: one run right after the round (while the service may still be forwarding
  // its events), one once the service is quiet; each its own, as the message ids repeat.
  for (const [stream, prefix] of [['RAW_BENCH', 'raw'], ['RAW_QUIET', 'rawq']] as const) {
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: 10 * 60 * 1_000_000_000 });
    await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  }
  const rawRound = async (commands: ReadonlyArray<Command>, stream = 'RAW_BENCH', prefix = 'raw'): Promise<number> => {
    const messages = commands.map((c) => ({ subject: `${prefix}.${c.type}`, body: JSON.stringify(encodeCommand(c)), id: c.commandId }));
    const started = process.hrtime.bigint();
    const consumed = (async () => {
      const delivered = await (await nc.jetstream().consumers.get(stream, 'raw')).consume({ max_messages: 1_000 });
      let n = 0;
      for await (const message of delivered) {
        message.ack();
        if (++n === messages.length) break;
      }
    })();
    await publishAll(nc, messages);
    await consumed;
    return messages.length / seconds(started);
  };

  /** Wait (at most 10 s) until the service uses at most a tenth of a core over 200 ms; how long, s. */
  const settle = async (pid: number): Promise<number> => {
    const started = process.hrtime.bigint();
    for (let before = processCpuSeconds(pid); before !== undefined && seconds(started) < 10; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = processCpuSeconds(pid);
      // /proc counts in clock ticks (10 ms): one tick in 200 ms is within a tenth of a core.
      if (after === undefined || after - before <= 0.0101) break;
      before = after;
    }
    return seconds(started);
  };
  const settled: number[] = [];
  const serviceCpuSettled: number[] = [];
  const statuses = new Map<string, number>();
  const endToEnd: number[] = [];
  const raw: number[] = [];
  const rawQuiet: number[] = [];
  const serviceCpu: number[] = [];
  const perRound = Math.ceil(trades.length / ROUNDS);
  for (let at = 0; at < trades.length; at += perRound) {
    const round = trades.slice(at, at + perRound);
    const cpuBefore = processCpuSeconds(service.pid!);
    const started = process.hrtime.bigint();
    await submitAll(nc, round, statuses);
    endToEnd.push(round.length / seconds(started));
    const cpuAfter = processCpuSeconds(service.pid!);
    if (cpuBefore !== undefined && cpuAfter !== undefined) serviceCpu.push(((cpuAfter - cpuBefore) / round.length) * 1e6);
    raw.push(await rawRound(round));
    // The forwarder and the projection may still be working through the round's events, taking
    // CPU from nats-server and this process during the raw round above: a second raw round once
    // the service is quiet, and the service's CPU for the round with that work.
    settled.push(await settle(service.pid!));
    const cpuSettled = processCpuSeconds(service.pid!);
    if (cpuBefore !== undefined && cpuSettled !== undefined) serviceCpuSettled.push(((cpuSettled - cpuBefore) / round.length) * 1e6);
    rawQuiet.push(await rawRound(round, 'RAW_QUIET', 'rawq'));
  }
  // How the writer batched them (group commit), from the service's own metrics.
  const metrics = await (await fetch(`${address}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
  const metric = (name: string) => Number(/^(\S+) (\S+)$/m.exec(metrics.split('\n').filter((l) => l.startsWith(`${name} `)).join('\n'))?.[2] ?? NaN);
  const appends = metric('ledger_append_batch_events_count');
  const appendSeconds = metric('ledger_append_seconds_sum');
  const serviceStopped = exited(service);
  service.kill('SIGTERM');
  await serviceStopped;
  await nc.close();

  const e2e = median(endToEnd);
  const rawRate = median(raw);
  console.log(`commands: ${fmt(trades.length)} trades in ${endToEnd.length} rounds, ${IN_FLIGHT} in flight; outcomes ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`end to end (publish, decide, durable append, ack, outcome): median ${fmt(e2e)} commands/s (rounds ${endToEnd.map(fmt).join(', ')})`);
  if (serviceCpu.length > 0) console.log(`service CPU: median ${fmt(median(serviceCpu))} µs per command (rounds ${serviceCpu.map(fmt).join(', ')}); with the work left after the last outcome ${fmt(median(serviceCpuSettled))} µs (rounds ${serviceCpuSettled.map(fmt).join(', ')})`);
  console.log(`appends: ${fmt(appends)} (whole run, ${(metric('ledger_append_batch_events_sum') / appends).toFixed(1)} events each on average), ${(appendSeconds * 1000 / appends).toFixed(2)} ms each`);
  console.log(`raw JetStream publish and acked consume of the same messages: median ${fmt(rawRate)} messages/s (rounds ${raw.map(fmt).join(', ')})`);
  console.log(`service busy after each round's raw round (forwarder, projection): ${settled.map((x) => `${x.toFixed(1)} s`).join(', ')} more; then raw JetStream again: median ${fmt(median(rawQuiet))} messages/s (rounds ${rawQuiet.map(fmt).join(', ')}), end to end ${pct(e2e, median(rawQuiet)).toFixed(1)}% of it`);
  // Each end-to-end round is paired with the raw round right after it (same bodies, same moment's
  // load), so a load spike moves both figures of a pair; the ratio of medians can pair a fast
  // round of one with a slow round of the other.
  const roundRatios = endToEnd.map((rate, i) => pct(rate, raw[i]!));
  console.log(`ratio: ${pct(e2e, rawRate).toFixed(1)}% of raw (ratio of the medians; target >= 40%); median of the per-round ratios ${median(roundRatios).toFixed(1)}% (rounds ${roundRatios.map((r) => `${r.toFixed(1)}%`).join(', ')})`);
  printFigures({
    ingest_commands_per_s: e2e,
    ingest_raw_jetstream_per_s: rawRate,
    ingest_ratio_pct: pct(e2e, rawRate),
    ingest_round_ratio_median_pct: median(roundRatios),
    ingest_raw_jetstream_quiet_per_s: median(rawQuiet),
    ingest_ratio_quiet_pct: pct(e2e, median(rawQuiet)),
    ...(serviceCpu.length === 0 ? {} : { ingest_service_cpu_us_per_command: median(serviceCpu), ingest_service_cpu_settled_us_per_command: median(serviceCpuSettled) }),
    ingest_events_per_append: metric('ledger_append_batch_events_sum') / appends,
  });
} finally {
  await natsServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
