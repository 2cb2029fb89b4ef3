// The read-model checkpoint at start: used only when the service's key signed it, its content is
// what it signed, and the log (verified from its first event) has exactly its chain heads at its
// position; then only the tail is folded, and the read models are byte-identical to a full fold.
// Anything else (altered content, signature or position, another key, a re-chained edit or a
// truncation below it, a file that is not one) is set aside with a warning and the log folded whole.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/sqlite/sqlite-event-store.js';
import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { runLines } from '../../services/cli.js';
import { CheckpointSigner } from '../../services/ledger/checkpoints.js';
import { GENESIS_HASH, sealed, verifyChainsTo } from '../../services/ledger/chain.js';
import { canonicalState } from '../../domain/index.js';
import { decodeFoldState, encodeFoldState, openFoldCheckpoint, sealFoldCheckpoint } from '../../projections/fold-checkpoint.js';
import { ChainBrokenError, ProjectionRunner, type FoldCheckpointOptions } from '../../projections/runner.js';
import type { PoolAggregates, ProjectionModel } from '../../projections/read-models.js';
import { exampleRootGovernors } from '../support/example-root.js';
import { editAndRechain, truncate } from '../support/insider.js';
import { readModelDigest, storedDocuments } from '../support/read-model-digest.js';
import * as E from 'fp-ts/lib/Either.js';
import Database from 'better-sqlite3';
import pino from 'pino';
import { serviceConfigFrom, startService } from '../../services/service.js';
import { FOLD_CHECKPOINT_FILE } from '../../projections/fold-checkpoint.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const signer = CheckpointSigner.generate();
const lines = (file: string) => readFileSync(file, 'utf8').split('\n');
const waterfall = lines('examples/waterfall.jsonl');
const funding = lines('examples/funding.jsonl');

/** A log: the waterfall example, a checkpoint written by a runner that stops there, then the funding example after it. */
const logWithCheckpoint = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-rm-checkpoint-'));
  dirs.push(dir);
  const file = join(dir, 'events.sqlite');
  const path = join(dir, 'read-models.checkpoint');
  const store = new SqliteEventStore(file);
  await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
  const first = new ProjectionRunner(store, new MemoryReadModelStore(), { checkpoint: { path, signer } });
  await first.start();
  await first.stop();
  await runLines(funding, { store, rootGovernors: exampleRootGovernors });
  await store.close();
  return { dir, file, path };
};

/** Start a runner on the log with a fresh in-memory store; what it warned of, whether it used the checkpoint, and its read models' digest. */
const startOn = async (file: string, checkpoint: Partial<FoldCheckpointOptions> & { readonly path: string } | undefined) => {
  const store = new SqliteEventStore(file);
  const readModels = new MemoryReadModelStore();
  const warnings: string[] = [];
  const used: bigint[] = [];
  const runner = new ProjectionRunner(store, readModels, checkpoint === undefined ? {} : {
    checkpoint: { signer, ...checkpoint, onWarning: (w) => warnings.push(w), onCheckpoint: ({ kind, position }) => { if (kind === 'used') used.push(position); } },
  });
  await runner.start();
  const pools = runner.poolIds();
  const model = { pools: new Map(pools.map((id) => [id, { aggregates: runner.poolAggregates(id) as PoolAggregates }])) } as unknown as ProjectionModel;
  const digest = readModelDigest(await storedDocuments(readModels, pools), model);
  const states = pools.map((id) => canonicalState(runner.poolState(id)!));
  await runner.stop();
  await store.close();
  return { warnings, used, digest, states };
};

