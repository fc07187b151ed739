import { describe, expect, it } from 'vitest';
import type { RoadInput } from '../src/routing/road-conditions.js';
import { RoadSmoother, SMOOTHING_ALPHA } from '../src/routing/road-smoother.js';

const input = (over: Partial<RoadInput>): Map<string, RoadInput> =>
  new Map([['R', { speedKmh: 40, flowVph: 400, occupancy: 0.1, ageS: 5, forecasts: [], ...over }]]);

describe('road smoother', () => {
  it('blends speeds as paces and flows as they are, so a minute caught in a red phase does not swing the road', () => {
    const s = new RoadSmoother();
    s.smooth(input({ speedKmh: 40, flowVph: 400 }));
    const r = s.smooth(input({ speedKmh: 10, flowVph: 200 })).get('R')!;
    // pace: 0.5 / 10 + 0.5 / 40 h per km -> 16 km/h (the plain mean, 25, would understate the time)
    expect(SMOOTHING_ALPHA).toBe(0.5);
    expect(r.speedKmh).toBeCloseTo(16, 6);
    expect(r.flowVph).toBeCloseTo(300, 6);
  });

  it('passes a minute in which nothing passed as it is, and keeps the last speed of a quiet lane', () => {
    const s = new RoadSmoother();
    s.smooth(input({ lanes: [{ laneIndex: 1, speedKmh: 30, flowVph: 300, occupancy: 0.1 }] }));
    const zero = s.smooth(input({ speedKmh: null, flowVph: 0, occupancy: 0.5 })).get('R')!;
    expect(zero).toMatchObject({ speedKmh: null, flowVph: 0, occupancy: 0.5 });
    const s2 = new RoadSmoother();
    s2.smooth(input({ lanes: [{ laneIndex: 1, speedKmh: 30, flowVph: 300, occupancy: 0.1 }] }));
    const lane = s2
      .smooth(input({ lanes: [{ laneIndex: 1, speedKmh: null, flowVph: 0, occupancy: 0.3 }] }))
      .get('R')!.lanes![0]!;
    expect(lane).toEqual({ laneIndex: 1, speedKmh: 30, flowVph: 150, occupancy: 0.2 });
  });

  it('blends nothing stale: a road back after a gap starts from its new minute', () => {
    const s = new RoadSmoother();
    s.smooth(input({ speedKmh: 40 }));
    s.smooth(input({ speedKmh: 40, ageS: 600 }));
    expect(s.smooth(input({ speedKmh: 10 })).get('R')!.speedKmh).toBe(10);
  });
});
