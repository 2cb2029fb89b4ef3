import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { propertyParameters } from '../support/property.js';
import {
  ceilDiv, floorDiv, formatDecimal, largestRemainderSplit, mulDivCeil, mulDivFloor, notional, parseDecimal,
  ppmOfFloor, ppmOfNotionalCeil, units, ONE, MAX_MAGNITUDE, defaultDecimalFormat, fitsDecimals,
} from '../../domain/money.js';

describe('rounding', () => {
  it('floorDiv and ceilDiv round toward -inf and +inf for every sign', () => {
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(7n, -2n)).toBe(-4n);
    expect(floorDiv(-7n, -2n)).toBe(3n);
    expect(ceilDiv(7n, 2n)).toBe(4n);
    expect(ceilDiv(-7n, 2n)).toBe(-3n);
    expect(ceilDiv(7n, -2n)).toBe(-3n);
    expect(ceilDiv(-7n, -2n)).toBe(4n);
    expect(ceilDiv(6n, 2n)).toBe(3n);
    expect(floorDiv(-6n, 2n)).toBe(-3n);
  });

  it('mulDiv rounds a charge up and a payout down', () => {
    expect(mulDivCeil(10n, 1n, 3n)).toBe(4n);
    expect(mulDivFloor(10n, 1n, 3n)).toBe(3n);
  });

  it('a fee on a notional is rounded up to the next ledger unit', () => {
    // 0.0001 BTC at 0.01: notional 0.000001; 500 ppm of it = 5e-10 exactly
    expect(ppmOfNotionalCeil(units('0.0001'), units('0.01'), 500)).toBe(units('0.0000000005'));
    // 1e-18 * 1 * 1 ppm = 1e-24 -> rounds up to one ledger unit
    expect(ppmOfNotionalCeil(1n, ONE, 1)).toBe(1n);
    expect(ppmOfFloor(999_999n, 1)).toBe(0n);
  });

  it('notional of values within market decimals is exact', () => {
    expect(notional(units('0.5'), units('30000.25'))).toBe(units('15000.125'));
    expect(notional(units('-1.5'), units('2000'))).toBe(units('-3000'));
  });

  it('floorDiv(a,b) <= a/b < floorDiv(a,b)+1 and ceil is its mirror', () => {
    fc.assert(fc.property(fc.bigInt(), fc.bigInt().filter((b) => b !== 0n), (a, b) => {
      const f = floorDiv(a, b);
      const c = ceilDiv(a, b);
      const lowerOk = b > 0n ? f * b <= a && a < (f + 1n) * b : f * b >= a && a > (f + 1n) * b;
      expect(lowerOk).toBe(true);
      expect(c === f || c === f + 1n).toBe(true);
      expect(c === f).toBe(a % b === 0n);
    }), propertyParameters('floor and ceil division'));
  });
});

describe('largest remainder split', () => {
  it('splits 10 by 1:1:1 as 4:3:3, the extra unit to the smallest key on a tie', () => {
    expect(largestRemainderSplit(10n, [{ key: 'b', weight: 1n }, { key: 'a', weight: 1n }, { key: 'c', weight: 1n }])).toEqual([3n, 4n, 3n]);
  });

  it('gives leftover units to the largest remainders first', () => {
    // 100 by 3:1:1 -> 60, 20, 20 exactly; 101 by 2:2:1 -> 40.4, 40.4, 20.2 -> 41 (a), 40, 20
    expect(largestRemainderSplit(100n, [{ key: 'a', weight: 3n }, { key: 'b', weight: 1n }, { key: 'c', weight: 1n }])).toEqual([60n, 20n, 20n]);
    expect(largestRemainderSplit(101n, [{ key: 'a', weight: 2n }, { key: 'b', weight: 2n }, { key: 'c', weight: 1n }])).toEqual([41n, 40n, 20n]);
    // 7 by 1:2 -> 2.33, 4.67 -> 2, 5
    expect(largestRemainderSplit(7n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 2n }])).toEqual([2n, 5n]);
  });

  it('gives nothing to zero weights and nothing at all without a positive weight', () => {
    expect(largestRemainderSplit(5n, [{ key: 'a', weight: 0n }, { key: 'b', weight: 1n }])).toEqual([0n, 5n]);
    expect(largestRemainderSplit(5n, [{ key: 'a', weight: 0n }])).toEqual([0n]);
  });

  it('always sums exactly to the total, each part within one unit of its exact share', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 30n }),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 12 }),
      (total, ws) => {
        const weights = ws.map((weight, i) => ({ key: `k${i}`, weight }));
        const parts = largestRemainderSplit(total, weights);
        const sum = ws.reduce((a, b) => a + b, 0n);
        if (sum === 0n) {
          expect(parts.every((p) => p === 0n)).toBe(true);
          return;
        }
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
        parts.forEach((part, i) => {
          const exactFloor = (total * ws[i]!) / sum;
          expect(part === exactFloor || part === exactFloor + 1n).toBe(true);
        });
      },
    ), propertyParameters('largest remainder split'));
  });
});

