// The read-model checkpoint: the projection's fold state at a log position, persisted so that a
// start folds only the events after it (docs/design.md section 8).
//
// A checkpoint file is one header line and the content:
//   {"contentHash":…,"format":1,"pools":[{"hash","logId","poolId","revision"}],"position":…,"publicKey":…,"signature":…}
//   <content: JSON of each pool's fold state>
// - The content holds everything the fold carries from one event to the next (the pool's domain
//   state, in the iteration order of its maps, and every running total, history and timeline the
//   read side serves), and where each stored document stands (the position of the last event
//   that changed it, for fund health also that event's time). From these the documents are built
//   again, byte for byte the ones stored: a document depends only on figures that change with the
//   events that mark it.
// - The header names the log position the state stands at and each pool's place in its chain
//   there (log identity, revision, hash); the service's key signs it with the content's sha256
//   (services/ledger/checkpoints.ts, tag 'read-models'), as it signs snapshots and checkpoints.
// - It is used only when the signature is the service's, the content hashes to its hash, and the
//   log, verified from its first event by hashing the stored text as read, has exactly those
//   chain heads at that position. Then only the events after it are read, decoded and folded.
// - Files are written whole to a temporary name, readable by their owner only, then renamed.
//
// Everything here only reads and writes the model; the fold itself is projections/read-models.ts.

import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, renameSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  canonicalState, decodeWith, Id, PersistentMap, PersistentSet, PublicKeyHex, Sha256Hex, SignatureHex, signatureVerifies, stateFromCanonical, strictObject,
  type ActivePool, type PoolState,
} from '../domain/index.js';
import { readModelPayload, type CheckpointSigner, type ReadModelSeal } from '../services/ledger/checkpoints.js';
import { logIndex } from '../services/ledger/event-store.js';
import type { DirtySet, FundHealthPoint, GovernanceChange, HistoryEntry, PoolAggregates, ProjectionModel, RawMovement } from './read-models.js';

export const FOLD_CHECKPOINT_FORMAT = 1;
export const FOLD_CHECKPOINT_FILE = 'read-models.checkpoint';

/** Where each stored document stands: the same shape as a dirty set (the marks of the documents as stored). */
export type StoredIndex = Map<string, DirtySet>;

/** A pool's place in its chain at the checkpoint. */
export interface ChainHeadAt {
  readonly poolId: string;
  readonly logId: string;
  readonly revision: bigint;
  readonly hash: string;
}

/** Record the documents about to be built and stored (call before takeDocuments). */
export const noteStored = (index: StoredIndex, model: ProjectionModel): void => {
  for (const [poolId, { dirty }] of model.pools) {
    let stored = index.get(poolId);
    if (stored === undefined) index.set(poolId, stored = { accounts: new Map(), markets: new Map(), tranches: undefined, fundHealth: undefined });
    for (const [id, position] of dirty.accounts) stored.accounts.set(id, position);
    for (const [id, position] of dirty.markets) stored.markets.set(id, position);
    if (dirty.tranches !== undefined) stored.tranches = dirty.tranches;
    if (dirty.fundHealth !== undefined) stored.fundHealth = dirty.fundHealth;
  }
};

/** Mark every stored document as changed, so that the next takeDocuments builds them all again. */
export const markAllStored = (index: StoredIndex, model: ProjectionModel): void => {
  for (const [poolId, stored] of index) {
    const entry = model.pools.get(poolId);
    if (entry === undefined) continue;
    for (const [id, position] of stored.accounts) entry.dirty.accounts.set(id, position);
    for (const [id, position] of stored.markets) entry.dirty.markets.set(id, position);
    entry.dirty.tranches = stored.tranches;
    entry.dirty.fundHealth = stored.fundHealth;
  }
};

// ---------------------------------------------------------------------------------------------
// Encoding

const big = (n: bigint): string => n.toString();
const BigIntText = new t.Type<bigint, string, unknown>('BigIntText', (u): u is bigint => typeof u === 'bigint',
  (u, c) => (typeof u === 'string' && /^-?(0|[1-9][0-9]{0,80})$/.test(u) ? t.success(BigInt(u)) : t.failure(u, c, 'expected an integer as a decimal string')), big);
const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'Count');
const Position = logIndex('Position');

