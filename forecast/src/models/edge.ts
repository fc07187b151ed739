import { BucketForecaster, type Series } from '../core/bucket-forecaster.js';
import type { HorizonTrack } from '../core/horizon-track.js';
import type { ForecasterOptions, SeriesForecaster } from '../types.js';

/**
 * Knobs of the fit; the defaults are the configuration evaluated in forecast/README.md (the knobs exist
 * so the alternatives measured there can be rerun).
 */
export interface EdgeTuning {
  /** RLS forgetting per bucket (0.9995: a half-life of ~5 days at 5-min buckets). */
  lambda?: number;
  /** Separate weekday and weekend profiles (default true). */
  weekTypes?: boolean;
  /** Online IRLS towards least absolute deviations (see BucketForecaster.robustK); default off (measured worse). */
  robustK?: number;
  /**
   * RLS prior variance of each weight around 0 (= persistence). Small = strong shrinkage while a road
   * has little history: 0.005 measured as good as 0.05 on a week of METR-LA and far better on 3 h of SUMO.
   */
  delta?: number;
  /** Profile smoothing half-width, in buckets. */
  smoothHalf?: number;
  /** Network model: time constant of the shared fit's forgetting, in minutes (default a day). */
  pooledMemoryMin?: number;
  /** Network model: shared fit on all features + per-road correction (default true) vs per-road fit + shared neighbour correction. */
  hier?: boolean;
  /** Network model: prior variance of the shared fit's weights. */
  pooledDelta?: number;
}

/** Number of features of the edge regression (the network model appends its own after these). */
export const EDGE_FEATURES = 5;

/**
 * `cityflow-edge`: per road and per horizon h, a linear model of the change y[b+h] − y[b] fitted
 * online by recursive least squares on
 *   1, P(b+h) − P(b)  (the daily profile's expected change),
 *   y − P(b)          (today's anomaly: congestion clears towards the profile),
 *   y − y[b−1]        (short trend), y − mean(y[b−L..b−1]) (30-min trend, also smooths noise),
 * where P is the smoothed time-of-day profile learned online (the level where a time of day was never
 * seen). All weights start at 0, i.e. persistence, so a cold road degrades to the last value and the
 * fit takes over as evidence accumulates. Cost per bucket: 3 horizons × (5² + 5) multiply-adds.
 */
export class EdgeForecaster extends BucketForecaster {
  readonly modelVersion: string = 'cityflow-edge';

  constructor(opts?: ForecasterOptions, extraFeatures = 0, tuning: EdgeTuning = {}) {
    super(opts, EDGE_FEATURES + extraFeatures, tuning.lambda ?? 0.9995, tuning.delta ?? 5);
    this.weekTypes = tuning.weekTypes ?? true;
    this.robustK = tuning.robustK ?? Number.POSITIVE_INFINITY;
    this.smoothHalf = tuning.smoothHalf ?? 2;
  }

  private readonly smoothHalf: number;

  protected profileAt(s: Series, k: number, fallback: number): number {
    const p = s.profile.smooth(k, this.smoothHalf);
    if (!Number.isNaN(p)) return p;
    return Number.isNaN(s.level) ? fallback : s.level;
  }

  /** Writes the edge features into x[0..EDGE_FEATURES); returns the base value (NaN = none). */
  protected edgeFeatures(s: Series, b: number, h: number, x: Float64Array): number {
    const y = s.filled(b, 3);
    if (Number.isNaN(y)) return y;
    const y1 = s.filled(b - 1, 3);
    const m = s.mean(b - this.lagSteps, b - 1);
    const pb = this.profileAt(s, b, y);
    const ph = this.profileAt(s, b + h, y);
    const l = this.normOf(s, y);
    // A small constant: the prior then holds the drift term tight (a few days cannot tell a drift
    // from the week's pattern), while the other weights stay free.
    x[0] = 0.01;
    x[1] = (ph - pb) / l;
    x[2] = (y - pb) / l;
    x[3] = Number.isNaN(y1) ? 0 : (y - y1) / l;
    x[4] = Number.isNaN(m) ? 0 : (y - m) / l;
    return y;
  }

  protected predictAt(s: Series, _id: string, b: number, t: HorizonTrack, x: Float64Array): number {
    const y = this.edgeFeatures(s, b, t.h, x);
    if (Number.isNaN(y)) return y;
    return y + this.normOf(s, y) * t.rls!.predict(x);
  }
}

export function createEdgeForecaster(opts?: ForecasterOptions): SeriesForecaster {
  return new EdgeForecaster(opts);
}