describe('the read-model checkpoint', () => {
  it('starts from the checkpoint and folds only the tail: the same read models, byte for byte, as a full fold', async () => {
    const { file, path } = await logWithCheckpoint();
    const header = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as { position: string };
    const full = await startOn(file, undefined);
    const resumed = await startOn(file, { path });
    expect(resumed.warnings).toEqual([]);
    expect(resumed.used).toEqual([BigInt(header.position)]);
    expect(resumed.digest).toBe(full.digest);
    expect(resumed.states).toEqual(full.states);
    // owner-only, and rewritten at the stop (now at the log's head)
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await startOn(file, { path });
    expect(again.used.length).toBe(1);
    expect(again.used[0]!).toBeGreaterThan(BigInt(header.position));
    expect(again.digest).toBe(full.digest);
  });

  it('a checkpoint written in format 1 (movements as JSON arrays) is still used, with the same read models', async () => {
    const { file, path } = await logWithCheckpoint();
    const opened = openFoldCheckpoint(readFileSync(path, 'utf8'), signer.publicKey);
    if (E.isLeft(opened)) throw new Error(opened.left);
    const { header, content } = opened.right;
    expect(header.format).toBe(2);
    const decoded = decodeFoldState(content);
    if (E.isLeft(decoded)) throw new Error(decoded.left);
    const formatOne = encodeFoldState(decoded.right.model, decoded.right.index, 1);
    expect(formatOne).toMatch(/^\{"format":1,/);
    writeFileSync(path, sealFoldCheckpoint(signer, header.position, header.pools, formatOne, 1));
    const full = await startOn(file, undefined);
    const resumed = await startOn(file, { path });
    expect(resumed.warnings).toEqual([]);
    expect(resumed.used).toEqual([header.position]);
    expect(resumed.digest).toBe(full.digest);
    expect(resumed.states).toEqual(full.states);
  });

  const refused = async (tamper: (files: { readonly file: string; readonly path: string; readonly text: string }) => void, reason: RegExp, checkpoint: Partial<FoldCheckpointOptions> = {}) => {
    const { file, path } = await logWithCheckpoint();
    tamper({ file, path, text: readFileSync(path, 'utf8') });
    // What a start without any checkpoint makes of the log as it now is.
    const full = await startOn(file, undefined);
    const started = await startOn(file, { path, ...checkpoint });
    expect(started.used).toEqual([]);
    expect(started.warnings).toHaveLength(1);
    expect(started.warnings[0]).toMatch(new RegExp(`^read-model checkpoint ${path} set aside, folding the whole log: ${reason.source}`));
    expect(started.digest).toBe(full.digest);
  };

  it('is refused when its content was altered', async () => {
    await refused(({ path, text }) => writeFileSync(path, `${text.slice(0, text.indexOf('\n'))}\n${text.slice(text.indexOf('\n') + 1).replace('"count":', '"count": ')}`), /its content hashes to [0-9a-f]{64}, its header records [0-9a-f]{64}$/);
  });

  it('is refused when its signature was altered', async () => {
    await refused(({ path, text }) => writeFileSync(path, text.replace(/"signature":"([0-9a-f])/, (_m, c: string) => `"signature":"${c === '0' ? '1' : '0'}`)), /its signature does not match it$/);
  });

  it('is refused when its position was altered', async () => {
    await refused(({ path, text }) => writeFileSync(path, text.replace(/"position":"([0-9]+)"/, (_m, p: string) => `"position":"${Number(p) - 1}"`)), /its signature does not match it$/);
  });

  it('is refused when signed by another key', async () => {
    await refused(() => undefined, /it is signed by another key \([0-9a-f]{64}\)$/, { signer: CheckpointSigner.generate() });
  });

  it('is refused when the chain heads it records (signed) are not the log\'s at its position', async () => {
    await refused(({ path, text }) => {
      const opened = openFoldCheckpoint(text, signer.publicKey);
      if (E.isLeft(opened)) throw new Error(opened.left);
      const { header, content } = opened.right;
      const heads = header.pools.map((p) => ({ ...p, hash: 'f'.repeat(64) }));
      writeFileSync(path, sealFoldCheckpoint(signer, header.position, heads, content));
    }, /at position [0-9]+ the log's chains stand at \[main [0-9a-f]{64} [0-9]+ [0-9a-f]{64}\], the checkpoint records \[main [0-9a-f]{64} [0-9]+ f{64}\]$/);
  });

  it('is refused when the log was edited and re-chained below it', async () => {
    await refused(({ file }) => editAndRechain(file, 'main', 3, (data) => ({ ...data, amount: '151' })), /at position [0-9]+ the log's chains stand at .*, the checkpoint records .*$/);
  });

  it('is refused when the log was truncated below it', async () => {
    await refused(({ file }) => truncate(file, 'main', 40), /the log has no event at position [0-9]+$/);
  });

  it('is refused when its content does not decode, though signed', async () => {
    await refused(({ path, text }) => {
      const opened = openFoldCheckpoint(text, signer.publicKey);
      if (E.isLeft(opened)) throw new Error(opened.left);
      const { header } = opened.right;
      writeFileSync(path, sealFoldCheckpoint(signer, header.position, header.pools, '{"format":1,"pools":[{"poolId":"main"}]}'));
    }, /its content does not decode: /);
  });

  it('is refused when it is not a checkpoint file', async () => {
    await refused(({ path }) => writeFileSync(path, 'hello'), /it has no header line$/);
  });
});

describe('the chain verified on a thread of its own while the checkpoint is decoded', () => {
  /** A start on the log from its checkpoint; `onThisThread` takes the store's chain thread away (as a store without one). */
  const startFrom = async (file: string, path: string, onThisThread: boolean) => {
    const store = new SqliteEventStore(file);
    const threads: bigint[] = [];
    const elsewhere = store.verifyChainsElsewhere.bind(store);
    Object.assign(store, {
      verifyChainsElsewhere: onThisThread ? undefined : (prefix: string, position: bigint, signal?: AbortSignal) => {
        threads.push(position);
        return elsewhere(prefix, position, signal);
      },
    });
    const warnings: string[] = [];
    const runner = new ProjectionRunner(store, new MemoryReadModelStore(), { checkpoint: { path, signer, onWarning: (w) => warnings.push(w) } });
    try {
      await runner.start();
      return { error: undefined, threads, warnings };
    } catch (error) {
      return { error: error as Error, threads, warnings };
    } finally {
      await runner.stop();
      await store.close();
    }
  };
  const positionOf = (file: string, revision: number) => {
    const db = new Database(file, { readonly: true });
    const row = db.prepare("SELECT position FROM events WHERE stream_id = 'pool-main' AND revision = ?").get(revision) as { position: number };
    db.close();
    return row.position;
  };

  it('finds the heads the checkpoint records, as verifying on this thread does', async () => {
    const { file, path } = await logWithCheckpoint();
    const header = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as { position: string };
    const store = new SqliteEventStore(file);
    const elsewhere = await store.verifyChainsElsewhere('pool-', BigInt(header.position));
    const here = await verifyChainsTo((after, max) => store.readLinks(after, max, 'pool-'), 'pool-', BigInt(header.position));
    await store.close();
    expect(E.isRight(elsewhere) && elsewhere.right.kind).toBe('verified');
    expect(elsewhere).toEqual(here);
    const started = await startFrom(file, path, false);
    expect(started).toEqual({ error: undefined, threads: [BigInt(header.position)], warnings: [] });
  });

  for (const onThisThread of [false, true]) {
    const where = onThisThread ? 'on the start\'s own thread' : 'on the chain thread';
    it(`a row below it edited in place (not re-chained) stops the start with ChainBrokenError, ${where}, as without a checkpoint`, async () => {
      const { file, path } = await logWithCheckpoint();
      const db = new Database(file);
      db.prepare("UPDATE events SET event = replace(event, '\"timestamp\":', '\"timestamp\": ') WHERE stream_id = 'pool-main' AND revision = 3").run();
      db.close();
      const started = await startFrom(file, path, onThisThread);
      expect(started.error).toBeInstanceOf(ChainBrokenError);
      expect(started.error!.message).toBe(`hash chain of pool main broken at position ${positionOf(file, 3)} (revision 3): hash does not match the event`);
      expect(started.threads.length).toBe(onThisThread ? 0 : 1);
      expect(started.warnings).toEqual([]);
      const cold = await startFrom(file, `${path}.absent`, onThisThread);
      expect(cold.error!.message).toBe(started.error!.message);
    });

    it(`a row below it deleted stops the start with ChainBrokenError, ${where}`, async () => {
      const { file, path } = await logWithCheckpoint();
      const position = positionOf(file, 6);
      const db = new Database(file);
      db.prepare("DELETE FROM events WHERE stream_id = 'pool-main' AND revision = 5").run();
      db.close();
      const started = await startFrom(file, path, onThisThread);
      expect(started.error).toBeInstanceOf(ChainBrokenError);
      expect(started.error!.message).toBe(`hash chain of pool main broken at position ${position} (revision 6): expected revision 5 (an event is missing)`);
    });
  }

  it('is stopped when the checkpoint is set aside, and the log is folded whole', async () => {
    const { file, path } = await logWithCheckpoint();
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/"signature":"([0-9a-f])/, (_m, c: string) => `"signature":"${c === '0' ? '1' : '0'}`));
    const started = await startFrom(file, path, false);
    expect(started.error).toBeUndefined();
    expect(started.threads.length).toBe(1);
    expect(started.warnings).toHaveLength(1);
    expect(started.warnings[0]).toMatch(/its signature does not match it$/);
  });
});

describe('stored links (the chain read without parsing)', () => {
  it('are the stored events\' places, texts and hashes; with a prefix, only those streams carry their text', async () => {
    const { file } = await logWithCheckpoint();
    const store = new SqliteEventStore(file);
    // an event of another stream (as snapshots and checkpoints are)
    const metadata = { actor: 'test', commandId: 'note-1', correlationId: 'note-1', causationId: 'note-1', timestamp: 0 };
    expect(E.isRight(await store.append('note-main', 'no-stream', [sealed(GENESIS_HASH, { type: 'Note', data: { text: 'not a pool event' }, metadata })]))).toBe(true);
    const all = await store.readAll('start', 100_000);
    const links = await store.readLinks('start', 100_000);
    const poolLinks = await store.readLinks('start', 100_000, 'pool-');
    const stream = await store.readStream('pool-main', 3n, 10);
    const streamLinks = await store.readStreamLinks('pool-main', 3n, 10);
    await store.close();
    if (E.isLeft(all) || E.isLeft(links) || E.isLeft(poolLinks) || E.isLeft(stream) || E.isLeft(streamLinks)) throw new Error('not read');
    const place = ({ streamId, revision, position, text, hash }: { streamId: string; revision: bigint; position: bigint; text: string; hash: string }) => ({ streamId, revision, position, text, hash });
    expect(all.right.some((e) => !e.streamId.startsWith('pool-'))).toBe(true);
    expect(links.right).toEqual(all.right.map(place));
    expect(poolLinks.right).toEqual(all.right.map((e) => place(e.streamId.startsWith('pool-') ? e : { ...e, text: '' })));
    expect(streamLinks.right).toEqual(stream.right.map(place));
  });
});

describe('the service and its read-model checkpoint', () => {
  it('READ_MODEL_CHECKPOINT_EVERY is decoded, and bad values stop the start', () => {
    const good = serviceConfigFrom({ READ_MODEL_CHECKPOINT_EVERY: '5000' });
    expect(E.isRight(good) && good.right.readModelCheckpointEvery).toBe(5000);
    for (const bad of ['-1', '1e3', 'many', '100000001']) {
      const config = serviceConfigFrom({ READ_MODEL_CHECKPOINT_EVERY: bad });
      expect(E.isLeft(config) && config.left.errors[0]!.path).toBe('READ_MODEL_CHECKPOINT_EVERY');
    }
  });

  it('writes it on a clean stop (owner-only) and starts from it, with the key under DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-rm-service-'));
    dirs.push(dir);
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await runLines(waterfall, { store, rootGovernors: exampleRootGovernors });
    await store.close();
    const messages: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { messages.push((JSON.parse(line) as { msg: string }).msg); } });
    const config = { port: 0, host: '127.0.0.1', logLevel: 'info', store: { kind: 'sqlite' as const, path: join(dir, 'events.sqlite') }, dataDir: dir, rootGovernors: exampleRootGovernors };
    const first = await startService(config, logger);
    await first.stop();
    expect(messages).toContain('read-model checkpoint written');
    expect(statSync(join(dir, FOLD_CHECKPOINT_FILE)).mode & 0o777).toBe(0o600);
    const second = await startService(config, logger);
    await second.stop();
    expect(messages).toContain('read models started from their checkpoint');
    expect(messages.filter((m) => m.includes('set aside'))).toEqual([]);
  });
});
