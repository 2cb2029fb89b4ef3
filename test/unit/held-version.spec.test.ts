import { describe, expect, it } from 'vitest';
import { HeldVersion } from '../../domain/held-version.js';

describe('a held version', () => {
  it('is nothing until set', () => {
    expect(new HeldVersion<object>().get()).toBeUndefined();
  });

  it('gives the newest value set, within the job and after it (while the value lives)', async () => {
    // given
    const held = new HeldVersion<{ readonly n: number }>();
    const first = { n: 1 };
    const second = { n: 2 };
    // when
    held.set(first);
    held.set(second);
    // then
    expect(held.get()).toBe(second);
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.get()).toBe(second);
    held.set(first);
    expect(held.get()).toBe(first);
  });
});
