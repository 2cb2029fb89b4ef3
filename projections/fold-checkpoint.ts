// The read-model checkpoint: the projection's fold state at a log position, persisted so that a
// start folds only the events after it (docs/design.md section 8).
//
// A checkpoint file is one header line and the content:
//   {"contentHash":…,"format":2,"pools":[{"hash","logId","poolId","revision"}],"position":…,"publicKey":…,"signature":…}
//   <content: JSON of each pool's fold state; format 2 keeps the movements' values as one binary
//    column inside it (base64), format 1 (still read) as JSON arrays>
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

/** The format written: 2, movements as one binary column. Format 1 (every movement value a JSON element) is still read. */
export const FOLD_CHECKPOINT_FORMAT = 2;
type FoldCheckpointFormat = 1 | 2;
const FormatCodec = t.union([t.literal(1), t.literal(2)]);
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
 * Movements, the largest part of the state (two per trade): a movement as the index of its shape
 * (its keys in order, and each value's kind: s a string, n a number, b a bigint) and its values;
 * strings as indices into one table (a trade's two movements share its id and position, and
 * kinds, roles and markets repeat). Rebuilt with the same keys in the same order, so they are
 * served byte for byte as before. Format 1 kept each account's list as one flat JSON array.
 */
interface Shape { readonly keys: ReadonlyArray<string>; readonly kinds: string }
/** Format 1's movements: written only to show that such checkpoints are still read. */
export const encodeMovementsFlat = (movements: Map<string, RawMovement[]>) => {
  const tables = new MovementTables();
  const accounts: [string, (string | number)[]][] = [];
  for (const [accountId, list] of movements) {
    const flat: (string | number)[] = [];
    for (const movement of list) {
      const shape = shapeOf(movement);
      flat.push(tables.shape(shape.keys, shape.kinds));
      for (const value of shape.values) flat.push(typeof value === 'string' ? tables.string(value) : typeof value === 'bigint' ? value.toString() : value as number);
    }
    accounts.push([accountId, flat]);
  }
  return { shapes: tables.shapes, strings: tables.strings, accounts };
};

/**
 * Format 2 (written now): the same shapes and string table, each account as [accountId, its
 * number of movements], and the values of every movement, account after account, in one binary
 * column (base64 in the JSON): JSON.parse then makes one string of it, not an array element per
 * value, and nothing is allocated for a value but the value. A movement is its shape's index and
 * its values in the shape's order, each by its kind:
 *   s  the string's index in the table (varint)
 *   n  an IEEE 754 double, little-endian (8 bytes)
 *   b  a tag byte: bit 7 the sign, bit 6 clear: bits 0-5 a power of ten and a varint of at most
 *      15 decimal digits to multiply by it (money has trailing zeros); bit 6 set: a varint length
 *      and the magnitude's decimal digits (anything longer)
 * Varints are unsigned, 7 bits a byte, low bits first.
 */
class ByteWriter {
  private bytes = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.at + n));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }

  byte(value: number): void {
    this.room(1);
    this.bytes[this.at++] = value;
  }

  varint(value: number): void {
    this.room(8);
    while (value >= 0x80) {
      this.bytes[this.at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.at++] = value;
  }

  double(value: number): void {
    this.room(8);
    this.at = this.bytes.writeDoubleLE(value, this.at);
  }

  ascii(text: string): void {
    this.room(text.length);
    this.at += this.bytes.write(text, this.at, 'latin1');
  }

  bigint(value: bigint): void {
    const digits = (value < 0n ? -value : value).toString();
    const sign = value < 0n ? 0x80 : 0;
    let end = digits.length;
    while (end > 1 && digits.charCodeAt(end - 1) === 48 /* 0 */ && digits.length - end < 63) end--;
    if (end <= 15) {
      this.byte(sign | (digits.length - end));
      this.varint(Number(digits.slice(0, end)));
    } else {
      this.byte(sign | 0x40);
      this.varint(digits.length);
      this.ascii(digits);
    }
  }

  base64(): string {
    return this.bytes.toString('base64', 0, this.at);
  }
}

/** The fields of a movement, by its shape: their keys in order and each one's kind. */
const shapeOf = (movement: RawMovement): { readonly keys: string[]; readonly values: unknown[]; readonly kinds: string } => {
  const keys = Object.keys(movement);
  const values = Object.values(movement) as unknown[];
  let kinds = '';
  for (const value of values) kinds += typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : typeof value === 'bigint' ? 'b' : '?';
  if (kinds.includes('?')) throw new Error('a movement field is neither a string, a number nor a bigint');
  return { keys, values, kinds };
};

