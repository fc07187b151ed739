import {
  createEdgeForecaster,
  createNetworkForecaster,
  type ForecastPoint,
  type SeriesForecaster,
} from '@cityflow/forecast';
import { describe, expect, it } from 'vitest';

const MIN = 60_000;
const STEP = 5 * MIN;
const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const HORIZONS = [5, 15, 30, 60, 90];
const daily = (i: number) => 50 + 20 * Math.sin((2 * Math.PI * i) / 288);

/** Deterministic noise so tests never flake. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const models: Array<[string, () => SeriesForecaster]> = [
  ['cityflow-edge', () => createEdgeForecaster()],
  ['cityflow-network', () => createNetworkForecaster(new Map([['r', [{ id: 'n', weight: 1 }]]]))],
];

const width = (p: ForecastPoint) => (p.speed_hi_kmh - p.speed_lo_kmh) / p.speed_kmh;

describe.each(models)('%s cold start', (name, make) => {
  it('returns [] for a series with no observation, or with only null readings', () => {
    const f = make();
    expect(f.forecast('r', T0, HORIZONS)).toEqual([]);
    f.observe('r', T0, null);
    f.observe('r', T0 + 6 * MIN, null);
    expect(f.forecast('r', T0 + 6 * MIN, HORIZONS)).toEqual([]);
  });

  it('forecasts every horizon from a single reading: its value, a wider interval, a lower confidence', () => {
    const cold = make();
    cold.observe('r', T0 + 8 * 60 * MIN, 42);
    const out = cold.forecast('r', T0 + 8 * 60 * MIN, HORIZONS);
    expect(out.map((p) => p.horizon_min)).toEqual(HORIZONS);

    // the same road warmed up over three noisy days
    const warm = make();
    const noise = rng(3);
    const n = 288 * 3;
    for (let i = 0; i < n; i++) warm.observe('r', T0 + i * STEP, daily(i) + 2 * noise());
    const ref = warm.forecast('r', T0 + (n - 1) * STEP, HORIZONS);
    expect(ref).toHaveLength(HORIZONS.length);

    out.forEach((p, i) => {
      expect(cold.modelVersion).toBe(name); // the label stays the model's name
      expect(p.cold_start).toBe(true);
      expect(ref[i]!.cold_start).toBeUndefined();
      expect(p.speed_kmh).toBeCloseTo(42, 9); // persistence: no profile yet
      for (const v of [p.speed_kmh, p.speed_lo_kmh, p.speed_hi_kmh, p.confidence])
        expect(Number.isFinite(v)).toBe(true);
      expect(p.speed_lo_kmh).toBeLessThan(p.speed_kmh);
      expect(p.speed_hi_kmh).toBeGreaterThan(p.speed_kmh);
      expect(width(p)).toBeGreaterThanOrEqual(0.5); // ±30 % at least
      expect(width(p)).toBeGreaterThan(2 * width(ref[i]!));
      expect(p.confidence).toBeGreaterThan(0);
      expect(p.confidence).toBeLessThan(0.1);
      expect(p.confidence).toBeLessThan(ref[i]!.confidence / 5);
    });
    // the interval widens with the horizon
    for (let i = 1; i < out.length; i++) expect(width(out[i]!)).toBeGreaterThanOrEqual(width(out[i - 1]!));
  });

  it('uses the mean of the still-open bucket, grows confidence with history, then hands over to the model', () => {
    const f = make();
    const start = T0 + 8 * 60 * MIN;
    f.observe('r', start, 40);
    f.observe('r', start + MIN, 44);
    const [first] = f.forecast('r', start + MIN, [30]);
    expect(first!.speed_kmh).toBeCloseTo(42, 9);
    const conf = [first!.confidence];
    // one reading a minute: buckets close at +5, +10, +15 min
    for (let m = 2; m <= 15; m++) {
      f.observe('r', start + m * MIN, 42 + (m % 2));
      const [p] = f.forecast('r', start + m * MIN, [30]);
      if (m === 5 || m === 10) conf.push(p!.confidence);
      if (m < 15) expect(p!.cold_start).toBe(true);
      else {
        expect(p!.cold_start).toBeUndefined(); // 3 closed buckets: the model's own forecast
        expect(p!.confidence).toBeGreaterThan(conf[conf.length - 1]!);
      }
    }
    expect(conf[1]!).toBeGreaterThan(conf[0]!);
    expect(conf[2]!).toBeGreaterThan(conf[1]!);
  });

  it('ages a stale base: later issue time, wider interval', () => {
    const f = make();
    f.observe('r', T0, 50);
    const [now] = f.forecast('r', T0, [30]);
    const [later] = f.forecast('r', T0 + 30 * MIN, [30]);
    expect(later!.speed_kmh).toBeCloseTo(50, 9);
    expect(width(later!)).toBeGreaterThan(width(now!));
  });

  it('blends towards the time-of-day profile where that time was seen before', () => {
    const f = make();
    // Monday 08:15: 80 (one bucket); Tuesday 08:00: 40 (closes Monday's bucket: 1 closed, still cold)
    f.observe('r', T0 + (8 * 60 + 15) * MIN, 80);
    const tue = T0 + 1440 * MIN + 8 * 60 * MIN;
    f.observe('r', tue, 40);
    const [p15, p60] = f.forecast('r', tue, [15, 60]);
    expect(p15!.cold_start).toBe(true);
    // 15 min ahead is 08:15, seen on Monday: weight 0.5 × 15/60 on the profile
    expect(p15!.speed_kmh).toBeCloseTo(0.875 * 40 + 0.125 * 80, 6);
    // 09:00 was never seen: persistence
    expect(p60!.speed_kmh).toBeCloseTo(40, 9);
  });
});
