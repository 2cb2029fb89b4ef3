// Given/when/then specifications of the ADL survival rule's float pre-check. survivesAdl passes a
// position from floats when equity + size * E_q / |q|, less a relative 1e-12 of the magnitudes and
// 4 units, is still >= 0; otherwise the exact rule decides. Each case below is one the exact rule
// refuses but the pre-check would pass if any of its margins were loosened (the 4 units, the
// relative term's sign, size or sum of magnitudes, the sign of the shift, the `&&`), with the
// neighbouring equity one unit higher, which the exact rule accepts. Hand-computed, ledger units.

import { describe, expect, it } from 'vitest';
import { survivesAdl } from '../../domain/liquidation.js';
import { ONE, type RankedPosition } from '../../domain/index.js';

const position = (size: bigint, equity: bigint) => ({ size, equity } as unknown as RankedPosition);

describe('the ADL survival rule near its boundary, where the floats must leave it to the exact rule', () => {
  it('a unit short of the rounding: 1 unit at a mark of 0.9 units, E_q = 1 over q = 20, survives from an equity of 1, not 0', () => {
    // Given: the value at the mark floors to 0 (1 * 0.9); the fill rounds up against the
    // counterparty, ceil(0.9 - 1/20) = ceil(0.85) = 1; the change is 0 - 1 = -1. The shift in
    // floats is 1 * 1/20 = 0.05, so the pre-check sees 0.05 - 4 (and 1.05 - 4) and leaves both to
    // the exact rule: equity 0 ends at -1, equity 1 at 0.
    const rule = survivesAdl(9n * 10n ** 17n, 20n, 1n);
    // Then: without the 4 units (or with the shift divided, or the per-unit share multiplied, by
    // q) the floats would pass equity 0.
    expect(rule(position(1n, 0n))).toBe(false);
    expect(rule(position(1n, 1n))).toBe(true);
    // The same for a bankrupt short (q < 0): the counterparty is short and buys back at
    // floor(0.9 + 1/20) = 0, worth floor(0.9) = 0 at the mark: a change of 0, and the float shift
    // 0.05 again. Equity -1 ends at -1, equity 0 at 0.
    const short = survivesAdl(9n * 10n ** 17n, -20n, 1n);
    expect(short(position(-1n, -1n))).toBe(false);
    expect(short(position(-1n, 0n))).toBe(true);
  });

  it('a negative equity share: 1 unit at a mark of 1 unit, E_q = -10 over q = 1, needs an equity of 10', () => {
    // Given: the fill is ceil(1 - (-10)) = 11 for what is worth 1 at the mark: a change of -10.
    // The float shift is -10: equity 9 shows -1 - 4 (refused by the exact rule: 9 - 10 = -1);
    // with the shift's sign flipped it would show 19 - 4 and pass.
    const rule = survivesAdl(ONE, 1n, -10n);
    expect(rule(position(1n, 9n))).toBe(false);
    expect(rule(position(1n, 10n))).toBe(true);
    // A large equity far past the boundary passes (from the floats): 10^6 - 10.
    expect(rule(position(1n, 10n ** 6n))).toBe(true);
  });

  it('magnitudes near 2^59 where the floats round 128 units the wrong way: the relative term refuses them', () => {
    // Given: size 2^58 + 40 at a mark of 1 unit, E_q = 3 over q = 1: the fill is 2^58 + 40 - 3 *
    // (2^58 + 40) exactly, the change 3 * (2^58 + 40) = 3 * 2^58 + 120. In floats the size rounds
    // up to 2^58 + 64 (doubles are 64 apart there) and 3 times it, 3 * 2^58 + 192, to 3 * 2^58 +
    // 256 (128 apart, a tie to even); an equity of -(3 * 2^58 + 121) rounds to -(3 * 2^58 + 128).
    // The floats see a sum of 128 where the exact sum is -1.
    const rule = survivesAdl(ONE, 1n, 3n);
    const size = 2n ** 58n + 40n;
    const change = 3n * 2n ** 58n + 120n;
    // Then: the relative term, 1e-12 * (2 * 3 * 2^58 + 128) = about 1.73e6, keeps the floats from
    // passing it; dropped (or its sign flipped, or the magnitudes subtracted, or divided into
    // 1e-12) the floats would see 128 - 4 >= 0 and pass an account that ends at -1.
    expect(rule(position(size, -change - 1n))).toBe(false);
    expect(rule(position(size, -change))).toBe(true);
  });
});
