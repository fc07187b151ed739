import { CityFlowError, congestionScore, isCongested, percentile85 } from '@cityflow/protocol';
import type { Neighbours, SeriesForecaster } from '../types.js';
import type { Dataset } from './csv.js';
import { learnAdjacency } from './learned-adjacency.js';
import { CongestionStats, ErrorStats } from './metrics.js';
import { MODEL_NAMES, buildModels } from './models.js';

export const NOMINAL_COVERAGE = 0.8;

/** The JSON document of `eval:forecast --json` (the shape, nothing more). */
export interface EvalResult {
  models: Record<string, Record<string, { mae: number; rmse: number; mape: number }>>;
  sensors: number;
  points: number;
  congestion: Record<string, { precision: number | null; recall: number | null }>;
  coverage: Record<string, { nominal: number; observed: number }>;
}

/** What the human-readable report adds. */
export interface EvalDetail {
  stepMin: number;
  trainSteps: number;
  testSteps: number;
  congestionHorizonMin: number;
  coverageByHorizon: Record<string, Record<string, number>>;
  neighbours: 'given' | 'learned';
  missingForecasts: Record<string, number>;
}

export interface EvalOptions {
  trainDays: number;
  horizonsMin: number[];
  /** Neighbours for the network model; learned from the training part when absent. */
  neighbours?: Neighbours;
  /** Models to run instead of the standard five (tests use this to plant spies). */
  models?: Array<{ name: string; model: SeriesForecaster }>;
}

/**
 * Walk-forward evaluation. Time steps are replayed in order; at step t every model observes the
 * values at t (and nothing later), then — in the test part — forecasts from t. The targets at
 * t + h are read only to score. A forecast is scored when every horizon's target exists, so every
 * model and horizon is scored on the same points. A model that returns nothing for a point is
 * scored as persistence (and counted in `missingForecasts`).
 */
export function evaluate(ds: Dataset, opts: EvalOptions): { result: EvalResult; detail: EvalDetail } {
  const stepMin = ds.stepMs / 60_000;
  const T = ds.tsMs.length;
  const hSteps = opts.horizonsMin.map((m) => {
    const h = (m * 60_000) / ds.stepMs;
    if (!Number.isInteger(h) || h < 1)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `horizon ${m} min is not a multiple of the data step (${stepMin} min)`,
      );
    return h;
  });
  const maxH = Math.max(...hSteps);
  const trainEnd = Math.ceil((opts.trainDays * 86_400_000) / ds.stepMs - 1e-9);
  if (!(trainEnd > 0 && trainEnd + maxH < T)) {
    const days = ((T * ds.stepMs) / 86_400_000).toFixed(3);
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `--train-days ${opts.trainDays} leaves no test forecast: the data spans ${days} days and the longest horizon is ${Math.max(...opts.horizonsMin)} min`,
    );
  }
  const neighbours = opts.neighbours ?? learnAdjacency(ds.ids, ds.values, trainEnd);
  const models =
    opts.models ?? buildModels(MODEL_NAMES, { stepMin, horizonsMin: opts.horizonsMin }, neighbours);
  const congestionH = opts.horizonsMin.includes(30) ? 30 : opts.horizonsMin[0]!;
  const freeFlow = ds.values.map((v) => percentile85(v.subarray(0, trainEnd)));
  const stats = models.map(() => hSteps.map(() => new ErrorStats()));
  const cong = models.map(() => new CongestionStats());
  const missing = models.map(() => 0);
  const lastSeen = new Float64Array(ds.ids.length).fill(Number.NaN);
  const sensors = ds.values.filter((v) => v.some((x) => !Number.isNaN(x))).length;
  let points = 0;

  for (let t = 0; t < T; t++) {
    const ts = ds.tsMs[t]!;
    for (let s = 0; s < ds.ids.length; s++) {
      const v = ds.values[s]![t]!;
      const speed = Number.isNaN(v) ? null : v;
      if (speed !== null) lastSeen[s] = speed;
      for (const m of models) m.model.observe(ds.ids[s]!, ts, speed);
    }
    if (t < trainEnd || t + maxH >= T) continue;
    for (let s = 0; s < ds.ids.length; s++) {
      const series = ds.values[s]!;
      if (hSteps.some((h) => Number.isNaN(series[t + h]!)) || Number.isNaN(lastSeen[s]!)) continue;
      points++;
      const ff = freeFlow[s];
      models.forEach((m, mi) => {
        const fc = m.model.forecast(ds.ids[s]!, ts, opts.horizonsMin);
        opts.horizonsMin.forEach((hm, hi) => {
          const f = fc.find((p) => p.horizon_min === hm);
          if (!f) missing[mi]!++;
          const pred = f ? f.speed_kmh : lastSeen[s]!;
          const actual = series[t + hSteps[hi]!]!;
          stats[mi]![hi]!.add(pred, actual, f ? f.speed_lo_kmh : pred, f ? f.speed_hi_kmh : pred);
          if (hm === congestionH && ff) {
            const c = (x: number) => isCongested(congestionScore({ speedKmh: x, freeFlowKmh: ff }));
            cong[mi]!.add(c(pred), c(actual));
          }
        });
      });
    }
  }

  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const result: EvalResult = { models: {}, sensors, points, congestion: {}, coverage: {} };
  const detail: EvalDetail = {
    stepMin,
    trainSteps: trainEnd,
    testSteps: T - trainEnd,
    congestionHorizonMin: congestionH,
    coverageByHorizon: {},
    neighbours: opts.neighbours ? 'given' : 'learned',
    missingForecasts: {},
  };
  models.forEach((m, mi) => {
    const per: EvalResult['models'][string] = {};
    const covH: Record<string, number> = {};
    let covered = 0;
    let n = 0;
    opts.horizonsMin.forEach((hm, hi) => {
      const st = stats[mi]![hi]!;
      per[String(hm)] = st.result();
      covH[String(hm)] = r4(st.n ? st.covered / st.n : 0);
      covered += st.covered;
      n += st.n;
    });
    result.models[m.name] = per;
    result.congestion[m.name] = cong[mi]!.result();
    result.coverage[m.name] = { nominal: NOMINAL_COVERAGE, observed: r4(n ? covered / n : 0) };
    detail.coverageByHorizon[m.name] = covH;
    detail.missingForecasts[m.name] = missing[mi]!;
  });
  return { result, detail };
}