/** Interns shapes and strings (both encodings share the tables). */
class MovementTables {
  readonly shapes: Shape[] = [];
  private readonly shapeIds = new Map<string, number>();
  readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  shape(keys: string[], kinds: string): number {
    const signature = `${keys.join(',')}/${kinds}`;
    let id = this.shapeIds.get(signature);
    if (id === undefined) {
      id = this.shapes.length;
      this.shapes.push({ keys, kinds });
      this.shapeIds.set(signature, id);
    }
    return id;
  }

  string(value: string): number {
    let index = this.stringIds.get(value);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(value);
      this.stringIds.set(value, index);
    }
    return index;
  }
}

const encodeMovementColumns = (movements: Map<string, RawMovement[]>) => {
  const tables = new MovementTables();
  const values = new ByteWriter();
  const accounts: [string, number][] = [];
  for (const [accountId, list] of movements) {
    for (const movement of list) {
      const shape = shapeOf(movement);
      values.varint(tables.shape(shape.keys, shape.kinds));
      for (let k = 0; k < shape.values.length; k++) {
        const value = shape.values[k];
        const kind = shape.kinds.charCodeAt(k);
        if (kind === 115 /* s */) values.varint(tables.string(value as string));
        else if (kind === 110 /* n */) values.double(value as number);
        else values.bigint(value as bigint);
      }
    }
    accounts.push([accountId, list.length]);
  }
  return { shapes: tables.shapes, strings: tables.strings, accounts, values: values.base64() };
};

const POWERS_OF_TEN = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));
const DIGITS = /^(0|[1-9][0-9]{0,80})$/;

/** Reads format 2's column; every read checks its bounds (a value cut short throws). */
class ByteReader {
  at = 0;
  constructor(readonly bytes: Buffer) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('the movement values are cut short');
    return this.bytes[this.at++]!;
  }

  varint(): number {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      if (scale > 2 ** 42) throw new Error('a varint in the movement values is too long');
    }
  }

  double(): number {
    if (this.at + 8 > this.bytes.length) throw new Error('the movement values are cut short');
    const value = this.bytes.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  /** A bigint; with `build` false only checked and passed over (undefined). */
  bigint(build = true): bigint | undefined {
    const tag = this.byte();
    let magnitude: bigint;
    if ((tag & 0x40) === 0) {
      const mantissa = this.varint();
      if (mantissa >= 1e15) throw new Error('a bigint in the movement values has too many digits');
      if (!build) return undefined;
      magnitude = BigInt(mantissa) * POWERS_OF_TEN[tag & 0x3f]!;
    } else {
      const length = this.varint();
      if (this.at + length > this.bytes.length) throw new Error('the movement values are cut short');
      const digits = this.bytes.toString('latin1', this.at, this.at + length);
      this.at += length;
      if (!DIGITS.test(digits)) throw new Error('expected the decimal digits of a bigint');
      if (!build) return undefined;
      magnitude = BigInt(digits);
    }
    return (tag & 0x80) === 0 ? magnitude : -magnitude;
  }
}

const INTEGER = /^-?(0|[1-9][0-9]{0,80})$/;

const decodeShapes = (raw: unknown[]): Shape[] | undefined => {
  const shapes: Shape[] = [];
  for (const shape of raw) {
    const s = shape as { keys?: unknown; kinds?: unknown } | null;
    if (typeof s !== 'object' || s === null || !Array.isArray(s.keys) || typeof s.kinds !== 'string' || !/^[snb]*$/.test(s.kinds) || s.keys.length !== s.kinds.length
      || !s.keys.every((k) => typeof k === 'string' && k !== '__proto__')) return undefined;
    shapes.push({ keys: s.keys as string[], kinds: s.kinds });
  }
  return shapes;
};

/**
 * One movement at the reader's place in format 2's column, or (`build` false) the same bytes
 * only checked and passed over: the one reading of a movement, for the check and the build.
 * Throws on anything that is not a movement (shape or string index out of range, bytes cut short).
 */
