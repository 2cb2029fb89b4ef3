// A hand-written decoder for trusted stored events (replay, the writer's load, the audit, the
// projections), for the hot types: a compact trade, deposit or withdrawal (stored version 2) and a
// mark price update. It checks exactly what the io-ts codecs check, field by field, without
// building io-ts contexts. It is deliberately conservative: anything it does not recognise as a
// well-formed hot event (another type, an unusual object, a field it would refuse) goes to the
// io-ts codec, which stays the reference: it decides every refusal and names the bad field.
// So the decoder accepts and refuses exactly what io-ts does, and when it accepts, it gives the
// same value (both are property-tested in test/property/stored-decoder.property.test.ts).
// Untrusted input (commands, bus messages) is decoded by io-ts only.

import * as E from 'fp-ts/lib/Either.js';
import type { InvalidInput } from './codecs.js';
import { Id } from './codecs.js';
import {
  compactTradeProblem, decodeEvent, expandDeposit, expandTrade, expandWithdrawal, STORED_SCHEMA_VERSION,
  type CompactTrade, type Event,
} from './events.js';
import { DECIMALS, MAX_MAGNITUDE } from './money.js';
import type { FundPart } from './postings.js';
import { SCHEMA_VERSION } from './commands.js';

type Fields = Record<string, unknown>;

const ZEROS = '0'.repeat(DECIMALS);
const MAX_DECIMAL_LENGTH = 64;

/**
 * A decimal string as the `decimal` codecs parse it (plain digits, no leading zeros, at most 18
 * fractional digits once trailing zeros are dropped, magnitude at most MAX_MAGNITUDE), or
 * undefined for anything they might refuse.
 */
export const fastDecimal = (u: unknown, signed: boolean, positive: boolean): bigint | undefined => {
  if (typeof u !== 'string') return undefined;
  const n = u.length;
  if (n === 0 || n > MAX_DECIMAL_LENGTH) return undefined;
  let i = 0;
  const negative = u.charCodeAt(0) === 45; // '-'
  if (negative) {
    if (!signed) return undefined;
    i = 1;
  }
  const wholeStart = i;
  while (i < n && isDigit(u.charCodeAt(i))) i++;
  const wholeEnd = i;
  if (wholeEnd === wholeStart || (u.charCodeAt(wholeStart) === 48 && wholeEnd - wholeStart > 1)) return undefined;
  let fraction = '';
  if (i < n) {
    if (u.charCodeAt(i) !== 46) return undefined; // '.'
    const fractionStart = ++i;
    while (i < n && isDigit(u.charCodeAt(i))) i++;
    if (i !== n || i === fractionStart) return undefined;
    let end = n;
    while (end > fractionStart && u.charCodeAt(end - 1) === 48) end--; // trailing zeros do not count
    if (end - fractionStart > DECIMALS) return undefined;
    fraction = u.slice(fractionStart, end);
  }
  const magnitude = BigInt(u.slice(wholeStart, wholeEnd) + fraction + ZEROS.slice(fraction.length));
  if (magnitude > MAX_MAGNITUDE || (positive && (negative || magnitude === 0n))) return undefined;
  return negative ? -magnitude : magnitude;
};

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** A JSON integer within [min, max], as `integerIn` decodes it (as is: a -0 stays -0, as with io-ts). */
const fastInteger = (u: unknown, min: number, max: number): number | undefined =>
  typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max ? u : undefined;

const fastId = (u: unknown): string | undefined => (Id.is(u) ? u : undefined);

/**
 * Whether `u` is a plain object whose own keys are exactly the required ones (all defined) plus
 * any of the optional ones: what `strictObject` accepts, before looking at values.
 */
const hasExactly = (u: Fields, required: ReadonlyArray<string>, optional: ReadonlyArray<string>): boolean => {
  let count = 0;
  for (const key of required) {
    if (u[key] === undefined || !Object.hasOwn(u, key)) return false;
    count++;
  }
  for (const key of optional) if (Object.hasOwn(u, key)) count++;
  return Object.keys(u).length === count;
};

const TRADE_KEYS = ['type', 'schemaVersion', 'tradeId', 'marketId', 'taker', 'maker', 'takerSide', 'size', 'price', 'takerFee', 'makerFee', 'fundSharePpm', 'takerPnl', 'makerPnl', 'fund'];
const TRADE_OPTIONAL = ['makerRebate'];
const VALUE_KEYS = ['type', 'schemaVersion', 'accountId', 'amount'];
const MARK_KEYS = ['type', 'schemaVersion', 'marketId', 'price'];

const fundParts = (u: unknown): FundPart[] | undefined => {
  if (!Array.isArray(u)) return undefined;
  const parts: FundPart[] = [];
  for (const entry of u as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const trancheId = fastId(entry[0]);
    const fromTaker = fastDecimal(entry[1], false, false);
    const fromMaker = fastDecimal(entry[2], false, false);
    if (trancheId === undefined || fromTaker === undefined || fromMaker === undefined) return undefined;
    parts.push([trancheId, fromTaker, fromMaker]);
  }
  return parts;
};

