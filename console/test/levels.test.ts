import { describe, expect, it } from 'vitest';
// The console's modules are plain browser ESM; the pure ones run in Node as they are.
import { CONGESTED, STALE_MS, freshScore, level, newestTs } from '../public/js/levels.js';
import { CONGESTED_THRESHOLD } from '@cityflow/protocol';

describe('console colour levels', () => {
  it('uses the protocol congestion threshold', () => {
    expect(CONGESTED).toBe(CONGESTED_THRESHOLD);
    expect(level(CONGESTED_THRESHOLD)).toBe('jam');
    expect(level(CONGESTED_THRESHOLD - 0.001)).toBe('slow');
    expect(level(0.299)).toBe('free');
    expect(level(null)).toBe('none');
    expect(level(Number.NaN)).toBe('none');
  });

  it('greys out a road whose state is older than the newest by more than STALE_MS', () => {
    const at = (iso: string, score: number) => ({ ts: iso, congestion_score: score });
    const fresh = at('2026-03-02T08:10:00Z', 0.7);
    const old = at('2026-03-02T08:04:59Z', 0.2);
    const newest = newestTs([fresh, old, null]);
    expect(newest).toBe(Date.parse('2026-03-02T08:10:00Z'));
    expect(STALE_MS).toBe(300_000);
    expect(freshScore(fresh, newest)).toBe(0.7);
    expect(freshScore(old, newest)).toBeNull();
    expect(freshScore(at('2026-03-02T08:05:00Z', 0.2), newest)).toBe(0.2);
    expect(freshScore(null, newest)).toBeNull();
    expect(freshScore({ ts: '2026-03-02T08:10:00Z', congestion_score: null }, newest)).toBeNull();
  });
});
