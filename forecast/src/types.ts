/** One forecast of one series at one horizon, in the units the series was observed in. */
export interface ForecastPoint {
  horizon_min: number;
  speed_kmh: number;
  /** 80 % prediction interval (10th and 90th percentiles of the tracked residuals). */
  speed_lo_kmh: number;
  speed_hi_kmh: number;
  /** 0..1: narrow interval and warm model → high. */
  confidence: number;
  /**
   * true when the series is too young for the model and the point comes from the cold-start rule
   * (latest value, wide prior interval, confidence ≤ 0.1); absent otherwise. Optional and informative:
   * the model name (`modelVersion`) stays the same either way.
   */
  cold_start?: boolean;
}

export interface SeriesForecaster {
  readonly modelVersion: string;
  /** Feed one observation (any step; internally bucketed to stepMin). speed null = no vehicle passed (ignored for speed). */
  observe(seriesId: string, tsMs: number, speedKmh: number | null): void;
  /**
   * Forecasts at nowMs for each horizon; [] when the series has no speed reading yet. A series with
   * readings but too little history for the model gets a cold-start forecast (see `cold_start`).
   */
  forecast(seriesId: string, nowMs: number, horizonsMin: number[]): ForecastPoint[];
  /** Forget series not observed since tsMs (bounded memory). */
  prune?(olderThanMs: number): void;
}

export interface ForecasterOptions {
  /** Bucket width in minutes (default 5). Observations inside one bucket are averaged. */
  stepMin?: number;
  /**
   * Horizons the model learns directly (default 15, 30, 60 min). Other horizons are interpolated
   * between them (and the current value at 0), or blended towards the time-of-day profile beyond the last.
   */
  horizonsMin?: number[];
  /** Minutes added to UTC to get the local time of day for the daily profile (default 0). */
  tzOffsetMin?: number;
}

export type Neighbours = Map<string, Array<{ id: string; weight: number }>>;
