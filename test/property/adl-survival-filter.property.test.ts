// survivesAdl decides most positions from floats (a certain pass) before the exact figures: it
// must give exactly what the exact rule gives, near its boundary above all. The reference here is
// the exact rule itself: the counterparty keeps non-negative equity after closing its whole
// position at the bankruptcy price.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adlFillNotional, survivesAdl } from '../../domain/liquidation.js';
import { abs, notional, ONE, type RankedPosition } from '../../domain/index.js';
import { propertyParameters } from '../support/property.js';

const exactRule = (mark: bigint, q: bigint, equityShare: bigint, position: Pick<RankedPosition, 'size' | 'equity'>): boolean => {
  const size = abs(position.size);
  const fill = adlFillNotional(mark, q, equityShare, size);
  const atMark = notional(size, mark);
  return position.equity + (q > 0n ? atMark - fill : fill - atMark) >= 0n;
};

const ranked = (size: bigint, equity: bigint) => ({ size, equity } as unknown as RankedPosition);

describe('the ADL survival rule', () => {
  it('gives what the exact rule gives, on equities right at its boundary and far from it', () => {
    const case_ = fc.record({
      mark: fc.bigInt({ min: 1n, max: 10n ** 24n }),
      q: fc.bigInt({ min: 1n, max: 10n ** 24n }).chain((q) => fc.constantFrom(q, -q)),
      equityShare: fc.oneof(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.bigInt({ min: -1000n, max: 1000n })),
      size: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.bigInt({ min: 1n, max: 1000n })).chain((s) => fc.constantFrom(s, -s)),
      offset: fc.oneof(fc.bigInt({ min: -8n, max: 8n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n })),
    });
    fc.assert(fc.property(case_, ({ mark, q, equityShare, size, offset }) => {
      // The boundary: equity just enough to absorb closing at the bankruptcy price.
      const boundary = -((abs(size) * equityShare) / (q < 0n ? -q : q));
      const position = ranked(size, boundary + offset);
      expect(survivesAdl(mark, q, equityShare)(position)).toBe(exactRule(mark, q, equityShare, position));
    }), propertyParameters('survivesAdl equals the exact rule', 3_000));
  });

  it('is exact for figures beyond the float range', () => {
    const huge = 10n ** 320n;
    for (const [q, equityShare, size, equity] of [[ONE, -huge, ONE, huge], [-ONE, huge, -ONE, -huge], [huge, ONE, huge, 0n], [ONE, ONE, huge, -huge]] as const) {
      const position = ranked(size, equity);
      expect(survivesAdl(ONE, q, equityShare)(position)).toBe(exactRule(ONE, q, equityShare, position));
    }
  });
});