/** Values that are served as they are (JSON already): checked, and kept as parsed (key order included). */
const asIs = <A>(codec: t.Type<A, unknown, unknown>, name: string) => new t.Type<A, unknown, unknown>(name, codec.is,
  (u, c) => (codec.is(u) ? t.success(u) : t.failure(u, c, `expected ${name}`)), t.identity);

const HistoryEntryCodec = asIs(t.intersection([
  t.type({ kind: t.keyof({ liquidation: null, adl: null, haircut: null, funding: null, payout: null }), position: t.string, timestamp: t.number, marketId: t.string, amount: t.string }),
  t.partial({ price: t.string, lossAtMark: t.string, adlLossAtMark: t.string, adlDeficitCovered: t.string, reason: t.string }),
]) as unknown as t.Type<HistoryEntry, unknown, unknown>, 'HistoryEntry');
const PayoutCodec = asIs(t.type({
  position: t.string, timestamp: t.number, amount: t.string, recipient: t.string, reason: t.string, governanceRef: t.string,
  draws: t.array(t.type({ trancheId: t.string, amount: t.string })),
}) as unknown as t.Type<PoolAggregates['payouts']['history'][number], unknown, unknown>, 'Payout');
const SeriesPointCodec = asIs(t.type({ bucket: t.number, fundAssets: t.string, openInterest: t.string, coveragePpm: t.string, badDebt: t.string, stressDeficit: t.string }) as unknown as t.Type<FundHealthPoint, unknown, unknown>, 'FundHealthPoint');
const GovernanceCodec = asIs(t.type({ type: t.string, governanceSeq: t.number, position: t.string, timestamp: t.number, signers: t.array(t.string), changes: t.UnknownRecord }) as unknown as t.Type<GovernanceChange, unknown, unknown>, 'GovernanceChange');

type RawSample = PoolAggregates['timelines']['1m'][number];
type RawPoint = NonNullable<PoolAggregates['newestPoint']>;
const CountTotal = t.type({ count: Count, total: BigIntText });
const RawSampleCodec: t.Type<RawSample, unknown, unknown> = t.type({
  bucket: t.number, position: t.string,
  tranches: t.array(t.type({ trancheId: t.string, assets: BigIntText })),
  fundAssets: BigIntText, openInterest: BigIntText, fundFeeSharePpm: t.number, treasury: BigIntText,
  draws: CountTotal, adl: t.type({ count: Count, fills: Count, lossAtMark: BigIntText, deficitCovered: BigIntText }), deficits: CountTotal, socialized: CountTotal,
  badDebt: BigIntText, stressDeficit: BigIntText,
}) as unknown as t.Type<RawSample, unknown, unknown>;
const encodeSample = (s: RawSample) => ({
  ...s, tranches: s.tranches.map((x) => ({ trancheId: x.trancheId, assets: big(x.assets) })), fundAssets: big(s.fundAssets), openInterest: big(s.openInterest), treasury: big(s.treasury),
  draws: { count: s.draws.count, total: big(s.draws.total) }, adl: { count: s.adl.count, fills: s.adl.fills, lossAtMark: big(s.adl.lossAtMark), deficitCovered: big(s.adl.deficitCovered) },
  deficits: { count: s.deficits.count, total: big(s.deficits.total) }, socialized: { count: s.socialized.count, total: big(s.socialized.total) },
  badDebt: big(s.badDebt), stressDeficit: big(s.stressDeficit),
});
const RawPointCodec: t.Type<RawPoint, unknown, unknown> = t.type({ bucket: t.number, fundAssets: BigIntText, openInterest: BigIntText, badDebt: BigIntText, stressDeficit: BigIntText }) as unknown as t.Type<RawPoint, unknown, unknown>;

/**
 * Movements, the largest part of the state (two per trade): each account's list flat, a movement
 * as the index of its shape (its keys in order, and each value's kind: s a string, n a number,
 * b a bigint) and its values; strings as indices into one table (a trade's two movements share
 * its id and position, and kinds, roles and markets repeat). Rebuilt with the same keys in the
 * same order, so they are served byte for byte as before.
 */
