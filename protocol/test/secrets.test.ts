import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

// Spy on the real timingSafeEqual: the comparison must go through it, on equal-length digests.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const { safeEqual } = await import('../src/secrets.js');

describe('safeEqual (constant-time secret comparison)', () => {
  it('is true only for the identical secret: a prefix, an extension or one changed character fails', () => {
    const secret = 'metrics-token-0123456789';
    expect(safeEqual(secret, secret)).toBe(true);
    expect(safeEqual(Buffer.from(secret), secret)).toBe(true);
    for (const wrong of ['', 'metrics-token-012345678', `${secret}0`, 'Metrics-token-0123456789', 'x'])
      expect(safeEqual(wrong, secret), wrong).toBe(false);
  });

  it('compares through crypto.timingSafeEqual on fixed-size digests, whatever the lengths', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    safeEqual('short', 'a much longer expected secret');
    safeEqual('same', 'same');
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
