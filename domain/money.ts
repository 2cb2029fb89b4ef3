// Exact fixed-point numbers for money, sizes and prices.
//
// Every amount, size and price is a bigint with 18 implied decimals ("ledger units").
// Markets and the pool restrict how many of those decimals a value may use (lot size,
// tick size, quote precision); because a market's sizeDecimals + priceDecimals <= 18,
// size * price / ONE is always an exact integer: notional never rounds.
// Rates are integer parts per million (ppm). Nothing here ever uses floating point.

import * as E from 'fp-ts/lib/Either.js';

/** Quote amount in ledger units (1e-18 of the quote asset). */
export type Amount = bigint;
/** Position or trade size, 1e-18 base units. Signed where it is a position. */
export type Size = bigint;
/** Quote per base unit, 1e-18 units. */
export type Price = bigint;
/** Integer parts per million. */
export type Ppm = number;

export const DECIMALS = 18;
export const ONE = 10n ** 18n;
export const PPM = 1_000_000n;
export const ZERO = 0n;

/** The largest magnitude any wire value may have: 10^24 whole units. */
export const MAX_MAGNITUDE = 10n ** 24n * ONE;

const POW10: readonly bigint[] = Array.from({ length: DECIMALS + 1 }, (_, i) => 10n ** BigInt(i));

export const pow10 = (n: number): bigint => POW10[n] ?? 10n ** BigInt(n);

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const sign = (x: bigint): -1n | 0n | 1n => (x < 0n ? -1n : x > 0n ? 1n : 0n);

/** floor(a / b) for any signs (bigint `/` truncates toward zero). */
export const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  // Truncation already is the floor when the signs agree or the division is exact.
  if ((a >= 0n) === (b > 0n) || q * b === a) return q;
  return q - 1n;
};

/** ceil(a / b) for any signs. */
export const ceilDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  // Truncation already is the ceiling when the signs differ or the division is exact.
  if ((a >= 0n) !== (b > 0n) || q * b === a) return q;
  return q + 1n;
};

/** floor(a * b / c): payouts round down. */
export const mulDivFloor = (a: bigint, b: bigint, c: bigint): bigint => floorDiv(a * b, c);

/** ceil(a * b / c): charges round up. */
export const mulDivCeil = (a: bigint, b: bigint, c: bigint): bigint => ceilDiv(a * b, c);

/** size * price in ledger units. Exact for values that respect a market's decimals. */
export const notional = (size: Size, price: Price): Amount => floorDiv(size * price, ONE);

/** ceil(|size * price| * rate / 1e6): a charge (fee, margin requirement) on a notional. */
export const ppmOfNotionalCeil = (size: Size, price: Price, rate: Ppm): Amount =>
  ceilDiv(abs(size * price) * BigInt(rate), ONE * PPM);

/** floor(amount * rate / 1e6): a share of an amount, rounded down. */
export const ppmOfFloor = (amount: Amount, rate: Ppm): Amount => floorDiv(amount * BigInt(rate), PPM);

/** Whether a fixed-point value uses at most `decimals` fractional digits. */
export const fitsDecimals = (value: bigint, decimals: number): boolean =>
  decimals >= DECIMALS || value % pow10(DECIMALS - decimals) === 0n;

export interface Weighted<K extends string = string> {
  readonly key: K;
  readonly weight: bigint;
}

/**
 * Split a non-negative `total` into parts proportional to `weights` so that the parts sum
 * exactly to `total`: every part gets floor(total * w / W), then the units left over go one
 * each to the largest fractional remainders, ties broken by key (ascending).
 * Parts are returned in the order of `weights`. With no positive weight, all parts are zero
 * and the caller must decide where `total` goes (the function never invents a recipient).
 */
export const largestRemainderSplit = (total: bigint, weights: ReadonlyArray<Weighted>): bigint[] => {
  let sum = 0n;
  for (const w of weights) if (w.weight > 0n) sum += w.weight;
  if (sum === 0n || total === 0n) return weights.map(() => 0n);
  const parts: bigint[] = [];
  const remainders: { index: number; rem: bigint; key: string }[] = [];
  let assigned = 0n;
  weights.forEach((w, index) => {
    const weight = w.weight > 0n ? w.weight : 0n;
    const product = total * weight;
    const part = product / sum;
    parts.push(part);
    assigned += part;
    if (weight > 0n) remainders.push({ index, rem: product % sum, key: w.key });
  });
  let left = total - assigned;
  if (left === 0n) return parts;
  remainders.sort((a, b) => (a.rem > b.rem ? -1 : a.rem < b.rem ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; left > 0n; i++, left--) {
    const r = remainders[i % remainders.length]!;
    parts[r.index] = parts[r.index]! + 1n;
  }
  return parts;
};

// ---------------------------------------------------------------------------------------------
// Decimal strings: the wire and event format of every amount, size and price.

export interface DecimalFormat {
  /** How many fractional digits the value may carry (0..18). */
  readonly maxDecimals: number;
  /** Whether a leading '-' is allowed. */
  readonly signed: boolean;
  /** Largest magnitude allowed, in ledger units. */
  readonly maxMagnitude: bigint;
}

export const defaultDecimalFormat: DecimalFormat = { maxDecimals: DECIMALS, signed: false, maxMagnitude: MAX_MAGNITUDE };

// Plain digits with an optional fraction: no exponent, no hex, no '+', no spaces,
// no leading zeros (they invite octal confusion), no bare '.5' or '5.'.
const DECIMAL_PATTERN = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const MAX_DECIMAL_LENGTH = 64;

/** Parse a decimal string into ledger units, exactly, or say what is wrong with it. */
export const parseDecimal = (text: string, format: DecimalFormat = defaultDecimalFormat): E.Either<string, bigint> => {
  if (text.length === 0) return E.left('expected a decimal string, got an empty string');
  if (text.length > MAX_DECIMAL_LENGTH) return E.left(`decimal string longer than ${MAX_DECIMAL_LENGTH} characters`);
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return E.left(`"${text}" is not a plain decimal number (digits with an optional '.' fraction)`);
  const [, minus = '', whole = '0', rawFraction = ''] = match;
  if (minus === '-' && !format.signed) return E.left(`"${text}" must not be negative`);
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > format.maxDecimals) {
    return E.left(`"${text}" has ${fraction.length} fractional digits, at most ${format.maxDecimals} allowed`);
  }
  const magnitude = BigInt(whole) * ONE + BigInt(fraction.padEnd(DECIMALS, '0'));
  if (magnitude > format.maxMagnitude) return E.left(`"${text}" is above the allowed maximum ${formatDecimal(format.maxMagnitude)}`);
  return E.right(minus === '-' ? -magnitude : magnitude);
};

/** Canonical decimal string of a ledger-unit value: no trailing zeros, no exponent. */
export const formatDecimal = (value: bigint): string => {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = magnitude / ONE;
  const remainder = magnitude - whole * ONE;
  if (remainder === 0n) return `${negative ? '-' : ''}${whole}`;
  const digits = remainder.toString().padStart(DECIMALS, '0');
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--; // drop trailing zeros
  return `${negative ? '-' : ''}${whole}.${digits.slice(0, end)}`;
};

/** Shorthand for tests, examples and benchmarks: a literal decimal in ledger units. Throws on bad input. */
export const units = (text: string): bigint => {
  const parsed = parseDecimal(text, { ...defaultDecimalFormat, signed: true });
  if (E.isLeft(parsed)) throw new Error(parsed.left);
  return parsed.right;
};