interface Shape { readonly keys: ReadonlyArray<string>; readonly kinds: string }
const encodeMovements = (movements: Map<string, RawMovement[]>) => {
  const shapes: Shape[] = [];
  const shapeIds = new Map<string, number>();
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const accounts: [string, (string | number)[]][] = [];
  for (const [accountId, list] of movements) {
    const flat: (string | number)[] = [];
    for (const movement of list) {
      const keys = Object.keys(movement);
      const values = Object.values(movement) as unknown[];
      let kinds = '';
      for (const value of values) kinds += typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : typeof value === 'bigint' ? 'b' : '?';
      if (kinds.includes('?')) throw new Error('a movement field is neither a string, a number nor a bigint');
      const signature = `${keys.join(',')}/${kinds}`;
      let id = shapeIds.get(signature);
      if (id === undefined) {
        id = shapes.length;
        shapes.push({ keys, kinds });
        shapeIds.set(signature, id);
      }
      flat.push(id);
      for (const value of values) {
        if (typeof value === 'string') {
          let index = stringIds.get(value);
          if (index === undefined) {
            index = strings.length;
            strings.push(value);
            stringIds.set(value, index);
          }
          flat.push(index);
        } else flat.push(typeof value === 'bigint' ? value.toString() : value as number);
      }
    }
    accounts.push([accountId, flat]);
  }
  return { shapes, strings, accounts };
};

const INTEGER = /^-?(0|[1-9][0-9]{0,80})$/;
const MovementsCodec = new t.Type<Map<string, RawMovement[]>, unknown, unknown>('Movements', (u): u is Map<string, RawMovement[]> => u instanceof Map, (u, c) => {
  const input = u as { shapes?: unknown; strings?: unknown; accounts?: unknown } | null;
  if (typeof input !== 'object' || input === null || !Array.isArray(input.shapes) || !Array.isArray(input.strings) || !Array.isArray(input.accounts)) return t.failure(u, c, 'expected {shapes, strings, accounts}');
  const strings = input.strings as unknown[];
  if (!strings.every((x) => typeof x === 'string')) return t.failure(strings, c, 'expected strings');
  const shapes: Shape[] = [];
  for (const shape of input.shapes as unknown[]) {
    const s = shape as { keys?: unknown; kinds?: unknown } | null;
    if (typeof s !== 'object' || s === null || !Array.isArray(s.keys) || typeof s.kinds !== 'string' || !/^[snb]*$/.test(s.kinds) || s.keys.length !== s.kinds.length
      || !s.keys.every((k) => typeof k === 'string' && k !== '__proto__')) return t.failure(shape, c, 'expected a movement shape');
    shapes.push({ keys: s.keys as string[], kinds: s.kinds });
  }
  const movements = new Map<string, RawMovement[]>();
  for (const entry of input.accounts as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return t.failure(entry, c, 'expected [accountId, movements]');
    const flat = entry[1] as unknown[];
    const list: RawMovement[] = [];
    for (let i = 0; i < flat.length;) {
      const shape = shapes[flat[i++] as number];
      if (shape === undefined) return t.failure(flat[i - 1], c, 'expected a movement shape index');
      if (i + shape.keys.length > flat.length) return t.failure(entry, c, 'a movement is cut short');
      const movement: Record<string, unknown> = {};
      for (let k = 0; k < shape.keys.length; k++) {
        const value = flat[i++];
        const kind = shape.kinds.charCodeAt(k);
        if (kind === 115 /* s */) {
          const text = strings[value as number];
          if (typeof text !== 'string') return t.failure(value, c, 'expected a string index');
          movement[shape.keys[k]!] = text;
        } else if (kind === 110 /* n */) {
          if (typeof value !== 'number') return t.failure(value, c, 'expected a number');
          movement[shape.keys[k]!] = value;
        } else {
          if (typeof value !== 'string' || !INTEGER.test(value)) return t.failure(value, c, 'expected an integer as a decimal string');
          movement[shape.keys[k]!] = BigInt(value);
        }
      }
      list.push(movement as unknown as RawMovement);
    }
    movements.set(entry[0], list);
  }
  return t.success(movements);
}, (m) => encodeMovements(m));

