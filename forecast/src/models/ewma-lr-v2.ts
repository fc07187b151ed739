import { BucketForecaster, type Series } from '../core/bucket-forecaster.js';
import type { HorizonTrack } from '../core/horizon-track.js';
import type { ForecasterOptions, SeriesForecaster } from '../types.js';

/**
 * The seed's `ewma-lr-v2`, reimplemented from DESIGN.md's summary and applied to speed:
 * - the last 30 min in step buckets (the seed used 5-min buckets: 6 points);
 * - a least-squares line through (bucket offset in minutes, mean speed), extrapolated to the target
 *   bucket (the seed extrapolated its score 30 min past the window; here each horizon h past it);
 * - blended 0.7·extrapolated + 0.3·last bucket;
 * - the rush-hour factor inverted for speed (a score ×1.15 is a speed ÷1.15): ÷1.15 at 07–09 h and
 *   17–19 h, ÷0.85 at 21–06 h, by the local hour of the issue time as the seed's cron did;
 * - clamped to [0, highest speed seen] (the seed clamped its score to [0, 1], 0 being free flow);
 * - confidence min(1, samples/50)·max(0.3, 1 − 10·|slope|), slope in "score per minute", i.e. the
 *   speed slope divided by the reference speed (the highest seen, the seed's 90 km/h).
 * Its prediction interval comes from the shared residual quantiles (the seed had none).
 */
export class EwmaLrV2Forecaster extends BucketForecaster {
  readonly modelVersion = 'ewma-lr-v2';
  private readonly window: number;
  private slope = 0;
  private samples = 0;

  constructor(opts?: ForecasterOptions) {
    super(opts, 0);
    this.minHistory = 0;
    this.window = Math.max(2, Math.round(30 / this.stepMin));
  }

  protected predictAt(s: Series, _id: string, b: number, t: HorizonTrack): number {
    const last = s.filled(b, 3);
    if (Number.isNaN(last)) return Number.NaN;
    let n = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    let samples = 0;
    for (let i = 0; i < this.window; i++) {
      const k = b - this.window + 1 + i;
      const v = s.value(k);
      if (Number.isNaN(v)) continue;
      const x = i * this.stepMin;
      n++;
      sx += x;
      sy += v;
      sxx += x * x;
      sxy += x * v;
      samples += s.count(k);
    }
    let extrapolated = last;
    let slope = 0;
    const den = n * sxx - sx * sx;
    if (n >= 2 && den > 0) {
      slope = (n * sxy - sx * sy) / den;
      const intercept = (sy - slope * sx) / n;
      extrapolated = intercept + slope * ((this.window - 1 + t.h) * this.stepMin);
    }
    this.slope = slope;
    this.samples = samples;
    let p = 0.7 * extrapolated + 0.3 * last;
    const minute = (((b * this.stepMin + this.tzOffsetMin) % 1440) + 1440) % 1440;
    const hour = Math.floor(minute / 60);
    if ((hour >= 7 && hour < 9) || (hour >= 17 && hour < 19)) p /= 1.15;
    else if (hour >= 21 || hour < 6) p /= 0.85;
    const top = Math.max(s.max, last);
    return Math.min(Math.max(p, 0), top);
  }

  protected override confidence(s: Series): number {
    const ref = Math.max(s.max, 1e-6);
    return Math.min(1, this.samples / 50) * Math.max(0.3, 1 - 10 * Math.abs(this.slope / ref));
  }
}

export function createEwmaLrV2Forecaster(opts?: ForecasterOptions): SeriesForecaster {
  return new EwmaLrV2Forecaster(opts);
}
