import {
  createEdgeForecaster,
  createEwmaLrV2Forecaster,
  createHistoricalAverageForecaster,
  createNetworkForecaster,
  createPersistenceForecaster,
  type SeriesForecaster,
} from '@cityflow/forecast';
import { describe, expect, it } from 'vitest';

const STEP = 5 * 60_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const daily = (i: number) => 50 + 20 * Math.sin((2 * Math.PI * i) / 288);

/** Deterministic noise so tests never flake. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function feed(f: SeriesForecaster, id: string, values: Array<number | null>, from = 0) {
  for (let i = 0; i < values.length; i++) f.observe(id, T0 + (from + i) * STEP, values[i]!);
}

describe('cityflow-edge on a pure daily pattern', () => {
  it('learns the shape within a week and beats persistence threefold', () => {
    const edge = createEdgeForecaster();
    const pers = createPersistenceForecaster();
    // a week: the prior (weights start at persistence) deliberately makes learning cautious
    const n = 288 * 8;
    for (let i = 0; i < n; i++) for (const f of [edge, pers]) f.observe('r', T0 + i * STEP, daily(i));
    const now = T0 + (n - 1) * STEP;
    const e = edge.forecast('r', now, [15, 30, 60]);
    const p = pers.forecast('r', now, [15, 30, 60]);
    expect(e.map((x) => x.horizon_min)).toEqual([15, 30, 60]);
    [3, 6, 12].forEach((h, i) => {
      const truth = daily(n - 1 + h);
      expect(Math.abs(e[i]!.speed_kmh - truth)).toBeLessThan(0.5);
      expect(Math.abs(e[i]!.speed_kmh - truth)).toBeLessThan(Math.abs(p[i]!.speed_kmh - truth) / 3);
      // a noiseless pattern learned well: a tight interval around the forecast, high confidence
      expect(e[i]!.speed_lo_kmh).toBeLessThanOrEqual(e[i]!.speed_kmh);
      expect(e[i]!.speed_hi_kmh).toBeGreaterThanOrEqual(e[i]!.speed_kmh);
      expect(e[i]!.speed_hi_kmh - e[i]!.speed_lo_kmh).toBeLessThan(3);
      expect(e[i]!.confidence).toBeGreaterThan(0.9);
    });
  });
});

describe('historical-average', () => {
  it('forecasts the mean of past values at the target time of day', () => {
    const ha = createHistoricalAverageForecaster();
    // day 0: 40 everywhere, day 1: 60 everywhere, then a partial day 2 at 10
    feed(ha, 'r', [...Array(288).fill(40), ...Array(288).fill(60), ...Array(10).fill(10)]);
    const now = T0 + (288 * 2 + 9) * STEP;
    const [f] = ha.forecast('r', now, [30]);
    expect(f!.speed_kmh).toBeCloseTo(50, 6);
  });
});

describe('ewma-lr-v2 (the seed, on speed)', () => {
  it('blends 0.7 of the 30-min least-squares line extrapolated with 0.3 of the last bucket', () => {
    const ewma = createEwmaLrV2Forecaster();
    // noon (no rush-hour factor), speeds falling 1 per 5 min: 60, 59, ... 54 (last bucket at 12:00)
    const start = (12 * 60) / 5 - 6;
    feed(ewma, 'r', [60, 59, 58, 57, 56, 55, 54], start);
    const now = T0 + (start + 6) * STEP;
    const [f15, f30] = ewma.forecast('r', now, [15, 30]);
    // the line through the last 6 buckets is exact: speed(t+h) = 54 − h/5; blend with last = 54
    expect(f15!.speed_kmh).toBeCloseTo(0.7 * (54 - 3) + 0.3 * 54, 6);
    expect(f30!.speed_kmh).toBeCloseTo(0.7 * (54 - 6) + 0.3 * 54, 6);
  });

  it('applies the inverted rush-hour factor (÷1.15 at 08:00)', () => {
    const ewma = createEwmaLrV2Forecaster();
    const start = (8 * 60) / 5 - 6;
    feed(ewma, 'r', Array(7).fill(50), start);
    const [f] = ewma.forecast('r', T0 + (start + 6) * STEP, [30]);
    expect(f!.speed_kmh).toBeCloseTo(50 / 1.15, 6);
  });
});

describe('step change', () => {
  it('edge forecasts follow a lasting level shift within a few hours', () => {
    const edge = createEdgeForecaster();
    const noise = rng(1);
    const before = 288 * 2;
    const values = Array.from({ length: before + 48 }, (_, i) => (i < before ? 60 : 30) + noise());
    feed(edge, 'r', values);
    const [f] = edge.forecast('r', T0 + (values.length - 1) * STEP, [30]);
    // 4 h after the drop the forecast is near the new level, not the old one
    expect(Math.abs(f!.speed_kmh - 30)).toBeLessThan(5);
  });
});

describe('gaps, nulls and cold start', () => {
  it('returns [] for an unknown series, and a cold-start forecast before enough history', () => {
    const edge = createEdgeForecaster();
    expect(edge.forecast('nope', T0, [30])).toEqual([]);
    feed(edge, 'r', [50, 51]);
    const [f] = edge.forecast('r', T0 + STEP, [30]);
    expect(f!.cold_start).toBe(true);
    expect(f!.speed_kmh).toBeCloseTo(51, 9);
  });

  it('a cold road falls back to about its last value, with a finite interval', () => {
    const edge = createEdgeForecaster();
    feed(edge, 'r', [50, 52, 48, 51, 49]);
    const fs = edge.forecast('r', T0 + 4 * STEP, [15, 30, 60]);
    expect(fs).toHaveLength(3);
    for (const f of fs) {
      expect(Math.abs(f.speed_kmh - 49)).toBeLessThan(5);
      expect(Number.isFinite(f.speed_lo_kmh) && Number.isFinite(f.speed_hi_kmh)).toBe(true);
      expect(f.speed_hi_kmh).toBeGreaterThan(f.speed_lo_kmh);
      expect(f.confidence).toBeLessThan(0.5); // nothing scored yet
    }
  });

  it('ignores null speeds and survives gaps without NaN', () => {
    for (const make of [createEdgeForecaster, createPersistenceForecaster, createEwmaLrV2Forecaster]) {
      const f = make();
      const values: Array<number | null> = [];
      for (let i = 0; i < 288 * 2; i++) values.push(i % 7 === 3 ? null : daily(i));
      feed(f, 'r', values);
      // a 3-hour hole, then data again
      feed(f, 'r', [daily(288 * 2 + 36), null, daily(288 * 2 + 38)], 288 * 2 + 36);
      const now = T0 + (288 * 2 + 38) * STEP;
      const out = f.forecast('r', now, [15, 30, 60]);
      expect(out).toHaveLength(3);
      for (const p of out) {
        for (const v of [p.speed_kmh, p.speed_lo_kmh, p.speed_hi_kmh, p.confidence])
          expect(Number.isFinite(v)).toBe(true);
        expect(Math.abs(p.speed_kmh - daily(288 * 2 + 38 + p.horizon_min / 5))).toBeLessThan(15);
      }
    }
  });

  it('averages observations within a bucket (1-min readings into 5-min buckets)', () => {
    const p = createPersistenceForecaster();
    for (let m = 0; m < 5; m++) p.observe('r', T0 + m * 60_000, 40 + m); // mean 42
    const [f] = p.forecast('r', T0 + 4 * 60_000, [15]);
    expect(f!.speed_kmh).toBeCloseTo(42, 9);
  });

  it('forecasts any horizon and ages a stale base towards later horizons', () => {
    const edge = createEdgeForecaster();
    feed(
      edge,
      'r',
      Array.from({ length: 288 * 3 }, (_, i) => daily(i)),
    );
    const last = T0 + (288 * 3 - 1) * STEP;
    const out = edge.forecast('r', last, [5, 20, 45, 90]);
    expect(out.map((f) => f.horizon_min)).toEqual([5, 20, 45, 90]);
    const [stale] = edge.forecast('r', last + 15 * 60_000, [15]);
    const [direct] = edge.forecast('r', last, [30]);
    expect(stale!.speed_kmh).toBeCloseTo(direct!.speed_kmh, 6);
  });

  it('prune forgets series not observed since a time (bounded memory)', () => {
    const edge = createEdgeForecaster();
    feed(edge, 'old', [1, 2, 3, 4]);
    feed(edge, 'new', [1, 2, 3, 4], 100);
    edge.prune!(T0 + 50 * STEP);
    expect(edge.forecast('old', T0 + 103 * STEP, [15])).toEqual([]);
    expect(edge.forecast('new', T0 + 103 * STEP, [15])).toHaveLength(1);
  });
});

describe('cityflow-network', () => {
  it('uses a neighbour that leads the road by 30 min, which the edge model cannot see', () => {
    const noise = rng(7);
    const n = 288 * 3;
    // A: a noisy mean-reverting walk; B: A 6 steps (30 min) later, plus small noise
    const a: number[] = [50];
    for (let i = 1; i < n + 6; i++) a.push(a[i - 1]! + 0.1 * (50 - a[i - 1]!) + 6 * noise());
    const bs = Array.from({ length: n }, (_, i) => (i < 6 ? 50 : a[i - 6]! + 0.2 * noise()));
    const roads = 20; // the shared fit learns from several roads with the same relation
    const nb = new Map<string, Array<{ id: string; weight: number }>>();
    for (let r = 0; r < roads; r++) nb.set(`B${r}`, [{ id: `A${r}`, weight: 1 }]);
    const net = createNetworkForecaster(nb);
    const edge = createEdgeForecaster();
    let errNet = 0;
    let errEdge = 0;
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < roads; r++) {
        const ts = T0 + i * STEP;
        net.observe(`A${r}`, ts, a[(i + 97 * r) % n]!);
        net.observe(`B${r}`, ts, bs[(i + 97 * r) % n]!);
        edge.observe(`B${r}`, ts, bs[(i + 97 * r) % n]!);
      }
      if (i > 288 * 2 && i + 6 < n) {
        const ts = T0 + i * STEP;
        for (let r = 0; r < roads; r++) {
          const truth = bs[(i + 6 + 97 * r) % n]!;
          errNet += Math.abs(net.forecast(`B${r}`, ts, [30])[0]!.speed_kmh - truth);
          errEdge += Math.abs(edge.forecast(`B${r}`, ts, [30])[0]!.speed_kmh - truth);
        }
      }
    }
    expect(errNet).toBeLessThan(0.6 * errEdge);
  });

  it('forecasts a road without neighbours from its own history', () => {
    const net = createNetworkForecaster(new Map());
    const pers = createPersistenceForecaster();
    const n = 288 * 8;
    for (const f of [net, pers])
      feed(
        f,
        'solo',
        Array.from({ length: n }, (_, i) => daily(i)),
      );
    const out = net.forecast('solo', T0 + (n - 1) * STEP, [15, 30, 60]);
    const base = pers.forecast('solo', T0 + (n - 1) * STEP, [15, 30, 60]);
    expect(out).toHaveLength(3);
    out.forEach((f, i) => {
      const truth = daily(n - 1 + f.horizon_min / 5);
      expect(Math.abs(f.speed_kmh - truth)).toBeLessThan(Math.abs(base[i]!.speed_kmh - truth) / 2);
    });
  });
});