const pairs = <V>(name: string, value: t.Type<V, unknown, unknown>) => new t.Type<Map<string, V>, unknown, unknown>(name, (u): u is Map<string, V> => u instanceof Map, (u, c) => {
  if (!Array.isArray(u)) return t.failure(u, c, `expected ${name} as [key, value] pairs`);
  const map = new Map<string, V>();
  for (const entry of u as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return t.failure(entry, c, 'expected [key, value]');
    const decoded = value.validate(entry[1], c);
    if (E.isLeft(decoded)) return decoded;
    map.set(entry[0], decoded.right);
  }
  return t.success(map);
}, (m) => [...m].map(([k, v]) => [k, value.encode(v)]));

const AggregatesCodec = t.type({
  draws: CountTotal,
  adl: t.type({ count: Count, fills: Count, lossAtMark: BigIntText, deficitCovered: BigIntText }),
  payouts: t.type({ count: Count, total: BigIntText, history: t.array(PayoutCodec) }),
  socialized: CountTotal,
  deficits: CountTotal,
  income: pairs('income', BigIntText),
  losses: pairs('losses', BigIntText),
  series: t.array(SeriesPointCodec),
  newestPoint: t.union([RawPointCodec, t.null]),
  histories: pairs('histories', t.array(HistoryEntryCodec)),
  movements: MovementsCodec,
  governance: t.array(GovernanceCodec),
  timelines: t.type({ '1m': t.array(RawSampleCodec), '1h': t.array(RawSampleCodec), '1d': t.array(RawSampleCodec) }),
});

const encodeAggregates = (a: PoolAggregates) => ({
  draws: { count: a.draws.count, total: big(a.draws.total) },
  adl: { count: a.adl.count, fills: a.adl.fills, lossAtMark: big(a.adl.lossAtMark), deficitCovered: big(a.adl.deficitCovered) },
  payouts: { count: a.payouts.count, total: big(a.payouts.total), history: a.payouts.history },
  socialized: { count: a.socialized.count, total: big(a.socialized.total) },
  deficits: { count: a.deficits.count, total: big(a.deficits.total) },
  income: [...a.income].map(([k, v]) => [k, big(v)]),
  losses: [...a.losses].map(([k, v]) => [k, big(v)]),
  series: a.series,
  newestPoint: a.newestPoint === undefined ? null : {
    bucket: a.newestPoint.bucket, fundAssets: big(a.newestPoint.fundAssets), openInterest: big(a.newestPoint.openInterest),
    badDebt: big(a.newestPoint.badDebt), stressDeficit: big(a.newestPoint.stressDeficit),
  },
  histories: [...a.histories],
  movements: encodeMovements(a.movements),
  governance: a.governance,
  timelines: { '1m': a.timelines['1m'].map(encodeSample), '1h': a.timelines['1h'].map(encodeSample), '1d': a.timelines['1d'].map(encodeSample) },
});

/**
 * The pool's state: its canonical form (as snapshots keep it), and the iteration order of its maps
 * and sets, which the canonical form sorts by id. The fold's figures must not depend on it, but
 * where one takes the first of equals (Cover-2's largest accounts) the order is kept all the same.
 */
const IdList = t.array(Id);
const StateOrderCodec = t.type({
  accounts: IdList, markets: IdList, unstakeRequests: IdList, holders: t.array(t.tuple([Id, IdList])), stakes: t.array(IdList),
});
type StateOrder = t.TypeOf<typeof StateOrderCodec>;

const stateOrder = (pool: ActivePool): StateOrder => ({
  accounts: pool.accounts.keys(), markets: pool.markets.keys(), unstakeRequests: pool.unstakeRequests.keys(),
  holders: pool.positionHolders.entries().map(([marketId, holders]) => [marketId, holders.values()]),
  stakes: pool.tranches.map((tranche) => tranche.stakes.keys()),
});

const inOrder = <V>(map: PersistentMap<string, V>, order: ReadonlyArray<string>, what: string): PersistentMap<string, V> => {
  if (order.length !== map.size) throw new Error(`${what}: the order names ${order.length} of ${map.size}`);
  return PersistentMap.of(order.map((id) => {
    const value = map.get(id);
    if (value === undefined) throw new Error(`${what}: the order names ${id}, which the state does not hold`);
    return [id, value] as const;
  }));
};

