// Edges of the money arithmetic that the wire format and the splits depend on, with hand-computed
// numbers: the sign of whole negative values, and who receives the units a split leaves over.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  abs, ceilDiv, fitsDecimals, floorDiv, formatDecimal, largestRemainderSplit, max, min, mulDivCeil, mulDivFloor, notional, ONE,
  parseDecimal, pow10, ppmOfFloor, ppmOfNotionalCeil, sign, units, defaultDecimalFormat, MAX_MAGNITUDE,
} from '../../domain/money.js';

describe('formatDecimal keeps the sign of every negative value', () => {
  it('a short of exactly 1 and an entry notional of -3000 are written with their minus sign', () => {
    expect(formatDecimal(-ONE)).toBe('-1');
    expect(formatDecimal(units('-3000'))).toBe('-3000');
    expect(formatDecimal(units('-0.5'))).toBe('-0.5');
    expect(formatDecimal(units('-2.25'))).toBe('-2.25');
    expect(formatDecimal(units('3000'))).toBe('3000');
    expect(formatDecimal(units('0.000001'))).toBe('0.000001');
  });
});

describe('largestRemainderSplit: where the leftover units go', () => {
  it('the single leftover unit goes to the largest remainder, wherever it stands in the list', () => {
    // 10 by a:1, b:2 -> 3.33 and 6.67: floors 3 + 6 = 9, remainders 1/3 and 2/3, so b gets the unit.
    expect(largestRemainderSplit(10n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 2n }])).toEqual([3n, 7n]);
    // The same with the larger remainder first in the list: 10 by b:2, a:1.
    expect(largestRemainderSplit(10n, [{ key: 'b', weight: 2n }, { key: 'a', weight: 1n }])).toEqual([7n, 3n]);
    // 11 by z:1, y:1, x:9 -> 1.0, 1.0, 8.9 (remainders 1, 1, 9 of 11): floors 0 + 0 + 9 = 9... x has
    // 99/11 = 9 exactly; z and y 11/11 = 1 exactly: nothing is left over.
    expect(largestRemainderSplit(11n, [{ key: 'z', weight: 1n }, { key: 'y', weight: 1n }, { key: 'x', weight: 9n }])).toEqual([1n, 1n, 9n]);
  });

  it('two leftover units go one each to the two largest remainders, never two to one part', () => {
    // 8 by a:1, b:1, c:1 -> 2.67 each: floors 2, 2, 2 (6), two left: a and b by key, c stays at 2.
    expect(largestRemainderSplit(8n, [{ key: 'c', weight: 1n }, { key: 'b', weight: 1n }, { key: 'a', weight: 1n }])).toEqual([2n, 3n, 3n]);
    // 5 by a:3, b:3, c:1 -> 15/7 = 2.14, 2.14, 5/7 = 0.71: floors 2, 2, 0 (4), one left for c.
    expect(largestRemainderSplit(5n, [{ key: 'a', weight: 3n }, { key: 'b', weight: 3n }, { key: 'c', weight: 1n }])).toEqual([2n, 2n, 1n]);
  });

  it('a tie of remainders goes to the smaller key, whatever the order of the list', () => {
    expect(largestRemainderSplit(1n, [{ key: 'b', weight: 1n }, { key: 'a', weight: 1n }])).toEqual([0n, 1n]);
    expect(largestRemainderSplit(1n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 1n }])).toEqual([1n, 0n]);
    expect(largestRemainderSplit(3n, [{ key: 'm', weight: 1n }, { key: 'k', weight: 1n }, { key: 'l', weight: 2n }, { key: 'j', weight: 0n }]))
      .toEqual([1n, 1n, 1n, 0n]);
  });

  it('two entries with the same key and the same remainder: the first in the list gets the unit', () => {
    // 1 by a:1, a:1 -> 0.5 each: floors 0 + 0, one unit left, the remainders and keys tie: list order decides.
    expect(largestRemainderSplit(1n, [{ key: 'a', weight: 1n }, { key: 'a', weight: 1n }])).toEqual([1n, 0n]);
    // 2 by a:1, b:1, a:1 -> 0.67 each: floors 0, two units left: both a's come before b, in list order.
    expect(largestRemainderSplit(2n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 1n }, { key: 'a', weight: 1n }])).toEqual([1n, 0n, 1n]);
  });

  it('negative and zero weights get nothing; no total or no weight gives all zeros', () => {
    expect(largestRemainderSplit(7n, [{ key: 'a', weight: -5n }, { key: 'b', weight: 2n }, { key: 'c', weight: 0n }])).toEqual([0n, 7n, 0n]);
    expect(largestRemainderSplit(0n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 1n }])).toEqual([0n, 0n]);
    expect(largestRemainderSplit(4n, [{ key: 'a', weight: -1n }])).toEqual([0n]);
    expect(largestRemainderSplit(4n, [])).toEqual([]);
  });
});

