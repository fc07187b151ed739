import * as forecastModule from '@cityflow/forecast';
import type { Network } from '@cityflow/protocol';

/** The forecasting interface of `@cityflow/forecast` (owned by the forecasting engineer). */
export interface ForecastPoint {
  horizon_min: number;
  speed_kmh: number;
  speed_lo_kmh: number;
  speed_hi_kmh: number;
  confidence: number;
}
export interface SeriesForecaster {
  readonly modelVersion: string;
  observe(seriesId: string, tsMs: number, speedKmh: number | null): void;
  forecast(seriesId: string, nowMs: number, horizonsMin: number[]): ForecastPoint[];
  prune?(olderThanMs: number): void;
}
type Neighbours = Map<string, Array<{ id: string; weight: number }>>;
interface ForecastApi {
  createNetworkForecaster(neighbours: Neighbours, opts?: { stepMin?: number }): SeriesForecaster;
  roadNeighbours(net: Network): Neighbours;
}

/**
 * Stand-in used only while `@cityflow/forecast` does not export its network model yet: the mean of
 * the last 5 minutes, with a band of ±1.5 standard deviations of the last 30 that widens with the horizon.
 */
export class PersistenceForecaster implements SeriesForecaster {
  readonly modelVersion = 'persistence';
  private readonly series = new Map<string, Array<{ t: number; v: number }>>();

  observe(id: string, tsMs: number, speed: number | null): void {
    if (speed === null || !Number.isFinite(speed)) return;
    const s = this.series.get(id) ?? [];
    this.series.set(id, s);
    s.push({ t: tsMs, v: speed });
    if (s.length > 60) s.shift();
  }

  forecast(id: string, _nowMs: number, horizons: number[]): ForecastPoint[] {
    const s = this.series.get(id);
    if (!s || s.length < 3) return [];
    const recent = s.slice(-5).map((x) => x.v);
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    const window = s.slice(-30).map((x) => x.v);
    const m = window.reduce((a, b) => a + b, 0) / window.length;
    const sd = Math.sqrt(window.reduce((a, b) => a + (b - m) ** 2, 0) / window.length);
    return horizons.map((h) => {
      const band = 1.5 * sd * Math.sqrt(h / 15) + 1;
      return {
        horizon_min: h,
        speed_kmh: mean,
        speed_lo_kmh: Math.max(0, mean - band),
        speed_hi_kmh: mean + band,
        confidence: Math.max(0.1, Math.min(1, s.length / 30) * (1 - h / 120)),
      };
    });
  }
}

/** The hub's network model (`cityflow-network`), or the stand-in while the forecast package lacks it. */
export function createHubForecaster(net: Network): SeriesForecaster {
  const api = forecastModule as unknown as Partial<ForecastApi>;
  if (typeof api.createNetworkForecaster === 'function' && typeof api.roadNeighbours === 'function')
    return api.createNetworkForecaster(api.roadNeighbours(net), { stepMin: 1 });
  return new PersistenceForecaster();
}
