/**
 * The one check of a merge implementation against SUMMARY_MERGE_CASES (hub TS, hub SQL, agent
 * downsample, agent SQLite accumulator): counts exactly, means to `digits` (the agent's outbox rounds
 * them to 0.001), NULLs as NULLs, an absent or 0 `flagged` as false.
 */
import type { SummaryStats } from '@cityflow/protocol';
import { expect } from 'vitest';

type Got = { [K in keyof SummaryStats]?: SummaryStats[K] | number };

export function expectMerged(got: Got, want: SummaryStats, digits = 9): void {
  for (const k of Object.keys(want) as Array<keyof SummaryStats>) {
    const w = want[k];
    const g = k === 'flagged' ? got.flagged === true || got.flagged === 1 : got[k];
    if (typeof w === 'number' && typeof g === 'number') {
      if (k === 'count' || k === 'null_speed_count') expect(g, k).toBe(w);
      else expect(g, k).toBeCloseTo(w, digits);
    } else expect(g ?? null, k).toEqual(w ?? (k === 'flagged' ? false : null));
  }
}