const restoreOrder = (pool: ActivePool, order: StateOrder): ActivePool => {
  if (order.stakes.length !== pool.tranches.length) throw new Error('stakes: the order names another number of tranches');
  const holders = inOrder(pool.positionHolders, order.holders.map(([marketId]) => marketId), 'position holders');
  return {
    ...pool,
    accounts: inOrder(pool.accounts, order.accounts, 'accounts'),
    markets: inOrder(pool.markets, order.markets, 'markets'),
    unstakeRequests: inOrder(pool.unstakeRequests, order.unstakeRequests, 'unstake requests'),
    positionHolders: PersistentMap.of(order.holders.map(([marketId, ids]) => {
      const set = holders.get(marketId)!;
      if (ids.length !== set.size || ids.some((id) => !set.has(id))) throw new Error(`position holders of ${marketId}: the order names others`);
      return [marketId, ids.reduce((s, id) => s.add(id), PersistentSet.empty<string>())] as const;
    })),
    tranches: pool.tranches.map((tranche, i) => ({ ...tranche, stakes: inOrder(tranche.stakes, order.stakes[i]!, `stakes of ${tranche.trancheId}`) })),
  };
};

const StoredIndexCodec = t.type({
  accounts: t.array(t.tuple([Id, Position])),
  markets: t.array(t.tuple([Id, Position])),
  tranches: t.union([Position, t.null]),
  fundHealth: t.union([t.tuple([Position, t.number]), t.null]),
});

const PoolFoldCodec = t.type({
  poolId: Id,
  state: t.unknown,
  order: t.union([StateOrderCodec, t.null]),
  aggregates: AggregatesCodec,
  stored: StoredIndexCodec,
});

const ContentCodec = t.type({ format: t.literal(FOLD_CHECKPOINT_FORMAT), pools: t.array(PoolFoldCodec) });

/** The content of a checkpoint: the model (with no document waiting to be built) and the stored index, as JSON text. */
export const encodeFoldState = (model: ProjectionModel, index: StoredIndex): string => {
  const pools = [...model.pools].map(([poolId, { state, aggregates, dirty }]) => {
    if (dirty.accounts.size + dirty.markets.size > 0 || dirty.tranches !== undefined || dirty.fundHealth !== undefined) throw new Error(`pool ${poolId} has documents not stored yet`);
    const stored = index.get(poolId);
    return {
      poolId,
      state: canonicalState(state),
      order: state.status === 'active' ? stateOrder(state) : null,
      aggregates: encodeAggregates(aggregates),
      stored: {
        accounts: stored === undefined ? [] : [...stored.accounts].map(([id, p]) => [id, p.toString()]),
        markets: stored === undefined ? [] : [...stored.markets].map(([id, p]) => [id, p.toString()]),
        tranches: stored?.tranches === undefined ? null : stored.tranches.toString(),
        fundHealth: stored?.fundHealth === undefined ? null : [stored.fundHealth.position.toString(), stored.fundHealth.timestamp],
      },
    };
  });
  return JSON.stringify({ format: FOLD_CHECKPOINT_FORMAT, pools });
};

/** The model and stored index a checkpoint's content describes, decoded with io-ts; Left names what is wrong. */
export const decodeFoldState = (text: string): E.Either<string, { readonly model: ProjectionModel; readonly index: StoredIndex }> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return E.left(`its content is not JSON: ${(error as Error).message}`);
  }
  const decoded = decodeWith(ContentCodec)(parsed);
  if (E.isLeft(decoded)) return E.left(`its content does not decode: ${decoded.left.message}`);
  const model: ProjectionModel = { pools: new Map() };
  const index: StoredIndex = new Map();
  for (const pool of decoded.right.pools) {
    const canonical = stateFromCanonical(pool.state);
    if (E.isLeft(canonical)) return E.left(`the state of pool ${pool.poolId} does not decode: ${canonical.left.message}`);
    let state: PoolState = canonical.right;
    if (state.status === 'active') {
      if (pool.order === null) return E.left(`the state of pool ${pool.poolId} has no order`);
      try {
        state = restoreOrder(state, pool.order);
      } catch (error) {
        return E.left(`the state of pool ${pool.poolId}: ${(error as Error).message}`);
      }
    }
    const a = pool.aggregates;
    const aggregates: PoolAggregates = {
      ...a, newestPoint: a.newestPoint ?? undefined,
      draws: { ...a.draws }, adl: { ...a.adl }, payouts: { ...a.payouts }, socialized: { ...a.socialized }, deficits: { ...a.deficits },
    };
    model.pools.set(pool.poolId, { state, aggregates, dirty: { accounts: new Map(), markets: new Map(), tranches: undefined, fundHealth: undefined } });
    index.set(pool.poolId, {
      accounts: new Map(pool.stored.accounts), markets: new Map(pool.stored.markets), tranches: pool.stored.tranches ?? undefined,
      fundHealth: pool.stored.fundHealth === null ? undefined : { position: pool.stored.fundHealth[0], timestamp: pool.stored.fundHealth[1] },
    });
  }
  return E.right({ model, index });
};