describe('rounding directions', () => {
  it('floor and ceiling of exact and inexact quotients of every sign', () => {
    expect([floorDiv(7n, 2n), floorDiv(-7n, 2n), floorDiv(7n, -2n), floorDiv(-7n, -2n), floorDiv(-6n, 2n), floorDiv(0n, -3n)]).toEqual([3n, -4n, -4n, 3n, -3n, 0n]);
    expect([ceilDiv(7n, 2n), ceilDiv(-7n, 2n), ceilDiv(7n, -2n), ceilDiv(-7n, -2n), ceilDiv(6n, 2n), ceilDiv(0n, 3n)]).toEqual([4n, -3n, -3n, 4n, 3n, 0n]);
    expect([mulDivFloor(-5n, 3n, 2n), mulDivCeil(-5n, 3n, 2n), mulDivFloor(5n, 3n, 2n), mulDivCeil(5n, 3n, 2n)]).toEqual([-8n, -7n, 7n, 8n]);
  });

  it('notional of a short rounds toward minus infinity; charges on it round up by magnitude', () => {
    // -1e-18 size at price 0.5: -0.5e-18 -> floor -1 unit; the 1% charge on |that| rounds up to 1 unit.
    expect(notional(-1n, ONE / 2n)).toBe(-1n);
    expect(notional(1n, ONE / 2n)).toBe(0n);
    expect(ppmOfNotionalCeil(-1n, ONE / 2n, 10_000)).toBe(1n);
    // 2 BTC short at 30000, 5%: exactly 3000.
    expect(ppmOfNotionalCeil(units('-2'), units('30000'), 50_000)).toBe(units('3000'));
    // A share rounds down: 20% of 0.000000000000000009 is 1.8 units -> 1; of a negative amount -> -2.
    expect(ppmOfFloor(9n, 200_000)).toBe(1n);
    expect(ppmOfFloor(-9n, 200_000)).toBe(-2n);
  });

  it('min, max, abs and sign', () => {
    expect([min(-2n, 3n), min(3n, -2n), max(-2n, 3n), max(3n, -2n), min(4n, 4n)]).toEqual([-2n, -2n, 3n, 3n, 4n]);
    expect([abs(-5n), abs(5n), abs(0n)]).toEqual([5n, 5n, 0n]);
    expect([sign(-5n), sign(0n), sign(5n)]).toEqual([-1n, 0n, 1n]);
  });

  it('pow10 beyond the table and decimal fitting', () => {
    expect(pow10(0)).toBe(1n);
    expect(pow10(18)).toBe(ONE);
    expect(pow10(20)).toBe(100n * ONE);
    expect(fitsDecimals(units('1.25'), 2)).toBe(true);
    expect(fitsDecimals(units('1.255'), 2)).toBe(false);
    expect(fitsDecimals(1n, 18)).toBe(true);
    expect(fitsDecimals(1n, 19)).toBe(true);
    expect(fitsDecimals(units('1'), 0)).toBe(true);
  });
});

describe('parseDecimal: the exact bounds', () => {
  it('accepts the maximum magnitude and refuses one unit more, and strings of exactly 64 characters', () => {
    expect(parseDecimal('1000000000000000000000000')).toEqual(E.right(MAX_MAGNITUDE));
    expect(E.isLeft(parseDecimal('1000000000000000000000000.000000000000000001'))).toBe(true);
    const sixtyFour = `1.${'0'.repeat(62)}`;
    expect(sixtyFour.length).toBe(64);
    expect(parseDecimal(sixtyFour)).toEqual(E.right(ONE));
    expect(parseDecimal(`${sixtyFour}0`)).toEqual(E.left('decimal string longer than 64 characters'));
    expect(parseDecimal('')).toEqual(E.left('expected a decimal string, got an empty string'));
  });

  it('names the problem: a sign where none is allowed, too many digits, a malformed number', () => {
    expect(parseDecimal('-1')).toEqual(E.left('"-1" must not be negative'));
    expect(parseDecimal('-1', { ...defaultDecimalFormat, signed: true })).toEqual(E.right(-ONE));
    expect(parseDecimal('-0.5', { ...defaultDecimalFormat, signed: true })).toEqual(E.right(-ONE / 2n));
    expect(parseDecimal('1.234', { ...defaultDecimalFormat, maxDecimals: 2 })).toEqual(E.left('"1.234" has 3 fractional digits, at most 2 allowed'));
    // Trailing zeros are not digits that count.
    expect(parseDecimal('1.2300', { ...defaultDecimalFormat, maxDecimals: 2 })).toEqual(E.right(units('1.23')));
    expect(parseDecimal('01')).toEqual(E.left('"01" is not a plain decimal number (digits with an optional \'.\' fraction)'));
    expect(parseDecimal('5', { ...defaultDecimalFormat, maxMagnitude: 4n * ONE })).toEqual(E.left('"5" is above the allowed maximum 4'));
    expect(parseDecimal('4', { ...defaultDecimalFormat, maxMagnitude: 4n * ONE })).toEqual(E.right(4n * ONE));
    expect(() => units('1e3')).toThrow('"1e3" is not a plain decimal number');
  });
});
