import { BucketForecaster, type Series } from '../core/bucket-forecaster.js';
import type { HorizonTrack } from '../core/horizon-track.js';
import type { ForecasterOptions, SeriesForecaster } from '../types.js';

/**
 * The historical average: the mean of every past value at the target's time of day (plain, not
 * smoothed: the textbook baseline). A time of day never seen falls back to the last value.
 */
export class HistoricalAverageForecaster extends BucketForecaster {
  readonly modelVersion = 'historical-average';
  constructor(opts?: ForecasterOptions) {
    super(opts, 0);
    this.minHistory = 0;
  }
  protected predictAt(s: Series, _id: string, b: number, t: HorizonTrack): number {
    const p = s.profile.raw(b + t.h);
    return Number.isNaN(p) ? s.filled(b, 3) : p;
  }
  protected override farValue(s: Series, k: number): number {
    const p = s.profile.raw(k);
    return Number.isNaN(p) ? s.filled(s.lastSpeedIdx, 0) : p;
  }
}

export function createHistoricalAverageForecaster(opts?: ForecasterOptions): SeriesForecaster {
  return new HistoricalAverageForecaster(opts);
}
