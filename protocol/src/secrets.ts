import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time. `===` stops at the first
 * differing character, so response times leak how much of a guess is right; `timingSafeEqual` does
 * not, but needs equal lengths — comparing fixed-size SHA-256 digests gives that without revealing
 * the expected length either. Used for every shared secret the hub and the agent check (agent and
 * sensor credentials, the hub's broker secret, the metrics token).
 */
export function safeEqual(presented: string | Uint8Array, expected: string | Uint8Array): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