const readMovement = (reader: ByteReader, shapes: ReadonlyArray<Shape>, strings: ReadonlyArray<string>, build: boolean): RawMovement | undefined => {
  const shape = shapes[reader.varint()];
  if (shape === undefined) throw new Error('expected a movement shape index');
  const movement: Record<string, unknown> | undefined = build ? {} : undefined;
  for (let k = 0; k < shape.keys.length; k++) {
    const kind = shape.kinds.charCodeAt(k);
    let value: unknown;
    if (kind === 115 /* s */) {
      value = strings[reader.varint()];
      if (value === undefined) throw new Error('expected a string index');
    } else if (kind === 110 /* n */) value = reader.double();
    else value = reader.bigint(build);
    if (movement !== undefined) movement[shape.keys[k]!] = value;
  }
  return movement as RawMovement | undefined;
};

/**
 * Format 2's movements as decoded: every account's movements checked at once (shapes, string
 * indices, bounds, nothing left over), but built only when first asked for. Most accounts'
 * histories are not read between two starts, and building them all was most of a start's
 * decoding. An account's list is built by `get` (which the fold's appends and the read API use)
 * or by iterating (encoding the next checkpoint); `set` and `delete` replace it as in any Map.
 */
class MovementColumns extends Map<string, RawMovement[]> {
  /** Where each account not built yet starts in the column, and its number of movements. */
  private readonly unbuilt = new Map<string, { readonly at: number; readonly count: number }>();

  constructor(private readonly bytes: Buffer, private readonly shapes: ReadonlyArray<Shape>, private readonly strings: ReadonlyArray<string>, accounts: ReadonlyArray<readonly [string, number]>) {
    super();
    const reader = new ByteReader(bytes);
    for (const [accountId, count] of accounts) {
      const at = reader.at;
      for (let m = 0; m < count; m++) readMovement(reader, shapes, strings, false);
      super.set(accountId, UNBUILT);
      this.unbuilt.set(accountId, { at, count });
    }
    if (reader.at !== bytes.length) throw new Error('the movement values go on after the last movement');
  }

  override get(accountId: string): RawMovement[] | undefined {
    const place = this.unbuilt.get(accountId);
    if (place === undefined) return super.get(accountId);
    const reader = new ByteReader(this.bytes);
    reader.at = place.at;
    const list: RawMovement[] = new Array(place.count);
    for (let m = 0; m < place.count; m++) list[m] = readMovement(reader, this.shapes, this.strings, true)!;
    this.unbuilt.delete(accountId);
    super.set(accountId, list);
    return list;
  }

  override set(accountId: string, list: RawMovement[]): this {
    this.unbuilt?.delete(accountId);
    return super.set(accountId, list);
  }

  override delete(accountId: string): boolean {
    this.unbuilt.delete(accountId);
    return super.delete(accountId);
  }

  override clear(): void {
    this.unbuilt.clear();
    super.clear();
  }

  private buildAll(): void {
    for (const accountId of [...this.unbuilt.keys()]) this.get(accountId);
  }

  override entries(): MapIterator<[string, RawMovement[]]> {
    this.buildAll();
    return super.entries();
  }

  override values(): MapIterator<RawMovement[]> {
    this.buildAll();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[string, RawMovement[]]> {
    return this.entries();
  }

  override forEach(callback: (list: RawMovement[], accountId: string, map: Map<string, RawMovement[]>) => void, thisArg?: unknown): void {
    this.buildAll();
    super.forEach(callback, thisArg);
  }
}
/** The place of an account's list not built yet (never handed out: get and iteration build it first). */
const UNBUILT: RawMovement[] = [];

/** Format 2's movements: the column checked whole; each account's list built when first asked for. */
const decodeMovementColumns = (input: { shapes: unknown[]; strings: unknown[]; accounts: unknown[]; values: string }, c: t.Context): t.Validation<Map<string, RawMovement[]>> => {
  const strings = input.strings;
  if (!strings.every((x) => typeof x === 'string')) return t.failure(strings, c, 'expected strings');
  const shapes = decodeShapes(input.shapes);
  if (shapes === undefined) return t.failure(input.shapes, c, 'expected movement shapes');
  const accounts: [string, number][] = [];
  const seen = new Set<string>();
  for (const entry of input.accounts) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]) || (entry[1] as number) < 0 || seen.has(entry[0])) return t.failure(entry, c, 'expected [accountId, number of movements], each account once');
    seen.add(entry[0]);
    accounts.push([entry[0], entry[1] as number]);
  }
  try {
    return t.success(new MovementColumns(Buffer.from(input.values, 'base64'), shapes, strings as string[], accounts));
  } catch (error) {
    return t.failure(input.values, c, (error as Error).message);
  }
};