// ---------------------------------------------------------------------------------------------
// The sealed file

const HeaderCodec = strictObject({
  format: t.literal(FOLD_CHECKPOINT_FORMAT),
  position: Position,
  pools: t.array(strictObject({ poolId: Id, logId: Sha256Hex, revision: logIndex('Revision'), hash: Sha256Hex }, 'ChainHead')),
  contentHash: Sha256Hex,
  publicKey: PublicKeyHex,
  signature: SignatureHex,
}, 'ReadModelCheckpoint');
export type FoldCheckpointHeader = t.TypeOf<typeof HeaderCodec>;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A checkpoint file's text: the header (sealed by the service's key) and the content. */
export const sealFoldCheckpoint = (signer: CheckpointSigner, position: bigint, heads: ReadonlyArray<ChainHeadAt>, content: string): string => {
  const seal: ReadModelSeal = { position, pools: heads, contentHash: sha256(content) };
  const { publicKey, signature } = signer.sealReadModels(seal);
  const header = {
    format: FOLD_CHECKPOINT_FORMAT, position: position.toString(),
    pools: heads.map((h) => ({ poolId: h.poolId, logId: h.logId, revision: h.revision.toString(), hash: h.hash })),
    contentHash: seal.contentHash, publicKey, signature,
  };
  return `${JSON.stringify(header)}\n${content}`;
};

/**
 * A checkpoint file's header and content, if it is this key's and its content is what it signed;
 * Left says why not. (Whether the log holds its chain heads is for the caller to check.)
 */
export const openFoldCheckpoint = (text: string, publicKey: string): E.Either<string, { readonly header: FoldCheckpointHeader; readonly content: string }> => {
  const newline = text.indexOf('\n');
  if (newline < 0) return E.left('it has no header line');
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(0, newline));
  } catch (error) {
    return E.left(`its header is not JSON: ${(error as Error).message}`);
  }
  const header = decodeWith(HeaderCodec)(raw);
  if (E.isLeft(header)) return E.left(`its header does not decode: ${header.left.message}`);
  const h = header.right;
  if (h.publicKey !== publicKey) return E.left(`it is signed by another key (${h.publicKey})`);
  const content = text.slice(newline + 1);
  const contentHash = sha256(content);
  if (contentHash !== h.contentHash) return E.left(`its content hashes to ${contentHash}, its header records ${h.contentHash}`);
  if (!signatureVerifies(readModelPayload({ position: h.position, pools: h.pools, contentHash }), publicKey, h.signature)) return E.left('its signature does not match it');
  return E.right({ header: h, content });
};

/**
 * The position a checkpoint file's header names, before anything is checked (undefined when it
 * has none): where to start verifying the log while the file is checked, never trusted itself.
 */
export const claimedPosition = (text: string): bigint | undefined => {
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  try {
    const header = decodeWith(HeaderCodec)(JSON.parse(text.slice(0, newline)));
    return E.isRight(header) ? header.right.position : undefined;
  } catch {
    return undefined;
  }
};

/** Read a checkpoint file: undefined when there is none. */
export const readFoldCheckpointFile = (path: string): E.Either<string, string | undefined> => {
  try {
    return E.right(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return E.right(undefined);
    return E.left(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
};

/** Write a checkpoint file whole (a temporary file, owner-only, renamed into place). */
export const writeFoldCheckpointFile = async (path: string, text: string): Promise<void> => {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
};
