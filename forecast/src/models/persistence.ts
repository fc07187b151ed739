import { BucketForecaster, type Series } from '../core/bucket-forecaster.js';
import type { ForecasterOptions, SeriesForecaster } from '../types.js';

/** The last value, at every horizon: the baseline every model must beat. */
export class PersistenceForecaster extends BucketForecaster {
  readonly modelVersion = 'persistence';
  constructor(opts?: ForecasterOptions) {
    super(opts, 0);
    this.minHistory = 0;
  }
  protected predictAt(s: Series, _id: string, b: number): number {
    return s.filled(b, 3);
  }
}

export function createPersistenceForecaster(opts?: ForecasterOptions): SeriesForecaster {
  return new PersistenceForecaster(opts);
}
