import { describe, expect, it } from 'vitest';
import {
  CONGESTED_THRESHOLD,
  baselineV1Score,
  congestionScore,
  freeFlowSpeed,
  isCongested,
  percentile85,
  speedForScore,
} from '@cityflow/protocol';

describe('congestion score', () => {
  const ff = 50;
  it('is 0 at or above 90 % of free flow and 1 at or below 10 %', () => {
    expect(congestionScore({ speedKmh: 45, freeFlowKmh: ff })).toBe(0);
    expect(congestionScore({ speedKmh: 70, freeFlowKmh: ff })).toBe(0);
    expect(congestionScore({ speedKmh: 5, freeFlowKmh: ff })).toBe(1);
    expect(congestionScore({ speedKmh: 0, freeFlowKmh: ff })).toBe(1);
  });

  it('crosses the congested threshold at half the free-flow speed', () => {
    expect(congestionScore({ speedKmh: 25, freeFlowKmh: ff })).toBeCloseTo(CONGESTED_THRESHOLD, 10);
    expect(isCongested(congestionScore({ speedKmh: 24.9, freeFlowKmh: ff }))).toBe(true);
    expect(isCongested(congestionScore({ speedKmh: 25.1, freeFlowKmh: ff }))).toBe(false);
    expect(speedForScore(0.5, ff)).toBeCloseTo(25, 10);
  });

  it('is monotonic: slower never scores lower', () => {
    let prev = -1;
    for (let v = 60; v >= 0; v -= 0.5) {
      const s = congestionScore({ speedKmh: v, freeFlowKmh: ff })!;
      expect(s).toBeGreaterThanOrEqual(prev);
      prev = s;
    }
  });

  it('lets high occupancy raise the score but never lowers a speed-based score', () => {
    const speedOnly = congestionScore({ speedKmh: 30, freeFlowKmh: ff })!;
    expect(congestionScore({ speedKmh: 30, occupancy: 0.05, freeFlowKmh: ff })).toBe(speedOnly);
    expect(congestionScore({ speedKmh: 45, occupancy: 0.4, freeFlowKmh: ff })).toBeCloseTo(0.5, 10);
    expect(congestionScore({ speedKmh: 45, occupancy: 0.9, freeFlowKmh: ff })).toBe(1);
  });

  it('reads a null speed through occupancy: standing queue vs empty road', () => {
    expect(congestionScore({ speedKmh: null, occupancy: 0.6, freeFlowKmh: ff })).toBe(1);
    expect(congestionScore({ speedKmh: null, occupancy: 0.0, freeFlowKmh: ff })).toBe(0);
    expect(congestionScore({ speedKmh: null, occupancy: null, freeFlowKmh: ff })).toBeNull();
    expect(congestionScore({ speedKmh: Number.NaN, freeFlowKmh: ff })).toBeNull();
  });

  it('stays in [0,1] for absurd inputs and a zero free-flow speed', () => {
    for (const [v, f] of [
      [1e9, 50],
      [-10, 50],
      [20, 0],
    ] as const) {
      const s = congestionScore({ speedKmh: v, freeFlowKmh: f })!;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it('takes free flow from the limit, else the 85th percentile', () => {
    expect(freeFlowSpeed(50, 70)).toBe(50);
    expect(freeFlowSpeed(undefined, 62)).toBe(62);
    expect(freeFlowSpeed(null, null)).toBeNull();
    expect(percentile85([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toBe(90);
    expect(percentile85([Number.NaN, 5])).toBe(5);
    expect(percentile85([])).toBeNull();
  });

  it('keeps the seed heuristic as baseline-v1 (40/40/20, clamped)', () => {
    expect(baselineV1Score(45, 0.5, 60)).toBeCloseTo(0.4 * 0.5 + 0.4 * 0.5 + 0.2 * 0.5, 10);
    expect(baselineV1Score(null, 1, 240)).toBe(1);
    expect(baselineV1Score(120, 0, 0)).toBe(0);
  });
});
