import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ForecastPoint, SeriesForecaster } from '@cityflow/forecast';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/eval/csv.js';
import { CongestionStats, ErrorStats } from '../src/eval/metrics.js';
import { evaluate } from '../src/eval/walk-forward.js';

const STEP = 5 * 60_000;
const T0 = Date.UTC(2026, 0, 5);

function dataset(values: number[][]): Dataset {
  const n = values[0]!.length;
  return {
    ids: values.map((_, i) => `s${i}`),
    tsMs: Float64Array.from({ length: n }, (_, k) => T0 + k * STEP),
    stepMs: STEP,
    values: values.map((v) => Float64Array.from(v)),
    layout: 'wide',
  };
}

/** Deterministic noise. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Forecasts the latest value it was given, and records what it was shown and when it was asked. */
class Spy implements SeriesForecaster {
  readonly modelVersion = 'spy';
  latestTs = new Map<string, number>();
  latest = new Map<string, number>();
  violations = 0;
  calls = 0;
  observe(id: string, ts: number, v: number | null): void {
    this.latestTs.set(id, Math.max(ts, this.latestTs.get(id) ?? Number.NEGATIVE_INFINITY));
    if (v !== null) this.latest.set(id, v);
  }
  forecast(id: string, now: number, hs: number[]): ForecastPoint[] {
    this.calls++;
    if ((this.latestTs.get(id) ?? 0) > now) this.violations++;
    const v = this.latest.get(id)!;
    return hs.map((h) => ({
      horizon_min: h,
      speed_kmh: v,
      speed_lo_kmh: v - 1,
      speed_hi_kmh: v + 1,
      confidence: 1,
    }));
  }
}

describe('walk-forward evaluation', () => {
  it('never shows a model data later than the forecast time (a leak would make the spy perfect)', () => {
    const r = rng(3);
    // independent noise: nothing in the past predicts the future, so an honest error is large
    const ds = dataset([
      Array.from({ length: 600 }, () => 40 + 20 * r()),
      Array.from({ length: 600 }, () => 40 + 20 * r()),
    ]);
    const spy = new Spy();
    const { result } = evaluate(ds, {
      trainDays: 1,
      horizonsMin: [15, 30],
      models: [{ name: 'spy', model: spy }],
    });
    expect(spy.violations).toBe(0);
    expect(spy.calls).toBe(result.points);
    // train = 288 steps; test issues at t = 288 … 593 (t + 6 is the last row, 599): 306 per sensor
    expect(result.points).toBe(2 * 306);
    // uniform(40, 60) − uniform(40, 60): mean |difference| = 20/3
    expect(result.models['spy']!['30']!.mae).toBeGreaterThan(5.5);
  });

  it('scores the standard five models with the issue JSON shape', () => {
    const days = 3;
    const vals = [0, 1, 2].map((s) =>
      Array.from(
        { length: 288 * days },
        (_, i) =>
          50 + 15 * Math.sin((2 * Math.PI * (i + 10 * s)) / 288) - (i % 288 > 200 && i % 288 < 220 ? 30 : 0),
      ),
    );
    const { result } = evaluate(dataset(vals), { trainDays: 2, horizonsMin: [15, 30, 60] });
    const names = ['persistence', 'historical-average', 'ewma-lr-v2', 'cityflow-edge', 'cityflow-network'];
    expect(Object.keys(result).sort()).toEqual(['congestion', 'coverage', 'models', 'points', 'sensors']);
    expect(Object.keys(result.models)).toEqual(names);
    expect(result.sensors).toBe(3);
    expect(result.points).toBe(3 * (288 - 12));
    for (const n of names) {
      expect(Object.keys(result.models[n]!)).toEqual(['15', '30', '60']);
      for (const h of ['15', '30', '60']) {
        const m = result.models[n]![h]!;
        expect(Object.keys(m)).toEqual(['mae', 'rmse', 'mape']);
        expect(m.rmse).toBeGreaterThanOrEqual(m.mae);
      }
      expect(Object.keys(result.congestion[n]!)).toEqual(['precision', 'recall']);
      expect(result.coverage[n]!.nominal).toBe(0.8);
      expect(result.coverage[n]!.observed).toBeGreaterThanOrEqual(0);
      expect(result.coverage[n]!.observed).toBeLessThanOrEqual(1);
    }
    // the repeated daily dip is forecastable; the edge model must learn it better than persistence
    expect(result.models['cityflow-edge']!['60']!.mae).toBeLessThan(result.models['persistence']!['60']!.mae);
  });

  it('rejects a training span that leaves nothing to test, and horizons off the data step', () => {
    const ds = dataset([Array.from({ length: 100 }, () => 50)]);
    expect(() => evaluate(ds, { trainDays: 1, horizonsMin: [30] })).toThrow(/leaves no test forecast/);
    expect(() => evaluate(ds, { trainDays: 0.1, horizonsMin: [7] })).toThrow(/not a multiple/);
  });
});

describe('metrics', () => {
  it('MAE, RMSE, MAPE (percent) and interval coverage', () => {
    const s = new ErrorStats();
    s.add(12, 10, 11, 13); // error 2, 20 %, actual outside the interval
    s.add(8, 10, 7, 11); // error −2, 20 %, inside
    s.add(10, 0, 0, 10); // error 10, no MAPE (zero actual), inside
    expect(s.result()).toEqual({ mae: 4.6667, rmse: Math.round(Math.sqrt(108 / 3) * 1e4) / 1e4, mape: 20 });
    expect(s.covered).toBe(2);
  });

  it('congestion precision and recall', () => {
    const c = new CongestionStats();
    c.add(true, true);
    c.add(true, false);
    c.add(false, true);
    c.add(false, true);
    c.add(false, false);
    expect(c.result()).toEqual({ precision: 0.5, recall: 0.3333 });
  });

  it('reports undefined precision/recall (0/0) as null, not 0', () => {
    const c = new CongestionStats();
    c.add(false, false);
    expect(c.result()).toEqual({ precision: null, recall: null });
    c.add(false, true);
    expect(c.result()).toEqual({ precision: null, recall: 0 });
  });
});

describe('eval-forecast CLI', () => {
  const bin = fileURLToPath(new URL('../bin/eval-forecast.js', import.meta.url));
  const run = promisify(execFile);
  const dir = mkdtempSync(join(tmpdir(), 'cf-eval-'));
  const csv = join(dir, 'speeds.csv');
  const rows = ['ts,a,b'];
  for (let i = 0; i < 288 * 2; i++) {
    const ts = new Date(T0 + i * STEP).toISOString().replace('.000Z', '');
    rows.push(`${ts},${50 + 10 * Math.sin(i / 20)},${55 + 10 * Math.cos(i / 30)}`);
  }
  writeFileSync(csv, rows.join('\n'));

  it('--json prints exactly one JSON document on stdout', async () => {
    const { stdout } = await run(process.execPath, [
      bin,
      '--csv',
      csv,
      '--train-days',
      '1.5',
      '--horizons',
      '15,30',
      '--json',
    ]);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc.models)).toHaveLength(5);
    expect(Object.keys(doc.models.persistence)).toEqual(['15', '30']);
    expect(doc.sensors).toBe(2);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('fails with a clear message on bad flags', async () => {
    await expect(run(process.execPath, [bin, '--csv', csv, '--train-days', 'x'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/train-days/),
    });
    await expect(run(process.execPath, [bin, '--csv', join(dir, 'nope.csv')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/CF_INVALID_CONFIG: --csv .*ENOENT/),
    });
  });
});