/** A compact stored trade as io-ts's CompactTrade decodes it (its own check included), or undefined. */
const compactTrade = (u: Fields): CompactTrade | undefined => {
  if (!hasExactly(u, TRADE_KEYS, TRADE_OPTIONAL)) return undefined;
  const tradeId = fastId(u.tradeId);
  const marketId = fastId(u.marketId);
  const taker = fastId(u.taker);
  const maker = fastId(u.maker);
  const takerSide = u.takerSide === 'buy' || u.takerSide === 'sell' ? u.takerSide : undefined;
  const size = fastDecimal(u.size, false, true);
  const price = fastDecimal(u.price, false, true);
  const takerFee = fastDecimal(u.takerFee, false, false);
  const makerFee = fastDecimal(u.makerFee, false, false);
  const fundSharePpm = fastInteger(u.fundSharePpm, 0, 1_000_000);
  const takerPnl = fastDecimal(u.takerPnl, true, false);
  const makerPnl = fastDecimal(u.makerPnl, true, false);
  const fund = fundParts(u.fund);
  const makerRebate = u.makerRebate === undefined ? undefined : fastDecimal(u.makerRebate, false, true);
  if (
    tradeId === undefined || marketId === undefined || taker === undefined || maker === undefined || takerSide === undefined
    || size === undefined || price === undefined || takerFee === undefined || makerFee === undefined || fundSharePpm === undefined
    || takerPnl === undefined || makerPnl === undefined || fund === undefined || (u.makerRebate !== undefined && makerRebate === undefined)
  ) return undefined;
  // Written out in both shapes (no spread of an optional field: V8 builds those on a slow path).
  const compact: CompactTrade = makerRebate === undefined
    ? { type: 'TradeExecuted', schemaVersion: STORED_SCHEMA_VERSION, tradeId, marketId, taker, maker, takerSide, size, price, takerFee, makerFee, fundSharePpm, takerPnl, makerPnl, fund }
    : { type: 'TradeExecuted', schemaVersion: STORED_SCHEMA_VERSION, tradeId, marketId, taker, maker, takerSide, size, price, takerFee, makerFee, fundSharePpm, takerPnl, makerPnl, fund, makerRebate };
  return compactTradeProblem(compact) === undefined ? compact : undefined;
};

const valueMove = (u: Fields, type: 'CollateralDeposited' | 'CollateralWithdrawn'): Event | undefined => {
  if (!hasExactly(u, VALUE_KEYS, [])) return undefined;
  const accountId = fastId(u.accountId);
  const amount = fastDecimal(u.amount, false, true);
  if (accountId === undefined || amount === undefined) return undefined;
  const compact = { type, schemaVersion: STORED_SCHEMA_VERSION, accountId, amount } as const;
  return type === 'CollateralDeposited' ? expandDeposit({ ...compact, type }) : expandWithdrawal({ ...compact, type });
};

const markPrice = (u: Fields): Event | undefined => {
  if (!hasExactly(u, MARK_KEYS, [])) return undefined;
  const marketId = fastId(u.marketId);
  const price = fastDecimal(u.price, false, true);
  return marketId === undefined || price === undefined ? undefined : { type: 'MarkPriceUpdated', schemaVersion: SCHEMA_VERSION, marketId, price };
};

/**
 * A stored event as replay folds it: a compact trade stays compact (its facts and value flows;
 * its postings are not rebuilt, the fold posts straight from the flows), anything else is the
 * domain event.
 */
export type ReplayEvent = Event | CompactTrade;

/** The hot-path decode: the event (a trade as stored when `keepTrades`), or undefined when io-ts must decide. */
const fastDecode = (input: unknown, keepTrades: boolean): ReplayEvent | undefined => {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const u = input as Fields;
  switch (u.type) {
    case 'TradeExecuted': {
      const compact = u.schemaVersion === STORED_SCHEMA_VERSION ? compactTrade(u) : undefined;
      return compact === undefined || keepTrades ? compact : expandTrade(compact);
    }
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
      return u.schemaVersion === STORED_SCHEMA_VERSION ? valueMove(u, u.type) : undefined;
    case 'MarkPriceUpdated':
      return u.schemaVersion === 1 ? markPrice(u) : undefined;
    default:
      return undefined;
  }
};

/** The hot-path decode: the event, or undefined when io-ts must decide. */
export const fastDecodeEvent = (input: unknown): Event | undefined => fastDecode(input, false) as Event | undefined;

/** Decode a trusted stored event: the hand-written path for hot types, io-ts for everything else. */
export const decodeStoredEvent = (input: unknown): E.Either<InvalidInput, Event> => {
  const fast = fastDecodeEvent(input);
  return fast === undefined ? decodeEvent(input) : E.right(fast);
};

/**
 * Decode a trusted stored event for replay: as `decodeStoredEvent`, except that a compact trade
 * the hand-written path accepts stays compact (expanded, it is the event `decodeStoredEvent` gives).
 */
export const decodeStoredForReplay = (input: unknown): E.Either<InvalidInput, ReplayEvent> => {
  const fast = fastDecode(input, true);
  return fast === undefined ? decodeEvent(input) : E.right(fast);
};