describe('decimal strings', () => {
  const six = { ...defaultDecimalFormat, maxDecimals: 6 };
  const ok = (text: string, format = defaultDecimalFormat) => {
    const r = parseDecimal(text, format);
    if (E.isLeft(r)) throw new Error(r.left);
    return r.right;
  };
  const bad = (text: string, format = defaultDecimalFormat) => {
    const r = parseDecimal(text, format);
    if (E.isRight(r)) throw new Error(`"${text}" was accepted as ${r.right}`);
    return r.left;
  };

  it('parses plain decimals exactly into 18-decimal ledger units', () => {
    expect(ok('1250.5')).toBe(1250_500000000000000000n);
    expect(ok('0')).toBe(0n);
    expect(ok('0.000000000000000001')).toBe(1n);
    expect(ok('1.50', six)).toBe(1_500000000000000000n);
    expect(ok('-3.25', { ...defaultDecimalFormat, signed: true })).toBe(-3_250000000000000000n);
  });

  it.each([
    ['1e3', 'not a plain decimal'],
    ['0x10', 'not a plain decimal'],
    [' 5', 'not a plain decimal'],
    ['5 ', 'not a plain decimal'],
    ['+5', 'not a plain decimal'],
    ['', 'empty string'],
    ['.5', 'not a plain decimal'],
    ['5.', 'not a plain decimal'],
    ['007', 'not a plain decimal'],
    ['1,5', 'not a plain decimal'],
    ['NaN', 'not a plain decimal'],
    ['Infinity', 'not a plain decimal'],
    ['-1', 'must not be negative'],
    ['0.0000000000000000001', 'fractional digits'],
  ])('rejects %j (%s)', (text, why) => {
    expect(bad(text)).toContain(why);
  });

  it('rejects more fractional digits than the field allows', () => {
    expect(bad('1.0000001', six)).toContain('7 fractional digits, at most 6');
  });

  it('rejects numbers above the sane bound and overlong strings', () => {
    expect(ok('1000000000000000000000000')).toBe(MAX_MAGNITUDE);
    expect(bad('1000000000000000000000000.000001')).toContain('above the allowed maximum');
    expect(bad('9'.repeat(65))).toContain('longer than');
  });

  it('formats canonically and round-trips every value', () => {
    expect(formatDecimal(1250_500000000000000000n)).toBe('1250.5');
    expect(formatDecimal(-1n)).toBe('-0.000000000000000001');
    expect(formatDecimal(0n)).toBe('0');
    fc.assert(fc.property(fc.bigInt({ min: -MAX_MAGNITUDE, max: MAX_MAGNITUDE }), (v) => {
      expect(ok(formatDecimal(v), { ...defaultDecimalFormat, signed: true })).toBe(v);
    }), propertyParameters('decimal round trip'));
  });

  it('knows whether a value fits a number of decimal places', () => {
    expect(fitsDecimals(units('1.25'), 2)).toBe(true);
    expect(fitsDecimals(units('1.255'), 2)).toBe(false);
    expect(fitsDecimals(units('7'), 0)).toBe(true);
  });
});