/** Format 1's movements (still read): every value an element of the account's array. */
const decodeMovementsFlat = (input: { shapes: unknown[]; strings: unknown[]; accounts: unknown[] }, c: t.Context): t.Validation<Map<string, RawMovement[]>> => {
  const strings = input.strings;
  if (!strings.every((x) => typeof x === 'string')) return t.failure(strings, c, 'expected strings');
  const shapes = decodeShapes(input.shapes);
  if (shapes === undefined) return t.failure(input.shapes, c, 'expected movement shapes');
  const movements = new Map<string, RawMovement[]>();
  for (const entry of input.accounts) {
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
};

/** Movements in either format: format 2's carry their `values` column (encoded: format 2). */
export const MovementsCodec = new t.Type<Map<string, RawMovement[]>, unknown, unknown>('Movements', (u): u is Map<string, RawMovement[]> => u instanceof Map, (u, c) => {
  const input = u as { shapes?: unknown; strings?: unknown; accounts?: unknown; values?: unknown } | null;
  if (typeof input !== 'object' || input === null || !Array.isArray(input.shapes) || !Array.isArray(input.strings) || !Array.isArray(input.accounts)) return t.failure(u, c, 'expected {shapes, strings, accounts}');
  const tables = { shapes: input.shapes as unknown[], strings: input.strings as unknown[], accounts: input.accounts as unknown[] };
  if (input.values === undefined) return decodeMovementsFlat(tables, c);
  if (typeof input.values !== 'string') return t.failure(input.values, c, 'expected the movement values in base64');
  return decodeMovementColumns({ ...tables, values: input.values }, c);
}, (m) => encodeMovementColumns(m));

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

const encodeAggregates = (a: PoolAggregates, format: FoldCheckpointFormat) => ({
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
  movements: format === 1 ? encodeMovementsFlat(a.movements) : encodeMovementColumns(a.movements),
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

const ContentCodec = t.type({ format: FormatCodec, pools: t.array(PoolFoldCodec) });

/** The content of a checkpoint: the model (with no document waiting to be built) and the stored index, as JSON text (format 1 only for tests of reading it). */
export const encodeFoldState = (model: ProjectionModel, index: StoredIndex, format: FoldCheckpointFormat = FOLD_CHECKPOINT_FORMAT): string => {
  const pools = [...model.pools].map(([poolId, { state, aggregates, dirty }]) => {
    if (dirty.accounts.size + dirty.markets.size > 0 || dirty.tranches !== undefined || dirty.fundHealth !== undefined) throw new Error(`pool ${poolId} has documents not stored yet`);
    const stored = index.get(poolId);
    return {
      poolId,
      state: canonicalState(state),
      order: state.status === 'active' ? stateOrder(state) : null,
      aggregates: encodeAggregates(aggregates, format),
      stored: {
        accounts: stored === undefined ? [] : [...stored.accounts].map(([id, p]) => [id, p.toString()]),
        markets: stored === undefined ? [] : [...stored.markets].map(([id, p]) => [id, p.toString()]),
        tranches: stored?.tranches === undefined ? null : stored.tranches.toString(),
        fundHealth: stored?.fundHealth === undefined ? null : [stored.fundHealth.position.toString(), stored.fundHealth.timestamp],
      },
    };
  });
  return JSON.stringify({ format, pools });
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
  format: FormatCodec,
  position: Position,
  pools: t.array(strictObject({ poolId: Id, logId: Sha256Hex, revision: logIndex('Revision'), hash: Sha256Hex }, 'ChainHead')),
  contentHash: Sha256Hex,
  publicKey: PublicKeyHex,
  signature: SignatureHex,
}, 'ReadModelCheckpoint');
export type FoldCheckpointHeader = t.TypeOf<typeof HeaderCodec>;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A checkpoint file's text: the header (sealed by the service's key) and the content. */
export const sealFoldCheckpoint = (signer: CheckpointSigner, position: bigint, heads: ReadonlyArray<ChainHeadAt>, content: string, format: FoldCheckpointFormat = FOLD_CHECKPOINT_FORMAT): string => {
  const seal: ReadModelSeal = { position, pools: heads, contentHash: sha256(content) };
  const { publicKey, signature } = signer.sealReadModels(seal);
  const header = {
    format, position: position.toString(),
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
